"""What people read does not change unless we mean it to: the scenario's payloads as recorded."""

from __future__ import annotations

import json

import pytest

from tests.golden.scenario import RECORDED, record


@pytest.mark.slow
async def test_the_scenario_makes_the_payloads_recorded_byte_for_byte() -> None:
    recorded = json.loads(RECORDED.read_text(encoding="utf-8"))
    made = await record()
    assert [e["label"] for e in made] == [e["label"] for e in recorded]
    for got, want in zip(made, recorded, strict=True):
        # Compared as canonical JSON text: the same keys, values and order of list items.
        assert json.dumps(got, sort_keys=True, ensure_ascii=False) == json.dumps(
            want, sort_keys=True, ensure_ascii=False
        ), got["label"]
