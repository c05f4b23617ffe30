"""Pure rule predicates: who may create rooms, invite, join and send — and why not.

Kept free of Synapse and HTTP so each rule is a small function tested directly. The module
feeds them what the Confrère service says about the users involved (`UserState`); `None`
means the service could not tell, and every rule then refuses (fail closed).
"""

from __future__ import annotations

from dataclasses import dataclass, field

MEGOLM = "m.megolm.v1.aes-sha2"


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
NOT_VERIFIED = Refusal(
    "not_verified",
    "Votre identité n'est pas encore vérifiée : vous ne pouvez échanger qu'avec le robot "
    "Confrère. Écrivez-lui !verifier pour faire la vérification.",
    "Your identity is not verified yet: you may only talk to the Confrère bot. "
    "Send it !verify to get verified.",
)
INVITEE_NOT_VERIFIED = Refusal(
    "invitee_not_verified",
    "Ce destinataire n'a pas (encore) d'identité vérifiée sur Confrère ; invitez-le depuis "
    "l'annuaire pour qu'il rejoigne automatiquement une fois vérifié.",
    "This person has no verified identity on Confrère (yet); invite them from the directory "
    "so they join automatically once verified.",
)
UNKNOWN_GHOST = Refusal(
    "unknown_ghost",
    "Ce destinataire ne correspond à aucun praticien de l'annuaire.",
    "This recipient matches no practitioner of the directory.",
)
UNENCRYPTED_ROOM = Refusal(
    "unencrypted_room",
    "Toutes les conversations Confrère sont chiffrées de bout en bout : une conversation non "
    "chiffrée ne peut pas être créée.",
    "Every Confrère conversation is end-to-end encrypted: an unencrypted room cannot be created.",
)
UNENCRYPTED_MESSAGE = Refusal(
    "unencrypted_message",
    "Les messages doivent être chiffrés de bout en bout ; utilisez un client Matrix compatible "
    "(Element).",
    "Messages must be end-to-end encrypted; use a client that supports it (Element).",
)


@dataclass(frozen=True)
class UserState:
    """What the service says about a user."""

    user_id: str
    verification: str  # unverified | pending | verified | refused | revoked; ghost | unknown
    onboarding_rooms: frozenset[str] = field(default_factory=frozenset)
    administrator: bool = False

    @property
    def verified(self) -> bool:
        return self.verification == "verified" or self.administrator


@dataclass(frozen=True)
class Parties:
    """Users a rule may need besides the actor: the bot, and ghosts by prefix."""

    bot_user_id: str
    ghost_prefix: str

    def is_bot(self, user_id: str) -> bool:
        return user_id == self.bot_user_id

    def is_ghost(self, user_id: str) -> bool:
        return user_id.startswith(self.ghost_prefix)


def may_create_room(actor: UserState | None, request: dict, parties: Parties) -> Refusal | None:
    """Verified: any encrypted room. Unverified: only a direct conversation with the bot."""
    if actor is None:
        return SERVICE_UNREACHABLE
    if (refusal := room_request_encryption(request)) is not None:
        return refusal
    if actor.verified:
        return None
    invites = request.get("invite") or []
    if request.get("invite_3pid") or list(invites) != [parties.bot_user_id]:
        return NOT_VERIFIED
    return None


def room_request_encryption(request: dict) -> Refusal | None:
    """A creation request asking for anything but Megolm encryption is refused."""
    for state in request.get("initial_state") or []:
        if isinstance(state, dict) and state.get("type") == "m.room.encryption":
            if (state.get("content") or {}).get("algorithm") != MEGOLM:
                return UNENCRYPTED_ROOM
    return None


def may_invite(inviter: UserState | None, invitee_id: str, invitee: UserState | None,
               parties: Parties) -> Refusal | None:
    """Verified may invite verified colleagues, ghosts and the bot; unverified only the bot."""
    if inviter is None:
        return SERVICE_UNREACHABLE
    if parties.is_bot(invitee_id):
        return None
    if not inviter.verified:
        return NOT_VERIFIED
    if invitee is None:
        return SERVICE_UNREACHABLE
    if parties.is_ghost(invitee_id):
        return None if invitee.verification == "ghost" else UNKNOWN_GHOST
    return None if invitee.verified else INVITEE_NOT_VERIFIED


def may_join(actor: UserState | None, room_id: str) -> Refusal | None:
    """Verified may join (Synapse still enforces invitations); unverified only onboarding."""
    if actor is None:
        return SERVICE_UNREACHABLE
    if actor.verified or room_id in actor.onboarding_rooms:
        return None
    return NOT_VERIFIED


def may_send(actor: UserState | None, room_id: str, event_type: str,
             content: dict) -> Refusal | None:
    """Verified may send anywhere they are; unverified only in onboarding; never plaintext."""
    if actor is None:
        return SERVICE_UNREACHABLE
    if event_type == "m.room.message":
        return UNENCRYPTED_MESSAGE
    if event_type == "m.room.encryption" and content.get("algorithm") != MEGOLM:
        return UNENCRYPTED_ROOM
    if actor.verified or room_id in actor.onboarding_rooms:
        return None
    return NOT_VERIFIED


def decide(action: str, actor: UserState | None) -> Refusal | None:
    """Coarse check used where no finer rule applies: unknown actor refused."""
    return SERVICE_UNREACHABLE if actor is None else None
