"""The load generator against wrk, for real: wrk, the instant server and espeak on 127.0.0.1.

Checks that the benchmark runs end to end and writes a well-formed report; the numbers
themselves are measured, not asserted (the machine is shared and noisy).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import pytest
from release_support import require_tool

from vibevoice_ci.perf.client import HttpTtsClient, Kind
from vibevoice_ci.smoke.local_service import running_service
from vibevoice_ci.tools import wrk
from vibevoice_ci.tools._exec import run_tool

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", autouse=True)
def _wrk_installed() -> None:
    require_tool("wrk")  # missing: a failure under CI, else a skip


REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "bench_loadgen_vs_wrk.py"


def test_the_instant_server_answers_our_client_wrk_and_httpx_at_once() -> None:
    with running_service(
        "vibevoice_ci.perf.instant_server", [], label="instant", name="instant HTTP server"
    ) as server:
        client = HttpTtsClient(server.port, timeout=5)
        try:
            results = [client.synthesize("hello", 0) for _ in range(20)]
        finally:
            client.close()
        assert {r.kind for r in results} == {Kind.OK}
        assert all(r.sample_rate == 16000 and r.audio_bytes == 320 for r in results)
        response = httpx.post(f"{server.url}/v1/tts", json={"text": "hi"}, trust_env=False)
        assert response.status_code == 200
        assert len(response.content) == 320
        result = wrk.run(f"{server.url}/v1/tts", '{"text": "hi"}', connections=1, seconds=1)
    assert result.requests > 0
    assert result.error_count == 0
    assert 0 < result.latency_ms["p50"] <= result.latency_ms["p99"] <= result.latency_ms["max"]


def test_the_benchmark_writes_a_well_formed_report(tmp_path: Path) -> None:
    json_out = tmp_path / "wrk-bench.json"
    markdown_out = tmp_path / "wrk-bench.md"
    result = run_tool(
        [
            sys.executable,
            str(SCRIPT),
            "--seconds",
            "1",
            "--concurrency",
            "2",
            "--json-out",
            str(json_out),
            "--markdown-out",
            str(markdown_out),
        ],
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(json_out.read_text(encoding="utf-8"))
    assert report["wrk_version"] != "unknown"
    added = report["added_latency"]
    for side in ("ours_ms", "wrk_ms"):
        assert set(added[side]) == {"p50", "p90", "p99"}
        assert all(value > 0 for value in added[side].values())
        assert added[side]["p50"] <= added[side]["p99"]
    assert added["added_ms"]["p50"] == pytest.approx(
        added["ours_ms"]["p50"] - added["wrk_ms"]["p50"], abs=1e-3
    )
    assert isinstance(added["met"], bool)
    endpoints = [row["endpoint"] for row in report["throughput"]]
    assert endpoints == ["tts POST /v1/tts (espeak)", "instant server"]
    for row in report["throughput"]:
        assert row["ours_rps"] > 0
        assert row["wrk_rps"] > 0
        assert row["ratio"] == pytest.approx(row["ours_rps"] / row["wrk_rps"], rel=1e-2)
    for runs in report["runs"].values():
        assert {run["client"] for run in runs} == {"ours", "wrk"}
        assert all(run["errors"] == 0 for run in runs)
    markdown = markdown_out.read_text(encoding="utf-8")
    assert "| quantile | ours (ms) | wrk (ms) | added (ms) |" in markdown
    assert "| endpoint | connections | ours (req/s) | wrk (req/s) | ours / wrk | goal |" in markdown
    assert markdown in result.stdout


def test_bad_flags_exit_2() -> None:
    result = run_tool([sys.executable, str(SCRIPT), "--seconds", "0"], check=False, timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
