"""Retention, proven: a dedicated Synapse rendered from the same template with a few-seconds
policy and fast purge jobs shows a message and its media gone from its database and media
store after the purge."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from pathlib import Path

import aiohttp
import pytest
import yaml

from bridge.matrix.synapse_admin import register_with_shared_secret
from bridge.supervisor import SynapseProcess
from tests.e2e.harness import free_port, wait
from tests.security.room_actors import megolm_content

pytestmark = pytest.mark.e2e

LIFETIME_S = 4


async def short_policy_synapse(stack, data: Path) -> tuple[SynapseProcess, dict]:
    """The stack's rendered homeserver.yaml (module included, asking the same service), with
    its own port, database, media store and log, and a few-seconds retention policy."""
    config = yaml.safe_load((stack.settings.synapse_dir / "homeserver.yaml").read_text())
    port = free_port()
    config["listeners"] = [config["listeners"][0]]
    config["listeners"][0]["port"] = port
    config["app_service_config_files"] = []
    config["database"] = {"name": "sqlite3", "args": {"database": str(data / "retention.db")}}
    config["media_store_path"] = str(data / "media")
    config["pid_file"] = str(data / "retention.pid")
    config["retention"] = {
        "enabled": True,
        "default_policy": {"min_lifetime": "1s", "max_lifetime": f"{LIFETIME_S}s"},
        "allowed_lifetime_min": "1s", "allowed_lifetime_max": "1d",
        "purge_jobs": [{"interval": "1s"}],
    }
    config["media_retention"] = {"local_media_lifetime": f"{LIFETIME_S}s"}
    config["modules"].append({"module": "tests.conversations.fast_media_retention."
                                        "FastMediaRetention", "config": {"period_ms": 1000}})
    log = yaml.safe_load((stack.settings.synapse_dir / "log.yaml").read_text())
    log["handlers"]["file"]["filename"] = str(stack.settings.logs_dir / "synapse-retention.log")
    (data / "log.yaml").write_text(yaml.safe_dump(log))
    config["log_config"] = str(data / "log.yaml")
    path = data / "retention.yaml"
    path.write_text(yaml.safe_dump(config))
    process = SynapseProcess(path, f"http://127.0.0.1:{port}", data / "retention.stdout.log")
    await process.start()
    return process, config


async def test_message_and_media_purged_after_the_retention_period(stack, tmp_path):
    synapse, config = await short_policy_synapse(stack, tmp_path)
    url = synapse_url = f"http://127.0.0.1:{config['listeners'][0]['port']}"
    try:
        async with aiohttp.ClientSession() as http:
            answer = await register_with_shared_secret(
                http, synapse_url, stack.settings.secrets.registration_shared_secret,
                f"ret{uuid.uuid4().hex[:8]}", uuid.uuid4().hex)
            user, token = answer["user_id"], answer["access_token"]
            await stack.add_account(user, state="verified")
            headers = {"Authorization": f"Bearer {token}"}

            async def call(method: str, path: str, body=None, **kw):
                async with http.request(method, f"{url}/_matrix/client/v3{path}", json=body,
                                        headers=headers, **kw) as reply:
                    return reply.status, await reply.json(content_type=None)

            status, body = await call("POST", "/createRoom", {"name": "Rétention"})
            assert status == 200, body
            room_id = body["room_id"]
            async with http.post(f"{url}/_matrix/media/v3/upload", data=b"\x89PNG" + b"x" * 2048,
                                 headers={**headers, "Content-Type": "image/png"}) as reply:
                mxc = (await reply.json())["content_uri"]
            media_id = mxc.rsplit("/", 1)[1]
            status, body = await call("PUT", f"/rooms/{room_id}/send/m.room.encrypted/t1",
                                      megolm_content())
            assert status == 200, body
            old_event = body["event_id"]
            db = Path(config["database"]["args"]["database"])

            def stored(event_id: str) -> int:
                with sqlite3.connect(db) as conn:
                    return conn.execute("SELECT count(*) FROM events WHERE event_id = ?",
                                        (event_id,)).fetchone()[0]

            def media_files() -> list[Path]:
                """The file in Synapse's media store, and its row."""
                path = Path(config["media_store_path"], "local_content", media_id[:2],
                            media_id[2:4], media_id[4:])
                with sqlite3.connect(db) as conn:
                    rows = conn.execute("SELECT count(*) FROM local_media_repository WHERE "
                                        "media_id = ?", (media_id,)).fetchone()[0]
                return [path] * path.exists() + ["row"] * rows

            assert stored(old_event) == 1 and media_files()
            await asyncio.sleep(LIFETIME_S + 1)
            # a newer message, so the expired one is no longer the room's latest event
            status, body = await call("PUT", f"/rooms/{room_id}/send/m.room.encrypted/t2",
                                      megolm_content())
            assert status == 200

            async def purged() -> bool:
                return stored(old_event) == 0 and not media_files()

            assert await wait(purged, 30), (stored(old_event), media_files())
            async with http.get(f"{url}/_matrix/client/v1/media/download/"
                                f"{mxc[len('mxc://'):]}", headers=headers) as reply:
                assert reply.status == 404
    finally:
        await synapse.stop()
