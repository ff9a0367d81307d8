"""The metrics document: the generated schema the repository ships, and reading it back for
the gate (the writer's output must pass both)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.core.errors import UsageError
from vibevoice_ci.core.reports import report_json, validate_report
from vibevoice_ci.perf import session as perf_session
from vibevoice_ci.perf.capacity import Level, capacity_report
from vibevoice_ci.perf.client import Kind, Result
from vibevoice_ci.perf.engine_limit import EngineLimit
from vibevoice_ci.perf.loadgen import LoadPlan, LoadRun
from vibevoice_ci.perf.loadtest import render_line
from vibevoice_ci.perf.metrics import (
    SCHEMA_PATH,
    NothingServedError,
    build_document,
    machine_details,
    parse_metrics,
    read_metrics,
)
from vibevoice_ci.perf.reports import MetricsDocument, OutcomeKind, ServiceUnderLoad

SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
MACHINE = {"cpu_model": "Test CPU", "cores": 2, "load_average": [0.5, 0.4, 0.3]}
PLAN = LoadPlan(endpoint="http", prompts=("Hello there.", "Sure, I can help with that."))


def result(kind: Kind, ttfa: float = 0.005, e2e: float = 0.02, audio: int = 44100) -> Result:
    ok = kind is Kind.OK
    return Result(
        "http",
        0,
        kind,
        200 if ok else 429,
        ttfa if ok else None,
        e2e if ok else None,
        audio if ok else 0,
        22050 if ok else None,
        ((ttfa, audio),) if ok else (),
    )


def build(results: list[Result], wall: float = 2.0, **extra: Any) -> dict[str, Any]:
    """What the writer writes (the document's JSON value)."""
    document = build_document(
        LoadRun(PLAN, tuple(results), wall),
        engine="espeak",
        git_sha="0123456789abcdef0123456789abcdef01234567",
        workflow_run_id="99",
        prompt_source="builtin",
        machine=MACHINE,
        timestamp=datetime(2026, 11, 30, 2, 0, tzinfo=UTC),
        **extra,
    )
    written: dict[str, Any] = report_json(document)
    return written


def test_a_document_has_the_seed_fields_and_validates_against_the_schema() -> None:
    doc = build([result(Kind.OK, ttfa=0.004 + i / 1000) for i in range(10)])
    jsonschema.validate(doc, SCHEMA)
    assert doc["timestamp"] == "2026-11-30T02:00:00Z"
    assert doc["workflow_run_id"] == "99"
    metrics = doc["metrics"]
    assert set(metrics["ttfa_ms"]) == {"mean", "p50", "p95", "p99"}
    assert metrics["ttfa_ms"]["p50"] == pytest.approx(8.5)
    assert metrics["throughput_rps"] == 5.0  # 10 requests in 2 s
    assert metrics["audio_seconds_per_second"] == 5.0  # 1 s of audio each
    assert metrics["total_requests"] == 10
    assert doc["samples"]["ttfa_ms"][0] == 4.0
    assert doc["run"]["prompt_set"]["count"] == 2
    assert doc["machine"]["cores"] == 2


def test_rejections_are_counted_apart_from_failures() -> None:
    results = [result(Kind.OK)] * 7 + [result(Kind.REJECTED)] * 2 + [result(Kind.TIMEOUT)]
    doc = build(results)
    jsonschema.validate(doc, SCHEMA)
    assert doc["metrics"]["error_rate"] == 0.1
    assert doc["metrics"]["rejected_rate"] == 0.2
    assert doc["metrics"]["outcomes"] == {"ok": 7, "rejected": 2, "timeout": 1}
    assert len(doc["samples"]["ttfa_ms"]) == 7  # latencies of the requests that succeeded


def test_a_run_where_nothing_succeeded_is_a_failed_check_not_bad_input() -> None:
    with pytest.raises(NothingServedError, match="no request succeeded") as raised:
        build([result(Kind.REJECTED), result(Kind.CONNECTION)])
    assert raised.value.exit_code == 1


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0.0001, max_value=5.0),
            st.floats(min_value=0.0, max_value=30.0),
            st.sampled_from(list(Kind)),
        ),
        min_size=1,
        max_size=30,
    ).filter(lambda rows: any(kind is Kind.OK for _, _, kind in rows))
)
def test_every_document_validates_and_reads_back(rows: list[tuple[float, float, Kind]]) -> None:
    results = [result(kind, ttfa=ttfa, e2e=ttfa + extra) for ttfa, extra, kind in rows]
    doc = build(results)
    jsonschema.validate(doc, SCHEMA)
    metrics = parse_metrics(json.loads(json.dumps(doc)), "m.json")
    assert metrics.total_requests == len(rows)
    assert metrics.ttfa_ms == doc["metrics"]["ttfa_ms"]
    assert len(metrics.samples["ttfa_ms"]) == sum(kind is Kind.OK for *_, kind in rows)


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"timestamp": "x", "git_sha": None, "workflow_run_id": None}, SCHEMA)


def test_a_document_with_every_extension_validates_and_round_trips() -> None:
    levels = [
        Level(1, 4, 0, 0, 100.0, 500.0, 250.0),
        Level(2, 8, 0, 1, 180.0, -20.0, 250.0),
        Level(2, 8, 0, 0, 190.0, 20.0, 250.0, attempt=2),
        Level(3, 12, 0, 0, 300.0, 20.0, 250.0),
        Level(3, 12, 0, 0, 290.0, 20.0, 250.0, attempt=2),
    ]
    engine = EngineLimit(cpu_seconds=11.0, audio_seconds=200.0)
    doc = build(
        [result(Kind.OK)] * 4,
        service=ServiceUnderLoad(kind="container", image="r/vibevoice-tts@sha256:" + "a" * 64),
        realtime=capacity_report(levels, cores=2, ttfa_slo_ms=250.0, engine=engine),
    )
    jsonschema.validate(doc, SCHEMA)
    assert doc["run"]["service"] == {"kind": "container", "image": doc["run"]["service"]["image"]}
    assert doc["realtime"]["capacity_streams"] == 2
    assert doc["realtime"]["ttfa_slo_ms"] == 250.0
    assert [entry["attempt"] for entry in doc["realtime"]["levels"]] == [1, 1, 2, 1, 2]
    assert doc["realtime"]["engine_limit_streams"] == 36.36
    assert doc["realtime"]["capacity_ratio"] == 0.055
    assert doc["realtime"]["levels"][1]["worst_margin_ms"] == -20.0
    assert report_json(validate_report(doc, MetricsDocument, "m.json")) == doc
    # The real machine's details are a machine section too.
    jsonschema.validate(report_json(machine_details()), SCHEMA["$defs"]["Machine"])


def test_an_extension_left_out_is_absent_not_null(tmp_path: Path) -> None:
    doc = build([result(Kind.OK)])
    assert "realtime" not in doc
    assert "service" not in doc["run"]
    path = tmp_path / "m.json"
    for key in ("realtime", "samples"):
        path.write_text(json.dumps({**doc, key: None}), encoding="utf-8")
        with pytest.raises(UsageError, match=f"m.json: {key}: Input should be an object"):
            read_metrics(path)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**doc, key: None}, SCHEMA)


def test_the_seed_designs_fields_alone_are_a_document() -> None:
    seed = {
        "timestamp": "2024-12-04T12:00:00Z",
        "git_sha": "abc1234",
        "workflow_run_id": "123456789",
        "metrics": {
            "ttfa_ms": {"mean": 450.2, "p50": 445.0, "p95": 520.0, "p99": 580.0},
            "e2e_latency_ms": {"mean": 1250.5, "p50": 1200.0, "p95": 1450.0, "p99": 1600.0},
            "throughput_rps": 12.5,
            "error_rate": 0.002,
            "total_requests": 1000,
        },
    }
    jsonschema.validate(seed, SCHEMA)
    assert parse_metrics(seed, "seed.json").total_requests == 1000
    for required in ("timestamp", "git_sha", "workflow_run_id", "metrics"):
        partial = {key: value for key, value in seed.items() if key != required}
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(partial, SCHEMA)
        with pytest.raises(UsageError, match=f"seed.json: {required}: Field required"):
            parse_metrics(partial, "seed.json")


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("units", "latency"), "s", "units.latency: Input should be 'ms'"),
        (("schema_version",), True, "schema_version: Value error, must be the number 1"),
        (("metrics", "error_rate"), 2.0, "it is a fraction (0.01 is 1%), not a percentage"),
        (("metrics", "outcomes", "teapot"), 1, "metrics.outcomes.teapot.[key]: Input should be"),
        (("run", "endpoint"), "grpc", "run.endpoint: Input should be 'http' or 'ws'"),
        (("machine", "cores"), 0, "machine.cores: Input should be greater than or equal to 1"),
        (("samples", "ttfa_ms"), [], "samples.ttfa_ms: List should have at least 1 item"),
        (("run", "extra"), 1, "run.extra: Extra inputs are not permitted"),
    ],
)
def test_an_extension_of_another_shape_is_refused_by_the_model_and_the_schema(
    path: tuple[str, ...], value: object, message: str
) -> None:
    doc = build([result(Kind.OK)])
    table = doc
    for key in path[:-1]:
        table = table[key]
    table[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, SCHEMA)
    with pytest.raises(UsageError) as refused:
        parse_metrics(doc, "m.json")
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_the_outcome_kinds_are_the_clients() -> None:
    assert set(OutcomeKind.__args__) == {kind.value for kind in Kind}


def test_a_history_line_is_what_the_session_appends_and_a_torn_one_is_skipped(
    tmp_path: Path,
) -> None:
    history = tmp_path / "history.jsonl"
    run = LoadRun(PLAN, (result(Kind.OK),), 1.0)
    document = build_document(
        run,
        engine="espeak",
        git_sha=None,
        workflow_run_id="7",
        prompt_source="builtin",
        machine=MACHINE,
    )
    history.write_text('{"ttfa_p50_ms": 1.0, "torn', encoding="utf-8")
    entries = perf_session._append_history(history, document, None)
    lines = history.read_text(encoding="utf-8").splitlines()
    assert len(entries) == len(lines) == 1  # the torn line is gone, this run appended
    schema = json.loads(SCHEMA_PATH.with_name("history-entry.schema.json").read_text())
    jsonschema.validate(json.loads(lines[0]), schema)
    assert json.loads(lines[0]) == {
        "timestamp": document.timestamp,
        "git_sha": None,
        "workflow_run_id": "7",
        "ttfa_p50_ms": 5.0,
        "ttfa_p95_ms": 5.0,
        "e2e_p95_ms": 20.0,
        "throughput_rps": 1.0,
        "error_rate": 0.0,
        "regression": None,
    }
    assert perf_session.read_history(history) == entries


def test_the_summary_line_gives_the_capacity_its_objective_and_the_engine_limit() -> None:
    levels = [
        Level(1, 4, 0, 0, 100.0, 500.0, 250.0),
        Level(2, 8, 0, 1, 180.0, -20.0, 250.0),
        Level(2, 8, 0, 1, 190.0, -10.0, 250.0, attempt=2),
    ]
    engine = EngineLimit(cpu_seconds=11.0, audio_seconds=200.0)
    measured = build(
        [result(Kind.OK)] * 4,
        realtime=capacity_report(levels, cores=2, ttfa_slo_ms=250.0, engine=engine),
    )
    lines = render_line(validate_report(measured, MetricsDocument, "m.json")).splitlines()
    assert lines[1:] == [
        "realtime capacity (TTFA p95 <= 250 ms): 1 streams (0.5 per core), TTFA p95 there "
        "100.0 ms; 1 level(s) repeated",
        "engine limit: 36.36 streams (engine RTF 0.055 on the machine's cores); capacity is "
        "2.8% of it",
    ]
    unmeasured = build(
        [result(Kind.OK)] * 4, realtime=capacity_report(levels, cores=2, ttfa_slo_ms=250.0)
    )
    line = render_line(validate_report(unmeasured, MetricsDocument, "m.json"))
    assert line.endswith(
        "\nengine limit: not measured (no tts_engine_cpu_seconds_total or no audio in the "
        "service's /metrics over the steps)"
    )
