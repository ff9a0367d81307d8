"""The ``smoke`` session: bring the stack up, run the smoke checks, keep logs, always tear down.

Modes, and the one rule for a container that was not tested (docs/ci-cd.md, "Smoke modes"):
- ``docker``: build the images, ``docker compose up --wait``, check the published ports. No
  Docker engine is a one-line error, exit 3.
- ``local``: check the service started as a local process on 127.0.0.1, as asked; the
  container is ``unknown``, and so is the verdict (never a pass): under CI it fails, as any
  unknown does (``core.outcome.exit_code``). It builds nothing and pulls nothing, so
  ``--release``/``--image-digest`` with it are a usage error.
- ``auto`` (default): ``docker`` where an engine answers. Where none does, under CI (``$CI``
  set) it is the same error as ``docker``: a CI job must never turn a broken Docker into a
  green smoke test. Elsewhere it falls back to ``local``, says so loudly, and the report's
  verdict is ``unknown`` (the container was not tested); the exit code follows the one rule.

Every configured service is checked (``run_service_checks``, which ``scripts/smoke_test.py``
calls too): the tts checks and the speech check on both endpoints (``checks``) and,
when the agent is configured, one full agent turn through the local responder, its reply's
audio heard against its text (``agent_checks``), with a bearer token made for the run.

On every path (a failed build, a stack that never gets healthy, a missing port, a failed
teardown) ``smoke.json`` and ``summary.md`` are written before the session exits, and a stack
that was started is torn down with ``compose down`` whatever happened before it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from vibevoice_ci.build import native as build
from vibevoice_ci.core.config import PipelineConfig, SpeechCheckConfig
from vibevoice_ci.core.environment import SMOKE_MODES
from vibevoice_ci.core.errors import (
    CheckFailedError,
    PipelineError,
    ToolFailedError,
    ToolMissingError,
    UsageError,
)
from vibevoice_ci.core.files import write_json_atomic, write_text_atomic
from vibevoice_ci.core.outcome import (
    Outcome,
    Status,
    overall,
    publish_summary,
    render_summary,
    unknown_fails,
    unknown_warning,
    verdict_error,
)
from vibevoice_ci.core.progress import progress
from vibevoice_ci.core.reports import Check, write_report
from vibevoice_ci.core.retry import RetryLog, with_retries
from vibevoice_ci.smoke.agent_checks import ReplySpeechCheck, run_agent_checks
from vibevoice_ci.smoke.checks import (
    ServiceUnreachableError,
    SpeechCheck,
    run_checks,
    run_speech_checks,
)
from vibevoice_ci.smoke.local_service import (
    free_port,
    running_agent_service,
    running_tts_service,
)
from vibevoice_ci.smoke.reports import RunMode, SmokeReport
from vibevoice_ci.tools import compose, docker

MODES = SMOKE_MODES
SERVICE = "tts"
AGENT = "agent"
UP_WAIT_SECONDS = 180


@dataclass(frozen=True)
class ModeChoice:
    """The mode a smoke run uses, why, and whether it can test the container at all."""

    mode: Literal["docker", "local"]
    note: str
    # True when ``auto`` fell back to a local process: the container is untested.
    fell_back: bool = False


@dataclass(frozen=True)
class SmokeRun:
    """What one smoke run did and found: the content of ``smoke.json``."""

    requested: str
    mode: RunMode
    target: str
    checks: Sequence[Outcome]
    notes: Sequence[str]
    container: Status
    fell_back: bool = False
    # Service -> the image reference that ran (``repository@digest`` when pinned).
    images: Mapping[str, str] = field(default_factory=dict)
    # What the speech check heard on each endpoint, the agent's reply included (its verdicts
    # are among ``checks``).
    speech: Sequence[SpeechCheck | ReplySpeechCheck] = ()

    @property
    def status(self) -> Status:
        """Every check's verdict, and for a run without a container (a local process, asked
        for or fallen back to) the untested container too: unknown, never a pass."""
        untested = self.fell_back or self.mode == "local"
        extra = [Outcome("container", Status.UNKNOWN, "not tested")] if untested else []
        return overall([*self.checks, *extra])

    def report(self) -> SmokeReport:
        """The content of ``smoke.json``."""
        return SmokeReport(
            status=self.status,
            mode_requested=self.requested,
            mode=self.mode,
            target=self.target,
            container=self.container,
            checks=[Check.of(check) for check in self.checks],
            notes=list(self.notes),
            images=dict(self.images),
            speech=[check.report() for check in self.speech],
        )


def choose_mode(
    requested: str, *, ci: bool, engine_available: bool, engine_reason: str
) -> ModeChoice:
    """The mode to run and a note explaining the choice (pure; the rule in the module doc)."""
    if requested not in MODES:
        raise UsageError(f"unknown smoke mode {requested!r} (choose from {', '.join(MODES)})")
    if requested == "local":
        return ModeChoice("local", "mode local requested: the container is not tested")
    if engine_available:
        return ModeChoice("docker", "Docker engine reachable: checking the real container")
    if requested == "docker":
        raise ToolMissingError(f"smoke --mode docker needs a Docker engine: {engine_reason}")
    if ci:
        raise ToolMissingError(
            f"smoke under CI ($CI is set) needs a Docker engine and never falls back to a local "
            f"process: {engine_reason}"
        )
    return ModeChoice(
        "local",
        f"NO DOCKER ENGINE ({engine_reason}): checked the service as a local process "
        "instead; the container itself was NOT tested",
        fell_back=True,
    )


def exit_error(run: SmokeRun, *, strict: bool, logs_dir: Path) -> PipelineError | None:
    """The error the session ends with, or None for exit 0 (pure).

    A failed check fails. An undecided verdict fails when ``strict`` (CI), and is otherwise
    the loud-but-allowed local fallback.
    """
    status = run.status
    if status is Status.FAIL:
        failed = ", ".join(check.name for check in run.checks if check.status is Status.FAIL)
        return CheckFailedError(f"smoke checks failed ({failed}); logs in {logs_dir}")
    return verdict_error(
        "smoke", status, ci=strict, strict=strict, detail="the container was not tested"
    )


def run_smoke(
    config: PipelineConfig,
    *,
    mode: str | None = None,
    engine: str = "piper",
    images: Mapping[str, str] | None = None,
    strict: bool | None = None,
) -> SmokeRun:
    """Run the smoke session; ``mode`` defaults to ``$VIBEVOICE_SMOKE_MODE`` (else ``auto``);
    ``strict`` is ``--strict``/``--no-strict`` (None: the one rule, strict under CI).

    ``images`` (service -> ``repository@digest``) pins pushed images: they are pulled and run
    as they are, nothing is built (the release flow: smoke the exact digest, then promote).

    Raises the error the session exits with (after writing the report), else returns the run.
    """
    requested = mode or config.env.smoke_mode
    if requested == "local" and images:
        raise UsageError(
            "smoke --mode local runs a local process: --release/--image-digest pin images it "
            "would never run (use --mode docker)"
        )
    report_dir = config.report_dir("smoke")
    logs_dir = report_dir / "logs"
    logs_dir.mkdir(parents=True, exist_ok=True)
    recorder = _Recorder(requested, pinned=dict(images or {}))
    error: PipelineError | None = None
    try:
        status = docker.engine_status()
        choice = choose_mode(
            requested,
            ci=config.env.ci,
            engine_available=status.available,
            engine_reason=status.reason,
        )
        recorder.chose(choice)
        progress(choice.note)
        context = _docker_stack if choice.mode == "docker" else _local_process
        token = secrets.token_urlsafe(24)
        with context(config, engine, logs_dir, recorder, token) as targets:
            recorder.target = targets[SERVICE]
            for name, url in targets.items():
                progress(f"running the {name} smoke checks against {url}")
                checked = service_checks(name, url, token, config.speech, engine)
                recorder.checks += checked.outcomes
                recorder.speech += checked.speech
    except (UsageError, ToolMissingError) as exc:
        # Bad usage and a missing tool keep their own exit codes (2 and 3).
        recorder.notes.append(f"error: {exc}")
        error = exc
    except PipelineError as exc:
        # A failed build, a stack that never got healthy, a port not published: the stack
        # did not start (or broke while checked), which is a failed check.
        recorder.checks.insert(
            0, Outcome.of("start" if not recorder.target else "run", False, str(exc))
        )
    finally:
        # Written on every path, an unexpected exception included, before it propagates.
        run = recorder.run()
        for check in run.checks:
            print(check.line(), flush=True)
        _write_report(report_dir, run)
    strict_unknown = unknown_fails(ci=config.env.ci, strict=strict)
    error = error or exit_error(run, strict=strict_unknown, logs_dir=logs_dir)
    warning = unknown_warning("smoke", run.status) if error is None else None
    if warning is not None:
        progress(f"{warning}: the container was not tested")
    if error is not None:
        raise error
    return run


@dataclass(frozen=True)
class ServiceChecks:
    """One service's smoke checks: the verdicts, and what its speech checks heard."""

    outcomes: list[Outcome]
    speech: list[SpeechCheck | ReplySpeechCheck] = field(default_factory=list)


def service_checks(
    name: str, url: str, token: str | None, speech: SpeechCheckConfig, engine: str
) -> ServiceChecks:
    """:func:`run_service_checks`, with a service that never answered as a failed check."""
    try:
        return run_service_checks(name, url, token=token, speech=speech, engine=engine)
    except ServiceUnreachableError as exc:
        reachable = "reachable" if name == SERVICE else f"{name} reachable"
        return ServiceChecks([Outcome.of(reachable, False, str(exc))])


def run_service_checks(
    name: str,
    url: str,
    *,
    token: str | None,
    speech: SpeechCheckConfig,
    engine: str,
    wait_seconds: float = 60.0,
) -> ServiceChecks:
    """The smoke checks of one service, its speech checks included: what ``nox -s smoke``
    and ``scripts/smoke_test.py`` both run. A service without checks is an unknown outcome.
    Raises ServiceUnreachableError when the service does not answer within ``wait_seconds``.

    ``engine`` is the tts engine speaking (the agent does not say which one it uses).
    """
    if name == SERVICE:
        outcomes = run_checks(url, wait_seconds=wait_seconds)
        progress("speech check: synthesize, transcribe, score word recall")
        heard = run_speech_checks(url, speech)
        return ServiceChecks([*outcomes, *(check.outcome for check in heard)], [*heard])
    if name == AGENT:
        agent = run_agent_checks(url, speech, engine=engine, token=token, wait_seconds=wait_seconds)
        return ServiceChecks(agent.outcomes, [agent.speech] if agent.speech else [])
    return ServiceChecks(
        [Outcome(f"{name} checks", Status.UNKNOWN, f"no smoke checks are defined for {name}")]
    )


def agent_environment(token: str) -> dict[str, str]:
    """What the agent needs in a smoke run: the run's token, and the local responder even
    where ``ANTHROPIC_API_KEY`` is set (a smoke test never reaches the real API)."""
    return {
        "VIBEVOICE_AGENT_TOKENS_ENV": "VIBEVOICE_AGENT_TOKENS",
        "VIBEVOICE_AGENT_TOKENS": token,
        "ANTHROPIC_API_KEY": "",
    }


@dataclass
class _Recorder:
    """What the run has found so far, so the report can be written from wherever it stops."""

    requested: str
    mode: RunMode = ""
    target: str = ""
    fell_back: bool = False
    checks: list[Outcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    pinned: dict[str, str] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)
    speech: list[SpeechCheck | ReplySpeechCheck] = field(default_factory=list)

    def chose(self, choice: ModeChoice) -> None:
        self.mode = choice.mode
        self.fell_back = choice.fell_back
        self.notes.append(choice.note)

    def run(self) -> SmokeRun:
        # The container's verdict is the checks' when they ran against it, else undecided.
        container = overall(self.checks) if self.mode == "docker" else Status.UNKNOWN
        return SmokeRun(
            requested=self.requested,
            mode=self.mode,
            target=self.target,
            checks=list(self.checks),
            notes=list(self.notes),
            container=container,
            fell_back=self.fell_back,
            images=dict(self.images),
            speech=list(self.speech),
        )


@contextmanager
def _docker_stack(
    config: PipelineConfig, engine: str, logs_dir: Path, recorder: _Recorder, token: str
) -> Iterator[Mapping[str, str]]:
    """Build, compose up and yield each service's published URL; always collect logs, then
    tear down."""
    compose.version()
    names = [SERVICE, *(name for name in config.services if name != SERVICE)]
    references = _service_images(config, names, recorder, logs_dir)
    env = {"VIBEVOICE_TTS_ENGINE": engine}
    for name in names:
        prefix = f"VIBEVOICE_{name.upper()}"
        env[f"{prefix}_IMAGE"] = references[name]
        # A port the kernel picks, not the configured host_port (what `docker compose up`
        # publishes by hand): a stack already up, another smoke run or a parallel test
        # never collides with this one. The checks read the published address back.
        env[f"{prefix}_HOST_PORT"] = str(free_port())
    if AGENT in config.services:
        env.update(agent_environment(token))
    stack = compose.Stack(file=config.compose_file, project=config.compose_project, env=env)
    try:
        shown = ", ".join(references[name] for name in names)
        progress(f"docker compose up --wait ({shown}, engine {engine})")
        try:
            compose.up(stack, wait_timeout=UP_WAIT_SECONDS)
        except ToolFailedError:
            raise CheckFailedError(
                f"the stack did not become healthy within {UP_WAIT_SECONDS} s "
                f"(container logs: {logs_dir / 'compose.log'})"
            ) from None
        targets = {}
        for name in names:
            port = config.service(name).container_port
            address = compose.published_address(stack, name, port)
            if not address.startswith("127.0.0.1:"):
                raise CheckFailedError(f"{name} is published on {address}, not on 127.0.0.1")
            targets[name] = f"http://{address}"
        yield targets
    finally:
        try:
            recorder.notes.extend(collect_logs(stack, logs_dir))
        finally:
            progress("docker compose down")
            recorder.checks.append(tear_down(stack))


def _service_images(
    config: PipelineConfig, names: Sequence[str], recorder: _Recorder, logs_dir: Path
) -> dict[str, str]:
    """The image each service runs: a pinned ``repository@digest`` pulled as it is (the
    release flow: smoke exactly what was pushed), else one built now."""
    references: dict[str, str] = {}
    for name in names:
        if name in recorder.pinned:
            retries = RetryLog()
            references[name] = pull_pinned(recorder.pinned[name], retries)
            recorder.notes.append(
                f"image {references[name]} (pulled, not rebuilt; "
                f"{len(retries.retries)} pull retries)"
            )
    to_build = [name for name in names if name not in recorder.pinned]
    if to_build:
        built = build.build_images(config, services=to_build, report_dir=logs_dir.parent / "build")
        for name, image in zip(to_build, built, strict=True):
            references[name] = image.reference
            recorder.notes.append(f"image {image.reference} ({image.image_id[:19]})")
    recorder.images.update(references)
    return references


def pull_pinned(reference: str, retries: RetryLog) -> str:
    """``docker pull`` a pinned ``repository@digest`` (retried on transient errors, each retry
    recorded in ``retries``)."""
    progress(f"pulling {reference}")

    def attempt() -> str:
        result = docker.pull(reference)
        if not result.ok:
            raise ToolFailedError(f"docker pull {reference}: {result.stderr.strip()}")
        return reference

    return with_retries(f"pull {reference}", attempt, log=retries)


def collect_logs(stack: compose.Stack, logs_dir: Path) -> list[str]:
    """Keep the containers' logs and states; return notes on what could not be kept.

    Never raises for a failure of its own (a killed ``compose logs``, a full disk): that must
    not hide the real failure, nor stop the teardown that follows.
    """
    problems: list[str] = []
    try:
        logs = compose.logs(stack)
        write_text_atomic(logs_dir / "compose.log", logs.text)
        if not logs.complete:
            problems.append(f"container logs may be incomplete: {logs.problem}")
    except (PipelineError, OSError) as exc:
        problems.append(f"could not keep the container logs: {exc}")
    try:
        try:
            states: object = [asdict(state) for state in compose.ps(stack)]
        except PipelineError as exc:
            states = {"error": str(exc)}
            problems.append(f"could not list the containers: {exc}")
        write_json_atomic(logs_dir / "compose-ps.json", states)
    except OSError as exc:
        problems.append(f"could not keep the container states: {exc}")
    return problems


def tear_down(stack: compose.Stack) -> Outcome:
    """``compose down`` as a check of its own: a stack left running is reported, not hidden."""
    try:
        result = compose.down(stack)
    except PipelineError as exc:
        return Outcome.of("teardown", False, f"docker compose down failed: {exc}")
    if not result.ok:
        tail = (result.stderr.strip().splitlines() or [f"exit {result.returncode}"])[-1]
        return Outcome.of(
            "teardown",
            False,
            f"docker compose down exited {result.returncode} ({tail}); containers of project "
            f"{stack.project!r} may still run: docker compose -p {stack.project} down",
        )
    return Outcome.of("teardown", True, f"project {stack.project!r} removed")


@contextmanager
def _local_process(
    config: PipelineConfig, engine: str, logs_dir: Path, recorder: _Recorder, token: str
) -> Iterator[Mapping[str, str]]:
    with ExitStack() as stack:
        tts = stack.enter_context(running_tts_service(engine, log_path=logs_dir / "tts-local.log"))
        recorder.notes.append(f"local process, engine {engine}")
        targets = {SERVICE: tts.url}
        if AGENT in config.services:
            agent = stack.enter_context(
                running_agent_service(
                    tts.url,
                    env=agent_environment(token),
                    log_path=logs_dir / "agent-local.log",
                )
            )
            recorder.notes.append("local agent process, local responder")
            targets[AGENT] = agent.url
        yield targets


def _write_report(report_dir: Path, run: SmokeRun) -> None:
    write_report(report_dir / "smoke.json", run.report())
    outcomes = list(run.checks)
    if run.fell_back:
        outcomes.append(Outcome("container", Status.UNKNOWN, run.notes[0]))
    title = f"smoke ({run.mode or 'not started'})"
    publish_summary(report_dir, render_summary(title, outcomes, run.notes))
