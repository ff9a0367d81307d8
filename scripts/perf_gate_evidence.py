"""Evidence that the perf gate works: its false-alarm rate (A/A) and catch rate (A/B), measured.

Three tts services run on 127.0.0.1 with the same engine: A (the build as it is), B (every
chunk of audio 20% later, ``scripts/perf_slow_tts.py``) and T (the same slowdown on one
synthesis in ten only: the tail). Each iteration runs, in a shuffled order, two load tests
on A and one each on B and T, and asks the gate (``vibevoice_ci.perf.regression.compare``,
the thresholds of ``[tool.vibevoice-ci.perf]``) about three pairs:

- A/A: A2 against A1 (any regression verdict is a false alarm);
- A/B: B against A1 (a regression verdict is a catch);
- A/T: T against A2 (a catch, for the tail slowdown).

Each pair is judged twice: by the statistical rule (the gate's default) and by the
percentages alone (``--threshold-only``), to show what the statistics buy. The report gives
each rate with its 95% Clopper-Pearson interval, the number of pairs, the median change of
each metric and the time one load-test run takes.

``--simulate`` judges simulated runs instead (``vibevoice_ci.perf.simulation``: pure, seeded,
no service): hundreds of pairs drawn from one fixed log-normal distribution, which is what a
false-alarm rate of at most 1% and a catch rate of at least 95% take to show.

    python scripts/perf_gate_evidence.py [--engine piper] [--iterations 20] [--requests 30]
        [--json-out reports/perf/evidence.json]
    python scripts/perf_gate_evidence.py --simulate [--pairs 300] [--requests 1000]
        [--sigma 0.32] [--json-out reports/perf/evidence-simulated.json]
        [--markdown-out reports/perf/evidence-simulated.md]

Exit status: 0 after a run (the rates are reported, not judged; with ``--simulate --check``
they are: 1 unless false alarms are at most 1% and catches at least 95%), 1 when a service or
a run failed, 2 for bad flags.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from vibevoice_ci.core.config import load_config
from vibevoice_ci.core.errors import PipelineError
from vibevoice_ci.core.files import write_json_atomic, write_text_atomic
from vibevoice_ci.core.reports import report_json
from vibevoice_ci.perf.loadgen import LoadPlan, run_load
from vibevoice_ci.perf.metrics import build_document, machine_details, parse_metrics
from vibevoice_ci.perf.regression import Thresholds, compare
from vibevoice_ci.perf.simulation import Population, rate_with_interval, render_simulation, simulate
from vibevoice_ci.smoke.local_service import running_tts_service

SLOW_LAUNCHER = Path(__file__).with_name("perf_slow_tts.py")
# One prompt: the gate's tests then compare like with like. With a mixed set, the spread
# between prompt lengths dwarfs a 20% slowdown at these run sizes.
PROMPT = "Your order has shipped and should arrive on Thursday afternoon."
PAIRS = {"A/A": ("A1", "A2"), "A/B": ("A1", "B"), "A/T": ("A2", "T")}


@contextmanager
def services(engine: str, slowdown: float, tail: float) -> Iterator[dict[str, int]]:
    env = {"VIBEVOICE_TTS_LOG_REQUESTS": "0", "VIBEVOICE_TTS_MAX_CONCURRENCY": "8"}
    python = sys.executable
    with ExitStack() as stack:
        ports = {}
        for name, command in (
            ("A", None),
            ("B", [python, str(SLOW_LAUNCHER), "--slowdown", str(slowdown)]),
            (
                "T",
                [
                    python,
                    str(SLOW_LAUNCHER),
                    "--slowdown",
                    str(slowdown * 2.5),
                    "--tail-fraction",
                    str(tail),
                ],
            ),
        ):
            service = stack.enter_context(running_tts_service(engine, env=env, command=command))
            ports[name] = service.port
        yield ports


def measure(port: int, plan: LoadPlan, engine: str) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    run = run_load(port, plan)
    seconds = time.perf_counter() - started
    document = build_document(
        run,
        engine=engine,
        git_sha=None,
        workflow_run_id=None,
        prompt_source="evidence",
        machine=machine_details(),
    )
    return report_json(document), seconds


def change(current: dict[str, Any], baseline: dict[str, Any], metric: str, stat: str) -> float:
    before = baseline["metrics"][metric][stat]
    return (current["metrics"][metric][stat] - before) / before if before else 0.0


def run(args: argparse.Namespace) -> dict[str, Any]:
    thresholds = Thresholds.from_config(load_config().perf)
    plan = LoadPlan(
        "http",
        tuple(args.prompt),
        concurrency=args.concurrency,
        requests=args.requests,
        warmup=args.warmup,
    )
    rng = random.Random(args.seed)  # noqa: S311 (the order of runs, not a secret)
    verdicts: dict[str, dict[str, list[bool]]] = {
        pair: {"statistical": [], "threshold": []} for pair in PAIRS
    }
    changes: dict[str, dict[str, list[float]]] = {
        pair: {"ttfa_p50": [], "ttfa_mean": [], "e2e_p95": []} for pair in PAIRS
    }
    run_seconds: list[float] = []
    started = time.perf_counter()
    with services(args.engine, args.slowdown, args.tail_fraction) as ports:
        for iteration in range(args.iterations):
            order = ["A1", "A2", "B", "T"]
            rng.shuffle(order)
            documents = {}
            for name in order:
                documents[name], seconds = measure(ports[name[0]], plan, args.engine)
                run_seconds.append(seconds)
            for pair, (base, current) in PAIRS.items():
                before = parse_metrics(documents[base], base)
                now = parse_metrics(documents[current], current)
                for mode in ("statistical", "threshold"):
                    verdict = compare(now, before, thresholds, statistical=mode == "statistical")
                    verdicts[pair][mode].append(verdict.regression)
                changes[pair]["ttfa_p50"].append(
                    change(documents[current], documents[base], "ttfa_ms", "p50")
                )
                changes[pair]["ttfa_mean"].append(
                    change(documents[current], documents[base], "ttfa_ms", "mean")
                )
                changes[pair]["e2e_p95"].append(
                    change(documents[current], documents[base], "e2e_latency_ms", "p95")
                )
            print(
                f"[evidence] iteration {iteration + 1}/{args.iterations}: "
                + ", ".join(
                    f"{pair} {'REGRESSION' if verdicts[pair]['statistical'][-1] else 'ok'}"
                    for pair in PAIRS
                ),
                file=sys.stderr,
                flush=True,
            )
    return {
        "engine": args.engine,
        "iterations": args.iterations,
        "requests_per_run": args.requests,
        "prompts": args.prompt,
        "concurrency": args.concurrency,
        "slowdown": args.slowdown,
        "tail": {"fraction": args.tail_fraction, "slowdown": args.slowdown * 2.5},
        "thresholds": thresholds.__dict__,
        "rates": {
            pair: {mode: rate_with_interval(sum(v), len(v)) for mode, v in modes.items()}
            for pair, modes in verdicts.items()
        },
        "median_change": {
            pair: {key: round(statistics.median(values), 4) for key, values in metrics.items()}
            for pair, metrics in changes.items()
        },
        "seconds_per_run": round(statistics.median(run_seconds), 2),
        "total_seconds": round(time.perf_counter() - started, 1),
        "machine": report_json(machine_details()),
    }


FALSE_ALARM_GOAL = 0.01
CATCH_GOAL = 0.95


def simulation_goals(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's goals against the simulated rates of the gate (the statistical rule)."""
    goals = []
    for name, entry in report["rates"].items():
        rate = entry["statistical"]["rate"]
        if entry["expect_regression"]:
            goals.append(
                {"what": f"{name} caught", "rate": rate, "goal": f">= {CATCH_GOAL:.0%}",
                 "met": rate >= CATCH_GOAL}
            )  # fmt: skip
        else:
            goals.append(
                {"what": f"{name} false alarms", "rate": rate,
                 "goal": f"<= {FALSE_ALARM_GOAL:.0%}", "met": rate <= FALSE_ALARM_GOAL}
            )  # fmt: skip
    return goals


def render(report: dict[str, Any]) -> str:
    names = {"A/A": "A/A false alarms", "A/B": "A/B +20% caught", "A/T": "A/T tail caught"}
    lines = [
        f"engine {report['engine']}, {report['iterations']} pairs of each kind, "
        f"{report['requests_per_run']} requests per run, one run ~{report['seconds_per_run']} s",
        f"{'':<18} {'statistical rule':>30} {'threshold only':>30}",
    ]
    for pair, modes in report["rates"].items():
        cells = []
        for mode in ("statistical", "threshold"):
            r = modes[mode]
            low, high = r["ci95"] or (0, 0)
            cells.append(f"{r['hits']}/{r['pairs']} = {r['rate']:.0%} [{low:.0%}, {high:.0%}]")
        lines.append(f"{names[pair]:<18} {cells[0]:>30} {cells[1]:>30}")
    for pair, median in report["median_change"].items():
        lines.append(
            f"median change {pair}: TTFA p50 {median['ttfa_p50']:+.1%}, "
            f"mean {median['ttfa_mean']:+.1%}, e2e p95 {median['e2e_p95']:+.1%}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="perf_gate_evidence", description=__doc__)
    parser.add_argument("--engine", default="piper")
    parser.add_argument(
        "--prompt", action="append", help=f"a prompt (repeatable; default: {PROMPT!r})"
    )
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--requests", type=int, help="per run (default 30; with --simulate, 1000)")
    parser.add_argument("--simulate", action="store_true", help="simulated runs, no service")
    parser.add_argument("--pairs", type=int, default=300, help="--simulate: pairs of each kind")
    parser.add_argument(
        "--sigma", type=float, default=Population().sigma, help="--simulate: log-normal spread"
    )
    parser.add_argument("--markdown-out", type=Path)
    parser.add_argument(
        "--check",
        action="store_true",
        help="--simulate: exit 1 unless the gate's false-alarm rate is at most 1%% and its "
        "catch rates at least 95%% (the issue's goals)",
    )
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--slowdown", type=float, default=0.2)
    parser.add_argument("--tail-fraction", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args(argv)
    args.prompt = args.prompt or [PROMPT]
    if args.requests is None:
        args.requests = 1000 if args.simulate else 30
    if args.iterations < 1 or args.requests < 5 or args.concurrency < 1:
        parser.error("--iterations >= 1, --requests >= 5, --concurrency >= 1")
    if args.pairs < 1 or not 0 < args.sigma <= 3:
        parser.error("--pairs >= 1, --sigma in (0, 3]")
    if args.simulate:
        started = time.perf_counter()
        report = simulate(
            pairs=args.pairs,
            requests=args.requests,
            thresholds=Thresholds.from_config(load_config().perf),
            population=Population(sigma=args.sigma),
            seed=args.seed,
        )
        report["total_seconds"] = round(time.perf_counter() - started, 1)
        report["goals"] = simulation_goals(report)
        markdown = render_simulation(report) + "".join(
            f"\n- {goal['what']}: {goal['rate']:.1%}, goal {goal['goal']}: "
            f"{'met' if goal['met'] else 'NOT met'}"
            for goal in report["goals"]
        )
    else:
        try:
            report = run(args)
        except PipelineError as exc:
            print(f"perf_gate_evidence: error: {exc}", file=sys.stderr)
            return 1
        markdown = render(report)
    print(markdown)
    if args.json_out is not None:
        write_json_atomic(args.json_out, report)
        print(json.dumps({"wrote": str(args.json_out)}), file=sys.stderr)
    if args.markdown_out is not None:
        write_text_atomic(args.markdown_out, markdown.rstrip("\n") + "\n")
    if args.simulate and args.check and not all(goal["met"] for goal in report["goals"]):
        print("perf_gate_evidence: a goal is not met (see above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
