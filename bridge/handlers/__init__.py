"""Bot features, one module per feature; each exposes `FEATURE` (`bridge/context.py`).

The registry is `bridge/features.py`.
"""
