"""Helm 3: lint, template, install, upgrade, rollback, test and uninstall a chart.

Argument builders and the lint parser are pure; the runs go through ``_exec.run_tool``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from vibevoice_ci.core.errors import ToolFailedError, ToolMissingError
from vibevoice_ci.tools._exec import ToolResult, find_tool, run_tool

INSTALL_HINT = (
    "helm 3 is built from the Go module proxy by scripts/ci/install-kubernetes.sh "
    "(or point $VIBEVOICE_HELM at a helm binary)"
)

_LINT_LINE = re.compile(r"^\[(ERROR|WARNING|INFO)\]\s*(.*)$")
_VERSION = re.compile(r"v(\d+\.\d+(?:\.\d+)?)")


@dataclass(frozen=True)
class Release:
    """Where a release lives: its name, namespace and the cluster's kubeconfig."""

    name: str
    namespace: str
    kubeconfig: Path


@dataclass(frozen=True)
class LintMessage:
    severity: str  # ERROR, WARNING or INFO
    text: str


def helm() -> str:
    return find_tool("helm", INSTALL_HINT, env_override="VIBEVOICE_HELM")


def version() -> str:
    """The installed helm's version (``3.22.0``); helm 2 or no answer is ``ToolMissingError``."""
    result = run_tool([helm(), "version", "--short"], check=False, timeout=30)
    found = parse_version(result.stdout)
    if not result.ok or found is None or not found.startswith("3."):
        raise ToolMissingError(f"helm 3 not available ({result.stdout.strip()!r}): {INSTALL_HINT}")
    return found


def parse_version(output: str) -> str | None:
    """``v3.22.0+g1234`` -> ``3.22.0``; a `go install` build says only ``v3.22`` (pure)."""
    match = _VERSION.search(output)
    return match.group(1) if match else None


def lint_argv(
    binary: str, chart: Path, *, values: Sequence[Path] = (), kube_version: str | None = None
) -> list[str]:
    """``helm lint --strict`` with the given values files (pure)."""
    argv = [binary, "lint", str(chart), "--strict"]
    for path in values:
        argv += ["--values", str(path)]
    if kube_version:
        argv += ["--kube-version", kube_version]
    return argv


def parse_lint(output: str) -> list[LintMessage]:
    """The ``[ERROR]``/``[WARNING]``/``[INFO]`` lines of ``helm lint`` output (pure)."""
    messages = []
    for line in output.splitlines():
        match = _LINT_LINE.match(line.strip())
        if match:
            messages.append(LintMessage(match.group(1), match.group(2)))
    return messages


def lint(
    chart: Path, *, values: Sequence[Path] = (), kube_version: str | None = None
) -> tuple[bool, list[LintMessage], ToolResult]:
    """Run ``helm lint --strict``; (passed, messages, raw result)."""
    result = run_tool(
        lint_argv(helm(), chart, values=values, kube_version=kube_version), check=False, timeout=120
    )
    return result.ok, parse_lint(result.stdout + "\n" + result.stderr), result


def set_args(settings: Mapping[str, str]) -> list[str]:
    """``--set key=value`` pairs, sorted (pure); helm types the values (``3`` is a number)."""
    argv: list[str] = []
    for key, value in sorted(settings.items()):
        argv += ["--set", f"{key}={value}"]
    return argv


def template_argv(
    binary: str,
    release: str,
    chart: Path,
    *,
    namespace: str,
    values: Sequence[Path] = (),
    settings: Mapping[str, str] | None = None,
    kube_version: str | None = None,
) -> list[str]:
    """``helm template`` (test hooks included) with the given values (pure)."""
    argv = [binary, "template", release, str(chart), "--namespace", namespace]
    for path in values:
        argv += ["--values", str(path)]
    argv += set_args(settings or {})
    if kube_version:
        argv += ["--kube-version", kube_version]
    return argv


def template(
    release: str,
    chart: Path,
    *,
    namespace: str,
    values: Sequence[Path] = (),
    settings: Mapping[str, str] | None = None,
    kube_version: str | None = None,
) -> ToolResult:
    """Render the chart; the caller judges the result (a bad value is a failed render)."""
    argv = template_argv(
        helm(),
        release,
        chart,
        namespace=namespace,
        values=values,
        settings=settings,
        kube_version=kube_version,
    )
    return run_tool(argv, check=False, timeout=120)


def _release_flags(release: Release) -> list[str]:
    return ["--namespace", release.namespace, "--kubeconfig", str(release.kubeconfig)]


def upgrade_install_argv(
    binary: str,
    release: Release,
    chart: Path,
    *,
    values: Sequence[Path] = (),
    settings: Mapping[str, str] | None = None,
    timeout_seconds: int,
    install: bool,
) -> list[str]:
    """``helm install`` (install=True) or ``helm upgrade``, both with ``--wait`` (pure)."""
    verb = (
        ["install", release.name, str(chart), "--create-namespace"]
        if install
        else [
            "upgrade",
            release.name,
            str(chart),
        ]
    )
    argv = [binary, *verb, *_release_flags(release)]
    for path in values:
        argv += ["--values", str(path)]
    argv += set_args(settings or {})
    argv += ["--wait", "--timeout", f"{timeout_seconds}s"]
    return argv


def rollback_argv(
    binary: str, release: Release, revision: int, *, timeout_seconds: int
) -> list[str]:
    return [
        binary,
        "rollback",
        release.name,
        str(revision),
        *_release_flags(release),
        "--wait",
        "--timeout",
        f"{timeout_seconds}s",
    ]


def test_argv(binary: str, release: Release, *, timeout_seconds: int) -> list[str]:
    return [
        binary,
        "test",
        release.name,
        *_release_flags(release),
        "--logs",
        "--timeout",
        f"{timeout_seconds}s",
    ]


def uninstall_argv(binary: str, release: Release, *, timeout_seconds: int) -> list[str]:
    return [
        binary,
        "uninstall",
        release.name,
        *_release_flags(release),
        "--wait",
        "--timeout",
        f"{timeout_seconds}s",
    ]


def history_argv(binary: str, release: Release) -> list[str]:
    return [binary, "history", release.name, *_release_flags(release), "--output", "json"]


@dataclass(frozen=True)
class Revision:
    revision: int
    status: str
    description: str


def parse_history(output: str) -> list[Revision]:
    """``helm history -o json`` into revisions, oldest first (pure)."""
    try:
        items = json.loads(output)
        return [
            Revision(int(item["revision"]), str(item["status"]), str(item.get("description", "")))
            for item in items
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise ToolFailedError(f"helm history printed unexpected output: {exc}") from None


def run(argv: Sequence[str], *, timeout: float) -> ToolResult:
    """Run a helm command built above; the caller judges the result."""
    return run_tool(argv, check=False, timeout=timeout)
