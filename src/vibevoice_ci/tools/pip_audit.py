"""pip-audit: known vulnerabilities of the packages pinned in a hashed requirements file.

Run with ``--disable-pip --require-hashes``: pip-audit reads the exact pins from the file and
resolves nothing, so no package is downloaded or installed. ``--format json`` gives, per
dependency, either its version and the advisories that affect it, or a ``skip_reason`` when it
could not be checked.

What its exit code does not say: offline, the PyPI service answers 404 for every package, so
pip-audit skips them all, prints "No known vulnerabilities found" and exits 0; the OSV service
unreachable is a traceback and exit 1 with no output at all. Exit 1 is also what a run with
findings gives (with its JSON written). :func:`parse_output` and the caller tell these apart;
nothing here trusts the exit code or the summary line alone.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vibevoice_ci.tools._exec import ToolResult, find_tool, run_tool
from vibevoice_ci.tools._output import read_version

INSTALL_HINT = (
    "install pip-audit with: uv sync --extra audit (or python -m pip install pip-audit==2.10.1)"
)
SUPPORTED_VERSION = "2.10.1"
SERVICES = ("osv", "pypi")
_VERSION_RE = re.compile(r"pip-audit\s+(\d+\.\d+\.\d+\S*)")


class MalformedOutputError(ValueError):
    """pip-audit's JSON is not what pip-audit 2.x writes (one line, for the caller's error)."""


@dataclass(frozen=True)
class Advisory:
    """One advisory pip-audit reported for a dependency (no severity: pip-audit has none)."""

    id: str
    fix_versions: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class AuditedDependency:
    """A dependency pip-audit checked: its version and the advisories affecting it."""

    name: str
    version: str
    advisories: tuple[Advisory, ...] = ()


@dataclass(frozen=True)
class SkippedDependency:
    """A dependency pip-audit could not check, and its reason (offline: every one of them)."""

    name: str
    reason: str


@dataclass(frozen=True)
class AuditOutput:
    """pip-audit's JSON output, parsed."""

    audited: tuple[AuditedDependency, ...]
    skipped: tuple[SkippedDependency, ...]


def pip_audit() -> str:
    return find_tool("pip-audit", INSTALL_HINT, env_override="VIBEVOICE_PIP_AUDIT")


def query_url(osv_url: str) -> str:
    """The OSV query endpoint pip-audit posts to, under the OSV API root ``osv_url``."""
    return f"{osv_url.rstrip('/')}/v1/query"


def audit_argv(
    binary: str,
    requirements: Path,
    *,
    output: Path,
    service: str,
    osv_url: str,
    timeout: int,
    cache_dir: Path | None = None,
) -> list[str]:
    """The pip-audit command line for one hashed requirements file (pure)."""
    if service not in SERVICES:
        raise ValueError(f"unknown pip-audit service {service!r}")
    argv = [
        binary,
        "--requirement",
        str(requirements),
        "--disable-pip",
        "--require-hashes",
        "--format",
        "json",
        "--output",
        str(output),
        "--progress-spinner",
        "off",
        "--desc",
        "on",
        "--aliases",
        "on",
        "--timeout",
        str(timeout),
        "--vulnerability-service",
        service,
    ]
    if service == "osv":
        argv += ["--osv-url", query_url(osv_url)]
    if cache_dir is not None:
        argv += ["--cache-dir", str(cache_dir)]
    return argv


def parse_version(text: str) -> str:
    """``pip-audit 2.10.1`` -> ``2.10.1`` (pure)."""
    return read_version(_VERSION_RE, text, "pip-audit --version")


def version(binary: str) -> str:
    return parse_version(run_tool([binary, "--version"], timeout=60).stdout)


def parse_output(text: str) -> AuditOutput:
    """pip-audit's ``--format json`` document -> :class:`AuditOutput` (pure).

    Anything that is not that document (not JSON, no ``dependencies`` list, an entry with
    neither a version nor a skip reason) is a :class:`MalformedOutputError`.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedOutputError(f"not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(document, dict) or not isinstance(document.get("dependencies"), list):
        raise MalformedOutputError("no 'dependencies' list")
    audited: list[AuditedDependency] = []
    skipped: list[SkippedDependency] = []
    for number, entry in enumerate(document["dependencies"], 1):
        where = f"dependency #{number}"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise MalformedOutputError(f"{where} has no name")
        name = entry["name"]
        if "skip_reason" in entry:
            skipped.append(
                SkippedDependency(name, _text(entry, "skip_reason", f"{where} ({name})"))
            )
            continue
        if not isinstance(entry.get("version"), str) or not isinstance(entry.get("vulns"), list):
            raise MalformedOutputError(
                f"{where} ({name}) has neither a version and vulns list nor a skip_reason"
            )
        advisories = tuple(_advisory(v, f"{where} ({name})") for v in entry["vulns"])
        audited.append(AuditedDependency(name, entry["version"], advisories))
    return AuditOutput(tuple(audited), tuple(skipped))


def _advisory(entry: Any, where: str) -> Advisory:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not entry["id"]:
        raise MalformedOutputError(f"{where}: a vulnerability without an id")
    fixes = entry.get("fix_versions", [])
    aliases = entry.get("aliases", [])
    if not _strings(fixes) or not _strings(aliases):
        raise MalformedOutputError(f"{where}: {entry['id']} fix_versions/aliases are not strings")
    description = entry.get("description") or ""
    return Advisory(entry["id"], tuple(fixes), tuple(aliases), str(description))


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _text(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str):
        raise MalformedOutputError(f"{where}: {key} is not text")
    return value


def run_audit(argv: list[str], *, cwd: Path, timeout: float) -> ToolResult:
    """Run pip-audit; any exit is returned (the caller reads the output file to judge it)."""
    return run_tool(argv, cwd=cwd, check=False, timeout=timeout)
