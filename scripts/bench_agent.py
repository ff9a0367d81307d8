"""Benchmark the agent's time to first audio against its parts.

The agent's time to first audio (TTFA) should be the time the LLM takes to produce the first
complete sentence plus the tts service's time to first audio for that sentence, and little
more: the agent sends each sentence to tts the moment it is complete. This script measures all
three on real processes on 127.0.0.1 and prints them, with the difference (the agent's own
overhead; the target is at most 20 ms at p50).

For each responder source:

* ``local``: the agent's local responder (no API key);
* ``replay``: the Anthropic SDK path against the local Anthropic-compatible server
  (tests/integration/anthropic_replay.py) replaying the recorded greeting stream at once;
* ``replay-slow``: the same stream with 150 ms between events (an LLM that takes its time).

it starts the real tts service (``--engine``, default espeak) and the real agent process, and
sends ``--turns`` ``POST /v1/reply`` turns one at a time (after ``--warmup``), measuring on
the client from the request written to the first body byte (the first audio frame).
Interleaved with them it measures, in this process, the responder alone until its first
complete sentence (the same splitter; for ``replay``, the same SDK against the same server),
and ``POST /v1/tts`` of that first sentence straight to tts (to its first audio byte).
Expected TTFA = first-sentence p50 + tts TTFA p50; overhead = agent TTFA p50 - expected.

    python scripts/bench_agent.py [--sources local,replay,replay-slow] [--turns 30]
                                  [--engine espeak] [--json-out PATH]

Exit status: 0 after a run, 1 when a request fails, 2 for bad flags.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))  # the Anthropic-compatible server

from anthropic_replay import ReplayServer, running_replay_server  # noqa: E402

from bench_tts import BenchError, summary_ms  # noqa: E402
from vibevoice_ci.core.files import write_json_atomic  # noqa: E402
from vibevoice_ci.perf.client import HttpTtsClient, Kind, Result  # noqa: E402
from vibevoice_ci.smoke.local_service import running_agent_service, running_tts_service  # noqa: E402
from vibevoice_platform.agent.history import Message  # noqa: E402
from vibevoice_platform.agent.responders import AnthropicResponder, LocalResponder  # noqa: E402
from vibevoice_platform.agent.sentences import SentenceSplitter  # noqa: E402
from vibevoice_platform.agent.settings import Settings  # noqa: E402

SOURCES = {"local": None, "replay": "greeting", "replay-slow": "slow"}
TURN = "Hello there, how is the weather today?"
API_KEY = "sk-ant-bench-not-a-real-key-0123456789"
TARGET_OVERHEAD_MS = 20.0
EXIT_FAILED, EXIT_USAGE = 1, 2


async def first_sentence(responder: Any) -> tuple[float, str]:
    """Seconds until the responder's first complete sentence, and the sentence."""
    splitter = SentenceSplitter()
    started = time.perf_counter()
    async with contextlib.aclosing(responder.stream([Message("user", TURN)])) as pieces:
        async for piece in pieces:
            done = splitter.feed(piece)
            if done:
                return time.perf_counter() - started, done[0]
    rest = splitter.flush()
    if not rest:
        raise BenchError("the responder gave no sentence")
    return time.perf_counter() - started, rest[0]


def timed_post(client: HttpTtsClient, path: str, payload: dict[str, Any]) -> Result:
    """One timed POST whose chunked body is audio; anything but a whole answer fails."""
    result = client.post(path, payload)
    if result.kind is not Kind.OK or result.ttfa is None:
        raise BenchError(f"POST {path}: {result.kind.value} (HTTP {result.status})")
    return result


def bench_source(
    name: str, scenario: str | None, replay: ReplayServer, tts_url: str, args: argparse.Namespace
) -> dict[str, Any]:
    env = {"ANTHROPIC_API_KEY": "", "VIBEVOICE_AGENT_LOG_REQUESTS": "0"}
    responder: Any = LocalResponder()
    if scenario is not None:
        env["ANTHROPIC_API_KEY"] = API_KEY
        env["VIBEVOICE_AGENT_ANTHROPIC_BASE_URL"] = replay.url(scenario)
        responder = AnthropicResponder(
            Settings(api_key=API_KEY, anthropic_base_url=replay.url(scenario))
        )
    loop = asyncio.new_event_loop()
    agent_ttfa: list[float] = []
    sentence_times: list[float] = []
    tts_ttfa: list[float] = []
    with running_agent_service(tts_url, env=env) as agent:
        agent_client = HttpTtsClient(agent.port, timeout=120.0)
        tts_port = int(tts_url.rsplit(":", 1)[1])
        tts_client = HttpTtsClient(tts_port, timeout=120.0)
        try:
            for index in range(args.warmup + args.turns):
                sample = timed_post(agent_client, "/v1/reply", {"text": TURN})
                seconds, sentence = loop.run_until_complete(first_sentence(responder))
                direct = timed_post(tts_client, "/v1/tts", {"text": sentence, "format": "pcm"})
                if index >= args.warmup:
                    agent_ttfa.append(sample.ttfa)
                    sentence_times.append(seconds)
                    tts_ttfa.append(direct.ttfa)
        finally:
            agent_client.close()
            tts_client.close()
            close = getattr(responder, "aclose", None)
            if close is not None:
                loop.run_until_complete(close())
            loop.close()
    agent_s, sentence_s, tts_s = (summary_ms(v) for v in (agent_ttfa, sentence_times, tts_ttfa))
    expected = sentence_s["p50"] + tts_s["p50"]
    return {
        "source": name,
        "turns": args.turns,
        "agent_ttfa_ms": agent_s,
        "first_sentence_ms": sentence_s,
        "tts_ttfa_first_sentence_ms": tts_s,
        "expected_ttfa_p50_ms": round(expected, 3),
        "overhead_p50_ms": round(agent_s["p50"] - expected, 3),
        "within_target": agent_s["p50"] - expected <= TARGET_OVERHEAD_MS,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", default=",".join(SOURCES))
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--engine", default="espeak", choices=("espeak", "piper"))
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args(argv)
    sources = [s.strip() for s in args.sources.split(",") if s.strip()]
    unknown = sorted(set(sources) - set(SOURCES))
    if unknown or not sources or args.turns < 1 or args.warmup < 0:
        print(f"bad flags: sources must be among {', '.join(SOURCES)}; turns >= 1", file=sys.stderr)
        return EXIT_USAGE
    results = []
    try:
        with running_tts_service(args.engine) as tts, running_replay_server() as replay:
            for source in sources:
                results.append(bench_source(source, SOURCES[source], replay, tts.url, args))
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    _print(results, args.engine)
    if args.json_out:
        write_json_atomic(
            args.json_out,
            {"engine": args.engine, "python": platform.python_version(), "results": results},
        )
    return 0


def _print(results: list[dict[str, Any]], engine: str) -> None:
    fmt: Callable[[dict[str, float]], str] = lambda s: f"{s['p50']:8.2f} {s['p95']:8.2f}"  # noqa: E731
    print(f"tts engine {engine}; all times in ms (p50 p95)")
    print(
        f"{'source':12} {'agent TTFA':>17} {'1st sentence':>17} {'tts TTFA':>17} "
        f"{'expected p50':>12} {'overhead p50':>12}"
    )
    for r in results:
        print(
            f"{r['source']:12} {fmt(r['agent_ttfa_ms'])} {fmt(r['first_sentence_ms'])} "
            f"{fmt(r['tts_ttfa_first_sentence_ms'])} {r['expected_ttfa_p50_ms']:12.2f} "
            f"{r['overhead_p50_ms']:12.2f}"
            + ("" if r["within_target"] else f"  (over the {TARGET_OVERHEAD_MS:g} ms target)")
        )


if __name__ == "__main__":
    raise SystemExit(main())
