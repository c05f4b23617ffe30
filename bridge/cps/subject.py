"""Who a CPS certificate names: shared with the light distribution (`confrere_cps.subject`)."""

from confrere_cps.subject import Holder, holder_of  # noqa: F401
