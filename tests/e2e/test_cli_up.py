"""`confrere up` as a newcomer runs it: first start, endpoints, Ctrl-C, second start reuses data."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

import aiohttp
import pytest

from tests.e2e.harness import stack_environment

pytestmark = pytest.mark.e2e


async def _run_up(data_dir, env) -> tuple[dict, str, int]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bridge", "--data", str(data_dir), "up",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, **env},
    )
    endpoints_file = data_dir / "endpoints.json"
    try:
        for _ in range(600):
            if endpoints_file.exists() or process.returncode is not None:
                break
            await asyncio.sleep(0.1)
        assert endpoints_file.exists(), "confrere up did not become ready"
        info = json.loads(endpoints_file.read_text())
        async with aiohttp.ClientSession() as http:
            async with http.get(info["health_url"]) as response:
                assert response.status == 200 and (await response.json())["bot"] is True
            async with http.get(info["homeserver_url"] + "/_matrix/client/versions") as response:
                assert response.status == 200
            async with http.get(info["homeserver_url"] + "/_matrix/client/v3/login") as response:
                flows = (await response.json())["flows"]
            providers = [p for f in flows for p in f.get("identity_providers", [])]
            assert [p["name"] for p in providers] == ["Pro Santé Connect"]
            assert providers[0].get("icon", "").startswith("mxc://"), "the button has its logo"
            async with http.get(info["web_url"]) as response:
                home = await response.text()
                assert response.status == 200 and 'href="/signup"' in home
                assert info["homeserver_url"] in home
    finally:
        process.send_signal(signal.SIGINT)
        output = (await asyncio.wait_for(process.communicate(), 60))[0].decode()
    return info, output, process.returncode


async def test_up_then_ctrl_c_then_up_again(tmp_path):
    env = stack_environment()
    first, output, code = await _run_up(tmp_path, env)
    assert code == 0, output
    assert "premier démarrage" in output and first["homeserver_url"] in output
    assert "Confrère est arrêté." in output
    assert not (tmp_path / "endpoints.json").exists(), "endpoints.json is removed when stopped"
    assert (tmp_path / "logs" / "confrere.log").exists()
    assert (tmp_path / "logs" / "synapse.log").exists()

    second, output, code = await _run_up(tmp_path, env)
    assert code == 0, output
    assert "données réutilisées" in output
    assert second["bot_device_id"] == first["bot_device_id"], "the bot keeps its device"
    assert second["admin_user_id"] == first["admin_user_id"]


async def _confrere(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bridge", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output = (await asyncio.wait_for(process.communicate(), 120))[0].decode()
    return process.returncode, output


async def test_sample_directory_backup_and_restore(tmp_path):
    """First start imports the labelled sample; a backup restored into a new folder starts with
    the same bot device, accounts and directory."""
    env = stack_environment()
    original, restored = tmp_path / "original", tmp_path / "restored"
    first, output, code = await _run_up(original, env)
    assert code == 0, output
    assert "ÉCHANTILLON" in output and first["directory"]["sample"] is True
    assert first["directory"]["practitioners"] > 50
    assert "confrere --data" in output and "status" in output and "backup" in output

    archive = tmp_path / "sauvegarde.tar.gz"
    code, output = await _confrere("backup", str(archive), "--data", str(original))
    assert code == 0, output
    assert oct(archive.stat().st_mode & 0o777) == "0o600", "the archive holds the secrets"
    code, output = await _confrere("restore", str(archive), "--data", str(restored))
    assert code == 0, output
    code, output = await _confrere("restore", str(archive), "--data", str(restored))
    assert code == 1 and "pas vide" in output, "restoring over a data directory is refused"
    assert not (restored / "logs").exists(), "logs are not part of a backup"

    second, output, code = await _run_up(restored, env)
    assert code == 0, output
    assert "données réutilisées" in output and "Annuaire vide" not in output
    assert second["bot_device_id"] == first["bot_device_id"], "the bot keeps its device"
    assert second["admin_user_id"] == first["admin_user_id"]
    assert second["directory"]["practitioners"] == first["directory"]["practitioners"]
