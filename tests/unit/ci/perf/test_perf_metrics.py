"""The metrics document: the schema the repository ships, and reading it back for the gate."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.core.errors import UsageError
from vibevoice_ci.perf.client import Kind, Result
from vibevoice_ci.perf.loadgen import LoadPlan, LoadRun
from vibevoice_ci.perf.metrics import SCHEMA_PATH, build_document, parse_metrics

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


def build(results: list[Result], wall: float = 2.0) -> dict[str, Any]:
    return build_document(
        LoadRun(PLAN, tuple(results), wall),
        engine="espeak",
        git_sha="0123456789abcdef0123456789abcdef01234567",
        workflow_run_id="99",
        prompt_source="builtin",
        machine=MACHINE,
        timestamp=datetime(2026, 11, 30, 2, 0, tzinfo=UTC),
    )


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


def test_a_run_where_nothing_succeeded_has_nothing_to_measure() -> None:
    with pytest.raises(UsageError, match="no request succeeded"):
        build([result(Kind.REJECTED), result(Kind.CONNECTION)])


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
