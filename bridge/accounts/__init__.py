"""Practitioner accounts: the profile Confrère keeps next to the Matrix account."""
