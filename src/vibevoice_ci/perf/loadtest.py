"""``scripts/load_test_tts.py``: load-test the tts service and write the metrics JSON.

The service is started as a local process on 127.0.0.1 (``running_tts_service``) unless
``--port`` names one already running there. Exit status: 0 after a run, 1 when the run
failed (no request succeeded, the service did not start), 2 for bad flags or a bad prompt
file, 3 for a missing tool.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from vibevoice_ci.core.config import PipelineConfig, load_config, with_environment
from vibevoice_ci.core.errors import EXIT_BAD_INPUT, PipelineError, UsageError
from vibevoice_ci.core.reports import write_report
from vibevoice_ci.perf.capacity import Level, capacity_report, measure_capacity
from vibevoice_ci.perf.client import CLIENTS
from vibevoice_ci.perf.engine_limit import EngineLimit, Unmeasured, engine_limit, scrape
from vibevoice_ci.perf.loadgen import LoadPlan, Progress, read_prompts, run_load
from vibevoice_ci.perf.metrics import build_document, machine_details
from vibevoice_ci.perf.reports import MetricsDocument, ServiceUnderLoad
from vibevoice_ci.smoke.local_service import running_tts_service
from vibevoice_ci.tools import git

BUILTIN_PROMPTS = Path(__file__).with_name("prompts.txt")


@dataclass(frozen=True)
class ServiceOptions:
    """How to reach (or start) the service under load."""

    engine: str
    max_concurrency: int
    port: int | None = None  # a service already running on 127.0.0.1
    ready_timeout: float = 120.0
    log_path: Path | None = None
    command: Sequence[str] | None = None  # a launcher instead of python -m ...tts


def load_prompts(path: Path | None) -> tuple[tuple[str, ...], str]:
    """The prompts in ``path`` (or the built-in set) and a name for the report."""
    source = path or BUILTIN_PROMPTS
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the prompt file {source}: {exc}") from None
    prompts = read_prompts(text)
    if not prompts:
        raise UsageError(f"the prompt file {source} has no prompts")
    return prompts, ("builtin" if path is None else str(path))


@contextmanager
def service_port(options: ServiceOptions) -> Iterator[int]:
    """The port of the service to load: the given one, or a local process started for it."""
    if options.port is not None:
        yield options.port
        return
    env = {
        "VIBEVOICE_TTS_LOG_REQUESTS": "0",
        "VIBEVOICE_TTS_MAX_CONCURRENCY": str(options.max_concurrency),
    }
    with running_tts_service(
        options.engine,
        env=env,
        ready_timeout=options.ready_timeout,
        log_path=options.log_path,
        command=options.command,
    ) as service:
        yield service.port


def measure(
    config: PipelineConfig,
    plan: LoadPlan,
    options: ServiceOptions,
    *,
    prompt_source: str,
    capacity_max: int = 0,
    target: AbstractContextManager[int] | None = None,
    target_description: ServiceUnderLoad | None = None,
) -> MetricsDocument:
    """Run ``plan`` (and the capacity steps when ``capacity_max`` > 0); the metrics document.

    ``target`` yields the port of the service to load (e.g. a container of a built image);
    by default it is ``service_port(options)``. ``target_description`` goes into the
    document's ``run.service`` (default: the local process or the given port)."""
    with target if target is not None else service_port(options) as port:
        label = f"{options.engine} {plan.endpoint} {plan.mode} x{plan.concurrency}"
        run = run_load(port, plan, progress=Progress(label, plan.requests))
        levels: list[Level] = []
        engine: EngineLimit | Unmeasured = Unmeasured("no capacity steps")
        if capacity_max:
            before = scrape(port)
            levels = measure_capacity(
                port, plan, max_level=capacity_max, ttfa_slo_ms=config.perf.ttfa_slo_ms
            )
            engine = engine_limit(before, scrape(port))
    machine = machine_details()
    if levels and isinstance(engine, Unmeasured):
        print(f"[perf] engine limit not measured: {engine.reason}", file=sys.stderr)
    if target_description is None:
        target_description = ServiceUnderLoad(
            kind="local process" if options.port is None else "given port", image=None
        )
    return build_document(
        run,
        engine=options.engine,
        git_sha=git.head_sha(config.root),
        workflow_run_id=config.env.github_run_id,
        prompt_source=prompt_source,
        machine=machine,
        service=target_description,
        realtime=(
            capacity_report(
                levels,
                machine.cores,
                config.perf.ttfa_slo_ms,
                engine if isinstance(engine, EngineLimit) else None,
            )
            if levels
            else None
        ),
    )


def render_line(document: MetricsDocument) -> str:
    """One line a person reads after a run of the load test (which writes every extension)."""
    metrics = document.metrics
    ttfa, e2e = metrics.ttfa_ms, metrics.e2e_latency_ms
    line = (
        f"TTFA p50 {ttfa.p50:.2f} ms p95 {ttfa.p95:.2f} ms | e2e p50 {e2e.p50:.1f} ms "
        f"p95 {e2e.p95:.1f} ms | {metrics.throughput_rps:.2f} req/s, "
        f"{metrics.audio_seconds_per_second or 0.0:.2f} audio s/s | errors "
        f"{metrics.error_rate:.2%}, shed {metrics.rejected_rate or 0.0:.2%} of "
        f"{metrics.total_requests}"
    )
    realtime = document.realtime
    if realtime:
        objective = (
            "" if realtime.ttfa_slo_ms is None else f" (TTFA p95 <= {realtime.ttfa_slo_ms:g} ms)"
        )
        repeats = sum(1 for level in realtime.levels if (level.attempt or 1) > 1)
        line += (
            f"\nrealtime capacity{objective}: {realtime.capacity_streams} streams "
            f"({realtime.capacity_per_core} per core), TTFA p95 there "
            f"{realtime.ttfa_p95_ms_at_capacity} ms; {repeats} level(s) repeated"
        )
        if realtime.engine_limit_streams is None:
            line += (
                "\nengine limit: not measured (no tts_engine_cpu_seconds_total or no audio "
                "in the service's /metrics over the steps)"
            )
        else:
            line += (
                f"\nengine limit: {realtime.engine_limit_streams:g} streams (engine RTF "
                f"{realtime.engine_rtf:g} on the machine's cores); capacity is "
                f"{realtime.capacity_ratio:.1%} of it"
            )
    return line


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number above 0, got {text}")
    return value


def parser(config: PipelineConfig) -> argparse.ArgumentParser:
    perf = config.perf
    cli = _Parser(prog="load_test_tts", description=__doc__.split("\n\n")[0] if __doc__ else "")
    cli.add_argument("--engine", default=perf.engine, help=f"default {perf.engine}")
    cli.add_argument("--endpoint", choices=sorted(CLIENTS), default="http")
    cli.add_argument("--concurrency", type=_positive_int, default=perf.concurrency)
    cli.add_argument("--rate", type=_positive_float, help="open loop: arrivals per second")
    cli.add_argument("--requests", type=_positive_int, help=f"default {perf.requests}")
    cli.add_argument("--duration", type=_positive_float, help="seconds of measured load")
    cli.add_argument("--warmup", type=_non_negative_int, default=perf.warmup)
    cli.add_argument("--prompts", type=Path, help="one prompt per line (default: built-in set)")
    cli.add_argument("--max-seconds", type=_positive_float, default=600.0)
    cli.add_argument("--timeout", type=_positive_float, default=30.0, help="per request")
    cli.add_argument("--seed", type=int, default=0, help="open-loop schedule seed")
    cli.add_argument("--port", type=_positive_int, help="load a service already on 127.0.0.1")
    cli.add_argument("--max-concurrency", type=_positive_int, default=perf.max_concurrency)
    cli.add_argument(
        "--capacity",
        type=_non_negative_int,
        default=0,
        metavar="N",
        help="also step the concurrency 1..N to find the realtime capacity",
    )
    cli.add_argument("--json-out", type=Path, help="write the metrics JSON here")
    return cli


def main(argv: Sequence[str] | None, environ: Mapping[str, str]) -> int:
    try:
        config = with_environment(load_config(), environ)
        args = parser(config).parse_args(argv)
        requests = args.requests
        if requests is None and args.duration is None:
            requests = config.perf.requests
        prompts, source = load_prompts(args.prompts)
        plan = LoadPlan(
            endpoint=args.endpoint,
            prompts=prompts,
            concurrency=args.concurrency,
            rate=args.rate,
            requests=requests,
            duration=args.duration,
            warmup=args.warmup,
            max_seconds=args.max_seconds,
            timeout=args.timeout,
            seed=args.seed,
        )
        options = ServiceOptions(args.engine, max(args.max_concurrency, args.capacity), args.port)
        document = measure(config, plan, options, prompt_source=source, capacity_max=args.capacity)
    except PipelineError as exc:
        print(f"load_test_tts: error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(render_line(document))
    if args.json_out is not None:
        write_report(args.json_out, document)
        print(f"[perf] wrote {args.json_out}", file=sys.stderr)
    return 0
