"""The document path of identity verification, from the photos to the decision.

A check asks for its photos step by step (recto, verso or passport page, selfie), then goes to
the configured provider: `review` posts them, encrypted, to the administrators' room, where
`!admin approuver|refuser` decides; `onfido` runs the Onfido check, whose `clear` verifies and
whose `consider` goes to the administrators with the report summary. Results come by signed
webhook, with polling for lost ones. Whatever decides, the photos are deleted then: their
hashes stay in the request's evidence and the audit log.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from bridge.accounts.states import Method, State
from bridge.identity.documents import (
    MB,
    STEPS,
    DocumentCheck,
    DocumentStore,
    Photo,
    StoredDocument,
    WebhookReceipt,
    sha256,
)
from bridge.identity.directory_link import link_declared
from bridge.identity.onfido import CheckOutcome, OnfidoClient, OnfidoError, signature_valid
from bridge.storage.models import utcnow
from bridge.storage.values import ADMIN_ROOM_KEY
from bridge.verification.models import AuditEntry
from bridge.verification.service import (
    Decision,
    NationalIdTaken,
    VerificationService,
    evidence_digest,
)

if TYPE_CHECKING:
    from bridge.config import Settings
    from bridge.storage.database import Database

log = logging.getLogger(__name__)

WAITING = ("front", "back", "selfie")
KIND_FR = {"front": "recto", "back": "verso", "selfie": "selfie"}
DOCUMENT_FR = {"national_identity_card": "carte d'identité", "passport": "passeport"}


@dataclass
class OnfidoProvider:
    """The Onfido client with what the webhook needs; swapped in tests for the simulator."""

    client: OnfidoClient
    webhook_token: str
    issuing_country: str = "FRA"


class DocumentChecks:
    def __init__(self, settings: Settings, database: Database,
                 verification: VerificationService) -> None:
        self.db = database
        self.verification = verification
        self.store = DocumentStore(database, settings.secrets.documents_key)
        self.provider = settings.verification.document_provider
        self.image_cap = settings.verification.document_max_mb * MB
        self.poll_seconds = settings.onfido.poll_seconds
        self.onfido: OnfidoProvider | None = None
        self.bot: Any = None  # set once the bot runs: posting to the administrators
        self.directory: Any = None  # the national directory (an Onfido "clear" must match it)
        self._lock = asyncio.Lock()
        self._poller: asyncio.Task | None = None

    # -- the steps --------------------------------------------------------------------------
    async def open(self, user_id: str, room_id: str, document_type: str) -> DocumentCheck:
        """Start (or restart) collecting photos; an unfinished earlier collection is dropped."""
        async with self.db.session() as session, session.begin():
            stale = (await session.execute(select(DocumentCheck).where(
                DocumentCheck.user_id == user_id,
                DocumentCheck.step.in_(WAITING)))).scalars().all()
            for check in stale:
                check.step = "cancelled"
            check = DocumentCheck(user_id=user_id, room_id=room_id, document_type=document_type,
                                  step=STEPS[document_type][0])
            session.add(check)
        for old in stale:
            await self.store.delete(old.id)
        return check

    async def waiting(self, user_id: str) -> DocumentCheck | None:
        """The check collecting photos from this practitioner, if any."""
        async with self.db.session() as session:
            return (await session.execute(select(DocumentCheck).where(
                DocumentCheck.user_id == user_id, DocumentCheck.step.in_(WAITING))
                .order_by(DocumentCheck.id.desc()))).scalars().first()

    async def submitted(self, user_id: str) -> DocumentCheck | None:
        async with self.db.session() as session:
            return (await session.execute(select(DocumentCheck).where(
                DocumentCheck.user_id == user_id, DocumentCheck.step == "submitted")
                .order_by(DocumentCheck.id.desc()))).scalars().first()

    async def accept(self, check: DocumentCheck, photo: Photo) -> str | None:
        """Keep the photo of its kind (front, back, selfie: asked again after `retour`, it
        replaces the earlier one); returns the next step, or None when complete."""
        await self.store.put(check.id, photo)
        steps = STEPS[check.document_type]
        following = steps[steps.index(photo.kind) + 1] if photo.kind != steps[-1] else None
        await self._update(check.id, step=following or "complete")
        return following

    async def cancel(self, check_id: int) -> None:
        """The practitioner gave up (or the dialog expired): the photos go at once."""
        check = await self._get(check_id)
        if check.step in (*WAITING, "complete"):
            await self._update(check_id, step="cancelled")
            await self.store.delete(check_id)

    # -- handing over to the provider -------------------------------------------------------
    async def submit(self, check_id: int, issuing_country: str | None = None) -> str:
        """Send a complete check to its provider; returns the provider that has it.

        `issuing_country` (ISO alpha-3) is the one the practitioner named; without it, the
        server-wide `onfido.issuing_country`."""
        check = await self._get(check_id)
        country = issuing_country or (self.onfido.issuing_country if self.onfido else None)
        evidence = {"document_check": check.id, "document_type": check.document_type,
                    "documents": await self.store.summary(check.id)}
        if issuing_country:
            evidence["issuing_country"] = issuing_country
        if self.provider == "onfido" and self.onfido is not None:
            try:
                applicant_id, document_ids = await self._send_to_onfido(check, country or "FRA")
                # pending before the check exists, so that its result can never come first
                await self.verification.request(check.user_id, Method.ONFIDO, {
                    **evidence, "provider": "onfido", "onfido_applicant": applicant_id})
                created = await self.onfido.client.create_check(applicant_id, document_ids)
            except OnfidoError as exc:
                log.warning("Onfido unavailable for document check %s (%s): administrator review",
                            check.id, exc)
            else:
                # a webhook in the instant before this update is answered 404: Onfido retries
                # failed deliveries, and polling catches up anyway
                await self._update(check.id, step="submitted", provider="onfido",
                                   applicant_id=applicant_id, check_id=str(created["id"]),
                                   check_status="in_progress", submitted_at=utcnow())
                return "onfido"
        await self._update(check.id, step="submitted", provider="review", submitted_at=utcnow())
        await self.verification.request(check.user_id, Method.MANUAL,
                                        {**evidence, "provider": "review"})
        await self.post_to_administrators(check.id, "Documents d'identité à examiner.")
        return "review"

    async def _send_to_onfido(self, check: DocumentCheck,
                              issuing_country: str) -> tuple[str, list[str]]:
        """Applicant, document sides and live photo; returns the applicant and document ids."""
        assert self.onfido is not None
        account = await self.verification.account(check.user_id)
        if account is None:
            raise OnfidoError("no account")
        client = self.onfido.client
        photos = {photo.kind: photo for photo in await self.store.photos(check.id)}
        applicant_id = await client.create_applicant(account.first_name, account.last_name)
        document_ids = [
            await client.upload_document(applicant_id, photos[side], check.document_type, side,
                                         issuing_country)
            for side in ("front", "back") if side in photos]
        await client.upload_live_photo(applicant_id, photos["selfie"])
        return applicant_id, document_ids

    async def post_to_administrators(self, check_id: int, headline: str) -> None:
        """The declared identity, then each photo as an encrypted image, in the admin room."""
        room_id = await self.verification.get_value(ADMIN_ROOM_KEY)
        if self.bot is None or room_id is None:
            log.warning("document check %s: no admin room to post to", check_id)
            return
        check = await self._get(check_id)
        account = await self.verification.account(check.user_id)
        names = f"{account.first_name} {account.last_name}" if account else "?"
        declared = (f"{account.declared_identifier_type or 'RPPS/ADELI'} "
                    f"{account.declared_identifier}") if account and account.declared_identifier \
            else "aucun RPPS/ADELI déclaré"
        await self.bot.send_text(room_id, (
            f"{headline}\nPraticien : {check.user_id} — identité déclarée : {names} — "
            f"{declared} — pièce : {DOCUMENT_FR.get(check.document_type, check.document_type)}.\n"
            f"Décidez avec !admin approuver {check.user_id} ou "
            f"!admin refuser {check.user_id} <raison>. Les photos seront supprimées du service "
            "après la décision."))
        for photo in await self.store.photos(check_id):
            await self.bot.send_encrypted_image(
                room_id, photo.data, photo.mimetype,
                f"{KIND_FR.get(photo.kind, photo.kind)} — {check.user_id}")

    # -- the provider's answer --------------------------------------------------------------
    async def on_webhook(self, raw: bytes, signature: str | None) -> tuple[int, str]:
        """An Onfido webhook: (HTTP status, short reason). Only a signed, new, known one acts."""
        if self.onfido is None:
            return 404, "onfido not configured"
        if not signature_valid(raw, signature, self.onfido.webhook_token):
            return 401, "bad signature"
        try:
            payload = json.loads(raw)["payload"]
            action, check_ref = payload["action"], str(payload["object"]["id"])
        except (ValueError, KeyError, TypeError):
            return 400, "malformed"
        check = await self._by_onfido_id(check_ref)
        if check is None:
            return 404, "unknown check"
        if action != "check.completed":
            return 200, "ignored"
        digest = sha256(raw)
        try:
            async with self.db.session() as session, session.begin():
                session.add(WebhookReceipt(digest=digest))
        except IntegrityError:
            return 409, "replayed"
        if check.step != "submitted":
            return 409, "already decided"
        try:
            outcome = await self.onfido.client.outcome(check_ref)
        except OnfidoError as exc:
            log.warning("webhook for document check %s: cannot read the check (%s)", check.id, exc)
            async with self.db.session() as session, session.begin():
                await session.execute(delete(WebhookReceipt).where(WebhookReceipt.digest == digest))
            return 503, "retry later"
        await self.conclude(check.id, outcome)
        return 200, "ok"

    async def poll_once(self) -> int:
        """Ask Onfido about every check still waiting (lost webhooks); returns how many ended."""
        if self.onfido is None:
            return 0
        async with self.db.session() as session:
            waiting = (await session.execute(select(DocumentCheck).where(
                DocumentCheck.step == "submitted", DocumentCheck.provider == "onfido",
                DocumentCheck.check_result.is_(None)))).scalars().all()
        ended = 0
        for check in waiting:
            try:
                outcome = await self.onfido.client.outcome(check.check_id or "")
            except OnfidoError as exc:
                log.warning("polling document check %s failed (%s)", check.id, exc)
                continue
            if outcome.final:
                ended += await self.conclude(check.id, outcome)
        return ended

    async def conclude(self, check_id: int, outcome: CheckOutcome) -> bool:
        """Act once on a final Onfido outcome: `clear` verifies, anything else goes to review."""
        if not outcome.final:
            await self._update(check_id, check_status=outcome.status)
            return False
        async with self._lock:
            check = await self._get(check_id)
            if check.step != "submitted" or check.check_result is not None:
                return False
            await self._update(check_id, check_status=outcome.status,
                               check_result=outcome.result or outcome.status)
        headline = (f"Contrôle Onfido à examiner : résultat « {outcome.result or outcome.status} »"
                    f". Rapports : {outcome.summary or 'aucun'}.")
        if outcome.status == "complete" and outcome.result == "clear":
            # "clear" proves a person, not a health professional: the declared number must
            # name a directory entry with the same names, or an administrator decides
            account = await self.verification.account(check.user_id)
            link = await link_declared(self.directory, account)
            if link.national_id is not None:
                try:
                    await self.verification.verify(
                        check.user_id, Method.ONFIDO, "onfido", national_id=link.national_id,
                        evidence={"document_check": check.id, "onfido_check": outcome.check_id,
                                  "result": "clear", "national_id": link.national_id,
                                  "documents": await self.store.summary(check.id)})
                    return True
                except NationalIdTaken:
                    return True  # recorded, announced to the administrators and the user
            headline = (f"Contrôle Onfido « clear », mais pas de correspondance dans l'annuaire "
                        f": {link.reason_fr}. À examiner.")
        await self.post_to_administrators(check.id, headline)
        if self.bot is not None:
            await self.bot.send_text(check.room_id, (
                "Le contrôle automatique de vos documents demande un examen complémentaire par "
                "un administrateur (jusqu'à 24 heures). Je vous préviendrai ici."))
        return True

    # -- after the decision -----------------------------------------------------------------
    async def on_decision(self, decision: Decision) -> None:
        """A decision was made: delete this practitioner's photos, keep their hashes in audit."""
        if decision.state not in (State.VERIFIED, State.REFUSED, State.REVOKED):
            return
        async with self.db.session() as session:
            checks = (await session.execute(select(DocumentCheck.id).where(
                DocumentCheck.user_id == decision.user_id,
                DocumentCheck.step.in_((*WAITING, "complete", "submitted"))))).scalars().all()
        for check_id in checks:
            summary = await self.store.summary(check_id)
            async with self.db.session() as session, session.begin():
                removed = (await session.execute(delete(StoredDocument).where(
                    StoredDocument.check_id == check_id))).rowcount or 0
                check = await session.get(DocumentCheck, check_id)
                check.step, check.decided_at = "decided", utcnow()
                if removed:  # in the same transaction: no deletion without its audit entry
                    session.add(AuditEntry(
                        user_id=decision.user_id, action="documents_deleted",
                        method=decision.method, actor="confrere",
                        reason=f"{removed} photo(s) supprimée(s) après décision {decision.state}",
                        evidence_sha256=evidence_digest({"documents": summary})))
            if removed:
                log.info("document check %s: %d photo(s) deleted after the decision",
                         check_id, removed)

    # -- background polling -----------------------------------------------------------------
    def start(self) -> None:
        if self.onfido is not None and self._poller is None:
            self._poller = asyncio.create_task(self._poll_forever(), name="onfido-poll")

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None

    async def _poll_forever(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("polling Onfido checks failed")

    # -- rows -------------------------------------------------------------------------------
    async def _get(self, check_id: int) -> DocumentCheck:
        async with self.db.session() as session:
            check = await session.get(DocumentCheck, check_id)
        assert check is not None
        return check

    async def _by_onfido_id(self, onfido_id: str) -> DocumentCheck | None:
        async with self.db.session() as session:
            return (await session.execute(select(DocumentCheck).where(
                DocumentCheck.check_id == onfido_id))).scalars().first()

    async def _update(self, row_id: int, /, **values: Any) -> None:
        async with self.db.session() as session, session.begin():
            check = await session.get(DocumentCheck, row_id)
            assert check is not None
            for name, value in values.items():
                setattr(check, name, value)

