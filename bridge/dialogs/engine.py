"""Runs declared dialogs: one per conversation, persisted after every answer.

Why durable: a practitioner answers between two patients; the service may restart meanwhile.
Each answer is stored (sealed) before the next question is asked, so the next message carries
on where they were. `annuler` drops everything typed; `retour` asks the previous question
again; a dialog left alone expires (`expires_after`) with a message, and its `on_cancel`
releases what it held.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable

from sqlalchemy import delete, select

from bridge.background import PollingWorker
from bridge.dialogs.declaration import (
    FINISH,
    Answer,
    Dialog,
    DialogContext,
    GoTo,
    Invalid,
    Message,
)
from bridge.dialogs.models import DialogSession
from bridge.storage.database import Database
from bridge.storage.sealing import SealBroken, SealedBox

log = logging.getLogger(__name__)

Reply = Callable[[str, "str | None"], Awaitable[None]]

CANCEL_WORDS = frozenset({"annuler", "cancel", "stop"})
BACK_WORDS = frozenset({"retour", "back", "précédent", "precedent"})

CANCELLED = "Démarche « {title} » annulée : rien n'a été enregistré.\n(Cancelled; nothing was kept.)"
EXPIRED = ("Démarche « {title} » interrompue faute de réponse : rien n'a été enregistré. "
           "Vous pouvez la reprendre depuis le début quand vous voulez.\n"
           "(This exchange expired without an answer; nothing was kept.)")
FIRST_QUESTION = "C'est la première question. (This is the first question.)"
BUSY = ("Une démarche « {title} » est déjà en cours ici : répondez à sa question, ou tapez "
        "annuler pour l'abandonner.\n(Another exchange is in progress: answer it or type annuler.)")
WANT_FILE = "J'attends un fichier (photo ou document) pour cette étape. (A file is expected.)"
WANT_TEXT = "J'attends une réponse écrite pour cette étape. (A written answer is expected.)"
LOST = ("Je n'ai pas pu relire votre démarche en cours ; elle est abandonnée, rien n'a été "
        "enregistré. Recommencez-la quand vous voulez.\n(The exchange could not be resumed.)")
HINT = "\n(annuler pour abandonner, retour pour la question précédente)"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _split(message: Message) -> tuple[str, str | None]:
    return (message, None) if isinstance(message, str) else message


class DialogEngine:
    def __init__(self, database: Database, box: SealedBox, services: Any = None,
                 clock: Callable[[], datetime] = _now) -> None:
        self.db = database
        self.box = box
        self.services = services
        self.clock = clock
        self.dialogs: dict[str, Dialog] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    def declare(self, dialog: Dialog) -> None:
        if dialog.name in self.dialogs:
            raise ValueError(f"dialog {dialog.name} declared twice")
        self.dialogs[dialog.name] = dialog

    # -- the three ways in --------------------------------------------------------------
    async def start(self, dialog_name: str, user_id: str, room_id: str, reply: Reply,
                    initial: dict[str, Any] | None = None) -> bool:
        """Begin `dialog_name` here and ask its first question; False if one is running."""
        dialog = self.dialogs[dialog_name]
        async with self._lock(user_id, room_id):
            row = await self._load(user_id, room_id)
            if row is not None and not self._expired(row):
                title = self.dialogs[row.dialog].title if row.dialog in self.dialogs else "?"
                await reply(BUSY.format(title=title), None)
                return False
            context = DialogContext(user_id, room_id, dict(initial or {}), self.services)
            first = dialog.steps[0]
            await self._save(row, dialog, context, first.name, [])
            await self._ask(dialog, first.name, context, reply)
            return True

    async def active(self, user_id: str, room_id: str) -> str | None:
        """The name of the dialog running in this conversation, if any."""
        row = await self._load(user_id, room_id)
        return row.dialog if row is not None and not self._expired(row) else None

    async def handle(self, user_id: str, room_id: str, answer: Answer, reply: Reply) -> bool:
        """Feed an answer to the running dialog; False when there is none (not consumed)."""
        async with self._lock(user_id, room_id):
            row = await self._load(user_id, room_id)
            if row is None or self._expired(row) or row.dialog not in self.dialogs:
                return False
            dialog = self.dialogs[row.dialog]
            try:
                context = DialogContext(user_id, room_id, self.box.open_json(row.sealed_data),
                                        self.services)
            except SealBroken:
                log.error("dialog state of a conversation cannot be opened; dropped")
                await self._delete(user_id, room_id)
                await reply(LOST, None)
                return True
            word = (answer.text or "").strip().lstrip("!").strip().casefold()
            if answer.attachment is None and word in CANCEL_WORDS:
                await self._delete(user_id, room_id)
                await self._cancelled(dialog, context)
                await reply(CANCELLED.format(title=dialog.title), None)
                return True
            if answer.attachment is None and word in BACK_WORDS:
                await self._back(row, dialog, context, reply)
                return True
            await self._answer(row, dialog, context, answer, reply)
            return True

    async def cancel(self, user_id: str, room_id: str) -> bool:
        """End the dialog running here without a message (it is being replaced); its
        `on_cancel` releases what it held. False when none was running."""
        async with self._lock(user_id, room_id):
            row = await self._load(user_id, room_id)
            if row is None:
                return False
            await self._delete(user_id, room_id)
        dialog = self.dialogs.get(row.dialog)
        if dialog is not None:
            try:
                data = self.box.open_json(row.sealed_data)
            except SealBroken:
                data = {}
            await self._cancelled(dialog, DialogContext(user_id, room_id, data, self.services))
        return True

    # -- steps ------------------------------------------------------------------------------
    async def _answer(self, row: DialogSession, dialog: Dialog, context: DialogContext,
                      answer: Answer, reply: Reply) -> None:
        step = dialog.step(row.step)
        if step.wants_attachment != (answer.attachment is not None):
            await reply(WANT_FILE if step.wants_attachment else WANT_TEXT, None)
            return
        try:
            value = step.parse(answer, context)
            if inspect.isawaitable(value):
                value = await value
        except Invalid as refusal:
            await reply(refusal.message + HINT, None)
            return
        context.data[step.name] = value
        history = [*row.history, step.name]
        following = dialog.following(step, context)
        if following != FINISH:
            await self._save(row, dialog, context, following, history)
            await self._ask(dialog, following, context, reply)
            return
        await self._save(row, dialog, context, step.name, history[:-1])
        try:
            closing = await dialog.finish(context)
        except GoTo as back:
            kept = history[:history.index(back.step)] if back.step in history else history
            for name in history[len(kept):]:
                context.data.pop(name, None)
            await self._save(row, dialog, context, back.step, kept)
            await reply(back.message, None)
            await self._ask(dialog, back.step, context, reply)
            return
        except Invalid as refusal:
            await reply(refusal.message + HINT, None)
            return
        await self._delete(context.user_id, context.room_id)
        if closing is not None:
            await reply(*_split(closing))

    async def _back(self, row: DialogSession, dialog: Dialog, context: DialogContext,
                    reply: Reply) -> None:
        if not row.history:
            await reply(FIRST_QUESTION, None)
            await self._ask(dialog, row.step, context, reply)
            return
        previous = row.history[-1]
        context.data.pop(previous, None)
        await self._save(row, dialog, context, previous, row.history[:-1])
        await self._ask(dialog, previous, context, reply)

    async def _ask(self, dialog: Dialog, step_name: str, context: DialogContext,
                   reply: Reply) -> None:
        question = dialog.step(step_name).question
        message = question(context) if callable(question) else question
        await reply(*_split(message))

    async def _cancelled(self, dialog: Dialog, context: DialogContext) -> None:
        if dialog.on_cancel is None:
            return
        try:
            await dialog.on_cancel(context)
        except Exception:  # noqa: BLE001 - releasing is best effort; logged without content
            log.exception("on_cancel of dialog %s failed", dialog.name)

    # -- expiry ----------------------------------------------------------------------------
    async def expire_due(self, notify: Callable[[str, str], Awaitable[None]]) -> int:
        """Drop every dialog past its expiry, release what it held, tell the practitioner."""
        async with self.db.session() as session:
            due = list(await session.scalars(select(DialogSession).where(
                DialogSession.expires_at < self.clock()).limit(100)))
        for row in due:
            async with self._lock(row.user_id, row.room_id):
                current = await self._load(row.user_id, row.room_id)
                if current is None or not self._expired(current):
                    continue
                await self._delete(row.user_id, row.room_id)
            dialog = self.dialogs.get(row.dialog)
            if dialog is None:
                continue
            try:
                data = self.box.open_json(row.sealed_data)
            except SealBroken:
                data = {}
            await self._cancelled(dialog, DialogContext(row.user_id, row.room_id, data,
                                                        self.services))
            try:
                await notify(row.room_id, EXPIRED.format(title=dialog.title))
            except Exception:  # noqa: BLE001 - the bot may be away; the dialog is gone anyway
                log.warning("could not tell a practitioner that their dialog expired")
        return len(due)

    # -- storage ---------------------------------------------------------------------------
    def _lock(self, user_id: str, room_id: str) -> asyncio.Lock:
        return self._locks.setdefault((user_id, room_id), asyncio.Lock())

    def _expired(self, row: DialogSession) -> bool:
        return _aware(row.expires_at) <= self.clock()

    async def _load(self, user_id: str, room_id: str) -> DialogSession | None:
        async with self.db.session() as session:
            return await session.scalar(select(DialogSession).where(
                DialogSession.user_id == user_id, DialogSession.room_id == room_id))

    async def _save(self, row: DialogSession | None, dialog: Dialog, context: DialogContext,
                    step: str, history: list[str]) -> None:
        """Store where the conversation stands; `row` None starts afresh (replacing any)."""
        now = self.clock()
        async with self.db.session() as session, session.begin():
            current = await session.scalar(select(DialogSession).where(
                DialogSession.user_id == context.user_id,
                DialogSession.room_id == context.room_id))
            if current is not None and (row is None or current.dialog != dialog.name):
                await session.delete(current)
                await session.flush()
                current = None
            if current is None:
                current = DialogSession(user_id=context.user_id, room_id=context.room_id,
                                        dialog=dialog.name, started_at=now)
                session.add(current)
            current.step = step
            current.history = list(history)
            current.sealed_data = self.box.seal_json(context.data)
            current.updated_at = now
            current.expires_at = now + dialog.expires_after
        if row is not None:
            row.step, row.history = step, list(history)

    async def _delete(self, user_id: str, room_id: str) -> None:
        async with self.db.session() as session, session.begin():
            await session.execute(delete(DialogSession).where(
                DialogSession.user_id == user_id, DialogSession.room_id == room_id))


class DialogExpiryWorker(PollingWorker):
    """Ends abandoned dialogs and tells their practitioner, once a minute."""

    name = "dialog-expiry"
    poll_seconds = 60.0

    def __init__(self, engine: DialogEngine,
                 notify: Callable[[str, str], Awaitable[None]]) -> None:
        super().__init__()
        self.engine = engine
        self.notify = notify

    async def run_once(self) -> bool:
        return await self.engine.expire_due(self.notify) >= 100
