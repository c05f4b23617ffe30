"""Cost of the access-rules module: invite and join latency with the module versus the same
Synapse configuration without it, in the same run; and the module's cache hit rate.

Usage: python bench/access_rules.py [--count 500]
Aim (issue 5): ≤ 1.2 × when the cache is warm.
"""

from __future__ import annotations

import argparse
import asyncio
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


class Runner:
    """Alice invites Bob into her room, Bob joins, Bob leaves: one iteration, two timings."""

    def __init__(self, http: aiohttp.ClientSession, url: str, secret: str) -> None:
        self.http, self.url, self.secret = http, url, secret
        self.invites: list[float] = []
        self.joins: list[float] = []

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

    async def call(self, method, path, token, body=None):
        async with self.http.request(
                method, f"{self.url}/_matrix/client/v3{path}", json=body or {},
                headers={"Authorization": f"Bearer {token}"}) as response:
            assert response.status == 200, (path, response.status, await response.text())
            return await response.json()

    async def run(self, count: int) -> None:
        for _ in range(count):
            started = time.perf_counter()
            await self.call("POST", f"/rooms/{self.room}/invite", self.alice_token,
                            {"user_id": self.bob})
            self.invites.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            await self.call("POST", f"/rooms/{self.room}/join", self.bob_token)
            self.joins.append((time.perf_counter() - started) * 1000)
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
    print(f"Invite and join latency, {count} each, same Synapse config with and without module")
    for name, without, with_module in (("invite", without.invites, with_module.invites),
                                       ("join", without.joins, with_module.joins)):
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
