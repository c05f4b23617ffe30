"""Which outside provider the service talks to: the configured one, or its development
simulator on loopback. Composition, not domain: only here may `bridge/dev/` be chosen."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp

from bridge.config import ConfigError, Settings
from bridge.context import HandlerContext
from bridge.dev.onfido_simulator import OnfidoSimulator
from bridge.dev.psc_simulator import PscSimulator
from bridge.identity.document_checks import DocumentChecks, OnfidoProvider
from bridge.identity.onfido import WEBHOOK_PATH, OnfidoClient
from bridge.identity.psc import ProSanteConnect, PscClientConfig
from bridge.web.psc import CALLBACK_PATH

log = logging.getLogger(__name__)


async def start_document_provider(settings: Settings, checks: DocumentChecks,
                                  http: aiohttp.ClientSession, serve: Any,
                                  context: HandlerContext) -> None:
    """Give `checks` the configured Onfido (or its development simulator) and start polling.

    `serve(app, port)` runs a simulator on loopback for the service's lifetime.
    """
    if settings.verification.document_provider != "onfido":
        return
    onfido = settings.onfido
    if onfido.simulated:
        log.warning("no Onfido base_url configured: using the development simulator")
        simulator = OnfidoSimulator(
            api_token=settings.secrets.onfido_simulator_api_token,
            webhook_token=settings.secrets.onfido_simulator_webhook_token,
            base_url=f"http://127.0.0.1:{onfido.simulator_port}",
            webhook_url=settings.service.internal + WEBHOOK_PATH)
        await serve(simulator.app(), onfido.simulator_port)
        context.onfido_simulator = simulator
        base_url, api_token, webhook_token = (simulator.api_url, simulator.api_token,
                                              simulator.webhook_token)
    else:
        if not onfido.api_token or not onfido.webhook_token:
            raise ConfigError("onfido.api_token and onfido.webhook_token are required when "
                              "verification.document_provider is onfido")
        base_url, api_token, webhook_token = onfido.base_url, onfido.api_token, onfido.webhook_token
    checks.onfido = OnfidoProvider(OnfidoClient(base_url, api_token, http), webhook_token,
                                   onfido.issuing_country)
    checks.start()


async def start_psc(settings: Settings, http: aiohttp.ClientSession, serve: Any,
                    context: HandlerContext) -> ProSanteConnect:
    """The configured Pro Santé Connect, or the development simulator on loopback."""
    psc = settings.psc
    redirect_uri = settings.service.url + CALLBACK_PATH
    if not psc.simulated:
        config = PscClientConfig(psc.issuer, psc.client_id, psc.client_secret, redirect_uri,
                                 psc.discovery_url)
        return ProSanteConnect(config, http)
    log.warning("no Pro Santé Connect issuer configured: using the development simulator")
    simulator = PscSimulator(client_id="confrere-dev",
                             client_secret=settings.secrets.psc_simulator_client_secret,
                             base_url=f"http://127.0.0.1:{psc.simulator_port}")
    await serve(simulator.app(), psc.simulator_port)
    context.psc_simulator = simulator
    config = PscClientConfig(simulator.issuer, simulator.client_id, simulator.client_secret,
                             redirect_uri)
    return ProSanteConnect(config, http)
