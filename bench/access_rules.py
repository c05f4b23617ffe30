"""Cost of the access-rules module: invite, join, send (an `m.room.encrypted` event) and
to-device latency with the module versus the same Synapse configuration without it, in the
same run; and the module's cache hit rate.

Usage: python bench/access_rules.py [--count 500]
Aim (issue 5): ≤ 1.2 × when the cache is warm.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import tempfile
import time
from pathlib import Path

import aiohttp
import yaml
from _common import describe, percentile

from bridge.matrix.synapse_admin import register_with_shared_secret
from bridge.supervisor import SynapseProcess
from tests.e2e.harness import Stack, free_port, stack_environment


async def plain_synapse(stack: Stack, data: Path) -> SynapseProcess:
    """The same rendered homeserver.yaml, without the module and the appservice."""
    config = yaml.safe_load((stack.settings.synapse_dir / "homeserver.yaml").read_text())
    port = free_port()
    config["listeners"][0]["port"] = port
    config["modules"] = []
    config["app_service_config_files"] = []
    config["database"] = {"name": "sqlite3", "args": {"database": str(data / "plain.db")}}
    config["media_store_path"] = str(data / "plain_media")
    config["pid_file"] = str(data / "plain.pid")
    path = data / "plain.yaml"
    path.write_text(yaml.safe_dump(config))
    process = SynapseProcess(path, f"http://127.0.0.1:{port}", data / "plain.log")
    await process.start()
    return process


def megolm_content() -> dict:
    """An `m.room.encrypted` content as clients send it (random bytes for the ciphertext)."""
    ciphertext = base64.b64encode(bytes([3]) + os.urandom(200)).decode().rstrip("=")
    return {"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": ciphertext,
            "session_id": "s" * 43, "sender_key": "k" * 43, "device_id": "BENCH"}


class Runner:
    """Alice invites Bob into her room, Bob joins, Alice sends a message and a to-device
    message to Bob, Bob leaves: one iteration, four timings."""

    def __init__(self, http: aiohttp.ClientSession, url: str, secret: str) -> None:
        self.http, self.url, self.secret = http, url, secret
        self.invites: list[float] = []
        self.joins: list[float] = []
        self.sends: list[float] = []
        self.to_device: list[float] = []
        self.txn = 0

    async def setup(self, prefix: str, before=None) -> None:
        users = []
        for name in (f"{prefix}alice", f"{prefix}bob"):
            answer = await register_with_shared_secret(self.http, self.url, self.secret, name,
                                                       "pw-" + name)
            users.append((answer["user_id"], answer["access_token"]))
        (self.alice, self.alice_token), (self.bob, self.bob_token) = users
        if before:
            await before(self.alice, self.bob)
        self.room = (await self.call("POST", "/createRoom", self.alice_token,
                                     {"name": "bench"}))["room_id"]

    async def timed(self, into: list[float], method, path, token, body=None) -> None:
        started = time.perf_counter()
        await self.call(method, path, token, body)
        into.append((time.perf_counter() - started) * 1000)

    async def call(self, method, path, token, body=None):
        async with self.http.request(
                method, f"{self.url}/_matrix/client/v3{path}", json=body or {},
                headers={"Authorization": f"Bearer {token}"}) as response:
            assert response.status == 200, (path, response.status, await response.text())
            return await response.json()

    async def run(self, count: int) -> None:
        for _ in range(count):
            self.txn += 1
            await self.timed(self.invites, "POST", f"/rooms/{self.room}/invite",
                             self.alice_token, {"user_id": self.bob})
            await self.timed(self.joins, "POST", f"/rooms/{self.room}/join", self.bob_token)
            await self.timed(self.sends, "PUT",
                             f"/rooms/{self.room}/send/m.room.encrypted/t{self.txn}",
                             self.alice_token, megolm_content())
            await self.timed(self.to_device, "PUT", f"/sendToDevice/m.room.encrypted/d{self.txn}",
                             self.alice_token,
                             {"messages": {self.bob: {"*": {"algorithm": "x", "n": self.txn}}}})
            await self.call("POST", f"/rooms/{self.room}/leave", self.bob_token)


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        env = stack_environment()
        env["CONFRERE_ACCESS_RULES__CACHE_SECONDS"] = "30"
        stack = await Stack.start(data / "stack", env)
        plain = await plain_synapse(stack, data)
        secret = stack.settings.secrets.registration_shared_secret
        try:
            async def verify_both(alice: str, bob: str) -> None:
                for user_id in (alice, bob):
                    await stack.add_account(user_id, state="verified")

            async with aiohttp.ClientSession() as http:
                without = Runner(http, plain.url, secret)
                with_module = Runner(http, stack.settings.synapse.url, secret)
                await without.setup("plain")
                await with_module.setup("module", verify_both)
                rounds = 10
                for _ in range(rounds):  # interleaved, so both see the same machine load
                    await without.run(count // rounds)
                    await with_module.run(count // rounds)
                async with http.get(
                    f"{stack.settings.synapse.url}/_synapse/client/confrere/stats",
                    headers={"Authorization": f"Bearer {stack.settings.secrets.module_secret}"},
                ) as response:
                    stats = await response.json()
            without, with_module = without, with_module
        finally:
            await plain.stop()
            await stack.stop()
    print(f"Invite, join, send and to-device latency, {count} each, same Synapse config with "
          "and without module")
    for name, without, with_module in (("invite", without.invites, with_module.invites),
                                       ("join", without.joins, with_module.joins),
                                       ("send", without.sends, with_module.sends),
                                       ("to-device", without.to_device, with_module.to_device)):
        print(describe(f"{name} without module", without))
        print(describe(f"{name} with module", with_module))
        print(f"  ratio {name}: p50 {percentile(with_module, 50) / percentile(without, 50):.2f}  "
              f"p95 {percentile(with_module, 95) / percentile(without, 95):.2f}  (aim ≤ 1.2)")
    total = stats["hits"] + stats["misses"]
    print(f"module cache: {stats['hits']} hits, {stats['misses']} misses, "
          f"hit rate {stats['hits'] / total:.1%}" if total else "module cache: no lookups")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=500)
    asyncio.run(main(parser.parse_args().count))
