"""Durable multi-step dialogs with the bot (declaration in `declaration.py`, engine in
`engine.py`): identity documents, patient cases, téléexpertise and referrals all run on it."""

from bridge.dialogs.declaration import (  # noqa: F401 - the package's public names
    FINISH,
    Answer,
    Dialog,
    DialogContext,
    GoTo,
    Invalid,
    Step,
)
from bridge.dialogs.engine import DialogEngine, DialogExpiryWorker  # noqa: F401
