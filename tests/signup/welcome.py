"""After signup: log in as the practitioner with matrix-nio, accept the bot's invitation and
read its welcome, decrypted — what Element does."""

from __future__ import annotations

from sqlalchemy import select

from bridge.accounts.models import Account
from tests.e2e.harness import wait
from tests.e2e.matrix_client import TestClient


async def account_of(stack, email: str) -> Account | None:
    async with stack.service.database.session() as session:
        return await session.scalar(select(Account).where(Account.email == email))


async def welcome_of(stack, email: str, password: str, timeout: float = 60):
    """(account, client, welcome event) once the welcome arrived in the onboarding room."""
    account = await account_of(stack, email)
    assert account is not None

    async def room_opened() -> bool:
        nonlocal account
        account = await account_of(stack, email)
        return account.onboarding_room_id is not None
    assert await wait(room_opened, timeout), "the bot did not open the onboarding conversation"
    client = TestClient(stack.settings.synapse.url, account.user_id,
                        stack.data_dir / "clients" / account.user_id.strip("@").replace(":", "_"))
    stack.clients.append(client)
    await client.login(password)
    room_id = account.onboarding_room_id
    await client.wait_for(lambda: room_id in client.client.invited_rooms
                          or room_id in client.client.rooms, timeout,
                          "no invitation from the bot")
    await client.client.join(room_id)
    event = await client.next_message_from(stack.bot_id, room_id, 0, timeout)
    return await account_of(stack, email), client, event
