"""``nox -s perf``'s code path end to end: the real espeak service, small runs, a tmp state."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import jsonschema
import pytest

from vibevoice_ci.core.config import load_config
from vibevoice_ci.core.environment import RunEnvironment
from vibevoice_ci.core.errors import CheckFailedError
from vibevoice_ci.core.outcome import Status
from vibevoice_ci.perf.metrics import SCHEMA_PATH
from vibevoice_ci.perf.session import PerfOptions, run_perf

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
OUTPUTS = ("metrics.json", "verdict.json", "summary.md", "trend.png", "history.jsonl")


def test_two_runs_create_then_use_the_baseline_and_write_every_output(tmp_path: Path) -> None:
    base = load_config(REPO)
    config = base.model_copy(
        update={
            "reports_dir": tmp_path / "reports",
            "perf": base.perf.model_copy(
                update={
                    "state_dir": tmp_path / "state",
                    "engine": "espeak",
                    "requests": 12,
                    "warmup": 1,
                }
            ),
            "env": RunEnvironment(),
        }
    )
    options = PerfOptions(update_baseline=False, capacity=1)
    report = tmp_path / "reports" / "perf"
    # A pull request's run with no baseline compares nothing and creates none.
    pull_request = config.model_copy(update={"env": RunEnvironment(github_event="pull_request")})
    assert run_perf(pull_request, PerfOptions(capacity=0)) is Status.UNKNOWN
    assert not (tmp_path / "state" / "baseline.json").exists()
    # No baseline: nothing was compared (unknown, and under CI a failure); it is created.
    assert run_perf(config, options) is Status.UNKNOWN
    assert "**UNKNOWN: nothing was compared**" in (report / "summary.md").read_text()
    assert all((report / name).is_file() for name in OUTPUTS)
    baseline = tmp_path / "state" / "baseline.json"
    assert json.loads(baseline.read_text()) == json.loads((report / "metrics.json").read_text())
    assert json.loads((report / "verdict.json").read_text())["baseline_created"] is True
    first_baseline = baseline.read_text()

    # A pull request compares with the baseline but never moves it, even when asked to.
    # (A noisy run may come out as a regression: CheckFailedError; the rest holds either way.)
    with contextlib.suppress(CheckFailedError):
        run_perf(pull_request, PerfOptions(update_baseline=True, capacity=0))
    assert baseline.read_text() == first_baseline
    verdict = json.loads((report / "verdict.json").read_text())
    assert verdict["baseline_created"] is False
    assert verdict["baseline_updated"] is False
    # The baseline has capacity steps and this run none: said, not compared.
    assert verdict["skipped"] == [
        "realtime capacity not compared: the current run has no capacity steps"
    ]
    assert "realtime capacity" not in [check["metric"] for check in verdict["checks"]]
    assert len((tmp_path / "state" / "history.jsonl").read_text().splitlines()) == 3
    assert (report / "trend.png").read_bytes().startswith(b"\x89PNG")
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.validate(json.loads((report / "metrics.json").read_text()), schema)
    jsonschema.validate(json.loads(baseline.read_text()), schema)
    jsonschema.validate(
        verdict, json.loads(SCHEMA_PATH.with_name("verdict.schema.json").read_text())
    )
    entry_schema = json.loads(SCHEMA_PATH.with_name("history-entry.schema.json").read_text())
    for line in (tmp_path / "state" / "history.jsonl").read_text().splitlines():
        jsonschema.validate(json.loads(line), entry_schema)
    assert (report / "history.jsonl").read_text() == (
        tmp_path / "state" / "history.jsonl"
    ).read_text()
    summary = (report / "summary.md").read_text()
    assert "| metric | baseline | current | change | threshold | verdict |" in summary
    assert "never creates or moves it" in summary
