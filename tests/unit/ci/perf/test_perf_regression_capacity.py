"""The regression gate's realtime capacity: fewer streams than the baseline under the same
TTFA objective and cores is a regression; otherwise the verdict says why it did not compare.

The documents are what the load test writes (``build_document`` with ``capacity_report``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.core.reports import report_json
from vibevoice_ci.perf import check
from vibevoice_ci.perf.capacity import Level, capacity_report
from vibevoice_ci.perf.client import Kind, Result
from vibevoice_ci.perf.loadgen import LoadPlan, LoadRun
from vibevoice_ci.perf.metrics import Capacity, build_document, parse_metrics
from vibevoice_ci.perf.regression import (
    Row,
    Thresholds,
    compare,
    compare_capacity,
    render_markdown,
    verdict_document,
)
from vibevoice_ci.perf.reports import Machine

PLAN = LoadPlan("http", ("Hello there.",), concurrency=2, requests=4, warmup=0)
VERDICT_SCHEMA = json.loads(
    Path(check.__file__).with_name("verdict.schema.json").read_text(encoding="utf-8")
)


def written(
    streams: int | None, *, slo: float = 250.0, cores: int = 2, old: bool = False
) -> dict[str, Any]:
    """A metrics document as the load test writes it, its capacity ``streams`` (None: no
    capacity steps); ``old``: without the keys written since the TTFA objective."""
    ok = Result("http", 0, Kind.OK, 200, 0.05, 0.5, 44100, 22050, ((0.05, 44100),))
    realtime = None
    if streams is not None:
        levels = [Level(c, 4 * c, 0, 0, 100.0, 50.0, slo) for c in range(1, streams + 1)]
        levels.append(Level(streams + 1, 4, 0, 1, 100.0, -5.0, slo))
        levels.append(Level(streams + 1, 4, 0, 1, 100.0, -5.0, slo, attempt=2))
        realtime = capacity_report(levels, cores, slo)
    document = report_json(
        build_document(
            LoadRun(PLAN, (ok,) * 4, 2.0),
            engine="piper",
            git_sha="0123456789abcdef0123456789abcdef01234567",
            workflow_run_id="7",
            prompt_source="builtin",
            machine=Machine(cpu_model="x", cores=cores, load_average=[]),
            timestamp=datetime(2026, 12, 7, 2, 0, tzinfo=UTC),
            realtime=realtime,
        )
    )
    if old and "realtime" in document:
        for key in ("ttfa_slo_ms", "engine_rtf", "engine_limit_streams", "capacity_ratio"):
            document["realtime"].pop(key, None)
        for entry in document["realtime"]["levels"]:
            entry.pop("attempt")
    return document


def capacity_row(current: dict[str, Any], baseline: dict[str, Any]) -> Row | str | None:
    verdict = compare(parse_metrics(current, "c"), parse_metrics(baseline, "b"), Thresholds())
    rows = [row for row in verdict.rows if row.name == "realtime capacity"]
    assert len(rows) + len(verdict.skipped) <= 1
    if rows:
        return rows[0]
    return verdict.skipped[0] if verdict.skipped else None


def test_the_gate_reads_the_capacity_the_load_test_wrote() -> None:
    metrics = parse_metrics(written(3, slo=300.0, cores=4), "m.json")
    assert metrics.capacity == Capacity(streams=3, ttfa_slo_ms=300.0, cores=4)
    assert parse_metrics(written(None), "m.json").capacity is None
    assert parse_metrics(written(3, old=True), "m.json").capacity == Capacity(3, None, 2)


def test_equal_capacity_is_not_a_regression_and_over_a_tenth_less_is() -> None:
    equal = capacity_row(written(4), written(4))
    assert equal == Row(
        name="realtime capacity",
        baseline=4.0,
        current=4.0,
        change=0.0,
        threshold="-10%",
        exceeded=False,
        rule="threshold",
        evidence="TTFA p95 <= 250 ms, 2 cores",
        regression=False,
    )
    assert equal.verdict == "ok"
    less = capacity_row(written(3), written(4))
    assert isinstance(less, Row)
    assert (less.baseline, less.current, less.change) == (4.0, 3.0, -0.25)
    assert (less.exceeded, less.regression, less.verdict) == (True, True, "REGRESSION")
    more = capacity_row(written(5), written(4))
    assert isinstance(more, Row)
    assert (more.change, more.exceeded, more.regression) == (0.25, False, False)
    # 10% of 16 is 1.6 streams: 15 is within it, 14 is not.
    within = capacity_row(written(15), written(16))
    assert isinstance(within, Row)
    assert (within.exceeded, within.regression, within.verdict) == (False, False, "ok")
    beyond = capacity_row(written(14), written(16))
    assert isinstance(beyond, Row)
    assert (beyond.exceeded, beyond.regression) == (True, True)
    # Exactly 10% fewer is not more than 10% fewer.
    edge = capacity_row(written(9), written(10))
    assert isinstance(edge, Row)
    assert (edge.exceeded, edge.regression) == (False, False)
    none_before = capacity_row(written(0), written(0))
    assert isinstance(none_before, Row)
    assert (none_before.change, none_before.regression) == (None, False)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, 64),
    st.integers(0, 64),
    st.sampled_from([100.0, 250.0, 412.5]),
    st.sampled_from([0.0, 0.1, 0.25]),
)
def test_fewer_streams_than_the_allowed_share_is_exactly_the_regression(
    current: int, baseline: int, slo: float, decrease: float
) -> None:
    row = compare_capacity(Capacity(current, slo, 2), Capacity(baseline, slo, 2), decrease)
    assert isinstance(row, Row)
    assert row.regression == (current < baseline * (1 - decrease)) == row.exceeded
    if decrease == 0.0:
        assert row.regression == (current < baseline)
    assert (row.current, row.baseline) == (current, baseline)
    assert row.evidence == f"TTFA p95 <= {slo:g} ms, 2 cores"


def test_capacities_measured_otherwise_are_not_compared_and_the_verdict_says_why() -> None:
    assert capacity_row(written(None), written(None)) is None
    assert capacity_row(written(None), written(4)) == (
        "realtime capacity not compared: the current run has no capacity steps"
    )
    assert capacity_row(written(4), written(None)) == (
        "realtime capacity not compared: the baseline has no capacity steps"
    )
    assert capacity_row(written(4), written(4, old=True)) == (
        "realtime capacity not compared: the baseline has no TTFA objective (an older document)"
    )
    assert capacity_row(written(4, old=True), written(4)) == (
        "realtime capacity not compared: the current run has no TTFA objective (an older document)"
    )
    assert capacity_row(written(2, slo=250.0), written(4, slo=400.0)) == (
        "realtime capacity not compared: measured under another TTFA objective "
        "(250 ms, the baseline 400 ms)"
    )
    assert capacity_row(written(2, cores=2), written(4, cores=4)) == (
        "realtime capacity not compared: measured on other cores (2, the baseline 4)"
    )
    # A document without a machine section does not say its cores: never compared.
    unknown = Capacity(2, 250.0, None)
    assert compare_capacity(unknown, unknown) == (
        "realtime capacity not compared: measured on other cores (None, the baseline None)"
    )
    assert isinstance(compare_capacity(Capacity(2, 250.0, 2), Capacity(2, 250.0, 2)), Row)


def test_the_verdict_names_a_capacity_regression_and_lists_what_it_skipped() -> None:
    verdict = compare(parse_metrics(written(3), "c"), parse_metrics(written(4), "b"), Thresholds())
    assert verdict.regression
    document = report_json(verdict_document(verdict, baseline_updated=False, note="kept"))
    jsonschema.validate(document, VERDICT_SCHEMA)
    assert document["checks"][-1] == {
        "metric": "realtime capacity",
        "baseline": 4.0,
        "current": 3.0,
        "change": -0.25,
        "threshold": "-10%",
        "threshold_exceeded": True,
        "rule": "threshold",
        "evidence": "TTFA p95 <= 250 ms, 2 cores",
        "regression": True,
        "verdict": "REGRESSION",
    }
    assert "skipped" not in document
    text = render_markdown(verdict)
    assert "**REGRESSION** in realtime capacity (" in text
    assert (
        "| realtime capacity | 4 streams | 3 streams | -25.0% | -10% | "
        "REGRESSION (threshold: TTFA p95 <= 250 ms, 2 cores) |\n"
    ) in text

    skipped = compare(
        parse_metrics(written(3, cores=4), "c"), parse_metrics(written(4), "b"), Thresholds()
    )
    assert not skipped.regression
    document = report_json(verdict_document(skipped, baseline_updated=False, note=""))
    jsonschema.validate(document, VERDICT_SCHEMA)
    assert document["skipped"] == [
        "realtime capacity not compared: measured on other cores (4, the baseline 2)"
    ]
    assert "realtime capacity" not in [check["metric"] for check in document["checks"]]
    assert render_markdown(skipped, baseline_note="Kept.").endswith(
        "\n\n- Realtime capacity not compared: measured on other cores (4, the baseline 2)."
        "\n\nKept.\n"
    )


def test_the_script_exits_1_on_a_capacity_regression_and_keeps_the_baseline(
    tmp_path: Path,
) -> None:
    current, baseline = tmp_path / "current.json", tmp_path / "baseline.json"
    current.write_text(json.dumps(written(3)), encoding="utf-8")
    baseline.write_text(json.dumps(written(4)), encoding="utf-8")
    verdict = tmp_path / "verdict.json"
    arguments = ["--current", str(current), "--baseline", str(baseline)]
    assert check.main([*arguments, "--update-baseline", "--json-out", str(verdict)]) == 1
    assert json.loads(baseline.read_text(encoding="utf-8")) == written(4)
    assert json.loads(verdict.read_text(encoding="utf-8"))["checks"][-1]["regression"]
    current.write_text(json.dumps(written(4)), encoding="utf-8")
    assert check.main(arguments) == 0
