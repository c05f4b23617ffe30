"""Test-only Synapse module: runs Synapse's own media retention pass every second.

Synapse applies `media_retention.local_media_lifetime` from a looping call fixed at one hour
(`MEDIA_RETENTION_CHECK_PERIOD`), which no test can wait for. This module, loaded only by the
dedicated Synapse of `test_retention_e2e.py`, calls the same method
(`MediaRepository._apply_media_retention_rules`) on a short period: the rule and the
configured lifetime are Synapse's, only the schedule is sped up."""

from __future__ import annotations

from typing import Any


class FastMediaRetention:
    def __init__(self, config: dict, api: Any) -> None:
        repository = api._hs.get_media_repository()
        api.looping_background_call(repository._apply_media_retention_rules,
                                    float(config.get("period_ms", 1000)),
                                    desc="test_fast_media_retention")

    @staticmethod
    def parse_config(config: dict) -> dict:
        return config or {}
