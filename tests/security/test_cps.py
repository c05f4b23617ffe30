"""Adversarial cases of the CPS card path, against the running service (real HTTP, Synapse,
database): each forged or stale answer is refused with its code and changes nothing.

The attacker holds a valid one-time code for their own account (from `!verifier cps`) and
tries to get it verified with a card that is not acceptable."""

from __future__ import annotations

import base64
import socket
from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web
from confrere_cps import protocol
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from bridge.identity.cps import TrustStore
from bridge.identity.cps_challenge import issue_code
from bridge.identity.cps_revocation import RevocationChecker
from bridge.web.cps import admin_room_alert
from tests.cps import pki
from tests.e2e.test_documents import joined_admin
from tests.security.canaries import plant

pytestmark = pytest.mark.e2e


@pytest.fixture
async def crl_server():
    """Publishes whatever CRL the test sets (None: the publisher is down)."""
    state: dict = {"crl": pki.crl()}

    async def serve(request: web.Request) -> web.Response:
        if state["crl"] is None:
            return web.Response(status=503)
        return web.Response(body=state["crl"], content_type="application/pkix-crl")

    app = web.Application()
    app.add_routes([web.get("/ac.crl", serve)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    await web.TCPSite(runner, "127.0.0.1", port).start()
    state["url"] = f"http://127.0.0.1:{port}/ac.crl"
    yield state
    await runner.cleanup()


@pytest.fixture
def cps(stack, tmp_path, crl_server):
    """The running service trusts the test PKI and checks the test CRL, for one test."""
    endpoints = stack.service.services.cps
    configured = endpoints.trust, endpoints.revocation
    endpoints.trust = TrustStore.from_files(pki.write_trust_files(tmp_path / "igc"))
    endpoints.revocation = RevocationChecker([crl_server["url"]], timeout=3)
    yield endpoints
    endpoints.trust, endpoints.revocation = configured


async def attacker(stack) -> str:
    client = await stack.practitioner(
        "mallory", verified=False, first_name="Camille", last_name="Bernard",
        declared="10001045367",
    )
    return client.user_id


async def post(stack, path: str, body: dict) -> tuple[int, dict]:
    url = stack.settings.service.url + path
    async with aiohttp.ClientSession() as http, http.post(url, json=body) as response:
        return response.status, await response.json()


async def challenge(stack, user_id: str) -> str:
    code = plant(await issue_code(stack.service.verification.db, user_id, 15))
    status, body = await post(stack, protocol.CHALLENGE_PATH, {"code": code})
    assert status == 200, body
    return body["challenge"]


def signed(identity, user_id: str, nonce: str, signer=None) -> dict:
    message = protocol.signed_message(user_id, nonce)
    signature = (signer or identity).key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return {
        "user_id": user_id,
        "challenge": nonce,
        "certificate": base64.b64encode(identity.der).decode(),
        "signature": base64.b64encode(signature).decode(),
    }


async def refused(stack, user_id: str, body: dict, code: str, http_status: int = 403) -> dict:
    status, answer = await post(stack, protocol.RESPONSE_PATH, body)
    assert (status, answer.get("error")) == (http_status, code), answer
    account = await stack.service.verification.account(user_id)
    assert account.verification_state == "unverified" and account.national_id is None
    return answer


@pytest.mark.rule("revoked_certificate")
async def test_a_revoked_card_is_refused(stack, cps, crl_server):
    stolen = pki.card()
    crl_server["crl"] = pki.crl(((stolen.certificate, x509.ReasonFlags.key_compromise),))
    user = await attacker(stack)
    nonce = await challenge(stack, user)
    answer = await refused(stack, user, signed(stolen, user, nonce), "revoked_certificate")
    assert "révoquée" in answer["message_fr"]


@pytest.mark.rule("revocation_unavailable")
async def test_a_crl_past_its_next_update_fails_closed_and_the_admins_are_told(
    stack, cps, crl_server
):
    admin, admin_room = await joined_admin(stack)
    cps.revocation.alerts.append(
        admin_room_alert(stack.service.verification, stack.service.services)
    )
    stolen = pki.card()
    # the only CRL on offer is stale (and does not list the card): it must not be trusted
    crl_server["crl"] = pki.crl(next_update=timedelta(hours=-1))
    user = await attacker(stack)
    nonce = await challenge(stack, user)
    await refused(stack, user, signed(stolen, user, nonce), "revocation_unavailable", 503)
    await admin.wait_for(
        lambda: any(
            room == admin_room and "liste de révocation" in getattr(event, "body", "")
            for room, event in admin.messages
        ),
        30,
        "the administrators are told",
    )


@pytest.mark.rule("invalid_challenge")
async def test_a_replayed_challenge_is_refused(stack, cps):
    user = await attacker(stack)
    nonce = await challenge(stack, user)
    good = signed(pki.card(), user, nonce)
    # the genuine answer is intercepted and spent first by a refused (other card) attempt
    other = signed(pki.card("810002813839", "DONNAT-GADY", "ISABELLE"), user, nonce)
    other["signature"] = good["signature"]
    await refused(stack, user, other, "bad_signature")
    await refused(stack, user, good, "invalid_challenge", 410)


@pytest.mark.rule("bad_signature")
async def test_a_challenge_signed_by_another_card_is_refused(stack, cps):
    user = await attacker(stack)
    nonce = await challenge(stack, user)
    mine, theirs = pki.card(), pki.card("810002813839", "DONNAT-GADY", "ISABELLE")
    await refused(stack, user, signed(mine, user, nonce, signer=theirs), "bad_signature")


@pytest.mark.rule("expired_certificate")
async def test_an_expired_certificate_is_refused(stack, cps):
    user = await attacker(stack)
    nonce = await challenge(stack, user)
    await refused(stack, user, signed(pki.card(expired=True), user, nonce), "expired_certificate")


@pytest.mark.rule("untrusted_certificate")
async def test_a_forged_chain_is_refused(stack, cps, crl_server):
    forged = pki.intermediate("AC IGC-SANTE FORT PERSONNES TEST", "AC RACINE FAUSSE")
    crl_server["crl"] = pki.crl(issuer=forged)  # even with a CRL of the forged authority
    user = await attacker(stack)
    nonce = await challenge(stack, user)
    card = pki.card(issuer=forged)
    await refused(stack, user, signed(card, user, nonce), "untrusted_certificate")
