"""The service's CPS endpoints over HTTP, on both back-ends: single-use and bound challenges,
every refusal clear and harmless, mismatch refused with the manual path offered."""

from __future__ import annotations

import base64

from confrere_cps import protocol
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from sqlalchemy import select

from bridge.identity.cps import TrustStore
from bridge.verification.models import AuditEntry, VerificationRequest
from tests.cps import pki

CAMILLE = "@camille:localhost"


async def challenge_for(world, user_id: str) -> str:
    status, body = await world.post(protocol.CHALLENGE_PATH, {"code": await world.code(user_id)})
    assert status == 200 and body["user_id"] == user_id, body
    return body["challenge"]


def answer(
    identity,
    user_id: str,
    challenge: str,
    *,
    signed_challenge: str | None = None,
    signed_user: str | None = None,
) -> dict:
    message = protocol.signed_message(signed_user or user_id, signed_challenge or challenge)
    signature = identity.key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return {
        "user_id": user_id,
        "challenge": challenge,
        "certificate": base64.b64encode(identity.der).decode(),
        "signature": base64.b64encode(signature).decode(),
    }


async def test_a_genuine_card_verifies_the_account(cps_world):
    await cps_world.account(CAMILLE)
    challenge = await challenge_for(cps_world, CAMILLE)
    status, body = await cps_world.post(
        protocol.RESPONSE_PATH, answer(pki.card(), CAMILLE, challenge)
    )
    assert status == 200 and body["status"] == "verified", body
    assert "CAMILLE BERNARD (810001045367)" in body["message_fr"]
    account = await cps_world.verification.account(CAMILLE)
    assert (account.verification_state, account.national_id) == ("verified", "810001045367")
    assert [(d.state, d.method, d.actor) for d in cps_world.decisions] == [
        ("verified", "cps", "Carte CPS")
    ]
    async with cps_world.database.session() as session:
        request = (
            await session.execute(
                select(VerificationRequest).where(VerificationRequest.user_id == CAMILLE)
            )
        ).scalar_one()
    assert request.evidence["provider"] == "cps"
    assert request.evidence["national_id"] == "810001045367"
    assert len(request.evidence["certificate_sha256"]) == 64


async def test_the_code_and_the_challenge_serve_once(cps_world):
    await cps_world.account(CAMILLE)
    code = await cps_world.code(CAMILLE)
    status, first = await cps_world.post(protocol.CHALLENGE_PATH, {"code": code.lower()})
    assert status == 200
    status, again = await cps_world.post(protocol.CHALLENGE_PATH, {"code": code})
    assert status == 410 and again["error"] == "invalid_code"
    assert "!verifier cps" in again["message_fr"]
    good = answer(pki.card(), CAMILLE, first["challenge"])
    assert (await cps_world.post(protocol.RESPONSE_PATH, good))[0] == 200
    status, replay = await cps_world.post(protocol.RESPONSE_PATH, good)
    assert status == 410 and replay["error"] == "invalid_challenge"
    assert "déjà utilisé" in replay["message_fr"]


async def test_expired_code_and_expired_challenge_are_refused(cps_world):
    await cps_world.account(CAMILLE)
    status, body = await cps_world.post(
        protocol.CHALLENGE_PATH, {"code": await cps_world.code(CAMILLE, minutes=0)}
    )
    assert status == 410 and body["error"] == "invalid_code"
    cps_world.endpoints.challenge_seconds = 0
    challenge = await challenge_for(cps_world, CAMILLE)
    status, body = await cps_world.post(
        protocol.RESPONSE_PATH, answer(pki.card(), CAMILLE, challenge)
    )
    assert status == 410 and body["error"] == "invalid_challenge"
    assert await cps_world.state(CAMILLE) == "unverified" and not cps_world.decisions


async def test_a_challenge_of_another_account_is_refused(cps_world):
    await cps_world.account(CAMILLE)
    mallory = await cps_world.account("@mallory:localhost", "Camille", "Bernard", None)
    theirs = await challenge_for(cps_world, CAMILLE)
    # Mallory presents Camille's challenge for her own account, signed with Camille's card
    status, body = await cps_world.post(protocol.RESPONSE_PATH, answer(pki.card(), mallory, theirs))
    assert status == 403 and body["error"] == "challenge_other_account"
    assert "autre compte" in body["message_fr"]
    assert await cps_world.state(mallory) == "unverified"
    assert await cps_world.state(CAMILLE) == "unverified" and not cps_world.decisions


async def test_a_signature_over_another_challenge_is_refused(cps_world):
    await cps_world.account(CAMILLE)
    old = await challenge_for(cps_world, CAMILLE)
    fresh = await challenge_for(cps_world, CAMILLE)
    status, body = await cps_world.post(
        protocol.RESPONSE_PATH, answer(pki.card(), CAMILLE, fresh, signed_challenge=old)
    )
    assert status == 403 and body["error"] == "bad_signature"
    assert body["message_fr"].startswith("Vérification impossible : la signature")
    status, body = await cps_world.post(
        protocol.RESPONSE_PATH, answer(pki.card(), CAMILLE, old, signed_user="@mallory:localhost")
    )
    assert status == 403 and body["error"] == "bad_signature"
    assert await cps_world.state(CAMILLE) == "unverified" and not cps_world.decisions


async def test_unknown_authority_and_expired_certificates_are_refused(cps_world):
    await cps_world.account(CAMILLE)
    stranger = pki.card(
        issuer=pki.intermediate("AC IGC-SANTE FORT PERSONNES TEST", "AC RACINE PIRATE")
    )
    for identity, code in (
        (stranger, "untrusted_certificate"),
        (pki.card(expired=True), "expired_certificate"),
        (pki.card(client_auth=False), "wrong_key_usage"),
    ):
        challenge = await challenge_for(cps_world, CAMILLE)
        status, body = await cps_world.post(
            protocol.RESPONSE_PATH, answer(identity, CAMILLE, challenge)
        )
        assert status == 403 and body["error"] == code, body
        assert body["message_fr"] and body["message_en"]
    assert await cps_world.state(CAMILLE) == "unverified" and not cps_world.decisions


async def test_a_card_of_another_identifier_is_refused_with_the_manual_path(cps_world):
    await cps_world.account(CAMILLE)
    # same names, but the RPPS number on the card is not the one declared at signup
    challenge = await challenge_for(cps_world, CAMILLE)
    other = pki.card("810002813839", "BERNARD", "CAMILLE")
    status, body = await cps_world.post(protocol.RESPONSE_PATH, answer(other, CAMILLE, challenge))
    assert status == 403 and body["status"] == "refused" and body["error"] == "identity_mismatch"
    assert "numéro RPPS/ADELI" in body["message_fr"] and "!verifier manuel" in body["message_fr"]
    assert await cps_world.state(CAMILLE) == "refused"
    assert cps_world.decisions[-1].state == "refused"
    assert "la carte CPS" in cps_world.decisions[-1].reason

    # another person altogether: names differ too
    isabelle = await cps_world.account("@isabelle:localhost", "Isabelle", "Martin", None)
    challenge = await challenge_for(cps_world, isabelle)
    donnat = pki.card("810002813839", "DONNAT-GADY", "ISABELLE")
    status, body = await cps_world.post(protocol.RESPONSE_PATH, answer(donnat, isabelle, challenge))
    assert status == 403 and "ne correspondent pas" in body["message_fr"]
    async with cps_world.database.session() as session:
        audit = (
            (await session.execute(select(AuditEntry).where(AuditEntry.user_id == isabelle)))
            .scalars()
            .all()
        )
    assert [(a.action, a.method) for a in audit] == [("refused", "cps")]


async def test_malformed_requests_change_nothing(cps_world):
    await cps_world.account(CAMILLE)
    challenge = await challenge_for(cps_world, CAMILLE)
    good = answer(pki.card(), CAMILLE, challenge)
    bad_bodies = [
        "not json",
        [],
        {},
        {**good, "certificate": "%%%"},
        {**good, "signature": ""},
        {**good, "user_id": 7},
        {**good, "certificate": "A" * 40000},
    ]
    for body in bad_bodies:
        status, answer_body = await cps_world.post(protocol.RESPONSE_PATH, body)
        assert status == 400 and answer_body["error"] == "bad_request", body
        assert answer_body["message_fr"].startswith("Demande incomplète")
    for body in ("nope", {}, {"code": 12}):
        assert (await cps_world.post(protocol.CHALLENGE_PATH, body))[0] == 400
    # the challenge was not spent by the bad requests
    status, _ = await cps_world.post(protocol.RESPONSE_PATH, good)
    assert status == 200


async def test_without_trust_anchors_the_path_says_so_and_spends_nothing(cps_world):
    await cps_world.account(CAMILLE)
    code = await cps_world.code(CAMILLE)
    configured = cps_world.endpoints.trust
    cps_world.endpoints.trust = TrustStore([])
    status, body = await cps_world.post(protocol.CHALLENGE_PATH, {"code": code})
    assert status == 503 and body["error"] == "not_configured"
    assert "Pro Santé Connect" in body["message_fr"]
    cps_world.endpoints.trust = configured
    assert (await cps_world.post(protocol.CHALLENGE_PATH, {"code": code}))[0] == 200
