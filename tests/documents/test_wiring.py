"""Configuration and start-up of the document path: provider keys, simulator, webhook route."""

from __future__ import annotations

import aiohttp
import pytest

from bridge.config import ConfigError, load_settings, write_default_config
from bridge.identity.onfido import sign
from bridge.service import ConfrereService
from tests.documents.conftest import free_port


def test_provider_and_photo_cap_are_typed_and_checked(tmp_path):
    settings = load_settings(tmp_path, {})
    assert settings.verification.document_provider == "review"
    assert settings.verification.document_max_mb == 10
    assert settings.onfido.simulated and settings.onfido.issuing_country == "FRA"
    assert settings.secrets.documents_key and settings.secrets.onfido_simulator_webhook_token
    with pytest.raises(ConfigError, match="document_provider"):
        load_settings(tmp_path, {"CONFRERE_VERIFICATION__DOCUMENT_PROVIDER": "magic"})
    with pytest.raises(ConfigError, match="document_max_mb"):
        load_settings(tmp_path, {"CONFRERE_VERIFICATION__DOCUMENT_MAX_MB": "60"})
    real = load_settings(tmp_path, {"CONFRERE_ONFIDO__BASE_URL": "https://api.eu.onfido.com/v3.6",
                                    "CONFRERE_ONFIDO__POLL_SECONDS": "120"})
    assert not real.onfido.simulated and real.onfido.poll_seconds == 120


async def test_onfido_without_base_url_starts_the_simulator_and_the_webhook(tmp_path):
    write_default_config(tmp_path)
    env = {"CONFRERE_SERVICE__PORT": str(free_port()),
           "CONFRERE_PSC__SIMULATOR_PORT": str(free_port()),
           "CONFRERE_ONFIDO__SIMULATOR_PORT": str(free_port()),
           "CONFRERE_VERIFICATION__DOCUMENT_PROVIDER": "onfido"}
    settings = load_settings(tmp_path, env)
    service = ConfrereService(settings)
    await service.start_http()
    try:
        simulator = service.services.onfido_simulator
        assert simulator.webhook_url == settings.service.internal + "/webhooks/onfido"
        token = settings.secrets.onfido_simulator_api_token
        async with aiohttp.ClientSession() as http:
            async with http.post(simulator.api_url + "/applicants",
                                 json={"first_name": "A", "last_name": "B"},
                                 headers={"Authorization": f"Token token={token}"}) as response:
                assert response.status == 201
            body = b'{"payload": {"action": "check.completed", "object": {"id": "x"}}}'
            url = settings.service.url + "/webhooks/onfido"
            async with http.post(url, data=body, headers={"X-SHA2-Signature": "ab"}) as response:
                assert response.status == 401
            good = sign(body, settings.secrets.onfido_simulator_webhook_token)
            async with http.post(url, data=body, headers={"X-SHA2-Signature": good}) as response:
                assert response.status == 404  # signed, but no such check
    finally:
        await service.stop()


async def test_real_onfido_needs_its_tokens(tmp_path):
    write_default_config(tmp_path)
    env = {"CONFRERE_SERVICE__PORT": str(free_port()),
           "CONFRERE_PSC__SIMULATOR_PORT": str(free_port()),
           "CONFRERE_VERIFICATION__DOCUMENT_PROVIDER": "onfido",
           "CONFRERE_ONFIDO__BASE_URL": "https://api.eu.onfido.com/v3.6"}
    service = ConfrereService(load_settings(tmp_path, env))
    try:
        with pytest.raises(ConfigError, match="api_token"):
            await service.start_http()
    finally:
        await service.stop()
