"""The regression gate: Property 1, scale invariance, the edges, the baseline file, exit codes."""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vibevoice_ci.core.outcome import Status
from vibevoice_ci.core.reports import validate_report
from vibevoice_ci.perf import check
from vibevoice_ci.perf.metrics import parse_metrics
from vibevoice_ci.perf.regression import Thresholds, Verdict, compare, exceeds_increase
from vibevoice_ci.perf.reports import PerfVerdict

VERDICT_SCHEMA = json.loads(
    Path(check.__file__).with_name("verdict.schema.json").read_text(encoding="utf-8")
)
THRESHOLDS = Thresholds()  # the design defaults: +10% TTFA, +15% e2e p95, 1% errors
PROPERTY = settings(max_examples=150, deadline=None)


def document(
    *,
    ttfa_mean: float = 100.0,
    ttfa_p50: float = 90.0,
    e2e_p95: float = 400.0,
    error_rate: float = 0.0,
    samples: dict[str, list[float]] | None = None,
) -> dict[str, Any]:
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
    return doc


def verdict_of(
    current: dict[str, Any], baseline: dict[str, Any], statistical: bool = True
) -> Verdict:
    return compare(
        parse_metrics(current, "current"),
        parse_metrics(baseline, "baseline"),
        THRESHOLDS,
        statistical=statistical,
    )


def run_main(tmp: Path, current: object, baseline: object | None, *extra: str) -> int:
    current_path, baseline_path = tmp / "current.json", tmp / "baseline.json"
    write(current_path, current)
    if baseline is not None:
        write(baseline_path, baseline)
    return check.main(["--current", str(current_path), "--baseline", str(baseline_path), *extra])


def write(path: Path, content: object) -> None:
    text = content if isinstance(content, str) else json.dumps(content)
    path.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------------------------
# Property 1: a metric above its threshold is a regression, one at or below it is not


@st.composite
def hundredths_around(draw: st.DrawFn, base: int, percent: int) -> int:
    """An integer number of hundredths near ``base * (100 + percent) / 100``: often exactly at
    the threshold, just under or just over it, sometimes anywhere."""
    edge = base * (100 + percent) // 100
    return draw(
        st.one_of(
            st.integers(min_value=max(edge - 3, 0), max_value=edge + 3),
            st.integers(min_value=0, max_value=base * 3),
        )
    )


@st.composite
def metric_pairs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any], set[str]]:
    """A baseline and a current document (latencies in hundredths of a millisecond, error
    rates in ten-thousandths) and the set of metrics that exceed their thresholds, computed
    in integers."""
    base = {name: draw(st.integers(min_value=100, max_value=10**7)) for name in ("m", "p", "e")}
    now = {
        "m": draw(hundredths_around(base["m"], 10)),
        "p": draw(hundredths_around(base["p"], 10)),
        "e": draw(hundredths_around(base["e"], 15)),
    }
    errors = draw(st.one_of(st.integers(98, 102), st.integers(0, 10000)))
    exceeded = set()
    if now["m"] * 100 > base["m"] * 110:
        exceeded.add("TTFA mean")
    if now["p"] * 100 > base["p"] * 110:
        exceeded.add("TTFA p50")
    if now["e"] * 100 > base["e"] * 115:
        exceeded.add("end-to-end p95")
    if errors > 100:
        exceeded.add("error rate")
    baseline = document(
        ttfa_mean=base["m"] / 100, ttfa_p50=base["p"] / 100, e2e_p95=base["e"] / 100
    )
    current = document(
        ttfa_mean=now["m"] / 100,
        ttfa_p50=now["p"] / 100,
        e2e_p95=now["e"] / 100,
        error_rate=errors / 10000,
    )
    return current, baseline, exceeded


@PROPERTY
@given(metric_pairs())
def test_property_1_a_metric_past_its_threshold_is_a_regression(
    pair: tuple[dict[str, Any], dict[str, Any], set[str]],
) -> None:
    current, baseline, exceeded = pair
    verdict = verdict_of(current, baseline)
    assert verdict.mode == "threshold"
    assert {row.name for row in verdict.rows if row.regression} == exceeded
    assert verdict.regression == bool(exceeded)


def test_a_rise_of_exactly_ten_percent_is_not_a_regression_and_one_past_it_is() -> None:
    baseline = document(ttfa_mean=445.5, ttfa_p50=445.5)
    assert not verdict_of(document(ttfa_mean=490.05, ttfa_p50=490.05), baseline).regression
    assert verdict_of(document(ttfa_mean=490.06, ttfa_p50=445.5), baseline).regression
    assert exceeds_increase(110.0000001, 100.0, 0.10)
    assert not exceeds_increase(110.0, 100.0, 0.10)


def test_the_e2e_p95_edge_is_fifteen_percent_and_the_error_edge_one_percent() -> None:
    baseline = document(e2e_p95=400.0)
    assert not verdict_of(document(e2e_p95=460.0, error_rate=0.01), baseline).regression
    rows = {r.name: r for r in verdict_of(document(e2e_p95=460.01), baseline).rows}
    assert rows["end-to-end p95"].regression
    assert verdict_of(document(error_rate=0.0101), baseline).regression


def test_a_baseline_of_zero_errors_and_latency_rises_from_zero() -> None:
    baseline = document(ttfa_mean=0.0)
    assert verdict_of(document(ttfa_mean=0.001), baseline).regression
    assert not verdict_of(document(ttfa_mean=0.0), baseline).regression


# --------------------------------------------------------------------------------------------
# Scaling both files by one factor leaves the verdict alone


@st.composite
def sampled_pairs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two documents with integer statistics and integer raw samples (so that multiplying by
    an integer factor is exact in floating point)."""

    def one(shift: int) -> dict[str, Any]:
        size = draw(st.integers(min_value=5, max_value=40))
        base = draw(st.integers(min_value=1, max_value=500))
        spread = draw(st.integers(min_value=0, max_value=200))
        values = st.integers(min_value=base, max_value=base + spread + shift)
        return document(
            ttfa_mean=draw(st.integers(1, 2000)),
            ttfa_p50=draw(st.integers(1, 2000)),
            e2e_p95=draw(st.integers(1, 5000)),
            error_rate=draw(st.sampled_from([0.0, 0.01, 0.02])),
            samples={
                "ttfa_ms": draw(st.lists(values, min_size=size, max_size=size)),
                "e2e_latency_ms": draw(st.lists(values, min_size=size, max_size=size)),
            },
        )

    baseline = one(0)
    current = one(draw(st.integers(min_value=0, max_value=300)))
    return current, baseline


def scaled(doc: dict[str, Any], factor: int) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    for metric in ("ttfa_ms", "e2e_latency_ms"):
        table = out["metrics"][metric]
        for key in table:
            table[key] = float(table[key] * factor)
        out["samples"][metric] = [float(v * factor) for v in out["samples"][metric]]
    return out


@PROPERTY
@given(sampled_pairs(), st.integers(min_value=2, max_value=1000))
def test_scaling_both_files_by_one_factor_keeps_the_verdict(
    pair: tuple[dict[str, Any], dict[str, Any]], factor: int
) -> None:
    current, baseline = pair
    plain = verdict_of(current, baseline)
    both = verdict_of(scaled(current, factor), scaled(baseline, factor))
    assert plain.mode == both.mode == "statistical"
    assert [(r.name, r.regression, r.exceeded) for r in plain.rows] == [
        (r.name, r.regression, r.exceeded) for r in both.rows
    ]


# --------------------------------------------------------------------------------------------
# The statistical rule


def test_a_threshold_breach_that_is_not_statistically_clear_is_not_a_regression() -> None:
    # One slow outlier moves the mean past +10%, but the samples overlap: not clear.
    base = [100.0, 101.0, 99.0, 102.0, 98.0, 100.0, 103.0, 97.0]
    now = [100.0, 101.0, 99.0, 102.0, 98.0, 100.0, 103.0, 190.0]
    baseline = document(ttfa_mean=100.0, samples={"ttfa_ms": base})
    current = document(ttfa_mean=111.6, samples={"ttfa_ms": now})
    rows = {r.name: r for r in verdict_of(current, baseline).rows}
    assert rows["TTFA mean"].exceeded
    assert not rows["TTFA mean"].regression
    assert rows["TTFA mean"].rule == "threshold + bootstrap"
    assert "lower bound" in rows["TTFA mean"].evidence
    # The pure threshold mode stays available and flags it.
    assert verdict_of(current, baseline, statistical=False).regression


def test_a_clear_slowdown_past_the_threshold_is_a_regression_with_its_p_value() -> None:
    base = [float(100 + i % 7) for i in range(40)]
    now = [v * 1.3 for v in base]
    baseline = document(ttfa_p50=103.0, samples={"ttfa_ms": base})
    current = document(ttfa_p50=133.9, samples={"ttfa_ms": now})
    row = {r.name: r for r in verdict_of(current, baseline).rows}["TTFA p50"]
    assert row.regression
    assert row.rule == "threshold + mann-whitney-u"
    assert row.evidence.startswith("one-sided p=")


# --------------------------------------------------------------------------------------------
# The command line: Example 1, the baseline file, the outputs, exit codes


def test_example_1_no_baseline_creates_it_and_exits_0_but_nothing_was_compared(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The script keeps Example 1 (exit 0, even under CI); its verdict says unknown."""
    monkeypatch.setenv("CI", "true")
    current = document()
    code = run_main(tmp_path, current, None, "--json-out", str(tmp_path / "v.json"))
    assert code == 0
    assert json.loads((tmp_path / "baseline.json").read_text()) == current
    verdict = json.loads((tmp_path / "v.json").read_text())
    jsonschema.validate(verdict, VERDICT_SCHEMA)
    assert verdict["baseline_created"] is True
    assert verdict["status"] == "unknown"
    assert verdict["mode"] is None
    out = capsys.readouterr().out
    assert "**UNKNOWN: nothing was compared**" in out
    assert "Created it from the current metrics" in out


def test_without_create_baseline_nothing_is_compared_and_nothing_created(tmp_path: Path) -> None:
    """A pull request's run (the session passes create_baseline=False) leaves no baseline."""
    current_path, baseline_path = tmp_path / "current.json", tmp_path / "baseline.json"
    write(current_path, document())
    thresholds = Thresholds()
    result = check.check(current_path, baseline_path, thresholds, create_baseline=False)
    assert not baseline_path.exists()
    assert result.status is Status.UNKNOWN
    assert (result.document.status, result.document.baseline_created) == ("unknown", False)
    assert "never creates or moves the baseline" in result.markdown


def test_a_regression_exits_1_and_never_becomes_the_baseline(tmp_path: Path) -> None:
    baseline = document(ttfa_p50=100.0)
    code = run_main(tmp_path, document(ttfa_p50=150.0), baseline, "--update-baseline")
    assert code == 1
    assert json.loads((tmp_path / "baseline.json").read_text()) == baseline


def test_the_baseline_is_updated_only_when_asked_and_clean(tmp_path: Path) -> None:
    baseline, current = document(ttfa_p50=100.0), document(ttfa_p50=95.0)
    assert run_main(tmp_path, current, baseline) == 0
    assert json.loads((tmp_path / "baseline.json").read_text()) == baseline
    assert run_main(tmp_path, current, baseline, "--update-baseline") == 0
    assert json.loads((tmp_path / "baseline.json").read_text()) == current


def test_the_outputs_are_a_markdown_table_and_a_json_verdict(tmp_path: Path) -> None:
    summary, verdict_path = tmp_path / "summary.md", tmp_path / "verdict.json"
    code = run_main(
        tmp_path,
        document(e2e_p95=500.0),
        document(e2e_p95=400.0),
        "--summary",
        str(summary),
        "--json-out",
        str(verdict_path),
    )
    assert code == 1
    text = summary.read_text()
    assert "| metric | baseline | current | change | threshold | verdict |" in text
    assert "| end-to-end p95 | 400.00 ms | 500.00 ms | +25.0% | +15% | REGRESSION |" in text
    verdict = json.loads(verdict_path.read_text())
    jsonschema.validate(verdict, VERDICT_SCHEMA)
    assert validate_report(verdict, PerfVerdict, "verdict.json").regression
    assert verdict["regression"] is True
    assert verdict["mode"] == "threshold"
    assert {c["metric"] for c in verdict["checks"] if c["regression"]} == {"end-to-end p95"}


def test_a_file_with_a_missing_field_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = document()
    del broken["metrics"]["e2e_latency_ms"]["p95"]
    assert run_main(tmp_path, broken, document()) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "current.json: metrics.e2e_latency_ms.p95: Field required" in err


RUN = {
    "engine": "espeak",
    "endpoint": "http",
    "mode": "closed",
    "concurrency": 2,
    "rate": None,
    "requests": 60,
    "duration_s": None,
    "warmup": 5,
    "wall_seconds": 4.2,
    "late_starts": 0,
    "prompt_set": {"source": "builtin", "count": 1, "lengths": [12], "sha256": "0" * 64},
}


def test_different_run_settings_are_noted(tmp_path: Path) -> None:
    current, baseline = document(), document()
    current["run"] = {**RUN, "engine": "piper"}
    baseline["run"] = RUN
    run_main(tmp_path, current, baseline, "--json-out", str(tmp_path / "v.json"))
    verdict = json.loads((tmp_path / "v.json").read_text())
    assert verdict["setting_differences"] == ["engine"]
    assert "differ in engine" in verdict["note"]
    jsonschema.validate(verdict, VERDICT_SCHEMA)
    run_main(tmp_path, current, current, "--json-out", str(tmp_path / "v.json"))
    assert "setting_differences" not in json.loads((tmp_path / "v.json").read_text())


# --------------------------------------------------------------------------------------------
# Any malformed input exits 2


_NUMERIC_PATHS = [
    ("metrics", "ttfa_ms", "mean"),
    ("metrics", "ttfa_ms", "p50"),
    ("metrics", "ttfa_ms", "p99"),
    ("metrics", "e2e_latency_ms", "p95"),
    ("metrics", "throughput_rps"),
    ("metrics", "error_rate"),
    ("metrics", "total_requests"),
]
_BAD_VALUES = st.one_of(
    st.just("DELETE"),
    st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.just(float("nan")),
    st.just(float("inf")),
)


def _mutate(doc: dict[str, Any], path: tuple[str, ...], value: object) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    table = out
    for key in path[:-1]:
        table = table[key]
    if value == "DELETE":
        del table[path[-1]]
    else:
        table[path[-1]] = value
    return out


@st.composite
def malformed(draw: st.DrawFn) -> object:
    """A document (or file text) the gate must refuse."""
    kind = draw(st.sampled_from(["field", "units", "rate", "samples", "shape", "text"]))
    doc = document(samples={"ttfa_ms": [1.0, 2.0], "e2e_latency_ms": [3.0]})
    if kind == "field":
        return _mutate(doc, draw(st.sampled_from(_NUMERIC_PATHS)), draw(_BAD_VALUES))
    if kind == "units":
        unit = draw(st.sampled_from(["latency", "error_rate"]))
        doc["units"][unit] = draw(st.sampled_from(["s", "us", "percent", "", "MS"]))
        return doc
    if kind == "rate":
        return _mutate(doc, ("metrics", "error_rate"), draw(st.floats(1.0001, 100.0)))
    if kind == "samples":
        metric = draw(st.sampled_from(["ttfa_ms", "e2e_latency_ms"]))
        bad = draw(st.one_of(st.just([]), st.lists(_BAD_VALUES, min_size=1, max_size=3)))
        doc["samples"][metric] = [v for v in bad if v != "DELETE"] or "none"
        return doc
    if kind == "shape":
        return draw(st.one_of(st.lists(st.integers(), max_size=3), st.just({"metrics": []})))
    text = draw(st.text(max_size=40))
    try:
        json.loads(text)
    except ValueError:
        return text
    return "{not json"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(malformed(), st.booleans())
def test_any_malformed_input_exits_2(bad: object, as_baseline: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        if isinstance(bad, dict | list):
            bad = json.dumps(bad, allow_nan=True)
        current, baseline = (document(), bad) if as_baseline else (bad, document())
        before = baseline if isinstance(baseline, str) else json.dumps(baseline)
        assert run_main(tmp, current, baseline, "--update-baseline") == 2
        # A refused input never touches the baseline (bytes: read_text would turn "\r" into "\n").
        assert (tmp / "baseline.json").read_bytes() == before.encode("utf-8")


def test_a_missing_current_file_exits_2(tmp_path: Path) -> None:
    code = check.main(
        ["--current", str(tmp_path / "no.json"), "--baseline", str(tmp_path / "b.json")]
    )
    assert code == 2
    assert not (tmp_path / "b.json").exists()
