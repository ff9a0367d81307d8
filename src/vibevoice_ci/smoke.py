"""The ``smoke`` session: bring the stack up, run the smoke checks, keep logs, always tear down.

Modes:
- ``docker``: build the images, ``docker compose up --wait``, check the published ports;
- ``local``: start the service as a local process on 127.0.0.1 (no Docker engine needed);
- ``auto`` (default): ``docker`` where an engine answers, else ``local``, saying so loudly.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from vibevoice_ci import build
from vibevoice_ci.config import PipelineConfig
from vibevoice_ci.errors import (
    CheckFailedError,
    PipelineError,
    ToolFailedError,
    ToolMissingError,
    UsageError,
)
from vibevoice_ci.local_service import running_tts_service
from vibevoice_ci.report import (
    Outcome,
    publish_summary,
    render_summary,
    write_json_atomic,
    write_text_atomic,
)
from vibevoice_ci.smoke_checks import CheckResult, ServiceUnreachableError, all_passed, run_checks
from vibevoice_ci.tools import compose, docker
from vibevoice_ci.tools._exec import progress

MODES = ("auto", "docker", "local")
SERVICE = "tts"
UP_WAIT_SECONDS = 180


@dataclass(frozen=True)
class SmokeRun:
    mode: str
    target: str
    results: Sequence[CheckResult]
    notes: Sequence[str]
    # Why the container was not checked, when ``auto`` fell back to a local process.
    container_untested: str | None = None

    @property
    def passed(self) -> bool:
        return all_passed(self.results)


def choose_mode(requested: str, engine_available: bool, engine_reason: str) -> tuple[str, str]:
    """The mode to run and a note explaining the choice (pure)."""
    if requested not in MODES:
        raise UsageError(f"unknown smoke mode {requested!r} (choose from {', '.join(MODES)})")
    if requested == "docker" and not engine_available:
        raise ToolMissingError(f"smoke --mode docker: {engine_reason}")
    if requested == "auto":
        if engine_available:
            return "docker", "Docker engine reachable: checking the real container"
        return "local", (
            f"NO DOCKER ENGINE ({engine_reason}): checked the service as a local process "
            "instead; the container itself was NOT tested"
        )
    return requested, f"mode {requested} requested"


def run_smoke(config: PipelineConfig, *, mode: str = "auto", engine: str = "piper") -> SmokeRun:
    report_dir = config.report_dir("smoke")
    logs_dir = report_dir / "logs"
    logs_dir.mkdir(parents=True, exist_ok=True)
    status = docker.engine_status()
    chosen, note = choose_mode(mode, status.available, status.reason)
    progress(note)
    context = _docker_stack if chosen == "docker" else _local_process
    untested = note if mode == "auto" and chosen == "local" else None
    try:
        with context(config, engine, logs_dir) as (target, notes):
            progress(f"running smoke checks against {target}")
            try:
                results = run_checks(target)
            except ServiceUnreachableError as exc:
                results = [CheckResult("reachable", False, str(exc))]
            run = SmokeRun(chosen, target, results, [note, *notes], untested)
    except CheckFailedError as exc:  # the stack or process never became ready
        run = SmokeRun(chosen, "", [CheckResult("start", False, str(exc))], [note], untested)
    for result in run.results:
        print(result.line(), flush=True)
    _write_report(report_dir, run)
    if not run.passed:
        failed = ", ".join(r.name for r in run.results if not r.passed)
        raise CheckFailedError(f"smoke checks failed ({failed}); logs in {logs_dir}")
    return run


@contextmanager
def _docker_stack(
    config: PipelineConfig, engine: str, logs_dir: Path
) -> Iterator[tuple[str, list[str]]]:
    compose.version()
    images = build.build_images(config, services=[SERVICE], report_dir=logs_dir.parent / "build")
    service = config.service(SERVICE)
    stack = compose.Stack(
        file=config.compose_file,
        project=config.compose_project,
        env={
            "VIBEVOICE_TTS_IMAGE": images[0].reference,
            "VIBEVOICE_TTS_ENGINE": engine,
            "VIBEVOICE_TTS_HOST_PORT": str(service.host_port),
        },
    )
    try:
        progress(f"docker compose up --wait ({images[0].reference}, engine {engine})")
        try:
            compose.up(stack, wait_timeout=UP_WAIT_SECONDS)
        except ToolFailedError:
            raise CheckFailedError(
                f"the stack did not become healthy within {UP_WAIT_SECONDS} s "
                f"(container logs: {logs_dir / 'compose.log'})"
            ) from None
        address = compose.published_address(stack, SERVICE, service.container_port)
        if not address.startswith("127.0.0.1:"):
            raise CheckFailedError(f"{SERVICE} is published on {address}, not on 127.0.0.1")
        yield f"http://{address}", [f"image {images[0].reference} ({images[0].image_id[:19]})"]
    finally:
        _collect_logs(stack, logs_dir)
        progress("docker compose down")
        compose.down(stack)


def _collect_logs(stack: compose.Stack, logs_dir: Path) -> None:
    """Keep the containers' logs and states; never let a failure here hide the real one."""
    write_text_atomic(logs_dir / "compose.log", compose.logs(stack))
    try:
        states = [asdict(state) for state in compose.ps(stack)]
    except PipelineError as exc:
        write_json_atomic(logs_dir / "compose-ps.json", {"error": str(exc)})
    else:
        write_json_atomic(logs_dir / "compose-ps.json", states)


@contextmanager
def _local_process(
    config: PipelineConfig, engine: str, logs_dir: Path
) -> Iterator[tuple[str, list[str]]]:
    del config
    with running_tts_service(engine, log_path=logs_dir / "tts-local.log") as service:
        yield service.url, [f"local process, engine {engine}"]


def _write_report(report_dir: Path, run: SmokeRun) -> None:
    write_json_atomic(
        report_dir / "smoke.json",
        {
            "mode": run.mode,
            "target": run.target,
            "passed": run.passed,
            "checks": [
                {"name": r.name, "passed": r.passed, "detail": r.detail} for r in run.results
            ],
            "notes": list(run.notes),
            "container_tested": run.container_untested is None,
        },
    )
    outcomes = [Outcome(r.name, "pass" if r.passed else "fail", r.detail) for r in run.results]
    if run.container_untested is not None:
        outcomes.append(Outcome("container", "unknown", run.container_untested))
    publish_summary(report_dir, render_summary(f"smoke ({run.mode})", outcomes, run.notes))
