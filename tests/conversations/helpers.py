"""Raw client-server calls for the conversation tests."""

from __future__ import annotations

import aiohttp


async def raw(stack, token: str, method: str, path: str, body: dict | None = None,
              *, prefix: str = "/_matrix/client/v3") -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http:
        async with http.request(method, f"{stack.settings.synapse.url}{prefix}{path}",
                                json=body, headers={"Authorization": f"Bearer {token}"}) as answer:
            return answer.status, await answer.json(content_type=None)


def code(body: dict) -> str | None:
    return (body.get("fr.confrere.reason") or {}).get("code")


async def set_badge(stack, user_id: str, name: str) -> None:
    from bridge.matrix.synapse_admin import set_display_name

    async with aiohttp.ClientSession() as http:
        await set_display_name(http, stack.settings.synapse.url,
                               stack.service.context.admin_token, user_id, name)
