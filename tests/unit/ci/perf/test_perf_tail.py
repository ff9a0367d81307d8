"""The tail-specific quantile test behind the p95 row, and the simulated gate evidence."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.perf import simulation
from vibevoice_ci.perf.metrics import parse_metrics
from vibevoice_ci.perf.regression import Thresholds, compare
from vibevoice_ci.perf.stats import summarize, tail_exceedance_greater
from vibevoice_ci.tools._exec import run_tool

REPO = Path(__file__).resolve().parents[4]

PROPERTY = settings(max_examples=150, deadline=None)
ALPHA = 0.01

latencies = st.lists(st.integers(min_value=1, max_value=5000).map(float), min_size=5, max_size=120)


@PROPERTY
@given(latencies, latencies)
def test_the_p_value_is_a_probability_and_decides_clear(
    current: list[float], baseline: list[float]
) -> None:
    result = tail_exceedance_greater(current, baseline, ALPHA)
    assert result.p_value is not None
    assert 0.0 <= result.p_value <= 1.0
    assert result.clear == (result.p_value < ALPHA)
    assert result.method == "quantile-test"


@PROPERTY
@given(latencies, latencies, st.integers(min_value=2, max_value=1000))
def test_scaling_both_samples_by_one_factor_keeps_the_p_value(
    current: list[float], baseline: list[float], factor: int
) -> None:
    plain = tail_exceedance_greater(current, baseline, ALPHA)
    scaled = tail_exceedance_greater(
        [v * factor for v in current], [v * factor for v in baseline], ALPHA
    )
    assert plain.p_value == scaled.p_value


@PROPERTY
@given(latencies)
def test_a_run_against_itself_is_never_a_clear_rise(values: list[float]) -> None:
    assert not tail_exceedance_greater(values, values, ALPHA).clear
    assert not tail_exceedance_greater(values, list(reversed(values)), ALPHA).clear


@PROPERTY
@given(latencies, latencies, st.integers(min_value=1, max_value=2000))
def test_slowing_the_current_runs_slowest_request_never_weakens_the_evidence(
    current: list[float], baseline: list[float], extra: int
) -> None:
    before = tail_exceedance_greater(current, baseline, ALPHA)
    slower = sorted(current)
    slower[-1] += extra
    after = tail_exceedance_greater(slower, baseline, ALPHA)
    assert before.p_value is not None
    assert after.p_value is not None
    assert after.p_value <= before.p_value + 1e-12


@PROPERTY
@given(latencies)
def test_a_faster_current_run_is_never_clear_when_the_baseline_was_its_own_copy_slowed(
    current: list[float],
) -> None:
    # The baseline is the current run with every request slower: no tail rose.
    baseline = [v * 1.5 + 1 for v in current]
    assert not tail_exceedance_greater(current, baseline, ALPHA).clear


def test_a_slow_tail_with_the_same_median_is_clear_where_mann_whitney_is_not() -> None:
    from vibevoice_ci.perf.stats import mann_whitney_greater

    rng = np.random.default_rng(1)
    base = np.exp(rng.normal(np.log(300), 0.1, 400))
    now = np.exp(rng.normal(np.log(300), 0.1, 400))
    now[now > np.quantile(now, 0.85)] *= 1.6  # the slowest 15% much slower
    tail = tail_exceedance_greater(now.tolist(), base.tolist(), ALPHA)
    median = mann_whitney_greater(now.tolist(), base.tolist(), ALPHA)
    assert tail.clear, tail.detail
    assert not median.clear, median.detail
    assert "pooled p90" in tail.detail


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="both sides"):
        tail_exceedance_greater([], [1.0], ALPHA)
    with pytest.raises(ValueError, match="cut"):
        tail_exceedance_greater([1.0], [1.0], ALPHA, cut=1.0)


def _document(values: list[float]) -> dict[str, object]:
    return {
        "timestamp": "2026-11-30T02:00:00Z",
        "git_sha": None,
        "workflow_run_id": None,
        "metrics": {
            "ttfa_ms": summarize(values),
            "e2e_latency_ms": summarize(values),
            "throughput_rps": 1.0,
            "error_rate": 0.0,
            "total_requests": len(values),
        },
        "samples": {"ttfa_ms": values, "e2e_latency_ms": values},
    }


def test_the_p95_row_is_decided_by_the_quantile_test() -> None:
    rng = np.random.default_rng(2)
    base = np.round(np.exp(rng.normal(np.log(300), 0.1, 600)), 3)
    now = base.copy()
    now[now > np.quantile(now, 0.85)] *= 1.5
    current = parse_metrics(_document(now.tolist()), "current")
    baseline = parse_metrics(_document(base.tolist()), "baseline")
    rows = {row.name: row for row in compare(current, baseline, Thresholds()).rows}
    assert rows["end-to-end p95"].rule == "threshold + quantile-test"
    assert rows["end-to-end p95"].regression
    assert not rows["TTFA p50"].regression


# --------------------------------------------------------------------------------------------
# The simulation


unit_interval = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@PROPERTY
@given(unit_interval, unit_interval)
def test_the_tail_slowdown_leaves_the_body_alone_and_is_monotone(a: float, b: float) -> None:
    u = np.array([a, b])
    factor = simulation.tail_slowdown(u)
    for value, f in zip(u, factor, strict=True):
        assert 1.0 <= f <= 1 + simulation.SLOWDOWN + 1e-12
        if value <= simulation.TAIL_START:
            assert f == 1.0
        if value >= simulation.TAIL_FULL:
            assert f == pytest.approx(1 + simulation.SLOWDOWN)
    # The slowdown keeps the order of requests: a later quantile is never faster.
    low, high = sorted([a, b])
    ordered = np.array([low, high])
    values = np.exp(0.16 * ordered) * simulation.tail_slowdown(ordered)
    assert values[0] <= values[1]


def test_the_same_seed_gives_the_same_report_and_the_rates_are_counted() -> None:
    one = simulation.simulate(pairs=3, requests=40, thresholds=Thresholds(), seed=5)
    two = simulation.simulate(pairs=3, requests=40, thresholds=Thresholds(), seed=5)
    assert one == two
    assert set(one["rates"]) == {"A/A", "A/B", "A/T"}
    for entry in one["rates"].values():
        for mode in ("statistical", "threshold"):
            assert entry[mode]["pairs"] == 3
            assert 0 <= entry[mode]["hits"] <= 3
    markdown = simulation.render_simulation(one)
    assert "| A/A: the same build twice, false alarms |" in markdown


def test_a_uniform_slowdown_is_caught_and_a_clean_pair_is_not_in_a_small_simulation() -> None:
    narrow = simulation.Population(ttfa_median_ms=65.0, e2e_median_ms=450.0, sigma=0.16)
    report = simulation.simulate(
        pairs=20, requests=200, thresholds=Thresholds(), seed=11, population=narrow
    )
    rates = report["rates"]
    assert rates["A/B"]["statistical"]["hits"] == 20
    assert rates["A/A"]["statistical"]["hits"] == 0


def test_bad_simulation_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="pairs"):
        simulation.simulate(pairs=0, requests=100, thresholds=Thresholds())
    with pytest.raises(ValueError, match="sigma"):
        simulation.Population(sigma=0)


@pytest.mark.integration  # a subprocess that imports scipy: seconds, not milliseconds
def test_the_evidence_script_simulates_reports_and_judges_its_goals(tmp_path: Path) -> None:
    json_out = tmp_path / "evidence.json"
    markdown_out = tmp_path / "evidence.md"
    result = run_tool(
        [
            sys.executable,
            str(REPO / "scripts" / "perf_gate_evidence.py"),
            "--simulate",
            "--check",
            "--pairs",
            "4",
            "--requests",
            "60",
            "--json-out",
            str(json_out),
            "--markdown-out",
            str(markdown_out),
        ],
        check=False,
        timeout=300,
    )
    report = json.loads(json_out.read_text(encoding="utf-8"))
    assert report["pairs"] == 4
    assert report["requests_per_run"] == 60
    assert [goal["what"] for goal in report["goals"]] == [
        "A/A false alarms",
        "A/B caught",
        "A/T caught",
    ]
    # At 60 requests a run the tail slowdown is mostly missed: --check says so with exit 1.
    met = all(goal["met"] for goal in report["goals"])
    assert result.returncode == (0 if met else 1), result.stderr
    markdown = markdown_out.read_text(encoding="utf-8")
    assert (
        "| pairs | statistical rule (the gate) | thresholds only | rows that decided |" in markdown
    )
    assert markdown.endswith("\n")
