"""zizmor: security audits of the GitHub Actions workflows and the Dependabot config.

Runs offline (``--offline``: the online audits need the GitHub API) with ``--no-exit-codes``,
so a non-zero exit always means zizmor itself failed, and findings come only from its JSON
output (format v1). Findings silenced by a ``# zizmor: ignore[<audit>]`` comment are left out
of that output by zizmor itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vibevoice_ci.core.errors import ToolFailedError
from vibevoice_ci.tools._exec import (
    failure_message,
    find_tool,
    require_version,
    run_tool,
)
from vibevoice_ci.tools._output import json_list, read_version

INSTALL_HINT = "install zizmor with: python -m pip install zizmor==1.32.0"
SUPPORTED_VERSION = "1.32.0"

Persona = Literal["regular", "pedantic", "auditor"]
OutputFormat = Literal["json", "json-v1", "sarif", "plain", "github"]
SEVERITIES = ("unknown", "informational", "low", "medium", "high")

# Without these, zizmor (anyhow) appends a Rust backtrace to every error when the caller's
# environment has RUST_BACKTRACE=1, and the useful line scrolls out of the error message.
_QUIET_ERRORS = {"RUST_BACKTRACE": "0", "RUST_LIB_BACKTRACE": "0"}
_VERSION_RE = re.compile(r"zizmor\s+v?(\d+\.\d+\.\d+\S*)")


@dataclass(frozen=True)
class Location:
    """Where a finding points. ``line`` and ``column`` are 1-based, as editors show them."""

    path: str
    line: int
    column: int
    annotation: str
    primary: bool


@dataclass(frozen=True)
class Finding:
    """One zizmor finding (an audit that fired), with its primary location first."""

    ident: str
    description: str
    url: str
    severity: str
    confidence: str
    persona: str
    locations: tuple[Location, ...]

    @property
    def location(self) -> Location | None:
        """The primary location (the one zizmor underlines), if any."""
        return self.locations[0] if self.locations else None

    def __str__(self) -> str:
        where = self.location
        place = f"{where.path}:{where.line}:{where.column}: " if where else ""
        note = f" ({where.annotation})" if where and where.annotation else ""
        return f"{place}{self.ident} [{self.severity}]: {self.description}{note}"


@dataclass(frozen=True)
class ZizmorResult:
    """What a run found, and zizmor's JSON as it printed it (worth keeping as a report)."""

    findings: tuple[Finding, ...]
    raw_json: str

    @property
    def ok(self) -> bool:
        return not self.findings


def zizmor() -> str:
    """The zizmor binary (``$VIBEVOICE_ZIZMOR`` overrides PATH)."""
    return find_tool("zizmor", INSTALL_HINT, env_override="VIBEVOICE_ZIZMOR")


def argv(
    binary: str,
    inputs: Sequence[str | Path],
    *,
    offline: bool = True,
    persona: Persona = "regular",
    output_format: OutputFormat = "json",
    min_severity: str | None = None,
    config: Path | None = None,
) -> list[str]:
    """The command line for auditing ``inputs`` (files or directories) (pure)."""
    if not inputs:
        raise ValueError("zizmor needs at least one input (a workflow file or directory)")
    if min_severity is not None and min_severity not in SEVERITIES[1:]:
        raise ValueError(f"unknown zizmor severity {min_severity!r}")
    args = [
        binary,
        "--format",
        output_format,
        "--persona",
        persona,
        "--no-exit-codes",
        "--no-progress",
        "--color",
        "never",
    ]
    if offline:
        args.append("--offline")
    if min_severity is not None:
        args += ["--min-severity", min_severity]
    if config is not None:
        args += ["--config", str(config)]
    return [*args, *(str(i) for i in inputs)]


def parse(text: str) -> list[Finding]:
    """Findings from zizmor's ``--format json`` (v1) output (pure).

    Raises ``ToolFailedError`` when the output is not the JSON list zizmor prints, so a
    broken run can never read as "no findings".
    """
    return [_finding(entry) for entry in json_list(text, "zizmor")]


def _finding(entry: object) -> Finding:
    if not isinstance(entry, dict) or not isinstance(entry.get("ident"), str):
        raise ToolFailedError(f"unexpected zizmor finding: {str(entry)[:200]}")
    determinations = _mapping(entry.get("determinations"))
    locations = [_location(raw) for raw in _list(entry.get("locations"))]
    locations.sort(key=lambda loc: not loc.primary)  # stable: primary first, order kept
    return Finding(
        ident=entry["ident"],
        description=str(entry.get("desc", "")),
        url=str(entry.get("url", "")),
        severity=str(determinations.get("severity", "unknown")).lower(),
        confidence=str(determinations.get("confidence", "unknown")).lower(),
        persona=str(determinations.get("persona", "regular")).lower(),
        locations=tuple(locations),
    )


def _location(raw: object) -> Location:
    location = _mapping(raw)
    symbolic = _mapping(location.get("symbolic"))
    concrete = _mapping(_mapping(location.get("concrete")).get("location"))
    start = _mapping(concrete.get("start_point"))
    key = _mapping(symbolic.get("key"))
    local = _mapping(key.get("Local"))
    path = local.get("verbatim_path") or local.get("given_path") or ""
    if not path and key:
        path = str(next(iter(key.values()), ""))  # a remote or stdin input: show what we have
    return Location(
        path=str(path),
        line=_int(start.get("row")) + 1,
        column=_int(start.get("column")) + 1,
        annotation=str(symbolic.get("annotation", "")),
        primary=symbolic.get("kind") == "Primary",
    )


def _mapping(value: object) -> Mapping[str, object]:
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    return {}


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def parse_version(text: str) -> str:
    """The version from ``zizmor --version`` output, e.g. ``1.32.0`` (pure)."""
    return read_version(_VERSION_RE, text, "zizmor --version")


def version(binary: str) -> str:
    return parse_version(run_tool([binary, "--version"], timeout=30).stdout)


def check_version(found: str, expected: str) -> None:
    """Fail with the install hint unless ``found`` is the ``expected`` version."""
    require_version("zizmor", found, expected, f"python -m pip install zizmor=={expected}")


def run(
    inputs: Sequence[str | Path],
    *,
    cwd: Path,
    persona: Persona = "regular",
    offline: bool = True,
    expected_version: str | None = SUPPORTED_VERSION,
    timeout: float = 300,
) -> ZizmorResult:
    """Audit ``inputs`` (relative to ``cwd``) and return the findings.

    zizmor failing (bad input, nothing to audit, a crash) raises ``ToolFailedError``;
    findings are data, not an exception: the caller decides what fails the check.
    """
    binary = zizmor()
    if expected_version is not None:
        check_version(version(binary), expected_version)
    result = run_tool(
        argv(binary, inputs, offline=offline, persona=persona),
        cwd=cwd,
        env=_QUIET_ERRORS,
        check=False,
        timeout=timeout,
    )
    if not result.ok:
        raise ToolFailedError(failure_message(result, tail_lines=8))
    return ZizmorResult(findings=tuple(parse(result.stdout)), raw_json=result.stdout)
