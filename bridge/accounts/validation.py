"""Server-side checks of the signup form, each with a French message for the field.

Pure functions (no I/O) so every rule is tested directly. Names are kept as typed (NFC,
spaces collapsed); e-mail addresses are lower-cased so one address is one account.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

NAME_MAX = 100
EMAIL_MAX = 254
PASSWORD_MIN = 12
PASSWORD_MAX = 128
EXERCISE_MODES = {"liberal": "Libéral", "salarie": "Salarié"}

PASSWORD_POLICY = (  # shown under "Votre mot de passe :"
    f"compte au moins {PASSWORD_MIN} caractères ;",
    "contient au moins une lettre minuscule et une lettre majuscule ;",
    "contient au moins un chiffre ;",
    "ne contient ni votre prénom, ni votre nom, ni votre adresse mail ;",
    "n'est pas un mot de passe courant (azerty, motdepasse…).",
)

_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_NAME_PUNCTUATION = set(" -'’.")
_COMMON_PASSWORDS = {"motdepasse", "password", "azerty", "qwerty", "123456", "soleil",
                     "bonjour", "confrere", "medecin", "docteur", "sante"}


@dataclass(frozen=True)
class DeclaredProfile:
    """What the practitioner declared; nothing here is proven yet except (later) the e-mail."""

    first_name: str
    last_name: str
    email: str
    exercise_mode: str
    declared_identifier: str | None = None
    declared_identifier_type: str | None = None  # "RPPS" | "ADELI"


@dataclass
class FormResult:
    """Cleaned values (to refill the form), errors and warnings by field name."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)
    profile: DeclaredProfile | None = None


# Titles are the directory's to give ("Dr" comes from the verified entry, in the badge): a
# name typed as "Dr Camille" or "Pr. Bernard" must not carry one into the display name.
_TITLE = re.compile(r"^(?:dr|docteur|pr|prof|professeur)(?:\.\s*|\s+)", re.IGNORECASE)


_TITLES = {"dr", "docteur", "pr", "prof", "professeur"}


def strip_titles(name: str) -> str:
    """'Dr. Camille' -> 'Camille', 'Pr Pr Jean' -> 'Jean'; 'Drissa' and 'Prosper' unchanged."""
    previous = None
    while previous != name:
        previous, name = name, _TITLE.sub("", name.strip(), count=1)
    return "" if name.rstrip(".").casefold() in _TITLES else name


def has_control_characters(value: str) -> bool:
    return any(unicodedata.category(ch).startswith("C") for ch in value)


def clean_name(raw: str, label: str) -> tuple[str, str | None]:
    """(cleaned value, error or None) for a first or last name."""
    if has_control_characters(raw):
        return _printable(raw).strip(), (f"Le {label} contient des caractères non autorisés "
                                         "(caractères de contrôle).")
    value = " ".join(unicodedata.normalize("NFC", raw).split())
    if not value:
        return value, f"Indiquez votre {label}."
    if len(value) > NAME_MAX:
        return value, f"Le {label} ne doit pas dépasser {NAME_MAX} caractères ({len(value)} saisis)."
    for ch in value:
        if ch not in _NAME_PUNCTUATION and not unicodedata.category(ch)[0] in "LM":
            return value, (f"Le {label} ne peut contenir que des lettres, des espaces, des traits "
                           "d'union et des apostrophes.")
    if not unicodedata.category(value[0]).startswith("L"):
        return value, f"Le {label} doit commencer par une lettre."
    return value, None


def _printable(value: str) -> str:
    """The value without control characters, to refill a form safely."""
    return "".join(ch for ch in value if not unicodedata.category(ch).startswith("C"))


def clean_email(raw: str) -> tuple[str, str | None]:
    value = raw.strip()
    if has_control_characters(value):
        return _printable(value), "L'adresse mail contient des caractères non autorisés."
    if not value:
        return value, "Indiquez votre adresse mail."
    if len(value) > EMAIL_MAX or not _EMAIL.match(value):
        return value, "Cette adresse mail n'est pas valide (exemple : prenom.nom@exemple.fr)."
    return value.lower(), None


def _strip(value: str) -> str:
    return strip_titles(unicodedata.normalize("NFC", value))


def luhn_valid(digits: str) -> bool:
    """Luhn check (the RPPS key is its last digit)."""
    if not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        n = int(char)
        if index % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def clean_identifier(raw: str) -> tuple[str, str | None, str | None, str | None]:
    """(value, type, error, warning): RPPS (11 digits, Luhn) or ADELI (9 characters)."""
    value = "".join(raw.split()).upper()
    if not value:
        return "", None, None, None
    if has_control_characters(value) or not value.isalnum() or not value.isascii():
        return _printable(value), None, "Le numéro ne peut contenir que des chiffres (et des lettres pour ADELI).", None
    if len(value) == 12 and value.startswith("8") and value.isdigit():
        value = value[1:]  # national identifier "8" + RPPS
    if len(value) == 11:
        if not value.isdigit():
            return value, None, "Un numéro RPPS ne contient que des chiffres.", None
        if not luhn_valid(value):
            return value, None, ("La clé de ce numéro RPPS est incorrecte : vérifiez les 11 "
                                 "chiffres (sur votre carte CPS ou dans l'annuaire santé)."), None
        return value, "RPPS", None, None
    if len(value) == 9:
        warning = None
        if value.isdigit() and not luhn_valid(value):
            warning = "Vérifiez ce numéro ADELI : sa clé semble inhabituelle."
        return value, "ADELI", None, warning
    return value, None, ("Le numéro RPPS compte 11 chiffres, le numéro ADELI 9 caractères "
                         f"({len(value)} saisis)."), None


def password_problems(password: str, *, first_name: str = "", last_name: str = "",
                      email: str = "") -> list[str]:
    """Rules of PASSWORD_POLICY that `password` breaks (empty list: acceptable)."""
    problems: list[str] = []
    if len(password) < PASSWORD_MIN:
        problems.append(f"il doit compter au moins {PASSWORD_MIN} caractères "
                        f"({len(password)} saisis)")
    if len(password) > PASSWORD_MAX:
        problems.append(f"il doit compter au plus {PASSWORD_MAX} caractères")
    if not (any(c.islower() for c in password) and any(c.isupper() for c in password)):
        problems.append("il doit contenir au moins une lettre minuscule et une lettre majuscule")
    if not any(c.isdigit() for c in password):
        problems.append("il doit contenir au moins un chiffre")
    if has_control_characters(password):
        problems.append("il ne doit contenir aucun caractère de contrôle")
    lowered = password.casefold()
    personal = [first_name, last_name, email.split("@", 1)[0]]
    if any(len(p) >= 3 and p.casefold() in lowered for p in personal):
        problems.append("il ne doit contenir ni votre prénom, ni votre nom, ni votre adresse mail")
    letters = re.sub(r"[^a-z]", "", unicodedata.normalize("NFKD", lowered))
    if letters in _COMMON_PASSWORDS or len(set(password)) < 5:
        problems.append("il ne doit pas être un mot de passe courant")
    return problems


def validate_signup(form: Mapping[str, str], *, strip_titles: bool = True,
                    password_optional: bool = False) -> FormResult:
    """Check every field; return cleaned values, errors and, when all is well, the profile.

    Titles ("Dr", "Pr", "Docteur", "Professeur") are removed from typed names.
    """
    result = FormResult()
    raw = lambda name: str(form.get(name, ""))
    titled = {"first_name", "last_name"} if strip_titles else set()
    get = lambda name: _strip(raw(name)) if name in titled else raw(name)
    first, error = clean_name(get("first_name"), "prénom")
    result.values["first_name"] = first
    if error:
        result.errors["first_name"] = error
    last, error = clean_name(get("last_name"), "nom")
    result.values["last_name"] = last
    if error:
        result.errors["last_name"] = error
    email, error = clean_email(get("email"))
    result.values["email"] = email
    if error:
        result.errors["email"] = error
    mode = get("exercise_mode")
    result.values["exercise_mode"] = mode if mode in EXERCISE_MODES else ""
    if mode not in EXERCISE_MODES:
        result.errors["exercise_mode"] = "Choisissez votre mode d'exercice : libéral ou salarié."
    ident, ident_type, error, warning = clean_identifier(get("identifier"))
    result.values["identifier"] = ident
    if error:
        result.errors["identifier"] = error
    if warning:
        result.warnings["identifier"] = warning
    problems = password_problems(get("password"), first_name=first, last_name=last, email=email)
    if not get("password") and password_optional:
        pass  # Pro Santé Connect proved the identity: the practitioner logs in with it
    elif not get("password"):
        result.errors["password"] = "Choisissez un mot de passe."
    elif problems:
        result.errors["password"] = "Mot de passe trop faible : " + " ; ".join(problems) + "."
    for box, message in (
        ("accept_terms", "Vous devez accepter les conditions générales d'utilisation."),
        ("accept_privacy", "Vous devez accepter la politique de protection des données."),
    ):
        if get(box) != "oui":
            result.errors[box] = message
    if not result.errors:
        result.profile = DeclaredProfile(first, last, email, mode, ident or None, ident_type)
    return result
