"""CPS card verification, practitioner side: `confrere cps-verify` drives the card over PC/SC.

`protocol` is shared with the service (paths, the exact bytes the card signs, the code format);
`reader` speaks APDUs to the card; `cli` is the verb. Nothing here imports the service.
"""
