"""``[tool.vibevoice-ci.perf]``: optional, with the design's defaults, validated."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest

from vibevoice_ci.core.config import PerfConfig, load_config, parse_config
from vibevoice_ci.core.errors import ConfigError
from vibevoice_ci.perf.regression import Thresholds

ROOT = Path(__file__).resolve().parents[4]
TABLE: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
    "tool"
]["vibevoice-ci"]


def parse_perf(perf: object | None) -> PerfConfig:
    table = copy.deepcopy(TABLE)
    table.pop("perf", None)
    if perf is not None:
        table["perf"] = perf
    return parse_config(table, Path("/repo")).perf


def test_the_project_uses_the_design_thresholds() -> None:
    thresholds = Thresholds.from_config(load_config(ROOT).perf)
    assert thresholds == Thresholds(0.10, 0.15, 0.01, 0.01)


def test_the_table_is_optional_and_defaults_to_the_design() -> None:
    perf = parse_perf(None)
    assert Thresholds.from_config(perf) == Thresholds()
    assert perf.state_dir == Path("/repo/.perf-state")


def test_the_ttfa_objective_defaults_to_250_ms_and_is_read() -> None:
    assert parse_perf(None).ttfa_slo_ms == 250.0
    assert parse_perf({"ttfa_slo_ms": 400}).ttfa_slo_ms == 400.0
    assert load_config(ROOT).perf.ttfa_slo_ms == 250.0


def test_values_are_read_and_paths_are_under_the_root() -> None:
    perf = parse_perf({"engine": "piper", "requests": 10, "ttfa_increase": 0.2, "prompts": "p"})
    assert (perf.engine, perf.requests, perf.ttfa_increase) == ("piper", 10, 0.2)
    assert perf.prompts == Path("/repo/p")


@pytest.mark.parametrize(
    ("perf", "message"),
    [
        ({"ttfa_increase": 10}, "ttfa_increase"),
        ({"alpha": 0}, "alpha"),
        ({"max_error_rate": "1%"}, "max_error_rate"),
        ({"requests": -1}, "requests"),
        ({"requests": 0}, "requests"),
        ({"concurrency": True}, "concurrency"),
        ({"treshold": 0.1}, "unknown key"),
        ({"ttfa_slo_ms": 0}, "ttfa_slo_ms"),
        ({"ttfa_slo_ms": -5.0}, "ttfa_slo_ms"),
        ({"ttfa_slo_ms": "250ms"}, "ttfa_slo_ms"),
        ({"ttfa_slo_ms": float("inf")}, "ttfa_slo_ms"),
        ([], "must be a table"),
    ],
)
def test_a_bad_value_is_a_config_error(perf: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        parse_perf(perf)
    assert "\n" not in str(raised.value)
