"""Every reason the access rules give for a refusal: a stable code, French first, then English.

The code travels to the client in the error JSON (`fr.confrere.reason.code`) so tests, the bot
and the threat model can name the rule; the texts are what Element shows the practitioner.
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


def _r(code: str, fr: str, en: str) -> Refusal:
    return Refusal(code, fr, en)


# -- who is acting -------------------------------------------------------------------------
SERVICE_UNREACHABLE = _r(
    "service_unreachable",
    "Le service de vérification Confrère est injoignable ; action refusée par sécurité. "
    "Réessayez dans un instant.",
    "The Confrère verification service is unreachable; the action is refused for safety. "
    "Try again shortly.")
INTERNAL_ERROR = _r(
    "internal_error",
    "Une erreur interne a empêché de vérifier vos droits ; action refusée par sécurité.",
    "An internal error prevented checking your rights; the action is refused for safety.")
NOT_VERIFIED = _r(
    "not_verified",
    "Votre identité n'est pas encore vérifiée : vous ne pouvez échanger qu'avec le robot "
    "Confrère. Écrivez-lui !verifier pour faire vérifier votre identité.",
    "Your identity is not verified yet: you may only talk to the Confrère bot. "
    "Send it !verify to get verified.")
INVITEE_NOT_VERIFIED = _r(
    "invitee_not_verified",
    "Ce destinataire n'a pas encore d'identité vérifiée sur Confrère. Invitez-le depuis "
    "l'annuaire : il rejoindra la conversation dès que son identité sera vérifiée.",
    "This person has no verified identity on Confrère (yet); invite them from the directory "
    "so they join automatically once verified.")
RECIPIENT_NOT_VERIFIED = _r(
    "recipient_not_verified",
    "Ce destinataire n'a pas d'identité vérifiée sur Confrère : le message n'a pas été remis.",
    "This recipient has no verified identity on Confrère: the message was not delivered.")
UNKNOWN_GHOST = _r(
    "unknown_ghost",
    "Ce destinataire ne correspond à aucun praticien de l'annuaire.",
    "This recipient matches no practitioner of the directory.")
REMOTE_USER = _r(
    "remote_user",
    "Ce compte appartient à un autre serveur Matrix : Confrère n'échange qu'avec les praticiens "
    "vérifiés de ce serveur.",
    "This account belongs to another Matrix server: Confrère only connects the verified "
    "practitioners of this server.")
GHOST_ACTION = _r(
    "ghost_action",
    "Un invité de l'annuaire ne peut rien faire d'autre que rejoindre ou quitter une "
    "conversation.",
    "A directory guest may only join or leave a conversation.")

# -- what a room may become ----------------------------------------------------------------
UNENCRYPTED_ROOM = _r(
    "unencrypted_room",
    "Toutes les conversations Confrère sont chiffrées de bout en bout : une conversation non "
    "chiffrée ne peut pas être créée.",
    "Every Confrère conversation is end-to-end encrypted: an unencrypted room cannot be created.")
ROTATION_OUT_OF_BOUNDS = _r(
    "megolm_rotation_out_of_bounds",
    "Les clés de chiffrement doivent être renouvelées au moins tous les 7 jours et tous les "
    "100 messages.",
    "Encryption keys must be rotated at least every 7 days and every 100 messages.")
JOIN_RULE_NOT_INVITE = _r(
    "join_rule_not_invite",
    "Une conversation Confrère reste sur invitation : elle ne peut être ni publique, ni ouverte "
    "aux demandes d'accès, ni ouverte aux membres d'un espace.",
    "A Confrère conversation stays invite-only: it cannot be public, knockable or open to a "
    "space's members.")
HISTORY_WORLD_READABLE = _r(
    "history_world_readable",
    "L'historique d'une conversation ne peut jamais être lisible par des non-membres.",
    "A conversation's history can never be readable by non-members.")
GUEST_ACCESS = _r(
    "guest_access",
    "L'accès invité (sans compte) est interdit sur Confrère.",
    "Guest access (without an account) is not allowed on Confrère.")
FEDERATION_DISABLED = _r(
    "federation_disabled",
    "Les conversations Confrère restent sur ce serveur : elles ne peuvent pas être fédérées.",
    "Confrère conversations stay on this server: they cannot be federated.")
ROOM_TYPE_REFUSED = _r(
    "room_type_refused",
    "Ce type de conversation n'existe pas sur Confrère.",
    "This kind of room does not exist on Confrère.")
THIRD_PARTY_INVITE = _r(
    "third_party_invite",
    "Les invitations par e-mail ou par téléphone ne sont pas possibles : cherchez votre confrère "
    "dans l'annuaire (!annuaire) et invitez-le depuis sa fiche.",
    "Invitations by e-mail or phone are not possible: find your colleague in the directory "
    "(!search) and invite them from there.")
MEMBER_IN_INITIAL_STATE = _r(
    "member_in_initial_state",
    "Les membres d'une conversation s'ajoutent par invitation, pas dans sa création.",
    "Members are added to a conversation by invitation, not within its creation request.")
ALIASES_DISABLED = _r(
    "aliases_disabled",
    "Les adresses de conversation (#alias) n'existent pas sur Confrère : on rejoint une "
    "conversation sur invitation.",
    "Room addresses (#aliases) do not exist on Confrère: one joins a conversation by invitation.")
PUBLICATION_DISABLED = _r(
    "publication_disabled",
    "Aucune conversation ne peut être publiée dans l'annuaire des salons.",
    "No conversation can be published in the room directory.")
STATE_TYPE_REFUSED = _r(
    "state_type_refused",
    "Ce réglage de conversation n'est pas permis : le serveur pourrait le lire en clair.",
    "This room setting is not allowed: the server could read it in clear.")
ROOM_AVATAR_REFUSED = _r(
    "room_avatar_refused",
    "L'image d'une conversation serait stockée en clair sur le serveur : elle n'est pas "
    "permise.",
    "A room's picture would be stored unencrypted on the server: it is not allowed.")
PER_ROOM_PROFILE = _r(
    "per_room_profile",
    "Votre nom et votre image sont ceux de votre identité vérifiée, les mêmes dans toutes les "
    "conversations.",
    "Your name and picture are those of your verified identity, the same in every room.")
POWER_ESCALATION = _r(
    "power_escalation",
    "Ce changement de droits est refusé : personne ne peut recevoir plus de droits que vous, "
    "et les réglages de sécurité restent réservés aux modérateurs.",
    "This change of rights is refused: nobody may get more rights than you, and security "
    "settings stay reserved to moderators.")
POWER_LOCKED = _r(
    "power_locked",
    "Les droits d'une conversation ouverte par le robot Confrère ne se modifient pas.",
    "The rights of a conversation opened by the Confrère bot cannot be changed.")
KNOCK_REFUSED = _r(
    "knock_refused",
    "Les demandes d'accès n'existent pas sur Confrère : demandez à un membre de vous inviter.",
    "Knocking does not exist on Confrère: ask a member to invite you.")
MEMBERSHIP_REFUSED = _r(
    "membership_refused",
    "Ce changement d'appartenance à la conversation n'est pas permis.",
    "This membership change is not allowed.")

# -- what may be sent ----------------------------------------------------------------------
UNENCRYPTED_MESSAGE = _r(
    "unencrypted_message",
    "Les messages doivent être chiffrés de bout en bout ; utilisez un client Matrix compatible "
    "(Element).",
    "Messages must be end-to-end encrypted; use a client that supports it (Element).")
NOT_MEGOLM_CIPHERTEXT = _r(
    "not_megolm_ciphertext",
    "Ce message chiffré est mal formé ou contient du texte en clair : il n'a pas été envoyé.",
    "This encrypted message is malformed or carries clear text: it is refused.")
CLEAR_REASON = _r(
    "reason_in_clear",
    "Un motif (de suppression, d'exclusion, d'invitation…) serait lisible par le serveur : "
    "agissez sans motif.",
    "A reason (for a removal, a kick, an invitation…) would be readable by the server: act "
    "without one.")
REDACT_STATE = _r(
    "redact_state",
    "Les réglages d'une conversation (chiffrement, droits, accès…) ne peuvent pas être "
    "supprimés.",
    "A room's settings (encryption, rights, access…) cannot be redacted.")

# -- patient cases, spaces, retention, directory -------------------------------------------
CASE_STATE_REFUSED = _r(
    "case_state_refused",
    "L'identifiant d'un cas patient ne peut être qu'un code opaque, et seulement dans une "
    "conversation de cas ou de téléexpertise : l'identité du patient reste dans les messages "
    "chiffrés.",
    "A patient case's id may only be an opaque code, and only in a case or teleexpertise room: "
    "the patient's identity stays in encrypted messages.")
SPACE_LINK_REFUSED = _r(
    "space_link_refused",
    "Ce lien d'espace est mal formé : il ne peut relier que des conversations de ce serveur.",
    "This space link is malformed: it may only link rooms of this server.")
RETENTION_OUT_OF_BOUNDS = _r(
    "retention_out_of_bounds",
    "Cette durée de conservation sort des limites permises par Confrère.",
    "This retention period is outside the limits Confrère allows.")
RETENTION_ADMIN_ONLY = _r(
    "retention_admin_only",
    "Seul l'administrateur d'une conversation peut changer la durée de conservation.",
    "Only a room's administrator may change its retention period.")
PROFILE_HIDDEN = _r(
    "profile_hidden",
    "Ce profil n'est visible que des praticiens vérifiés.",
    "This profile is only visible to verified practitioners.")
