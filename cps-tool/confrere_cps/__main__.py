"""`python -m confrere_cps`: the same as the `confrere-cps` command."""

import sys

from confrere_cps.cli import main

sys.exit(main())
