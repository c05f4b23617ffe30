"""Confrère's CPS card tool, run on the practitioner's own computer (`confrere-cps`).

Two ways to the card: the CPS middleware's PKCS#11 module (`pkcs11`), or the card's PKCS#15
directory read with APDUs over PC/SC (`pcsc`, `pkcs15`); `cli` picks one and talks to the
service (`service`). `protocol` and `subject` are shared with the server; nothing here imports it.
"""

__version__ = "0.2.0"
