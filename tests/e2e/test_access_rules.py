"""The Synapse module fails closed: if the service cannot answer, guarded actions are refused."""

from __future__ import annotations

import pytest
from nio import RoomCreateError, RoomCreateResponse

pytestmark = pytest.mark.e2e


async def test_service_reachable_allows_room_creation(stack):
    grace = await stack.client("grace")
    response = await grace.client.room_create(name="Équipe")
    assert isinstance(response, RoomCreateResponse), response


async def test_service_unreachable_denies_with_clear_reason(stack):
    heidi = await stack.client("heidi")
    await stack.service.stop()
    try:
        response = await heidi.client.room_create(name="Équipe")
    finally:
        await stack.restart_service()
    assert isinstance(response, RoomCreateError), response
    assert response.status_code == "M_FORBIDDEN"
    assert "injoignable" in response.message and "unreachable" in response.message
    # once the service is back, the same user may act again
    again = await heidi.client.room_create(name="Équipe")
    assert isinstance(again, RoomCreateResponse), again
