"""Pure rule predicates: given who acts and what they are known to be, allow or refuse.

Kept free of Synapse and HTTP so they can be tested directly. Identity-verification rules
(issue "identity verification") extend `decide`; today a known user is allowed and an unknown
one refused, which is what failing closed needs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Refusal:
    """Why an action is refused, in French first and English, for the error JSON."""

    code: str
    fr: str
    en: str

    def error_fields(self) -> dict:
        return {
            "error": f"{self.fr} / {self.en}",
            "fr.confrere.reason": {"code": self.code, "fr": self.fr, "en": self.en},
        }


SERVICE_UNREACHABLE = Refusal(
    "service_unreachable",
    "Le service de vérification Confrère est injoignable ; action refusée par sécurité. "
    "Réessayez dans un instant.",
    "The Confrère verification service is unreachable; the action is refused for safety. "
    "Try again shortly.",
)
INTERNAL_ERROR = Refusal(
    "internal_error",
    "Une erreur interne a empêché de vérifier vos droits ; action refusée par sécurité.",
    "An internal error prevented checking your rights; the action is refused for safety.",
)


@dataclass(frozen=True)
class UserState:
    """What the service says about a user: their verification state."""

    user_id: str
    verification: str  # unverified | pending | verified | refused


def decide(action: str, actor: UserState | None) -> Refusal | None:
    """Return a refusal for `action` by `actor`, or None to allow.

    `actor` is None when the service could not tell (unreachable, error): refuse.
    """
    if actor is None:
        return SERVICE_UNREACHABLE
    return None
