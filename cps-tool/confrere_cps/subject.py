"""Who a CPS certificate names: the national identifier, surname and given name.

IGC-Santé puts them together in one multi-valued RDN (`CN=810002813839+SN=DONNAT-GADY+GN=ISABELLE`).
Helpers that flatten a subject into "the CN" or a string lose that grouping or pick the wrong
value, so we walk each RDN's attributes. Shared by the card tool (to show whose card it is)
and by the service (to decide).
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Holder:
    national_id: str
    surname: str
    given_name: str
    title: str = ""

    def describe(self) -> str:
        return f"{self.given_name} {self.surname} ({self.national_id})".strip()


def holder_of(certificate: x509.Certificate) -> Holder | None:
    """The holder from the RDN carrying CN (+SN+GN), or None if the subject has no CN."""
    identity_rdn = None
    for rdn in certificate.subject.rdns:
        if any(attribute.oid == NameOID.COMMON_NAME for attribute in rdn):
            identity_rdn = rdn
            break
    if identity_rdn is None:
        return None
    values = {attribute.oid: str(attribute.value).strip() for attribute in identity_rdn}
    elsewhere = _first_values(certificate.subject)
    return Holder(
        national_id=values[NameOID.COMMON_NAME],
        surname=values.get(NameOID.SURNAME) or elsewhere.get(NameOID.SURNAME, ""),
        given_name=values.get(NameOID.GIVEN_NAME) or elsewhere.get(NameOID.GIVEN_NAME, ""),
        title=elsewhere.get(NameOID.TITLE, ""),
    )


def _first_values(name: x509.Name) -> dict:
    found: dict = {}
    for rdn in name.rdns:
        for attribute in rdn:
            found.setdefault(attribute.oid, str(attribute.value).strip())
    return found
