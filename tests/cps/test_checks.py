"""The service's checks of a card answer, without a reader: chain, dates, usage, signature,
and the holder read from the multi-valued RDN."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from confrere_cps import protocol
from confrere_cps.subject import holder_of
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import pkcs7

from bridge.config import ConfigError, load_settings
from bridge.identity.cps import CpsRefusal, TrustStore, check_card, load_certificates
from bridge.web.cps import CpsEndpoints
from tests.cps import pki

MESSAGE = protocol.signed_message("@camille:localhost", "challenge")


def sign(identity, message: bytes = MESSAGE) -> bytes:
    return identity.key.sign(message, padding.PKCS1v15(), hashes.SHA256())


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> TrustStore:
    return TrustStore.from_files(pki.write_trust_files(tmp_path_factory.mktemp("igc")))


def refusal(store, identity, signature=None, message=MESSAGE, now=None) -> str:
    with pytest.raises(CpsRefusal) as caught:
        check_card(store, identity.der, signature or sign(identity), message, now=now)
    return caught.value.code


def test_a_genuine_card_answer_names_its_holder(store):
    card = check_card(store, pki.card().der, sign(pki.card()), MESSAGE)
    assert (card.holder.national_id, card.holder.surname, card.holder.given_name) == (
        "810001045367",
        "BERNARD",
        "CAMILLE",
    )
    assert card.holder.title == "Médecin"
    assert "AC IGC-SANTE FORT PERSONNES TEST" in card.issuer


def test_holder_is_read_inside_the_multi_valued_rdn():
    certificate = pki.card("810002813839", "DONNAT-GADY", "ISABELLE").certificate
    rdn = next(r for r in certificate.subject.rdns if len(r) == 3)
    assert "+" in rdn.rfc4514_string()  # really one RDN with three attributes
    holder = holder_of(certificate)
    assert (holder.national_id, holder.surname, holder.given_name) == (
        "810002813839",
        "DONNAT-GADY",
        "ISABELLE",
    )


def test_unknown_authority_is_refused(store):
    stranger = pki.intermediate("AC QUELCONQUE", "AC RACINE QUELCONQUE")
    assert refusal(store, pki.card(issuer=stranger)) == "untrusted_certificate"


def test_forged_authority_with_the_igc_sante_name_is_refused(store):
    forged = pki.intermediate("AC IGC-SANTE FORT PERSONNES TEST", "AC RACINE FAUSSE")
    assert refusal(store, pki.card(issuer=forged)) == "untrusted_certificate"


def test_expired_certificate_is_refused(store):
    assert refusal(store, pki.card(expired=True)) == "expired_certificate"


def test_not_yet_valid_certificate_is_refused(store):
    past = datetime.now(UTC) - timedelta(days=90)
    assert refusal(store, pki.card(), now=past) == "certificate_not_yet_valid"


def test_certificate_for_another_use_is_refused(store):
    assert refusal(store, pki.card(client_auth=False)) == "wrong_key_usage"
    assert refusal(store, pki.card(digital_signature=False)) == "wrong_key_usage"


def test_signature_over_another_challenge_is_refused(store):
    other = protocol.signed_message("@camille:localhost", "another-challenge")
    assert refusal(store, pki.card(), signature=sign(pki.card(), other)) == "bad_signature"


def test_signature_by_another_key_is_refused(store):
    thief = pki.card(key_label="thief")
    assert refusal(store, pki.card(), signature=sign(thief)) == "bad_signature"


def test_garbage_is_refused(store):
    with pytest.raises(CpsRefusal) as caught:
        check_card(store, b"not a certificate", b"x", MESSAGE)
    assert caught.value.code == "bad_certificate"


def test_without_anchors_nothing_is_trusted():
    assert refusal(TrustStore([]), pki.card()) == "not_configured"


def test_trust_files_in_every_published_shape(tmp_path):
    root, intermediate = pki.root().certificate, pki.intermediate().certificate
    pem = root.public_bytes(serialization.Encoding.PEM)
    shapes = {
        "pem": pem + intermediate.public_bytes(serialization.Encoding.PEM),
        "p7b-der": pkcs7.serialize_certificates([root, intermediate], serialization.Encoding.DER),
        "p7b-pem": pkcs7.serialize_certificates([root, intermediate], serialization.Encoding.PEM),
    }
    for name, data in shapes.items():
        assert len(load_certificates(data)) == 2, name
        path = tmp_path / name
        path.write_bytes(data)
        store = TrustStore.from_files([path])
        assert [c.subject for c in store.anchors] == [root.subject]
        assert [c.subject for c in store.intermediates] == [intermediate.subject]
    assert load_certificates(root.public_bytes(serialization.Encoding.DER))[0] == root


def test_configuration_names_a_bad_trust_file(tmp_path):
    (tmp_path / "broken.pem").write_text("not a certificate")
    settings = load_settings(tmp_path, {"CONFRERE_CPS__TRUST_ANCHORS": "broken.pem"})
    assert settings.cps.trust_anchors == ("broken.pem",)
    with pytest.raises(ConfigError, match="cps.trust_anchors: .*broken.pem"):
        CpsEndpoints.from_settings(settings, verification=None)
    missing = load_settings(tmp_path, {"CONFRERE_CPS__TRUST_ANCHORS": "/nowhere/a.pem"})
    with pytest.raises(ConfigError, match="/nowhere/a.pem"):
        CpsEndpoints.from_settings(missing, verification=None)


def test_configured_files_are_read_relative_to_the_data_directory(tmp_path):
    names = [p.name for p in pki.write_trust_files(tmp_path / "igc")]
    settings = load_settings(
        tmp_path,
        {
            "CONFRERE_CPS__TRUST_ANCHORS": ",".join(f"igc/{n}" for n in names),
            "CONFRERE_CPS__CHALLENGE_SECONDS": "30",
        },
    )
    endpoints = CpsEndpoints.from_settings(settings, verification=None)
    assert endpoints.trust.configured and endpoints.challenge_seconds == 30


def test_codes_survive_retyping():
    code = protocol.new_code()
    shown = protocol.display_code(code)
    assert protocol.normalise_code(f"  {shown.lower()} ") == code
    assert protocol.normalise_code("abcde-1o1il") == "ABCDE10111"
