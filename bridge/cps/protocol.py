"""The card protocol lives in the light distribution (`cps-tool/`, package `confrere_cps`)."""

from confrere_cps.protocol import *  # noqa: F403
from confrere_cps.protocol import CODE_LENGTH, CONTEXT  # noqa: F401 - named for readers
