"""Which identity an account expects, for a development PSC simulator in this process.

The verification page tells it so that a tester picks the right test identity; with the real
Pro Santé Connect nobody is registered and nothing is sent anywhere. Kept here (identity) so
that the web pages need not know the simulator (a development surface).
"""

from __future__ import annotations

MAX_HINTS = 1000

# Hints by issuer, for the simulators running in this process: state -> expected identity.
_HINTS: dict[str, dict[str, dict[str, str]]] = {}


def listen(issuer: str) -> dict[str, dict[str, str]]:
    """A simulator for `issuer` starts listening; returns its (shared) hints by state."""
    return _HINTS.setdefault(issuer, {})


def hint_expected(issuer: str, state: str, first: str, last: str, identifier: str) -> None:
    """Tell a simulator running in this process which identity the account expects; a no-op
    with the real Pro Santé Connect."""
    hints = _HINTS.get(issuer)
    if hints is None:
        return
    if len(hints) >= MAX_HINTS:
        hints.pop(next(iter(hints)))
    hints[state] = {"first": first, "last": last, "identifier": identifier}
