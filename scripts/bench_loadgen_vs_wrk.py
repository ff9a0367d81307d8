"""Is the perf load generator the bottleneck? Compare it with wrk on the same endpoints.

    python scripts/bench_loadgen_vs_wrk.py [--seconds 5] [--concurrency 2] [--rounds 1]
        [--engine espeak] [--json-out reports/perf/wrk-bench.json]
        [--markdown-out reports/perf/wrk-bench.md]

Reports the generator's added latency at p50/p90/p99 against a server that answers at once
(goal: under 1 ms at p50) and its requests/s over wrk's on the tts service (goal: within 20%),
as JSON and Markdown (``vibevoice_ci.perf.wrkbench``; docs/performance.md). Exit status: 0
after a run (the goals are reported, not judged), 1 when a service or a run failed, 2 for bad
flags, 3 when wrk is missing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from vibevoice_ci.core.errors import EXIT_BAD_INPUT, PipelineError
from vibevoice_ci.core.files import write_json_atomic, write_text_atomic
from vibevoice_ci.perf.wrkbench import render_markdown, run_benchmark


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _Parser(prog="bench_loadgen_vs_wrk", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5, help="per run (wrk counts whole s)")
    parser.add_argument("--concurrency", type=int, default=2, help="connections for req/s")
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds (medians)")
    parser.add_argument("--engine", default="espeak")
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--markdown-out", type=Path)
    args = parser.parse_args(argv)
    if not 1 <= args.seconds <= 600 or not 1 <= args.concurrency <= 64 or args.rounds < 1:
        parser.error("--seconds 1..600, --concurrency 1..64, --rounds >= 1")
    try:
        report = run_benchmark(
            seconds=args.seconds,
            concurrency=args.concurrency,
            rounds=args.rounds,
            engine=args.engine,
        )
    except PipelineError as exc:
        print(f"bench_loadgen_vs_wrk: error: {exc}", file=sys.stderr)
        return exc.exit_code
    markdown = render_markdown(report)
    print(markdown)
    if args.json_out is not None:
        write_json_atomic(args.json_out, report)
    if args.markdown_out is not None:
        write_text_atomic(args.markdown_out, markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
