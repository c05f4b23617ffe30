"""A manual review is one request, announced once (issue #16, item 10).

`!verifier manuel` opens a manual request, then the identity documents the bot asks for are
submitted as a manual request too: before the fix this made two pending requests, two
announcements to the practitioner and the administrators, two lines in `!admin verifications`.
"""

from __future__ import annotations

from bridge.verification.service import VerificationService
from tests.test_verification_followups import _account


async def test_manual_then_documents_is_one_request_announced_once(database):
    await _account(database, "@lea:localhost")
    verification = VerificationService(database)
    heard: list[str] = []

    async def listener(decision) -> None:
        heard.append(f"{decision.user_id}:{decision.state}:{decision.method}")

    verification.listen("test.heard", listener)
    first = await verification.request("@lea:localhost", "manual")  # !verifier manuel
    second = await verification.request("@lea:localhost", "manual",  # documents submitted
                                        {"document_check": 1, "provider": "review"})
    assert first == second
    assert heard == ["@lea:localhost:pending:manual"]
    pending = await verification.pending()
    assert [(r.user_id, r.method) for r in pending] == [("@lea:localhost", "manual")]
    assert pending[0].evidence == {"document_check": 1, "provider": "review"}


async def test_after_a_decision_a_new_request_is_announced_again(database):
    await _account(database, "@lea:localhost")
    verification = VerificationService(database)
    heard: list[str] = []

    async def listener(decision) -> None:
        heard.append(decision.state)

    verification.listen("test.heard", listener)
    await verification.request("@lea:localhost", "manual")
    await verification.refuse("@lea:localhost", "manual", "@admin:localhost", "illisible")
    await verification.request("@lea:localhost", "manual")
    assert heard == ["pending", "refused", "pending"]
    assert len(await verification.pending()) == 1
