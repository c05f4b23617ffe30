"""CPS card verification: the practitioner's side is the light distribution in `cps-tool/`
(package `confrere_cps`, command `confrere-cps`), installed without any server code. The service
reuses `confrere_cps.protocol` and `.subject`; `confrere cps-verify` is an alias of the tool.
"""
