"""The patient of a referral and the validation of each field (French messages).

Postal code vs city: a light check — a French postal code is five digits, its first two (three
for the overseas 97x/98x) name the département, and the Corsican 20xxx are accepted; the city is
not cross-checked against a national table (none is shipped), only required and sane.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date

import phonenumbers

NAME = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ÿ' -]{1,80}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
POSTAL = re.compile(r"^(0[1-9]|[1-8]\d|9[0-5]|2[AB0-9]|97[1-6]|98[0-9])\d{2,3}$")
CIVILITIES = {"mme": "Mme", "madame": "Mme", "m": "M.", "m.": "M.", "monsieur": "M."}


class FieldError(ValueError):
    """A field cannot be accepted; the message is French first, then English."""


def civility(text: str) -> str:
    value = CIVILITIES.get(text.strip().casefold())
    if value is None:
        raise FieldError("Répondez Mme ou M. (Mrs or Mr.)")
    return value


def name(text: str, *, optional: bool = False) -> str:
    value = " ".join(text.split())
    if optional and value in ("", "-", "idem"):
        return ""
    if not NAME.match(value):
        raise FieldError("Un nom en lettres, tirets ou apostrophes, 80 caractères au plus. "
                         "(Letters, hyphens or apostrophes only.)")
    return value


def birth_date(text: str, today: date) -> str:
    try:
        day, month, year = (int(x) for x in text.strip().split("/"))
        value = date(year, month, day)
    except ValueError:
        raise FieldError("Date invalide : écrivez-la JJ/MM/AAAA. (Date as DD/MM/YYYY.)") \
            from None
    if value > today or value.year < today.year - 130:
        raise FieldError("Cette date de naissance n'est pas plausible. (Implausible date.)")
    return value.isoformat()


def yes_no(text: str) -> bool:
    word = text.strip().casefold()
    if word in ("oui", "o", "yes", "y"):
        return True
    if word in ("non", "n", "no"):
        return False
    raise FieldError("Répondez oui ou non. (Answer yes or no.)")


def mobile(text: str) -> str:
    """A French mobile number (06/07, or +33 6/7, overseas included) in E.164 form."""
    try:
        number = phonenumbers.parse(text.strip(), "FR")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number) or \
            phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE or \
            phonenumbers.region_code_for_number(number) not in (
                "FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF", "NC", "PF", "WF"):
        raise FieldError("Numéro de mobile français invalide (ex. 06 12 34 56 78). "
                         "(Not a French mobile number.)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def email(text: str) -> str:
    value = text.strip()
    if len(value) > 254 or not EMAIL.match(value):
        raise FieldError("Adresse e-mail invalide (ex. nom@exemple.fr). (Invalid e-mail.)")
    return value


def postal_code(text: str) -> str:
    value = text.strip().replace(" ", "").upper()
    if not POSTAL.match(value) or len(value) != 5:
        raise FieldError("Code postal français invalide : cinq chiffres. (Invalid postcode.)")
    return value


def city(text: str, code: str | None = None) -> str:
    value = " ".join(text.split())
    if not 1 <= len(value) <= 80 or not re.match(r"^[A-Za-zÀ-ÿ0-9' -]+$", value):
        raise FieldError("Nom de ville invalide. (Invalid city.)")
    return value


def address(text: str) -> str:
    value = " ".join(text.split())
    if not 3 <= len(value) <= 200:
        raise FieldError("Adresse invalide (3 à 200 caractères). (Invalid address.)")
    return value


@dataclass(frozen=True)
class Patient:
    civility: str
    first_name: str
    last_name: str
    birth_name: str
    birth_date: str  # ISO
    born_in_france: bool
    birth_place: str  # city if born in France, else country
    address: str
    postal_code: str
    city: str
    mobile: str  # E.164
    email: str
    already_patient: bool

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "Patient":
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})

    @property
    def initials(self) -> str:
        """What the agenda feed shows instead of the name (it syncs to third-party clouds)."""
        return f"{self.first_name[:1]}.{self.last_name[:1]}.".upper()

    @property
    def display(self) -> str:
        return f"{self.civility} {self.first_name} {self.last_name}"


def validate(data: dict, today: date) -> Patient:
    """A `Patient` from raw strings (the API's input), or FieldError naming the field."""
    try:
        born_fr = data["born_in_france"]
        born_fr = born_fr if isinstance(born_fr, bool) else yes_no(str(born_fr))
        code = postal_code(str(data["postal_code"]))
        already = data.get("already_patient", False)
        return Patient(
            civility=civility(str(data["civility"])), first_name=name(str(data["first_name"])),
            last_name=name(str(data["last_name"])),
            birth_name=name(str(data.get("birth_name") or ""), optional=True),
            birth_date=birth_date(str(data["birth_date"]), today), born_in_france=born_fr,
            birth_place=city(str(data["birth_place"])), address=address(str(data["address"])),
            postal_code=code, city=city(str(data["city"]), code),
            mobile=mobile(str(data["mobile"])), email=email(str(data["email"])),
            already_patient=already if isinstance(already, bool) else yes_no(str(already)))
    except KeyError as missing:
        raise FieldError(f"Champ manquant : {missing.args[0]}. (Missing field.)") from None
