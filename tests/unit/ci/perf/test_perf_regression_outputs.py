"""The regression gate's boundaries and outputs: a zero baseline, which threshold is used
where, and the verdict's JSON keys and Markdown (units of each figure)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vibevoice_ci.core.config import PerfConfig
from vibevoice_ci.core.reports import report_json
from vibevoice_ci.perf import regression
from vibevoice_ci.perf.metrics import Metrics, parse_metrics
from vibevoice_ci.perf.regression import (
    Row,
    Thresholds,
    Verdict,
    compare,
    exceeds_ceiling,
    exceeds_increase,
    nothing_served,
    render_markdown,
    verdict_document,
)
from vibevoice_ci.perf.stats import Significance


def metrics(
    *,
    ttfa_mean: float = 100.0,
    ttfa_p50: float = 90.0,
    e2e_p95: float = 400.0,
    error_rate: float = 0.0,
    samples: dict[str, list[float]] | None = None,
) -> Metrics:
    doc: dict[str, Any] = {
        "timestamp": "2026-11-30T02:00:00Z",
        "git_sha": "0123456789abcdef0123456789abcdef01234567",
        "workflow_run_id": "42",
        "units": {"latency": "ms", "error_rate": "fraction"},
        "metrics": {
            "ttfa_ms": {"mean": ttfa_mean, "p50": ttfa_p50, "p95": 150.0, "p99": 180.0},
            "e2e_latency_ms": {"mean": 300.0, "p50": 280.0, "p95": e2e_p95, "p99": 450.0},
            "throughput_rps": 12.5,
            "error_rate": error_rate,
            "total_requests": 1000,
        },
    }
    if samples is not None:
        doc["samples"] = samples
    return parse_metrics(doc, "metrics")


def rows_of(verdict: Verdict) -> dict[str, Row]:
    return {row.name: row for row in verdict.rows}


# --------------------------------------------------------------------------------------------
# A zero baseline


def test_a_latency_rising_from_a_zero_baseline_is_an_infinite_change_and_a_regression() -> None:
    verdict = compare(metrics(ttfa_mean=5.0), metrics(ttfa_mean=0.0), Thresholds())
    row = rows_of(verdict)["TTFA mean"]
    assert (row.baseline, row.current) == (0.0, 5.0)
    assert row.change == math.inf
    assert row.exceeded
    assert row.regression
    assert verdict.regression
    check = report_json(verdict_document(verdict, baseline_updated=False, note=""))["checks"][0]
    assert check["change"] == math.inf
    assert check["verdict"] == "REGRESSION"


def test_a_latency_staying_at_a_zero_baseline_has_no_change_and_is_ok() -> None:
    verdict = compare(metrics(ttfa_mean=0.0), metrics(ttfa_mean=0.0), Thresholds())
    row = rows_of(verdict)["TTFA mean"]
    assert row.change is None
    assert not row.exceeded
    assert not row.regression
    assert "| TTFA mean | 0.00 ms | 0.00 ms |  | +10% | ok |" in render_markdown(verdict)


@given(st.floats(min_value=1e-9, max_value=1e6, allow_nan=False))
def test_any_rise_from_zero_exceeds_every_increase(current: float) -> None:
    assert exceeds_increase(current, 0.0, 0.10)
    assert exceeds_increase(current, 0.0, 0.99)
    assert not exceeds_increase(0.0, 0.0, 0.10)


def test_a_zero_baseline_error_rate_is_judged_against_the_ceiling_alone() -> None:
    base = metrics(error_rate=0.0)
    assert not compare(metrics(error_rate=0.01), base, Thresholds()).regression
    row = rows_of(compare(metrics(error_rate=0.0101), base, Thresholds()))["error rate"]
    assert row.regression
    assert row.change is None
    assert exceeds_ceiling(0.0101, 0.01)
    assert not exceeds_ceiling(0.01, 0.01)


# --------------------------------------------------------------------------------------------
# alpha and max_error_rate, each where it belongs

DISTINCT = Thresholds(ttfa_increase=0.2, e2e_p95_increase=0.3, max_error_rate=0.05, alpha=0.2)


def test_a_configuration_maps_each_threshold_to_its_own_field() -> None:
    perf = PerfConfig(ttfa_increase=0.2, e2e_p95_increase=0.3, max_error_rate=0.05, alpha=0.2)
    assert Thresholds.from_config(perf) == DISTINCT


def test_the_error_rate_is_held_to_max_error_rate_not_alpha() -> None:
    base = metrics()
    ok = rows_of(compare(metrics(error_rate=0.05), base, DISTINCT))["error rate"]
    assert not ok.regression
    assert ok.threshold == "<= 5%"
    assert rows_of(compare(metrics(error_rate=0.0501), base, DISTINCT))["error rate"].regression
    served = nothing_served(DISTINCT, 0.002, "no request succeeded")
    assert served.rows[0].threshold == "<= 5%"
    assert (served.rows[0].baseline, served.rows[0].current) == (0.002, 1.0)


def test_the_latencies_use_their_own_increases() -> None:
    base = metrics(ttfa_mean=100.0, ttfa_p50=100.0, e2e_p95=100.0)
    at_edges = compare(metrics(ttfa_mean=120.0, ttfa_p50=120.0, e2e_p95=130.0), base, DISTINCT)
    assert not at_edges.regression
    assert [row.threshold for row in at_edges.rows] == ["+20%", "+20%", "+30%", "<= 5%"]
    past = compare(metrics(ttfa_mean=120.01, ttfa_p50=120.01, e2e_p95=130.01), base, DISTINCT)
    assert [row.regression for row in past.rows] == [True, True, True, False]


def test_each_statistical_test_gets_alpha(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, float] = {}

    def spy(name: str) -> Any:
        def test(current: Sequence[float], baseline: Sequence[float], *args: Any) -> Significance:
            seen[name] = args[-1]
            return Significance(name, True, "p=0")

        return test

    monkeypatch.setattr(regression, "mann_whitney_greater", spy("mann-whitney-u"))
    monkeypatch.setattr(regression, "bootstrap_ratio_greater", spy("bootstrap"))
    monkeypatch.setattr(regression, "tail_exceedance_greater", spy("quantile-test"))
    samples = {"ttfa_ms": [1.0, 2.0], "e2e_latency_ms": [3.0, 4.0]}
    verdict = compare(metrics(samples=samples), metrics(samples=samples), DISTINCT)
    assert seen == {"mann-whitney-u": 0.2, "bootstrap": 0.2, "quantile-test": 0.2}
    assert verdict.mode == "statistical"
    assert [row.rule for row in verdict.rows] == [
        "threshold + bootstrap",
        "threshold + mann-whitney-u",
        "threshold + quantile-test",
        "threshold",
    ]


# --------------------------------------------------------------------------------------------
# The verdict's JSON keys and Markdown


def test_the_verdict_document_has_exactly_its_keys() -> None:
    verdict = compare(metrics(error_rate=0.02), metrics(error_rate=0.005), Thresholds())
    document = report_json(
        verdict_document(verdict, baseline_updated=False, note="kept", setting_differences=[])
    )
    assert set(document) == {
        "status",
        "regression",
        "mode",
        "checks",
        "baseline_created",
        "baseline_updated",
        "note",
        "setting_differences",
    }
    assert (document["status"], document["regression"], document["mode"]) == (
        "fail",
        True,
        "threshold",
    )
    assert (document["baseline_created"], document["baseline_updated"]) == (False, False)
    assert document["note"] == "kept"
    assert document["setting_differences"] == []
    assert document["checks"][-1] == {
        "metric": "error rate",
        "baseline": 0.005,
        "current": 0.02,
        "change": None,
        "threshold": "<= 1%",
        "threshold_exceeded": True,
        "rule": "threshold",
        "evidence": "",
        "regression": True,
        "verdict": "REGRESSION",
    }
    assert document["checks"][0]["change"] == 0.0
    assert [c["metric"] for c in document["checks"]] == [
        "TTFA mean",
        "TTFA p50",
        "end-to-end p95",
        "error rate",
    ]
    clean = report_json(
        verdict_document(
            compare(metrics(), metrics(), Thresholds()), baseline_updated=True, note=""
        )
    )
    assert "setting_differences" not in clean
    assert (clean["status"], clean["regression"], clean["baseline_updated"]) == (
        "pass",
        False,
        True,
    )
    assert json.loads(json.dumps(clean)) == clean


def test_the_markdown_prints_latencies_in_ms_and_the_error_rate_as_a_rate() -> None:
    verdict = compare(
        metrics(ttfa_mean=95.0, e2e_p95=500.0, error_rate=0.02),
        metrics(ttfa_mean=100.0, e2e_p95=400.0, error_rate=0.005),
        Thresholds(),
    )
    text = render_markdown(verdict, baseline_note="Baseline kept.")
    assert text == (
        "## Performance regression check\n"
        "\n"
        "**REGRESSION** in end-to-end p95, error rate (threshold mode)\n"
        "\n"
        "| metric | baseline | current | change | threshold | verdict |\n"
        "| --- | --- | --- | --- | --- | --- |\n"
        "| TTFA mean | 100.00 ms | 95.00 ms | -5.0% | +10% | ok |\n"
        "| TTFA p50 | 90.00 ms | 90.00 ms | +0.0% | +10% | ok |\n"
        "| end-to-end p95 | 400.00 ms | 500.00 ms | +25.0% | +15% | REGRESSION |\n"
        "| error rate | 0.50% | 2.00% |  | <= 1% | REGRESSION |\n"
        "\n"
        "A latency is a regression when it rises past its threshold (threshold mode: no raw "
        "samples on both sides).\n"
        "\n"
        "Baseline kept.\n"
    )


def test_the_markdown_of_a_clean_statistical_verdict_names_its_tests() -> None:
    base = [float(100 + i % 7) for i in range(40)]
    verdict = compare(
        metrics(ttfa_p50=103.0, samples={"ttfa_ms": base}),
        metrics(ttfa_p50=103.0, samples={"ttfa_ms": base}),
        Thresholds(),
    )
    text = render_markdown(verdict)
    assert "**No regression** (statistical mode)" in text
    assert "| TTFA p50 | 103.00 ms | 103.00 ms | +0.0% | +10% | ok (threshold + " in text
    assert text.endswith(
        "and the rise is statistically clear (Mann-Whitney U for the median, a bootstrap "
        "lower bound of the ratio for the mean, a quantile test of the tail for the p95).\n"
    )


def test_a_breach_that_is_not_clear_says_so_and_nothing_served_prints_its_reason() -> None:
    row = Row("TTFA p50", 100.0, 120.0, 0.2, "+10%", True, "threshold + x", "p=0.3", False)
    text = render_markdown(Verdict((row,), "statistical"))
    assert "**No regression** (statistical mode)" in text
    assert (
        "| TTFA p50 | 100.00 ms | 120.00 ms | +20.0% | +10% | "
        "above threshold, not statistically clear (threshold + x: p=0.3) |"
    ) in text
    served = render_markdown(nothing_served(Thresholds(), 0.0, "all 60 requests failed"))
    assert "**REGRESSION** in error rate (threshold mode)" in served
    assert (
        "| error rate | 0.00% | 100.00% |  | <= 1% | "
        "REGRESSION (threshold: all 60 requests failed) |"
    ) in served


def test_a_run_that_served_nothing_is_a_regression_in_its_document_too() -> None:
    served = nothing_served(Thresholds(), 0.0, "all 60 requests failed")
    document = report_json(verdict_document(served, baseline_updated=False, note=""))
    assert document["checks"] == [
        {
            "metric": "error rate",
            "baseline": 0.0,
            "current": 1.0,
            "change": None,
            "threshold": "<= 1%",
            "threshold_exceeded": True,
            "rule": "threshold",
            "evidence": "all 60 requests failed",
            "regression": True,
            "verdict": "REGRESSION",
        }
    ]
    assert (document["status"], document["mode"]) == ("fail", "threshold")


def test_without_samples_every_latency_is_judged_by_its_threshold_alone() -> None:
    base = metrics(samples={"ttfa_ms": [100.0] * 20})  # one side only: no test to run
    verdict = compare(metrics(ttfa_mean=200.0), base, Thresholds())
    assert verdict.mode == "threshold"
    assert [(row.rule, row.evidence) for row in verdict.rows] == [("threshold", "")] * 4
    assert rows_of(verdict)["TTFA mean"].regression
