"""``scripts/bench_loadgen_vs_wrk.py``: is the load generator the bottleneck? Compared with wrk.

Two measurements, each the same endpoint loaded by our generator (``loadgen.run_load``,
closed loop, ``POST /v1/tts``) and by wrk (``tools.wrk``) in turn, for the same time, over
the same number of keep-alive connections, with the same JSON body:

1. **Added latency**: against ``instant_server`` (answers at once, its own process), one
   connection each. Our end-to-end latency minus wrk's, at p50/p90/p99: what our client adds
   on top of a C client (goal: under 1 ms at p50).
2. **Throughput**: against the tts service with the espeak engine at ``concurrency``
   connections: our requests/s over wrk's (goal: at least 0.8, i.e. within 20%). The same
   ratio against the instant server is reported too, with no goal: it says how fast each
   client can go at all on this machine (thousands of requests/s, where the tts serves about
   a hundred), the clients and the server sharing its cores.

With ``rounds`` > 1 the two clients alternate (ours first in odd rounds, wrk first in even
ones) and the medians are reported. Everything runs on 127.0.0.1. ``compare_*`` and
``render_markdown`` are pure; ``run_benchmark`` has the side effects.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vibevoice_ci.core.reports import report_json
from vibevoice_ci.perf.client import Kind
from vibevoice_ci.perf.loadgen import LoadPlan, LoadRun, run_load
from vibevoice_ci.perf.metrics import machine_details
from vibevoice_ci.perf.stats import percentile
from vibevoice_ci.smoke.local_service import running_service, running_tts_service
from vibevoice_ci.tools import wrk

PROMPT = "Your order has shipped and should arrive on Thursday afternoon."
ADDED_LATENCY_GOAL_MS = 1.0
THROUGHPUT_GOAL = 0.8
QUANTILES = ("p50", "p90", "p99")


@dataclass(frozen=True)
class ClientRun:
    """One client's run against one endpoint: requests/s, latency in ms, errors."""

    client: str  # "ours" or "wrk"
    requests: int
    seconds: float
    errors: int
    latency_ms: Mapping[str, float]  # p50, p90, p99

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "requests_per_second": round(self.requests_per_second, 2),
            "errors": self.errors,
            "latency_ms": {key: round(value, 4) for key, value in self.latency_ms.items()},
        }


def from_load_run(run: LoadRun) -> ClientRun:
    """Our generator's run as a ClientRun: the successful requests' end-to-end latency."""
    e2e = [r.e2e * 1000 for r in run.results if r.kind is Kind.OK and r.e2e is not None]
    ok = len(e2e)
    latency = {q: percentile(e2e, int(q[1:]) / 100) for q in QUANTILES} if e2e else {}
    return ClientRun("ours", ok, run.wall_seconds, len(run.results) - ok, latency)


def from_wrk(result: wrk.WrkResult) -> ClientRun:
    """wrk's run as a ClientRun (its status errors are requests that did not succeed)."""
    latency = {q: result.latency_ms[q] for q in QUANTILES}
    ok = result.requests - result.errors.get("status", 0)
    return ClientRun("wrk", ok, result.seconds, result.error_count, latency)


def compare_latency(ours: Sequence[ClientRun], theirs: Sequence[ClientRun]) -> dict[str, Any]:
    """The added latency (ours minus wrk's, median over rounds) at each quantile (pure)."""
    ours_ms = {q: statistics.median(r.latency_ms[q] for r in ours) for q in QUANTILES}
    wrk_ms = {q: statistics.median(r.latency_ms[q] for r in theirs) for q in QUANTILES}
    added = {q: round(ours_ms[q] - wrk_ms[q], 4) for q in QUANTILES}
    return {
        "ours_ms": {q: round(v, 4) for q, v in ours_ms.items()},
        "wrk_ms": {q: round(v, 4) for q, v in wrk_ms.items()},
        "added_ms": added,
        "goal_p50_ms": ADDED_LATENCY_GOAL_MS,
        "met": added["p50"] < ADDED_LATENCY_GOAL_MS,
    }


def compare_throughput(ours: Sequence[ClientRun], theirs: Sequence[ClientRun]) -> dict[str, Any]:
    """Our requests/s over wrk's (medians over rounds) against the 0.8 goal (pure)."""
    ours_rps = statistics.median(r.requests_per_second for r in ours)
    wrk_rps = statistics.median(r.requests_per_second for r in theirs)
    ratio = ours_rps / wrk_rps if wrk_rps > 0 else 0.0
    return {
        "ours_rps": round(ours_rps, 2),
        "wrk_rps": round(wrk_rps, 2),
        "ratio": round(ratio, 4),
        "goal_ratio": THROUGHPUT_GOAL,
        "met": ratio >= THROUGHPUT_GOAL,
    }


def render_markdown(report: Mapping[str, Any]) -> str:
    """The report as Markdown tables (pure)."""
    added = report["added_latency"]
    lines = [
        "## Load generator against wrk",
        "",
        f"wrk {report['wrk_version']}, {report['seconds']:g} s per run, {report['rounds']} "
        f"round(s), medians over rounds; {report['machine']['cores']} cores "
        f"({report['machine']['cpu_model']}).",
        "",
        "### Added latency (instant server, 1 connection)",
        "",
        "| quantile | ours (ms) | wrk (ms) | added (ms) |",
        "| --- | --- | --- | --- |",
    ]
    for q in QUANTILES:
        lines.append(
            f"| {q} | {added['ours_ms'][q]:.3f} | {added['wrk_ms'][q]:.3f} | "
            f"{added['added_ms'][q]:+.3f} |"
        )
    verdict = "met" if added["met"] else "NOT met"
    lines += [
        "",
        f"Goal: under {added['goal_p50_ms']:g} ms added at p50: **{verdict}**.",
        "",
        "### Throughput",
        "",
        "| endpoint | connections | ours (req/s) | wrk (req/s) | ours / wrk | goal |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in report["throughput"]:
        goal = f">= {row['goal_ratio']:g}: {'met' if row['met'] else 'NOT met'}"
        if not row["goal_applies"]:
            goal = "(no goal: how fast each client can go here, far above the tts)"
        lines.append(
            f"| {row['endpoint']} | {row['connections']} | {row['ours_rps']:.1f} | "
            f"{row['wrk_rps']:.1f} | {row['ratio']:.3f} | {goal} |"
        )
    return "\n".join(lines) + "\n"


def _alternate(
    rounds: int, ours: Callable[[], ClientRun], theirs: Callable[[], ClientRun]
) -> tuple[list[ClientRun], list[ClientRun]]:
    mine: list[ClientRun] = []
    others: list[ClientRun] = []
    for index in range(rounds):
        order = [(ours, mine), (theirs, others)]
        if index % 2:
            order.reverse()
        for run, into in order:
            into.append(run())
    return mine, others


def _say(message: str) -> None:
    print(f"[wrk-bench] {message}", file=sys.stderr, flush=True)


def run_benchmark(
    *,
    seconds: float = 5.0,
    concurrency: int = 2,
    rounds: int = 1,
    engine: str = "espeak",
) -> dict[str, Any]:
    """Run both measurements (side effects: two local services, wrk) and return the report."""
    body = json.dumps({"text": PROMPT})
    started = time.perf_counter()
    wrk_version = wrk.version()

    def measure(port: int, connections: int) -> tuple[list[ClientRun], list[ClientRun]]:
        plan = LoadPlan(
            "http",
            (PROMPT,),
            concurrency=connections,
            requests=None,
            duration=seconds,
            warmup=5,
            max_seconds=seconds + 30,
        )
        url = f"http://127.0.0.1:{port}/v1/tts"

        def ours() -> ClientRun:
            return from_load_run(run_load(port, plan))

        def theirs() -> ClientRun:
            threads = min(connections, 2)
            return from_wrk(
                wrk.run(url, body, threads=threads, connections=connections, seconds=seconds)
            )

        return _alternate(rounds, ours, theirs)

    throughput: list[dict[str, Any]] = []
    runs: dict[str, Any] = {}
    with running_service(
        "vibevoice_ci.perf.instant_server", [], label="instant", name="instant HTTP server"
    ) as instant:
        _say(f"added latency: instant server on {instant.url}, 1 connection, {seconds:g} s each")
        mine, others = measure(instant.port, 1)
        added = compare_latency(mine, others)
        runs["instant x1"] = [r.to_json() for r in (*mine, *others)]
        _say(f"throughput: instant server, {concurrency} connections")
        mine, others = measure(instant.port, concurrency)
        throughput.append(
            {
                "endpoint": "instant server",
                "connections": concurrency,
                "goal_applies": False,
                **compare_throughput(mine, others),
            }
        )
        runs[f"instant x{concurrency}"] = [r.to_json() for r in (*mine, *others)]
    env = {"VIBEVOICE_TTS_LOG_REQUESTS": "0", "VIBEVOICE_TTS_MAX_CONCURRENCY": "8"}
    with running_tts_service(engine, env=env) as tts:
        _say(f"throughput: tts ({engine}) on {tts.url}, {concurrency} connections")
        mine, others = measure(tts.port, concurrency)
        throughput.insert(
            0,
            {
                "endpoint": f"tts POST /v1/tts ({engine})",
                "connections": concurrency,
                "goal_applies": True,
                **compare_throughput(mine, others),
            },
        )
        runs[f"tts x{concurrency}"] = [r.to_json() for r in (*mine, *others)]
    return {
        "wrk_version": wrk_version,
        "seconds": seconds,
        "rounds": rounds,
        "concurrency": concurrency,
        "engine": engine,
        "prompt": PROMPT,
        "added_latency": added,
        "throughput": throughput,
        "runs": runs,
        "total_seconds": round(time.perf_counter() - started, 1),
        "machine": report_json(machine_details()),
    }
