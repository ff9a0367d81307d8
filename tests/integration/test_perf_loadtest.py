"""The load generator against the real tts service (espeak) on 127.0.0.1."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from vibevoice_ci.core.reports import report_json
from vibevoice_ci.perf.client import HttpTtsClient, Kind, WsTtsClient
from vibevoice_ci.perf.engine_limit import EngineLimit, Unmeasured, engine_limit, scrape
from vibevoice_ci.perf.loadgen import LoadPlan, run_load
from vibevoice_ci.perf.metrics import SCHEMA_PATH, build_document
from vibevoice_ci.smoke.local_service import LocalService, running_tts_service
from vibevoice_ci.tools._exec import run_tool

# One worker for the whole module: the module's services serve every test.
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("perf-loadtest")]

PROMPTS = ("Hello there.", "Your order has shipped and should arrive on Thursday afternoon.")
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def roomy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalService]:
    """espeak with more slots than the load uses, as the perf session runs it (with the
    default of 2, a stream's next request can arrive before its last slot is given back)."""
    log_path = tmp_path_factory.mktemp("tts-roomy") / "service.log"
    env = {"VIBEVOICE_TTS_MAX_CONCURRENCY": "8", "VIBEVOICE_TTS_LOG_REQUESTS": "0"}
    with running_tts_service("espeak", env=env, log_path=log_path) as service:
        yield service


@pytest.fixture(scope="module")
def one_slot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalService]:
    """espeak with room for a single synthesis at a time: a second stream gets 429."""
    log_path = tmp_path_factory.mktemp("tts-one-slot") / "service.log"
    env = {"VIBEVOICE_TTS_MAX_CONCURRENCY": "1", "VIBEVOICE_TTS_LOG_REQUESTS": "0"}
    with running_tts_service("espeak", env=env, log_path=log_path) as service:
        yield service


@pytest.mark.parametrize("client_class", [HttpTtsClient, WsTtsClient])
def test_one_request_times_the_first_audio_byte_and_counts_the_audio(
    tts_espeak: LocalService, client_class: type[HttpTtsClient | WsTtsClient]
) -> None:
    client = client_class(tts_espeak.port, 30.0)
    try:
        first = client.synthesize(PROMPTS[1], 1)
        again = client.synthesize(PROMPTS[1], 1)  # the keep-alive connection is reused
    finally:
        client.close()
    for result in (first, again):
        assert result.kind is Kind.OK, result
        assert result.ttfa is not None
        assert result.e2e is not None
        assert 0 < result.ttfa <= result.e2e
        assert result.sample_rate == 22050
        assert 1.0 < result.audio_seconds < 10.0
        assert result.arrivals[-1][1] == result.audio_bytes
        times = [t for t, _ in result.arrivals]
        assert times == sorted(times)


@pytest.mark.parametrize(
    "plan",
    [
        LoadPlan("http", PROMPTS, concurrency=2, requests=12, warmup=2),
        LoadPlan("ws", PROMPTS, concurrency=2, requests=6, warmup=1),
        LoadPlan("http", PROMPTS, concurrency=2, rate=40.0, requests=10, warmup=1),
    ],
    ids=["closed-http", "closed-ws", "open-http"],
)
def test_a_run_writes_a_document_the_schema_accepts(roomy: LocalService, plan: LoadPlan) -> None:
    run = run_load(roomy.port, plan)
    assert len(run.results) == plan.requests
    assert [r.kind for r in run.results] == [Kind.OK] * len(run.results)
    doc = report_json(
        build_document(
            run,
            engine="espeak",
            git_sha=None,
            workflow_run_id=None,
            prompt_source="test",
            machine={"cpu_model": "x", "cores": 2, "load_average": []},
        )
    )
    jsonschema.validate(doc, SCHEMA)
    assert doc["metrics"]["error_rate"] == 0
    assert doc["metrics"]["total_requests"] == plan.requests
    assert doc["run"]["mode"] == plan.mode


def test_listeners_ask_for_the_next_utterance_after_hearing_the_last(
    roomy: LocalService,
) -> None:
    plan = LoadPlan("http", PROMPTS[1:], concurrency=2, requests=6, warmup=0, listen=True)
    run = run_load(roomy.port, plan)
    assert [r.kind for r in run.results] == [Kind.OK] * 6
    # Each stream sends its 3 requests one after the other, each after playing the one
    # before it: the run lasts at least 3 utterances' audio (the second stream starts later).
    audio = min(r.audio_seconds for r in run.results)
    assert audio > 1.0
    assert run.wall_seconds >= 3 * audio
    # Without listening, espeak makes the same audio far faster than it plays.
    fast = run_load(roomy.port, LoadPlan("http", PROMPTS[1:], concurrency=2, requests=6, warmup=0))
    assert fast.wall_seconds < run.wall_seconds / 2


def test_refusals_at_capacity_are_counted_apart_from_failures(one_slot: LocalService) -> None:
    long_prompt = (PROMPTS[1] + " ") * 20
    run = run_load(one_slot.port, LoadPlan("http", (long_prompt,), concurrency=3, requests=15))
    kinds = {result.kind for result in run.results}
    assert Kind.OK in kinds
    assert Kind.REJECTED in kinds  # three streams on one slot: some get 429
    assert not any(result.kind.is_failure for result in run.results)


def test_the_load_test_script_runs_the_service_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "metrics.json"
    result = run_tool(
        [
            sys.executable,
            "scripts/load_test_tts.py",
            "--engine",
            "espeak",
            "--requests",
            "8",
            "--warmup",
            "1",
            "--capacity",
            "2",
            "--json-out",
            str(out),
        ],
        cwd=REPO,
        timeout=240,
    )
    assert "TTFA p50" in result.stdout
    doc = json.loads(out.read_text())
    jsonschema.validate(doc, SCHEMA)
    assert doc["run"]["engine"] == "espeak"
    realtime = doc["realtime"]
    assert realtime["levels"][0]["concurrency"] == 1
    assert realtime["levels"][0]["attempt"] == 1
    assert realtime["ttfa_slo_ms"] == 250.0
    # espeak computes in a thread of its own: its engine limit is not measured, and said so.
    figures = ("engine_rtf", "engine_limit_streams", "capacity_ratio")
    assert [realtime[key] for key in figures] == [None, None, None]
    assert "realtime capacity (TTFA p95 <= 250 ms):" in result.stdout
    assert "engine limit: not measured" in result.stdout
    assert "[perf] engine limit not measured: the service has no tts_engine_cpu" in result.stderr


def test_the_engine_limit_comes_from_the_running_services_metrics(
    tts_piper: LocalService, roomy: LocalService
) -> None:
    plan = LoadPlan("http", PROMPTS, concurrency=1, requests=2, warmup=0)
    before = scrape(tts_piper.port)
    run = run_load(tts_piper.port, plan)
    after = scrape(tts_piper.port)
    assert [r.kind for r in run.results] == [Kind.OK] * 2
    figures = engine_limit(before, after)
    assert isinstance(figures, EngineLimit), figures
    assert figures.audio_seconds == pytest.approx(
        sum(r.audio_seconds for r in run.results), rel=1e-3
    )
    assert 0.001 < figures.rtf < 1.0
    # espeak's service has no such counter: nothing to measure, never a guess.
    before = scrape(roomy.port)
    run_load(roomy.port, plan)
    unmeasured = engine_limit(before, scrape(roomy.port))
    assert isinstance(unmeasured, Unmeasured)
    assert "no tts_engine_cpu_seconds_total" in unmeasured.reason


def test_the_load_test_script_refuses_bad_flags_in_one_line(tmp_path: Path) -> None:
    result = run_tool(
        [sys.executable, "scripts/load_test_tts.py", "--concurrency", "0"],
        cwd=REPO,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
