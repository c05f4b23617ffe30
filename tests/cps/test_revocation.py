"""Revocation on the service: IGC-Santé CRLs made by the test PKI, served over real HTTP (or
read from a file), cached until their nextUpdate; OCSP when the certificate names a responder.
A revoked card is refused with its reason; no fresh CRL means refusal and the admins told."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from confrere_cps import protocol
from cryptography import x509

from bridge.identity.cps import CpsRefusal
from bridge.identity.cps_revocation import RevocationChecker
from tests.cps import pki
from tests.cps.test_service import CAMILLE, answer, challenge_for

KEY_COMPROMISE = x509.ReasonFlags.key_compromise


class Publisher:
    """A small HTTP server publishing one CRL (or failing) and an OCSP responder."""

    def __init__(self) -> None:
        self.crl: bytes | None = pki.crl()
        self.hits = 0
        self.ocsp_hits = 0
        self.ocsp_revoked: dict[int, x509.ReasonFlags] = {}
        self.identities: dict[int, pki.CardIdentity] = {}
        self.url = ""

    async def serve_crl(self, request: web.Request) -> web.Response:
        self.hits += 1
        if self.crl is None:
            return web.Response(status=503)
        return web.Response(body=self.crl, content_type="application/pkix-crl")

    async def serve_ocsp(self, request: web.Request) -> web.Response:
        self.ocsp_hits += 1
        body = await request.read()
        from cryptography.x509 import ocsp

        serial = ocsp.load_der_ocsp_request(body).serial_number
        identity = self.identities[serial]
        return web.Response(
            body=pki.ocsp_response(identity, body, revoked=self.ocsp_revoked.get(serial)),
            content_type="application/ocsp-response",
        )

    def card(self, **options) -> pki.CardIdentity:
        identity = pki.card(ocsp_url=f"{self.url}/ocsp", **options)
        self.identities[identity.certificate.serial_number] = identity
        return identity


@pytest.fixture
async def publisher():
    served = Publisher()
    app = web.Application()
    app.add_routes([web.get("/ac.crl", served.serve_crl), web.post("/ocsp", served.serve_ocsp)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    await web.TCPSite(runner, "127.0.0.1", port).start()
    served.url = f"http://127.0.0.1:{port}"
    yield served
    await runner.cleanup()


def checking(world, *sources: str, ocsp: bool = False) -> list[str]:
    """Configure the world's revocation sources; returns the list the admin alerts land in."""
    alerts: list[str] = []

    async def alert(text: str) -> None:
        alerts.append(text)

    world.endpoints.revocation = RevocationChecker(sources, ocsp_enabled=ocsp, timeout=3)
    world.endpoints.revocation.alerts.append(alert)
    return alerts


async def present(world, identity) -> tuple[int, dict]:
    challenge = await challenge_for(world, CAMILLE)
    return await world.post(protocol.RESPONSE_PATH, answer(identity, CAMILLE, challenge))


async def test_a_card_absent_from_a_fresh_crl_verifies_and_the_crl_is_cached(
    cps_world, publisher
):
    other = pki.card("810002813839", "DONNAT-GADY", "ISABELLE")
    publisher.crl = pki.crl(((other.certificate, KEY_COMPROMISE),))
    checking(cps_world, f"{publisher.url}/ac.crl")
    await cps_world.account(CAMILLE)
    status, body = await present(cps_world, pki.card())
    assert status == 200 and body["status"] == "verified", body
    await present(cps_world, pki.card())  # a second answer: no second download
    assert publisher.hits == 1


async def test_a_revoked_card_is_refused_with_its_reason(cps_world, publisher):
    revoked = pki.card()
    publisher.crl = pki.crl(((revoked.certificate, KEY_COMPROMISE),))
    checking(cps_world, f"{publisher.url}/ac.crl")
    await cps_world.account(CAMILLE)
    status, body = await present(cps_world, revoked)
    assert status == 403 and body["error"] == "revoked_certificate", body
    assert "révoquée" in body["message_fr"] and "perdue ou volée" in body["message_fr"]
    assert await cps_world.state(CAMILLE) == "unverified" and not cps_world.decisions


async def test_a_stale_crl_that_cannot_be_refreshed_fails_closed_and_tells_the_admins(
    cps_world, publisher, caplog
):
    publisher.crl = pki.crl(next_update=timedelta(minutes=-5))  # published, but out of date
    alerts = checking(cps_world, f"{publisher.url}/ac.crl")
    await cps_world.account(CAMILLE)
    with caplog.at_level(logging.ERROR, logger="bridge.identity.cps_revocation"):
        status, body = await present(cps_world, pki.card())
        assert status == 503 and body["error"] == "revocation_unavailable", body
        assert "administrateurs" in body["message_fr"]
        publisher.crl = None  # then the server fails outright
        status, _ = await present(cps_world, pki.card())
    assert status == 503 and len(alerts) == 1 and "ac.crl" in alerts[0]  # told once
    assert "cannot be refreshed" in caplog.text
    assert await cps_world.state(CAMILLE) == "unverified"
    publisher.crl = pki.crl()  # published again: cards verify, no new alert needed
    status, body = await present(cps_world, pki.card())
    assert status == 200, body


async def test_a_cached_crl_is_fetched_again_after_its_next_update(publisher):
    card = pki.card()
    checker = RevocationChecker([f"{publisher.url}/ac.crl"])
    issuer = pki.intermediate().certificate
    await checker.check(card.certificate, issuer)
    assert publisher.hits == 1
    publisher.crl = pki.crl(((card.certificate, x509.ReasonFlags.superseded),),
                            next_update=timedelta(days=14))
    later = datetime.now(UTC) + timedelta(days=8)  # past the first CRL's nextUpdate
    with pytest.raises(CpsRefusal) as refused:
        await checker.check(card.certificate, issuer, now=later)
    assert refused.value.code == "revoked_certificate" and "remplacée" in refused.value.message_fr
    assert publisher.hits == 2


async def test_a_crl_not_signed_by_the_authority_is_not_used(cps_world, publisher):
    forged = pki.intermediate("AC IGC-SANTE FORT PERSONNES TEST", "AC RACINE FAUSSE")
    publisher.crl = pki.crl(issuer=forged)  # same name, other key: says nobody is revoked
    alerts = checking(cps_world, f"{publisher.url}/ac.crl")
    await cps_world.account(CAMILLE)
    status, body = await present(cps_world, pki.card())
    assert status == 503 and body["error"] == "revocation_unavailable", body
    assert alerts and "signature" in alerts[0]


async def test_a_crl_file_serves_closed_networks(cps_world, tmp_path):
    revoked = pki.card()
    crl_file = tmp_path / "ac.crl"
    crl_file.write_bytes(pki.crl(((revoked.certificate, None),)))
    checking(cps_world, str(crl_file))
    await cps_world.account(CAMILLE)
    status, body = await present(cps_world, revoked)
    assert status == 403 and "motif non précisé" in body["message_fr"], body
    status, body = await present(cps_world, pki.card())
    assert status == 200, body


async def test_ocsp_answers_first_when_configured(cps_world, publisher):
    publisher.crl = None  # no CRL at all: OCSP alone decides
    checking(cps_world, f"{publisher.url}/ac.crl", ocsp=True)
    await cps_world.account(CAMILLE)
    revoked = publisher.card()
    publisher.ocsp_revoked[revoked.certificate.serial_number] = KEY_COMPROMISE
    status, body = await present(cps_world, revoked)
    assert status == 403 and body["error"] == "revoked_certificate", body
    status, body = await present(cps_world, publisher.card())
    assert status == 200 and publisher.ocsp_hits == 2 and publisher.hits == 0, body
