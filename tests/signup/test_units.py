"""Pure rules: RPPS key, names, localparts, codes, sealed cookies, back-off, PSC button."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from bridge.accounts.localpart import base_localpart, candidates
from bridge.accounts.pending import CodeOutcome, SignupRequest, check_code, set_code
from bridge.accounts.validation import clean_identifier, clean_name, luhn_valid
from bridge.mail.outbox import backoff
from bridge.web.sealed import Sealer
from bridge.web.templating import render


def test_rpps_key_is_luhn():
    assert luhn_valid("10001045367") and luhn_valid("10002813839") and luhn_valid("99700771191")
    assert not luhn_valid("10001234567")
    assert clean_identifier("100 010 453 67")[:2] == ("10001045367", "RPPS")


def test_names_are_normalised():
    assert clean_name("  Jean-Pierre   d'Ormesson ", "nom") == ("Jean-Pierre d'Ormesson", None)
    assert clean_name("E\u0301lodie", "prénom")[0] == "Élodie"  # NFC


def test_localparts_are_readable_and_unique_candidates():
    assert base_localpart("Camille", "Bernard") == "camille.bernard"
    assert base_localpart("Marie-Hélène", "D'Artagnan") == "marie-helene.dartagnan"
    assert base_localpart("Jürgen", "Straße") == "jurgen.strasse"
    names = candidates("Camille", "Bernard", reserved=lambda n: n == "camille.bernard2")
    assert [next(names) for _ in range(3)] == ["camille.bernard", "camille.bernard3",
                                              "camille.bernard4"]


def test_five_wrong_tries_burn_the_code():
    request = SignupRequest(id="r1", sends=0)
    code = set_code(request, "secret", timedelta(minutes=15))
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        assert check_code(request, "secret", wrong, 5) is CodeOutcome.WRONG
    assert check_code(request, "secret", code, 5) is CodeOutcome.RIGHT
    assert check_code(request, "secret", wrong, 5) is CodeOutcome.WRONG
    assert request.code_hash is None
    assert check_code(request, "secret", code, 5) is CodeOutcome.EXHAUSTED


def test_code_hash_depends_on_the_secret():
    request = SignupRequest(id="r2", sends=0)
    code = set_code(request, "secret", timedelta(minutes=15))
    assert check_code(request, "other-secret", code, 5) is CodeOutcome.WRONG


def test_sealed_cookie_refuses_tampering_and_expiry():
    sealer = Sealer("s" * 32, "signup")
    value = sealer.seal({"sid": "abc", "pw": "Secret-Passw0rd"}, 60)
    assert "Secret" not in value
    assert sealer.open(value)["pw"] == "Secret-Passw0rd"
    assert sealer.open(value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]) is None
    assert Sealer("t" * 32, "signup").open(value) is None
    assert sealer.open(sealer.seal({"sid": "abc"}, -1)) is None


def test_backoff_grows_and_is_capped():
    assert backoff(1, 300) <= 1 and 3 <= backoff(3, 300) <= 4 and backoff(30, 300) <= 300


def test_psc_button_only_when_a_provider_is_available():
    without = render("signup.html", title="t", values={}, errors={}, warnings={}, labels={},
                     modes={"liberal": "Libéral"}, password_policy=(), consents=[],
                     psc_enabled=False, csrf="tok").text
    assert "/psc/signup" not in without
    page = render("signup.html", title="t", values={}, errors={}, warnings={}, labels={},
                  modes={"liberal": "Libéral"}, password_policy=(), consents=[],
                  psc_enabled=True, csrf="tok").text
    assert 'href="/psc/signup"' in page and "Pro Santé Connect" in page
