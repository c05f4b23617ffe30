"""The access-rules Synapse module: the one place where who may do what is enforced.

Loaded by Synapse (`modules: [{module: bridge.synapse_module.AccessRules, config: ...}]`); it runs
inside Synapse's Twisted process, so this package imports nothing from the rest of the service.
"""

from bridge.synapse_module.module import AccessRules

__all__ = ["AccessRules"]
