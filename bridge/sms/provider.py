"""Where SMS go: a provider's HTTP API, or the in-memory development sink.

Provider contract (documented in README): `POST <provider_url>` with JSON
`{"id", "to", "text", "sender"}` and `Authorization: Bearer <api_token>`; 2xx is accepted;
`id` is stable across retries so a provider deduplicates an uncertain resend; 4xx (but 408
and 429) is a refusal for good; anything else is retried.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone

import aiohttp

from bridge.delivery import Permanent, Transient


@dataclass(frozen=True)
class Sms:
    id: str
    to: str
    text: str


class HttpSmsProvider:
    def __init__(self, url: str, token: str = "", sender: str = "Confrere",
                 timeout: float = 10) -> None:
        self.url, self.token, self.sender = url, token, sender
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, sms: Sms) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        body = {"id": sms.id, "to": sms.to, "text": sms.text, "sender": self.sender}
        try:
            async with aiohttp.ClientSession(timeout=self.timeout) as http:
                async with http.post(self.url, json=body, headers=headers) as response:
                    status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise Transient(type(exc).__name__) from None
        if 200 <= status < 300:
            return
        if 400 <= status < 500 and status not in (408, 429):
            raise Permanent(f"provider refused ({status})")
        raise Transient(f"provider answered {status}")


@dataclass
class DevSmsSink:
    """Development default: keeps what would be sent, shown at `/_dev/sms`. Deduplicates on
    `id` like a real provider would."""

    messages: deque = field(default_factory=lambda: deque(maxlen=500))

    async def send(self, sms: Sms) -> None:
        if any(kept["id"] == sms.id for kept in self.messages):
            return
        self.messages.appendleft({"id": sms.id, "to": sms.to, "text": sms.text,
                                  "received_at": datetime.now(timezone.utc)})

    def to(self, number: str) -> list[dict]:
        return [m for m in self.messages if m["to"] == number]


def provider_from(settings) -> HttpSmsProvider | DevSmsSink:
    """The provider configured in `sms:` (the dev sink when `provider_url` is empty)."""
    sms = settings.sms
    if sms.dev_sink:
        return DevSmsSink()
    return HttpSmsProvider(sms.provider_url, sms.api_token, sms.sender, sms.timeout_seconds)
