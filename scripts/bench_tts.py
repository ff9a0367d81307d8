"""Benchmark the tts service: time to first audio, engine compute time and service overhead.

For each engine the real service is started on 127.0.0.1 (``running_tts_service``) and sent
``--requests`` POST /v1/tts requests one at a time. Client-side TTFA is measured from just
before the request is written to the socket until the first byte of *audio* (chunked body
data, not headers) arrives; end-to-end is until the last byte. Interleaved with the HTTP
requests, the same engine class is loaded in this process and ``next(engine.synthesize(s))``
is timed on the same first segment the service synthesizes first: the engine's compute time
for the first chunk. Service overhead = TTFA p50 - engine first-chunk p50.

The client is the perf session's minimal HTTP/1.1 client on a raw keep-alive socket
(TCP_NODELAY, ``vibevoice_ci.perf.client``), so the numbers carry as little client-library
time as possible and mean the same as the load test's.

    python scripts/bench_tts.py [--engines piper,espeak] [--requests 30] [--json-out PATH]

Exit status: 0 after a run, 1 when a request fails, 2 for bad flags.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vibevoice_ci.core.files import write_json_atomic
from vibevoice_ci.perf.client import HttpTtsClient, Kind
from vibevoice_ci.smoke.local_service import running_tts_service
from vibevoice_ci.tools import git
from vibevoice_platform.tts.engines import Engine, load_engine
from vibevoice_platform.tts.settings import ENGINE_NAMES, Settings
from vibevoice_platform.tts.text import first_segment

DEFAULT_TEXT = "Hello there, welcome to the realtime voice agent. How can I help you today?"
DEFAULT_ENGINES = ("piper", "espeak")
TARGETS = {"piper_ttfa_p50_ms": 150.0, "overhead_p50_ms": 5.0}
EXIT_FAILED = 1
EXIT_USAGE = 2


class BenchError(Exception):
    """A request failed or the service misbehaved."""


@dataclass(frozen=True)
class Sample:
    ttfa: float
    e2e: float
    audio_bytes: int


def post_text(client: HttpTtsClient, text: str) -> Sample:
    """One timed POST /v1/tts through the perf session's raw-socket client."""
    result = client.synthesize(text, prompt=0)
    if result.kind is not Kind.OK or result.ttfa is None or result.e2e is None:
        raise BenchError(f"POST /v1/tts ended {result.kind.value} (status {result.status})")
    return Sample(result.ttfa, result.e2e, result.audio_bytes)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Linear-interpolated percentile (``fraction`` in [0, 1]) of a non-empty sequence."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary_ms(values: Sequence[float]) -> dict[str, float]:
    ms = [value * 1000 for value in values]
    return {
        "p50": round(percentile(ms, 0.5), 3),
        "p95": round(percentile(ms, 0.95), 3),
        "mean": round(sum(ms) / len(ms), 3),
        "min": round(min(ms), 3),
        "max": round(max(ms), 3),
    }


def time_first_chunk(engine: Engine, segment: str) -> float:
    started = time.perf_counter()
    chunks = engine.synthesize(segment)
    next(chunks)
    elapsed = time.perf_counter() - started
    close = getattr(chunks, "close", None)
    if close is not None:
        close()
    return elapsed


def bench_engine(
    name: str, text: str, requests: int, warmup: int, timeout: float
) -> dict[str, Any]:
    segment = first_segment(text)
    settings = Settings(engine=name)
    print(f"[bench] {name}: loading the engine in this process", file=sys.stderr, flush=True)
    engine = load_engine(name, settings)
    engine.warm_up()
    rate = engine.sample_rate
    samples: list[Sample] = []
    engine_times: list[float] = []
    print(f"[bench] {name}: starting the service", file=sys.stderr, flush=True)
    env = {"VIBEVOICE_TTS_LOG_REQUESTS": "0"}
    with running_tts_service(name, env=env, ready_timeout=timeout) as service:
        client = HttpTtsClient(service.port, timeout=120.0)
        try:
            for index in range(warmup + requests):
                sample = post_text(client, text)
                first_chunk = time_first_chunk(engine, segment)
                if index >= warmup:
                    samples.append(sample)
                    engine_times.append(first_chunk)
        finally:
            client.close()
    ttfa = summary_ms([sample.ttfa for sample in samples])
    engine_first = summary_ms(engine_times)
    audio_seconds = [sample.audio_bytes / 2 / rate for sample in samples]
    rtf = [sample.e2e / seconds for sample, seconds in zip(samples, audio_seconds, strict=True)]
    return {
        "engine": name,
        "sample_rate": rate,
        "first_segment": segment,
        "ttfa_ms": ttfa,
        "engine_first_chunk_ms": engine_first,
        "overhead_p50_ms": round(ttfa["p50"] - engine_first["p50"], 3),
        "e2e_ms": summary_ms([sample.e2e for sample in samples]),
        "rtf_p50": round(percentile(rtf, 0.5), 4),
        "audio_seconds_p50": round(percentile(audio_seconds, 0.5), 3),
        "samples": {
            "ttfa_ms": [round(sample.ttfa * 1000, 3) for sample in samples],
            "engine_first_chunk_ms": [round(value * 1000, 3) for value in engine_times],
            "e2e_ms": [round(sample.e2e * 1000, 3) for sample in samples],
            "audio_bytes": [sample.audio_bytes for sample in samples],
        },
    }


def render_table(results: Sequence[dict[str, Any]]) -> str:
    header = (
        f"{'engine':<8} {'TTFA p50':>9} {'TTFA p95':>9} {'eng p50':>8} {'eng p95':>8} "
        f"{'overhead':>9} {'e2e p50':>8} {'RTF':>7} {'audio s':>8}"
    )
    lines = [header, "-" * len(header)]
    for result in results:
        ttfa, first = result["ttfa_ms"], result["engine_first_chunk_ms"]
        lines.append(
            f"{result['engine']:<8} {ttfa['p50']:>9.2f} {ttfa['p95']:>9.2f} "
            f"{first['p50']:>8.2f} {first['p95']:>8.2f} "
            f"{result['overhead_p50_ms']:>9.2f} {result['e2e_ms']['p50']:>8.1f} "
            f"{result['rtf_p50']:>7.4f} {result['audio_seconds_p50']:>8.2f}"
        )
    lines.append("(milliseconds; overhead = TTFA p50 - engine first-chunk p50; RTF = e2e / audio)")
    return "\n".join(lines)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"bench_tts: error: {message}", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _engines(text: str) -> list[str]:
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in ENGINE_NAMES]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown engine(s) {', '.join(unknown) or '(none)'}: choose from "
            f"{', '.join(ENGINE_NAMES)}"
        )
    return names


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = _Parser(prog="bench_tts", description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--engines", type=_engines, default=list(DEFAULT_ENGINES))
    parser.add_argument("--requests", type=_positive, default=30, help="measured requests")
    parser.add_argument("--warmup", type=_non_negative, default=3, help="unmeasured requests")
    parser.add_argument("--text", default=DEFAULT_TEXT, help="the prompt to synthesize")
    parser.add_argument("--json-out", type=Path, help="write the results here as JSON")
    parser.add_argument("--ready-timeout", type=float, default=120.0)
    args = parser.parse_args(argv)
    if not args.text.strip():
        parser.error("--text must not be empty")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    results = []
    try:
        for name in args.engines:
            results.append(
                bench_engine(name, args.text, args.requests, args.warmup, args.ready_timeout)
            )
    except Exception as exc:
        print(f"bench_tts: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(render_table(results))
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_sha": git.head_sha(Path(__file__).resolve().parents[1]),
        "text": args.text,
        "requests": args.requests,
        "warmup": args.warmup,
        "concurrency": 1,
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },
        "targets": TARGETS,
        "results": {result["engine"]: result for result in results},
    }
    if args.json_out is not None:
        write_json_atomic(args.json_out, report)
        print(f"[bench] wrote {args.json_out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
