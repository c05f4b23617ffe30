"""What can go wrong at the card, whichever way we reach it, told in French then English.

Each error carries the message the practitioner reads and the exit code of `confrere-cps`:
3 reader or card problem, 4 PIN problem. PIN values never appear in any of them.
"""

from __future__ import annotations


class CardError(Exception):
    """A problem the practitioner can act on; `message_fr` is what we print, `exit_code` why."""

    exit_code = 3

    def __init__(self, message_fr: str) -> None:
        super().__init__(message_fr)
        self.message_fr = message_fr


class NoService(CardError):
    pass


class NoReader(CardError):
    pass


class NoCard(CardError):
    def __init__(self, timeout: float) -> None:
        super().__init__(
            f"Aucune carte insérée après {timeout:.0f} secondes. Insérez votre carte CPS "
            "dans le lecteur (puce vers le haut) et recommencez. (No card inserted.)"
        )


class NotACps(CardError):
    pass


class SeveralCards(CardError):
    """Several readers hold a card and nobody can be asked which one to use."""

    def __init__(self, names: list[str]) -> None:
        listed = ", ".join(f"« {n} »" for n in names)
        super().__init__(
            f"Plusieurs cartes sont présentes ({listed}). Retirez celles qui ne servent pas, ou "
            "choisissez le lecteur avec --reader \"nom du lecteur\". (Several cards: use --reader.)"
        )


class CardRemoved(CardError):
    def __init__(self) -> None:
        super().__init__(
            "La carte a été retirée (ou le lecteur débranché) pendant l'opération. "
            "Réinsérez-la et recommencez. (The card was removed.)"
        )


class NoModule(CardError):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(
            f"Le module PKCS#11 « {path} » ne peut pas être chargé ({reason}). Vérifiez "
            "l'installation de Cryptolib CPS, ou utilisez --via pcsc. (PKCS#11 module unusable.)"
        )


class CardFailure(CardError):
    """The card answered something a CPS should not: reported with the status word only."""


class PinError(CardError):
    exit_code = 4


class BadPinFormat(PinError):
    def __init__(self, low: int, high: int) -> None:
        super().__init__(
            f"Le code PIN d'une carte CPS compte de {low} à {high} chiffres ; rien n'a été "
            f"envoyé à la carte. (The PIN must be {low}–{high} digits.)"
        )


class WrongPin(PinError):
    def __init__(self, tries_left: int | None) -> None:
        if tries_left is None:
            detail = "Attention : la carte se bloque après plusieurs codes erronés."
            english = "Wrong PIN."
        elif tries_left == 1:
            detail = "Il vous reste 1 essai avant le blocage de la carte."
            english = "Wrong PIN: 1 try left."
        else:
            detail = f"Il vous reste {tries_left} essais avant le blocage de la carte."
            english = f"Wrong PIN: {tries_left} tries left."
        super().__init__(f"Code PIN incorrect. {detail} ({english})")
        self.tries_left = tries_left


class PinBlocked(PinError):
    def __init__(self) -> None:
        super().__init__(
            "Votre carte CPS est bloquée (trop de codes PIN erronés). Débloquez-la avec votre "
            "code PUK ou demandez une nouvelle carte à l'ANS ; en attendant, vérifiez votre "
            "identité avec Pro Santé Connect ou manuellement (!verifier manuel). "
            "(The card is blocked.)"
        )


def tries_warning(tries: int | None) -> str | None:
    """What to say before the prompt when few tries are left (None: nothing to say)."""
    if tries is None or tries >= 3:
        return None
    if tries == 1:
        return (
            "Attention : il reste 1 essai de code PIN (le dernier) avant le blocage de la "
            "carte. (Last PIN try.)"
        )
    return f"Attention : il reste {tries} essais de code PIN avant le blocage. ({tries} tries left.)"
