"""The chart's schema knows the grouping keys of digest and alert routes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

CHART = Path(__file__).resolve().parents[2] / "helm"
SCHEMA = json.loads((CHART / "values.schema.json").read_text("utf-8"))


def errors(config: dict[str, Any]) -> list[str]:
    """What the schema says of the chart's default values with ``config``'s routes."""
    values = yaml.safe_load((CHART / "values.yaml").read_text("utf-8"))
    values["config"].update(config)
    validator = jsonschema.Draft7Validator(SCHEMA)
    return [e.message for e in validator.iter_errors(values)]


def test_grouping_keys_of_routes_are_accepted() -> None:
    config = {
        "digests": [{"channel": "C1", "group_by": ["environment"]}],
        "alerts": [{"channel": "C2", "group_by": ["folder", "label:team"], "group_after": 3}],
    }
    assert errors(config) == []


@pytest.mark.parametrize(
    "route",
    [
        {"channel": "C2", "group_by": ["colour"]},
        {"channel": "C2", "group_by": ["label:"]},
        {"channel": "C2", "group_by": ["folder", "folder"]},
        {"channel": "C2", "group_after": 0},
        {"channel": "C2", "group_by": "folder"},
    ],
)
def test_a_bad_grouping_is_refused_at_install(route: dict[str, Any]) -> None:
    assert errors({"alerts": [route]}) != []
