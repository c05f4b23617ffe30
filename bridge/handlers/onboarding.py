"""The bot's welcome: an encrypted direct conversation with each new practitioner.

Durable: an account with `welcome_pending` (set by `create_account`) still needs its welcome. A worker opens
the conversation (its id stored in `onboarding_room_id`, the one room an unverified user may
use), and sends the welcome once the practitioner has joined from their client — only then
does their device exist to receive the Megolm keys. Synapse or the bot being down just means
the next pass retries.
"""

from __future__ import annotations

import logging
from html import escape
from typing import Any

from nio import JoinedMembersResponse, RoomMemberEvent, RoomSendResponse
from sqlalchemy import select, update

from bridge.accounts.states import State
from bridge.accounts.models import Account
from bridge.background import PollingWorker
from bridge.context import Feature, HandlerContext
from bridge.storage.models import utcnow

log = logging.getLogger(__name__)

WELCOME_TEXT = """Bonjour {first_name}, bienvenue sur Confrère !

Votre compte est créé. Avant d'échanger avec vos confrères, une dernière étape est obligatoire : \
la vérification de votre identité de professionnel de santé. D'ici là, vous ne pouvez écrire \
qu'ici, au robot Confrère.

Trois façons de la faire :
1. Pro Santé Connect, avec l'application e-CPS ou votre carte CPS : le plus rapide.
2. Votre carte CPS dans un lecteur branché sur votre ordinateur (commande confrere cps-verify).
3. Une pièce d'identité (recto et verso) et un selfie envoyés dans cette conversation : \
vérification manuelle, sous 24 heures.

Écrivez !verifier ici pour commencer, ou !aide pour la liste des commandes.

(Welcome to Confrère. Verify your identity first: type !verify here; !help lists the commands.)"""

WELCOME_HTML = """<p>Bonjour {first_name}, bienvenue sur <strong>Confrère</strong> !</p>
<p>Votre compte est créé. Avant d'échanger avec vos confrères, une dernière étape est \
obligatoire : <strong>la vérification de votre identité</strong> de professionnel de santé. \
D'ici là, vous ne pouvez écrire qu'ici, au robot Confrère.</p>
<p>Trois façons de la faire :</p>
<ol>
<li><strong>Pro Santé Connect</strong>, avec l'application e-CPS ou votre carte CPS : le plus rapide.</li>
<li>Votre <strong>carte CPS</strong> dans un lecteur branché sur votre ordinateur \
(commande <code>confrere cps-verify</code>).</li>
<li>Une <strong>pièce d'identité</strong> (recto et verso) et un selfie envoyés dans cette \
conversation : vérification manuelle, sous 24 heures.</li>
</ol>
<p>Écrivez <code>!verifier</code> ici pour commencer, ou <code>!aide</code> pour la liste des \
commandes.</p>
<p lang="en"><em>(Welcome to Confrère. Verify your identity first: type <code>!verify</code> \
here; <code>!help</code> lists the commands.)</em></p>"""


VERIFIED_WELCOME_TEXT = """Bonjour {first_name}, bienvenue sur Confrère !

Votre compte est créé et votre identité est vérifiée par Pro Santé Connect : vous pouvez dès maintenant écrire à vos confrères vérifiés, créer des groupes et des dossiers patients.

Écrivez !annuaire suivi d'un nom, d'une spécialité ou d'une ville pour trouver un confrère, ou !aide pour la liste des commandes.

(Welcome to Confrère: your identity is verified. Type !search and a name, specialty or city to find a colleague; !help lists the commands.)"""


def welcome_content(first_name: str, verified: bool = False) -> dict:
    if verified:  # signed up through Pro Santé Connect: nothing left to prove
        text = VERIFIED_WELCOME_TEXT.format(first_name=first_name)
        return {"msgtype": "m.notice", "body": text, "format": "org.matrix.custom.html",
                "formatted_body": "<p>" + escape(text).replace("\n\n", "</p><p>") + "</p>"}
    return {"msgtype": "m.notice", "body": WELCOME_TEXT.format(first_name=first_name),
            "format": "org.matrix.custom.html",
            "formatted_body": WELCOME_HTML.format(first_name=escape(first_name))}


class WelcomeWorker(PollingWorker):
    """Opens onboarding conversations and sends welcomes until each is done."""

    name = "welcome"

    def __init__(self, services: HandlerContext, poll_seconds: float = 5) -> None:
        super().__init__()
        self.services = services
        self.poll_seconds = poll_seconds

    def bot_started(self, bot: Any) -> None:
        """Wake up when someone joins a room of the bot (a practitioner accepting the invite)."""
        async def on_member(room, event: RoomMemberEvent) -> None:
            if event.membership == "join" and event.state_key != bot.user_id:
                self.poke()
        bot.client.add_event_callback(on_member, RoomMemberEvent)
        self.poke()

    async def run_once(self) -> None:
        bot = self.services.bot
        if bot is None or bot.client is None or not bot.ready.is_set():
            return
        async with self.services.database.session() as session:
            waiting = list(await session.scalars(
                select(Account).where(Account.welcome_pending.is_(True))
                .order_by(Account.id).limit(100)))
        for account in waiting:
            try:
                await self._advance(bot, account)
            except Exception as exc:  # noqa: BLE001 - one account's trouble must not block others
                log.warning("welcome for %s postponed (%s)", account.user_id, type(exc).__name__)

    async def _advance(self, bot: Any, account: Account) -> None:
        if account.onboarding_room_id is None:
            async def record(room_id: str) -> None:
                await self._store(account.id, onboarding_room_id=room_id)

            room_id = await bot.open_direct_conversation(account.user_id, before_invite=record)
            log.info("onboarding conversation %s opened for %s", room_id, account.user_id)
            return
        room = bot.client.rooms.get(account.onboarding_room_id)
        if room is not None and account.user_id not in room.users \
                and await bot.never_invited(room.room_id, account.user_id):
            await bot.invite_direct(room.room_id, account.user_id)  # recorded, never sent
            return
        if room is None or account.user_id not in room.users \
                or account.user_id in room.invited_users:
            return  # not joined yet: the welcome waits for their device
        if not await self._devices_known(bot.client, account.user_id):
            return
        response = await bot.client.room_send(
            account.onboarding_room_id, "m.room.message",
            welcome_content(account.first_name, account.verification_state == State.VERIFIED),
            tx_id=f"confrere-welcome-{account.id}", ignore_unverified_devices=True)
        if not isinstance(response, RoomSendResponse):
            raise RuntimeError(f"send failed: {getattr(response, 'status_code', '')}")  # noqa: TRY004
        await self._store(account.id, welcome_pending=False, welcome_sent_at=utcnow())
        log.info("welcome sent to %s", account.user_id)

    @staticmethod
    async def _devices_known(client: Any, user_id: str) -> bool:
        """The practitioner's devices must be known, or they could not decrypt the welcome."""
        if not list(client.device_store.active_user_devices(user_id)):
            client.users_for_key_query.add(user_id)
        if client.should_query_keys:
            await client.keys_query()
        return bool(list(client.device_store.active_user_devices(user_id)))

    async def _store(self, account_id: int, **values) -> None:
        async with self.services.database.session() as session:
            await session.execute(update(Account).where(Account.id == account_id).values(**values))
            await session.commit()


DECLINED_FR = (
    "Vous m'avez invité dans une autre conversation : tant que votre identité n'est pas "
    "vérifiée, je ne parle qu'ici, dans la conversation que je vous ai ouverte. Écrivez "
    "!verifier pour commencer.\n(You invited me to another conversation: until your identity "
    "is verified, I only talk here, in the conversation I opened with you.)"
)


async def on_bot_invited(services: HandlerContext, inviter: str, room_id: str) -> bool:
    """May the bot join the direct conversation `inviter` opened? Only for verified users and
    administrators. Anyone else keeps the one conversation the bot opened with them
    (`Account.onboarding_room_id`): it is reopened or re-offered, and they are told so."""
    state = await services.verification.state_for_rules(inviter)
    if state["verification"] == State.VERIFIED or state["administrator"]:
        return True
    account = await services.verification.account(inviter)
    if account is not None:
        await offer_onboarding_conversation(services, account)
    return False


async def offer_onboarding_conversation(services: HandlerContext, account: Account) -> None:
    """Make sure `account` can reach its own conversation with the bot, and say where it is."""
    bot = services.bot
    room_id = account.onboarding_room_id
    # asked of the homeserver, not of the bot's cache (which may lag behind a restart)
    members = await bot.client.joined_members(room_id) if room_id else None
    if not isinstance(members, JoinedMembersResponse):
        # never opened, or the bot is no longer in it: the welcome worker opens a new one
        async with services.database.session() as session:
            await session.execute(update(Account).where(Account.id == account.id).values(
                onboarding_room_id=None, welcome_pending=True))
            await session.commit()
        services.welcome.poke()
        return
    if account.user_id not in {member.user_id for member in members.members}:
        await bot.client.room_invite(room_id, account.user_id)  # left or still invited
        return
    try:
        await bot.send_text(room_id, DECLINED_FR)
    except Exception as exc:  # noqa: BLE001 - the notice is a courtesy
        log.info("could not explain the declined invite to %s (%s)", account.user_id,
                 type(exc).__name__)


def _welcome(context: HandlerContext) -> list[PollingWorker]:
    context.welcome = WelcomeWorker(context)
    return [context.welcome]


FEATURE = Feature(name="onboarding", workers=_welcome)
