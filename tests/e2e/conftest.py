"""End-to-end tests share the session-wide `stack` fixture of `tests/conftest.py`."""
