"""Creating a practitioner's account: the Matrix account on Synapse, then the `accounts` row,
then the bot's welcome (queued: it survives an outage of Synapse or of the bot).

`create_account` is the one way accounts are made — by the signup form after the e-mail code,
and by Pro Santé Connect (which passes an already verified profile). It leaves nothing half
made: if the database refuses the row, the Synapse account just created is deactivated.
"""

from __future__ import annotations

import asyncio
import secrets
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bridge.accounts.localpart import candidates
from bridge.accounts.models import Account
from bridge.matrix.synapse_admin import SynapseAdminError, register_with_shared_secret
from bridge.verification import proofs
from bridge.verification.service import TAKEN_EN, TAKEN_FR

log = logging.getLogger(__name__)

SYNAPSE_TIMEOUT = 15


@dataclass(frozen=True)
class NewAccount:
    """Everything the `accounts` row needs; the password is passed apart and never kept."""

    first_name: str
    last_name: str
    email: str
    exercise_mode: str
    terms_version: str
    terms_accepted_at: datetime
    privacy_version: str
    privacy_accepted_at: datetime
    declared_identifier: str | None = None
    declared_identifier_type: str | None = None
    # Pro Santé Connect creates accounts already verified and linked to the directory.
    verification_state: str = "unverified"
    national_id: str | None = None
    # The single-use proof of that identity (`verification/proofs.py`), spent with the row.
    proof_id: str | None = None

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class AccountCreationError(Exception):
    """The account could not be created; `user_message` says what to do (French)."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class HomeserverUnavailable(AccountCreationError):
    def __init__(self) -> None:
        super().__init__("Le serveur de messagerie ne répond pas pour le moment ; votre compte "
                         "n'a pas été créé. Réessayez dans quelques minutes avec le même code.")


class EmailAlreadyRegistered(AccountCreationError):
    def __init__(self) -> None:
        super().__init__("Un compte existe déjà avec cette adresse mail : connectez-vous avec "
                         "Element, ou écrivez à l'administrateur si vous avez perdu l'accès.")


class IdentityAlreadyLinked(AccountCreationError):
    def __init__(self) -> None:
        super().__init__(f"Compte non créé : {TAKEN_FR}. ({TAKEN_EN}.)")


class ProofAlreadyUsed(AccountCreationError):
    def __init__(self) -> None:
        super().__init__("Compte non créé : cette connexion Pro Santé Connect a déjà servi ou a "
                         "expiré. Recommencez l'inscription avec Pro Santé Connect. (This Pro "
                         "Santé Connect login was already used or has expired: start again.)")


async def create_account(services: Any, profile: NewAccount, password: str | None) -> Account:
    """Register on Synapse with a readable, unique localpart, store the profile, queue the welcome.

    Args:
        services: the service's `Services` (settings, database, http, admin, welcome).
        profile: the validated profile.
        password: already checked against the policy; sent to Synapse only. None for an
            identity proven by Pro Santé Connect whose holder chose no password: Synapse gets
            a random one that is never stored nor shown, so only the PSC login opens it.
    Raises:
        AccountCreationError (or a subclass) with a message for the user.
    """
    database = services.database
    async with database.session() as session:
        taken = await session.scalar(select(func.count()).select_from(Account)
                                     .where(Account.email == profile.email))
        linked = profile.national_id and await session.scalar(
            select(func.count()).select_from(Account)
            .where(Account.national_id == profile.national_id))
    if taken:
        raise EmailAlreadyRegistered()
    if profile.proof_id and await proofs.usable(database, profile.proof_id) is None:
        raise ProofAlreadyUsed()
    if linked:
        raise IdentityAlreadyLinked()
    if password is None:
        if profile.verification_state != "verified":
            raise AccountCreationError("Choisissez un mot de passe.")
        password = secrets.token_urlsafe(32)  # nobody knows it: the account logs in by PSC
    user_id = await _register(services, profile, password)
    account = Account(
        user_id=user_id, first_name=profile.first_name, last_name=profile.last_name,
        email=profile.email, exercise_mode=profile.exercise_mode,
        declared_identifier=profile.declared_identifier,
        declared_identifier_type=profile.declared_identifier_type,
        terms_version=profile.terms_version, terms_accepted_at=profile.terms_accepted_at,
        privacy_version=profile.privacy_version, privacy_accepted_at=profile.privacy_accepted_at,
        verification_state=profile.verification_state, national_id=profile.national_id,
        welcome_pending=True,
    )
    try:
        async with database.session() as session:
            session.add(account)
            if profile.proof_id and not await proofs.consume(session, profile.proof_id, user_id):
                raise ProofAlreadyUsed()  # spent by a copy of the cookie, in a race: no row
            await session.commit()
    except (SQLAlchemyError, ProofAlreadyUsed) as exc:
        await _deactivate(services, user_id)
        if isinstance(exc, ProofAlreadyUsed):
            raise
        if isinstance(exc, IntegrityError):
            async with database.session() as session:
                same_email = await session.scalar(select(func.count()).select_from(Account)
                                                  .where(Account.email == profile.email))
            raise (EmailAlreadyRegistered() if same_email or not profile.national_id
                   else IdentityAlreadyLinked()) from exc
        log.exception("could not store the new account %s; Synapse account deactivated", user_id)
        raise AccountCreationError("Une erreur interne a empêché la création du compte ; rien "
                                   "n'a été créé. Réessayez dans quelques minutes.") from exc
    log.info("account %s created", user_id)
    welcome = getattr(services, "welcome", None)
    if welcome is not None:
        welcome.poke()
    return account


def _reserved(settings: Any):
    names = {settings.bot.localpart, settings.appservice.sender_localpart, "admin"}
    prefix = settings.appservice.ghost_prefix

    def reserved(localpart: str) -> bool:
        return localpart in names or localpart.startswith(prefix)
    return reserved


async def _register(services: Any, profile: NewAccount, password: str) -> str:
    settings, http = services.settings, services.http
    for attempt, localpart in enumerate(candidates(profile.first_name, profile.last_name,
                                                   _reserved(settings))):
        if attempt >= 120:
            break
        try:
            answer = await asyncio.wait_for(register_with_shared_secret(
                http, settings.synapse.url, settings.secrets.registration_shared_secret,
                localpart, password, displayname=profile.display_name,
            ), SYNAPSE_TIMEOUT)
        except SynapseAdminError as exc:
            if exc.errcode in ("M_USER_IN_USE", "M_EXCLUSIVE", "M_INVALID_USERNAME"):
                continue
            if exc.errcode == "M_WEAK_PASSWORD":
                raise AccountCreationError("Le serveur a refusé ce mot de passe (trop faible) : "
                                           "recommencez l'inscription avec un autre.") from exc
            log.warning("Synapse refused a registration: %s %s", exc.status, exc.errcode)
            raise HomeserverUnavailable() from exc
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            log.warning("Synapse unreachable during a registration (%s)", type(exc).__name__)
            raise HomeserverUnavailable() from exc
        await _logout(services, answer.get("access_token"))
        return answer["user_id"]
    raise AccountCreationError("Impossible de trouver un identifiant libre ; écrivez à "
                               "l'administrateur.")


async def _logout(services: Any, token: str | None) -> None:
    """Registration logs in a device; the practitioner will log in with their own client."""
    if not token:
        return
    try:
        async with services.http.post(
            f"{services.settings.synapse.url}/_matrix/client/v3/logout",
            headers={"Authorization": f"Bearer {token}"}, json={},
            timeout=aiohttp.ClientTimeout(total=SYNAPSE_TIMEOUT),
        ):
            pass
    except (TimeoutError, aiohttp.ClientError):
        log.warning("could not log out the registration device (left to expire)")


async def _deactivate(services: Any, user_id: str) -> None:
    """Undo a registration whose profile could not be stored (best effort, logged)."""
    admin = getattr(services, "admin", None)
    if admin is None:
        log.error("cannot deactivate %s: no admin session", user_id)
        return
    try:
        async with services.http.post(
            f"{services.settings.synapse.url}/_synapse/admin/v1/deactivate/{user_id}",
            headers={"Authorization": f"Bearer {admin.access_token}"}, json={"erase": True},
            timeout=aiohttp.ClientTimeout(total=SYNAPSE_TIMEOUT),
        ) as response:
            if response.status != 200:
                log.error("deactivating %s failed: HTTP %s", user_id, response.status)
    except (TimeoutError, aiohttp.ClientError):
        log.error("deactivating %s failed: Synapse unreachable", user_id)
