"""The Confrère bot: a matrix-nio client with its own, durable, cross-signed device.

It logs in once (appservice login, no password), keeps its device id, token and Olm/Megolm
store in `<data>/bot/`, and restores them at every start: a new login would be a new device
that others do not trust and that cannot read earlier messages.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any, Awaitable, Callable

import aiohttp
from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    MatrixRoom,
    MegolmEvent,
    RoomCreateResponse,
    RoomPutStateResponse,
    RoomEncryptedFile,
    RoomEncryptedImage,
    RoomMessageFile,
    RoomMessageImage,
    RoomMessageText,
    RoomPreset,
    RoomSendResponse,
    SyncResponse,
    UploadResponse,
)

from bridge.commands import PREFIX, CommandRouter
from bridge.dialogs import Answer, DialogEngine
from bridge.dialogs.engine import BACK_WORDS, CANCEL_WORDS
from bridge.matrix import trust_command
from bridge.matrix.cross_signing import CrossSigningKeys, ensure_cross_signed
from bridge.matrix.device_trust import DeviceTrust, MasterKeyPins, TrustedSendClient
from bridge.matrix.undecryptable import UndecryptableNotices
from bridge.storage.private_files import write_private_json

log = logging.getLogger(__name__)

NOT_A_COMMAND_FR = (
    "Bonjour ! Je suis le robot Confrère. Tapez !aide pour voir ce que je peux faire pour vous.\n"
    "(Hello! I am the Confrère bot. Type !help to see what I can do.)"
)
UNDECRYPTABLE_FR = (
    "Je n'ai pas pu déchiffrer votre dernier message (clé manquante). Pouvez-vous le renvoyer ?\n"
    "(I could not decrypt your last message; could you send it again?)"
)
UNENCRYPTED_FR = (
    "Cette conversation n'est pas chiffrée : Confrère ne répond que dans des conversations "
    "chiffrées de bout en bout.\n(This conversation is not end-to-end encrypted.)"
)


class BotSession:
    """user id, device id and access token, kept in a 0600 file beside the crypto store."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, str] | None:
        if not self.path.exists():
            return None
        return json.loads(self.path.read_text())

    def save(self, data: dict[str, str]) -> None:
        write_private_json(self.path, data)


class Bot:
    """Accepts direct-conversation invites, routes `!commands`, answers encrypted."""

    def __init__(self, *, homeserver_url: str, user_id: str, display_name: str, as_token: str,
                 data_dir: Path, router: CommandRouter) -> None:
        self.homeserver_url = homeserver_url.rstrip("/")
        self.user_id = user_id
        self.display_name = display_name
        self.as_token = as_token
        self.data_dir = data_dir
        self.router = router
        self.client: AsyncClient | None = None
        self.ready = asyncio.Event()
        self._sync_task: asyncio.Task | None = None
        self._seen: dict[str, None] = {}
        self.trust: DeviceTrust | None = None
        self.undecryptable = UndecryptableNotices()
        self._background: set[asyncio.Task] = set()
        trust_command.register(router, self)
        # Asked about each direct-conversation invite: (inviter, room id) -> join it?
        self.on_direct_conversation: Callable[[str, str], Awaitable[bool]] | None = None
        # Multi-step conversations (`bridge/dialogs/`): free text goes to the one running.
        self.dialogs: DialogEngine | None = None
        # Told about each image or file sent to the bot (identity documents).
        self.on_attachment: Callable[[MatrixRoom, Any], Awaitable[None]] | None = None

    @property
    def device_id(self) -> str | None:
        return self.client.device_id if self.client else None

    async def start(self) -> None:
        """Restore (or create once) the device, publish cross-signing, start syncing."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        store = self.data_dir / "store"
        store.mkdir(exist_ok=True)
        session_file = BotSession(self.data_dir / "session.json")
        async with aiohttp.ClientSession() as http:
            session = session_file.load()
            if session is None:
                session = await self._login_once(http)
                session_file.save(session)
            self.client = TrustedSendClient(
                self.homeserver_url, session["user_id"], device_id=session["device_id"],
                store_path=str(store),
                config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True),
            )
            self.client.restore_login(session["user_id"], session["device_id"],
                                      session["access_token"])
            if self.client.should_upload_keys:
                await self.client.keys_upload()
            await ensure_cross_signed(
                http, self.homeserver_url, user_id=self.user_id, device_id=session["device_id"],
                device_token=session["access_token"], as_token=self.as_token,
                keys=CrossSigningKeys.load_or_create(self.data_dir / "cross_signing.json"),
            )
        self.trust = self.client.trust = DeviceTrust(
            self.client, MasterKeyPins(self.data_dir / "trusted_master_keys.json"),
            on_master_changed=self._report_master_change)
        self.client.add_event_callback(self._on_invite, InviteMemberEvent)
        self.client.add_event_callback(self._on_text, RoomMessageText)
        self.client.add_event_callback(self._on_undecryptable, MegolmEvent)
        self.client.add_event_callback(self._on_attachment, (
            RoomEncryptedImage, RoomEncryptedFile, RoomMessageImage, RoomMessageFile))
        self._sync_task = asyncio.create_task(self._sync_forever(), name="bot-sync")
        await asyncio.wait_for(self.ready.wait(), timeout=60)
        log.info("bot %s ready with device %s", self.user_id, self.device_id)

    async def stop(self) -> None:
        if self._sync_task is not None:
            self._sync_task.cancel()
            try:
                await self._sync_task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - shutting down
                pass
            self._sync_task = None
        if self.client is not None:
            await self.client.close()
            self.client = None
        self.ready.clear()

    async def send_text(self, room_id: str, text: str, html: str | None = None,
                        msgtype: str = "m.notice") -> None:
        """Send in a room, encrypted when the room is (room keys only to trusted devices)."""
        content: dict[str, Any] = {"msgtype": msgtype, "body": text}
        if html:
            content.update(format="org.matrix.custom.html", formatted_body=html)
        await self._send_message(room_id, content)

    async def _send_message(self, room_id: str, content: dict[str, Any]) -> None:
        """Room keys go only to the devices `device_trust.py` trusts (`TrustedSendClient`)."""
        assert self.client is not None
        response = await self.client.room_send(room_id, "m.room.message", content)
        if not isinstance(response, RoomSendResponse):  # raised, so a follow-up is retried
            raise RuntimeError(f"send failed: {getattr(response, 'status_code', '')}")

    async def send_encrypted_image(self, room_id: str, data: bytes, mimetype: str,
                                   body: str) -> None:
        """Upload `data` encrypted (the server sees only ciphertext) and post it as m.image."""
        assert self.client is not None
        response, keys = await self.client.upload(
            lambda *_: data, content_type="application/octet-stream", encrypt=True,
            filesize=len(data))
        if not isinstance(response, UploadResponse):
            raise RuntimeError(f"upload failed: {getattr(response, 'status_code', '')}")
        await self._send_message(room_id, {
            "msgtype": "m.image", "body": body,
            "info": {"mimetype": mimetype, "size": len(data)},
            "file": {"url": response.content_uri, **keys},
        })

    async def send_encrypted_file(self, room_id: str, body: str, mimetype: str, size: int,
                                  file: dict[str, Any]) -> None:
        """Post an already encrypted upload again (its `file` keys travel inside this
        encrypted event): how a document is forwarded without the bot re-uploading it."""
        await self._send_message(room_id, {
            "msgtype": "m.file", "body": body, "info": {"mimetype": mimetype, "size": size},
            "file": file,
        })

    async def create_room(self, name: str, invite: list[str]) -> str:
        """An encrypted private room (e.g. the administrators' room); returns its id."""
        assert self.client is not None
        response = await self.client.room_create(
            name=name, invite=invite,
            initial_state=[{"type": "m.room.encryption", "state_key": "",
                            "content": {"algorithm": "m.megolm.v1.aes-sha2"}}],
        )
        if not hasattr(response, "room_id"):
            raise RuntimeError(f"could not create room: {getattr(response, 'message', response)}")
        return response.room_id

    async def open_direct_conversation(
            self, user_id: str,
            before_invite: Callable[[str], Awaitable[None]] | None = None) -> str:
        """Create an encrypted direct conversation inviting `user_id`; returns the room id.

        Private preset (not "trusted": it would give the invitee full power) and power levels
        that leave the security of the room to the bot: the practitioner may talk, nothing
        else (no invitation, no setting, no change of rights). `before_invite` runs between
        the creation and the invitation: the onboarding conversation is recorded there, so
        the access rules know it before the practitioner can possibly join it."""
        assert self.client is not None
        locked = {event_type: 100 for event_type in (
            "m.room.encryption", "m.room.power_levels", "m.room.join_rules",
            "m.room.history_visibility", "m.room.guest_access", "m.room.name", "m.room.topic",
            "m.room.avatar", "m.room.canonical_alias", "m.room.tombstone",
            "m.room.server_acl", "m.room.pinned_events")}
        response = await self.client.room_create(
            is_direct=True, invite=[] if before_invite else [user_id],
            preset=RoomPreset.private_chat,
            initial_state=[{"type": "m.room.encryption", "state_key": "",
                            "content": {"algorithm": "m.megolm.v1.aes-sha2"}}],
            power_level_override={  # no "users": the bot, creator, keeps its power
                "users_default": 0,
                "events_default": 0, "state_default": 100, "invite": 100, "kick": 100,
                "ban": 100, "redact": 100, "events": locked,
            },
        )
        if not isinstance(response, RoomCreateResponse):
            raise RuntimeError(f"room creation failed: {getattr(response, 'status_code', '')}")
        if before_invite is not None:
            await before_invite(response.room_id)
            await self.invite_direct(response.room_id, user_id)
        return response.room_id

    async def invite_direct(self, room_id: str, user_id: str) -> None:
        """An invitation marked direct, as createRoom's `is_direct` sends it."""
        assert self.client is not None
        invited = await self.client.room_put_state(
            room_id, "m.room.member", {"membership": "invite", "is_direct": True},
            state_key=user_id)
        if not isinstance(invited, RoomPutStateResponse):
            raise RuntimeError(f"invitation failed: {getattr(invited, 'status_code', '')}")

    async def never_invited(self, room_id: str, user_id: str) -> bool:
        """True when `user_id` has no membership at all in the room (an invitation that was
        recorded but never sent), as opposed to having left or declined."""
        assert self.client is not None
        response = await self.client.room_get_state_event(room_id, "m.room.member", user_id)
        return getattr(response, "status_code", None) == "M_NOT_FOUND"

    async def _login_once(self, http: aiohttp.ClientSession) -> dict[str, str]:
        """Appservice login for the sender user: no password, one device for good."""
        base = f"{self.homeserver_url}/_matrix/client/v3"
        headers = {"Authorization": f"Bearer {self.as_token}"}
        localpart = self.user_id[1:].split(":", 1)[0]
        async with http.post(f"{base}/register", headers=headers, json={
            "type": "m.login.application_service", "username": localpart, "inhibit_login": True,
        }) as response:
            if response.status not in (200, 400):
                raise RuntimeError(f"bot registration failed: {response.status}")
        async with http.post(f"{base}/login", headers=headers, json={
            "type": "m.login.application_service",
            "identifier": {"type": "m.id.user", "user": localpart},
            "initial_device_display_name": "Confrère (robot)",
        }) as response:
            body = await response.json()
            if response.status != 200:
                raise RuntimeError(f"bot login failed: {response.status} {body.get('errcode')}")
        log.info("bot logged in once; new device %s", body["device_id"])
        return {"user_id": body["user_id"], "device_id": body["device_id"],
                "access_token": body["access_token"]}

    async def _sync_forever(self) -> None:
        assert self.client is not None
        first = True
        while True:
            try:
                response = await self.client.sync(timeout=30000, full_state=first)
                if isinstance(response, SyncResponse):
                    first = False
                    self._on_sync(response)
                    await self._after_sync()
                    self.ready.set()
                else:
                    log.warning("bot sync failed: %s", getattr(response, "status_code", response))
                    await asyncio.sleep(2)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the bot must survive a homeserver outage
                log.exception("bot sync error; retrying")
                await asyncio.sleep(2)

    async def _after_sync(self) -> None:
        """The key housekeeping that `sync_forever` would do."""
        client = self.client
        assert client is not None
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            response = await client.keys_query()
            changed = getattr(response, "changed", None) or {}
            if self.trust is not None:
                self.trust.forget(changed)
            self._rotate_room_keys_for(changed)
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())
        await client.send_to_device_messages()

    def _rotate_room_keys_for(self, changed: dict) -> None:
        """A member has a new (or removed) device: use a fresh room key in their rooms.

        nio shares a room key only with the devices known when it is first shared, and no
        membership event marks a new device of an existing member; without this, an
        administrator's new device would never read what the bot posts in the admin room.
        """
        assert self.client is not None
        for room in self.client.rooms.values():
            if room.encrypted and any(user_id in room.users for user_id in changed):
                self.client.invalidate_outbound_session(room.room_id)

    def _on_sync(self, response: SyncResponse) -> None:
        """Users whose devices or cross-signing keys changed: decide again before sharing."""
        if self.trust is not None:
            self.trust.forget(response.device_list.changed or [])

    async def _report_master_change(self, user_id: str) -> None:
        """Tell the administrators (in the background: we are in the middle of a send)."""
        async def report() -> None:
            try:
                room_id = await trust_command.admin_room(self.router.services)
                if room_id:
                    await self.send_text(room_id, trust_command.changed_notice(user_id))
            except Exception:  # noqa: BLE001 - the warning is in the log already
                log.exception("could not tell the administrators about %s's new key", user_id)
        task = asyncio.create_task(report(), name="report-master-key-change")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        """Join only what `on_direct_conversation` accepts (it decides who may talk to the bot
        where); anything else, and any error deciding, is declined (fail closed)."""
        assert self.client is not None
        if event.state_key != self.user_id or event.membership != "invite":
            return
        accept = False
        if event.content.get("is_direct") and self.on_direct_conversation is not None:
            try:
                accept = bool(await self.on_direct_conversation(event.sender, room.room_id))
            except Exception:  # noqa: BLE001 - deciding failed: decline rather than join
                log.exception("could not decide on the invite to %s; declined", room.room_id)
        if not accept:
            log.info("declining an invite to %s", room.room_id)
            await self.client.room_leave(room.room_id)
            return
        result = await self.client.join(room.room_id)
        log.info("joined direct conversation %s (%s)", room.room_id, type(result).__name__)

    def _first_time(self, event_id: str) -> bool:
        if event_id in self._seen:
            return False
        self._seen[event_id] = None
        if len(self._seen) > 5000:
            self._seen.pop(next(iter(self._seen)))
        return True

    async def _on_text(self, room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender == self.user_id or not self._first_time(event.event_id):
            return

        async def reply(text: str, html: str | None = None) -> None:
            await self.send_text(room.room_id, text, html)

        if not room.encrypted:
            await reply(UNENCRYPTED_FR)
            return
        if await self._to_dialog(event.sender, room.room_id, event.body, reply):
            return
        handled = await self.router.dispatch(event.sender, room.room_id, event.body, reply)
        if not handled and room.member_count <= 2:
            await reply(NOT_A_COMMAND_FR)

    async def _to_dialog(self, sender: str, room_id: str, text: str, reply) -> bool:
        """Free text, and `annuler`/`retour` (with or without `!`), go to the dialog running
        in this conversation; any other `!command` still runs. False: not for a dialog."""
        if self.dialogs is None:
            return False
        stripped = text.strip()
        word = stripped.lstrip(PREFIX).strip().casefold()
        if stripped.startswith(PREFIX) and word not in CANCEL_WORDS | BACK_WORDS:
            return False
        return await self.dialogs.handle(sender, room_id, Answer(text=text), reply)

    async def _on_attachment(self, room: MatrixRoom, event: Any) -> None:
        if event.sender == self.user_id or not self._first_time(event.event_id):
            return
        if self.on_attachment is not None:
            await self.on_attachment(room, event)

    async def _on_undecryptable(self, room: MatrixRoom, event: MegolmEvent) -> None:
        assert self.client is not None
        if event.sender == self.user_id or not self._first_time(event.event_id):
            return
        log.info("could not decrypt an event in %s (session %s)", room.room_id, event.session_id)
        try:
            await self.client.request_room_key(event)
        except Exception:  # noqa: BLE001 - a key request is best effort (one per session)
            pass
        if self.undecryptable.should_notify(room.room_id, event.sender, event.session_id,
                                            direct=room.member_count <= 2):
            await self.send_text(room.room_id, UNDECRYPTABLE_FR)
