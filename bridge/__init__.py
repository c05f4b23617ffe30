"""Confrère: secure messaging and patient referral for French health professionals, on Matrix.

This package stays import-light on purpose: the Synapse module (`bridge.access_rules`) is
imported by Synapse's process and must not pull the rest of the service with it.
"""

__version__ = "0.1.0"
