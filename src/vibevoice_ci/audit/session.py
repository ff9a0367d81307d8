"""The `audit` session: pip-audit over the locked dependencies of every image, extra and group.

Targets (:func:`lock_targets`): each service image's committed hashed requirements file, every
other extra and every dependency group exported from uv.lock into
``reports/audit/requirements/``, and the CI tools file the workflow jobs install. Each is
audited by pip-audit (:mod:`vibevoice_ci.tools.pip_audit`), its advisories rated from OSV
(:mod:`vibevoice_ci.audit.osv`), and turned into one
:class:`~vibevoice_ci.core.vulnerabilities.VulnerabilityReport`; the shared gate judges them.

What could not be checked is never clean: a dependency pip-audit skipped (offline: all of
them, while it prints "No known vulnerabilities found" and exits 0), a run that crashed or
wrote nothing, or a pinned requirement missing from its output is an ``Unchecked`` entry, and
its report's verdict is unknown. ``strict`` (CI's workflow) fails on unknown.

Writes ``reports/audit/``: ``audit.json`` (every report, the outcomes and the overall
``status``), ``audit.sarif`` (GitHub's Security tab, findings attached to uv.lock) and
``summary.md``.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import sys
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from vibevoice_ci.audit import dependabot
from vibevoice_ci.audit.osv import OsvClient, Rating, rate
from vibevoice_ci.audit.reports import (
    AllowListDocument,
    AuditReport,
    AuditTargetReport,
    FindingCounts,
    RatingDocument,
)
from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.errors import EXIT_OK, CheckFailedError, UsageError
from vibevoice_ci.core.files import write_json_atomic, write_text_atomic
from vibevoice_ci.core.outcome import (
    Outcome,
    Status,
    exit_code,
    overall,
    publish_summary,
    render_summary,
)
from vibevoice_ci.core.progress import progress
from vibevoice_ci.core.reports import write_report
from vibevoice_ci.core.vulnerabilities import (
    GateResult,
    Unchecked,
    Vulnerability,
    VulnerabilityReport,
    gate,
    render_findings_markdown,
    to_sarif,
)
from vibevoice_ci.core.vulnerability_models import OutcomeDocument, report_fields
from vibevoice_ci.lint.ci_tools import REQUIREMENTS_PATH, normalize_name, parse_requirements
from vibevoice_ci.tools import pip_audit, uv
from vibevoice_ci.tools._exec import ToolResult

SESSION = "audit"
SCANNER = "pip-audit"
REPORT_FILE = "audit.json"
SARIF_FILE = "audit.sarif"
# SARIF needs a file to attach a finding to; a package's pin lives in the lock.
SARIF_ARTIFACT = "uv.lock"
# A run longer than this is stuck (a slow service answers each query within `timeout`).
RUN_TIMEOUT = 1800
EXPORT_HEADER = (
    "# Exported from uv.lock by the audit session (nox -s audit) for pip-audit; not committed.\n"
)
_HOST_RE = re.compile(r"host='([^']+)'")
# (what pip-audit's stderr says, what it means), first match wins.
_NETWORK_FAILURES = (
    ("Failed to resolve", "name resolution failed"),
    ("NameResolutionError", "name resolution failed"),
    ("Connection refused", "connection refused"),
    ("ConnectTimeout", "connection timed out"),
    ("Read timed out", "no answer in time"),
    ("ConnectionError", "connection failed"),
    ("Could not connect", "connection failed"),
)
_SKIP_SUFFIX_RE = re.compile(r":\s*\S+\s*\([^)]*\)\s*$")


@dataclass(frozen=True)
class LockTarget:
    """One set of locked dependencies to audit: what it is and its hashed requirements file."""

    name: str  # "tts", "ci", "dev", "ci-tools"
    kind: str  # "image", "extra", "group" or "ci-tools"
    requirements: Path  # relative to the project root, or absolute (under the reports folder)
    exported: bool = False  # written by this session from uv.lock (not committed)

    @property
    def label(self) -> str:
        kind = "" if self.kind == self.name else f"{self.kind} "
        return f"{kind}{self.name} ({self.requirements})"

    def relative_to(self, root: Path) -> LockTarget:
        """The same target with its file named relative to ``root`` where it lies under it."""
        if self.requirements.is_absolute() and self.requirements.is_relative_to(root):
            return dataclasses.replace(self, requirements=self.requirements.relative_to(root))
        return self


@dataclass(frozen=True)
class Pin:
    """One exact pin of a requirements file."""

    name: str  # PEP 503 normalised
    version: str
    markers: str | None


@dataclass(frozen=True)
class TargetResult:
    """A target's report, plus the pins its environment markers left out of the audit."""

    target: LockTarget
    report: VulnerabilityReport
    not_applicable: tuple[str, ...] = ()

    def to_document(self) -> AuditTargetReport:
        return AuditTargetReport.model_validate(
            {
                **report_fields(self.report),
                "name": self.target.name,
                "kind": self.target.kind,
                "requirements": str(self.target.requirements),
                "not_applicable": list(self.not_applicable),
            }
        )


@dataclass(frozen=True)
class AuditRun:
    """What running pip-audit on one target left: its exit, its stderr, its JSON (if any)."""

    returncode: int
    stderr: str
    output: str | None


@dataclass(frozen=True)
class AuditResult:
    """Everything the session decided."""

    targets: tuple[TargetResult, ...]
    gate: GateResult
    outcomes: tuple[Outcome, ...]
    ratings: Mapping[str, Rating] = field(default_factory=dict)

    @property
    def status(self) -> Status:
        return overall(self.outcomes)


# --- targets ---------------------------------------------------------------------------------


def lock_targets(config: PipelineConfig, pyproject: Mapping[str, Any]) -> list[LockTarget]:
    """Every image, extra and dependency group of the project, and the CI tools file (pure).

    An extra that a service image ships is audited through that image's committed file (which
    `lint` keeps equal to uv.lock); every other extra and group is exported by this session.
    """
    targets: list[LockTarget] = []
    shipped: set[str] = set()
    for name, service in sorted(config.services.items()):
        shipped.add(service.extra)
        targets.append(LockTarget(name, "image", service.requirements))
    folder = config.report_dir(SESSION) / "requirements"
    extras = (pyproject.get("project") or {}).get("optional-dependencies") or {}
    for extra in sorted(set(extras) - shipped):
        targets.append(LockTarget(extra, "extra", folder / f"extra-{extra}.txt", exported=True))
    for group in sorted(pyproject.get("dependency-groups") or {}):
        targets.append(LockTarget(group, "group", folder / f"group-{group}.txt", exported=True))
    if (config.root / REQUIREMENTS_PATH).is_file():
        targets.append(LockTarget("ci-tools", "ci-tools", config.root / REQUIREMENTS_PATH))
    return [target.relative_to(config.root) for target in targets]


def select_targets(targets: Sequence[LockTarget], names: Sequence[str]) -> list[LockTarget]:
    """Only the named targets (all when none is named); an unknown name is a usage error."""
    if not names:
        return list(targets)
    known = {target.name: target for target in targets}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise UsageError(f"--target {', '.join(unknown)}: choose from {', '.join(sorted(known))}")
    return [known[name] for name in dict.fromkeys(names)]


def pins(text: str) -> list[Pin]:
    """The exact pins of a hashed requirements file (pure); options and comments dropped."""
    return [
        Pin(normalize_name(line.name), line.version, line.markers)
        for line in parse_requirements(text)
        if line.name is not None and line.version is not None
    ]


# --- judging one target (pure) -----------------------------------------------------------------


def skip_reason(text: str) -> str:
    """pip-audit's skip reason without the package it names, so equal reasons group."""
    return _SKIP_SUFFIX_RE.sub("", text.strip()) or text.strip()


def failure_reason(run: AuditRun) -> str:
    """Why a pip-audit run produced no usable output, in a few words (pure).

    The OSV service unreachable is an uncaught exception in pip-audit: name the host and the
    kind of failure instead of repeating its traceback.
    """
    text = run.stderr
    host = _HOST_RE.search(text)
    where = host.group(1) if host else "the advisory service"
    for needle, what in _NETWORK_FAILURES:
        if needle in text:
            return (
                f"advisory service unreachable ({where}: {what}); pip-audit exited {run.returncode}"
            )
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    meaningful = [line for line in lines if not line.startswith(("WARNING:", "File ", "^"))]
    last = (meaningful or lines or ["no error output"])[-1]
    return f"pip-audit exited {run.returncode} without a report: {last[:200]}"


def parse_run(target: LockTarget, run: AuditRun) -> pip_audit.AuditOutput | None:
    """pip-audit's output for ``target``, or None when the run left none to trust.

    Exit 0 and exit 1 (findings) write the JSON; a crash (the OSV service unreachable is an
    uncaught exception) writes nothing, and whatever a killed run left is ignored. Output of a
    run that finished but that is not pip-audit's JSON is bad input.
    """
    if run.output is None or not run.output.strip() or run.returncode not in (0, 1):
        return None
    try:
        output = pip_audit.parse_output(run.output)
    except pip_audit.MalformedOutputError as exc:
        raise UsageError(f"pip-audit's JSON for {target.label} is malformed: {exc}") from None
    if run.returncode == 1 and not any(dep.advisories for dep in output.audited):
        return None  # exit 1 without a finding: the run failed (stale or partial output)
    return output


def target_report(
    target: LockTarget,
    pinned: Sequence[Pin],
    run: AuditRun,
    output: pip_audit.AuditOutput | None,
    ratings: Mapping[str, Rating],
    *,
    scanner_version: str,
    timestamp: str,
) -> TargetResult:
    """One target's VulnerabilityReport from its pins and what pip-audit said (pure)."""
    if output is None:
        reason = failure_reason(run)
        nothing = tuple(Unchecked(f"{pin.name}=={pin.version}", reason) for pin in pinned)
        report = VulnerabilityReport(
            SCANNER, scanner_version, target.label, timestamp, (), nothing, 0
        )
        return TargetResult(target, report)
    by_name = {pin.name: pin for pin in pinned}
    audited = {normalize_name(dep.name): dep for dep in output.audited}
    skipped = {normalize_name(dep.name): dep for dep in output.skipped}
    unchecked: list[Unchecked] = []
    for name, dep in sorted(skipped.items()):
        version = by_name[name].version if name in by_name else "?"
        unchecked.append(Unchecked(f"{name}=={version}", skip_reason(dep.reason)))
    not_applicable: list[str] = []
    for pin in pinned:
        if pin.name in audited or pin.name in skipped:
            continue
        if pin.markers:
            not_applicable.append(f"{pin.name}=={pin.version} ; {pin.markers}")
        else:
            unchecked.append(
                Unchecked(
                    f"{pin.name}=={pin.version}", "pinned but missing from pip-audit's output"
                )
            )
    # pip-audit can list one advisory twice for a package (after merging aliases): once here.
    unique = {
        (name, advisory.id): (dep, advisory)
        for name, dep in sorted(audited.items())
        for advisory in dep.advisories
    }
    vulnerabilities = [
        Vulnerability(
            id=advisory.id,
            severity=ratings[advisory.id].severity,
            package=name,
            installed_version=dep.version,
            fixed_version=", ".join(advisory.fix_versions),
            description=advisory.description,
            aliases=advisory.aliases,
        )
        for (name, _), (dep, advisory) in unique.items()
    ]
    report = VulnerabilityReport(
        SCANNER,
        scanner_version,
        target.label,
        timestamp,
        tuple(vulnerabilities),
        tuple(unchecked),
        len(audited),
    )
    return TargetResult(target, report, tuple(not_applicable))


def judge(
    targets: Sequence[TargetResult],
    config: PipelineConfig,
    *,
    today: date,
    extra_outcomes: Sequence[Outcome] = (),
    ratings: Mapping[str, Rating] | None = None,
) -> AuditResult:
    """The shared gate over every target's report, plus the session's other checks (pure)."""
    result = gate(
        [t.report for t in targets],
        fail_at=config.audit.fail_at,
        allow_list=config.audit.allow,
        today=today,
    )
    outcomes = (*result.outcomes, *extra_outcomes)
    return AuditResult(tuple(targets), result, outcomes, dict(ratings or {}))


# --- the document, the SARIF log and the summary (pure) ----------------------------------------


def audit_document(
    result: AuditResult, config: PipelineConfig, *, strict: bool, scanner_version: str
) -> AuditReport:
    """``audit.json`` (:class:`~vibevoice_ci.audit.reports.AuditReport`)."""
    return AuditReport.model_validate(
        {
            "session": SESSION,
            "status": result.status.value,
            "strict": strict,
            "scanner": SCANNER,
            "scanner_version": scanner_version,
            "service": config.audit.service,
            "osv_url": config.audit.osv_url,
            "fail_at": config.audit.fail_at.value,
            "checked": sum(t.report.checked for t in result.targets),
            "unchecked": sum(len(t.report.unchecked) for t in result.targets),
            "findings": FindingCounts(
                blocking=len(result.gate.blocking),
                allowed=len(result.gate.allowed),
                listed=len(result.gate.listed),
            ),
            "outcomes": [OutcomeDocument.of(outcome) for outcome in result.outcomes],
            "reports": [target.to_document() for target in result.targets],
            "ratings": {
                advisory: RatingDocument(severity=rating.severity.value, source=rating.source)
                for advisory, rating in sorted(result.ratings.items())
            },
            "allow_list": [
                AllowListDocument(
                    id=entry.id,
                    package=entry.package,
                    reason=entry.reason,
                    expires=entry.expires.isoformat(),
                )
                for entry in config.audit.allow
            ],
        }
    )


def summary_notes(result: AuditResult, config: PipelineConfig, *, strict: bool) -> list[str]:
    """The summary's notes: how much was not checked and why, unrated findings, strictness."""
    notes: list[str] = []
    unchecked = [u for t in result.targets for u in t.report.unchecked]
    total = sum(t.report.checked for t in result.targets) + len(unchecked)
    if unchecked:
        reasons: dict[str, int] = {}
        for entry in unchecked:
            reasons[entry.reason] = reasons.get(entry.reason, 0) + 1
        why = "; ".join(f"{n}: {reason}" for reason, n in sorted(reasons.items()))
        notes.append(
            f"**{len(unchecked)} of {total} pinned dependencies were NOT checked** ({why}). "
            'pip-audit\'s own "No known vulnerabilities found" does not mean clean here: '
            f"the advisory service ({config.audit.service}, {config.audit.osv_url}) must answer "
            "for a dependency to count as checked."
        )
    unrated = {
        advisory: rating
        for advisory, rating in result.ratings.items()
        if rating.severity.value == "UNKNOWN"
    }
    if unrated:
        notes.append(
            f"{len(unrated)} advisory(ies) have no severity (treated as HIGH): "
            + "; ".join(f"{a}: {r.source}" for a, r in sorted(unrated.items()))
        )
    skipped_by_marker = sum(len(t.not_applicable) for t in result.targets)
    if skipped_by_marker:
        notes.append(
            f"{skipped_by_marker} pin(s) not audited because their environment markers exclude "
            "this platform (listed per report in audit.json, `not_applicable`)"
        )
    notes.append(
        f"Gate: {config.audit.fail_at.value} and above fail, lower severities are listed; "
        f"{len(config.audit.allow)} allow-list entr(ies) in [tool.vibevoice-ci.audit]."
    )
    if result.status is Status.UNKNOWN:
        notes.append(
            "Verdict UNKNOWN: "
            + (
                "fails because of --strict."
                if strict
                else "not a pass (run with --strict to fail)."
            )
        )
    return notes


def render_audit_summary(result: AuditResult, config: PipelineConfig, *, strict: bool) -> str:
    text = render_summary(
        "audit (pip-audit)", result.outcomes, summary_notes(result, config, strict=strict)
    )
    findings = render_findings_markdown(result.gate)
    return text + ("\n" + findings if findings else "")


# --- the edges: exporting, running, rating, writing ---------------------------------------------


def export_targets(config: PipelineConfig, targets: Sequence[LockTarget]) -> None:
    """Write the exported targets' requirements files from uv.lock (hashed, frozen)."""
    for target in targets:
        if not target.exported:
            continue
        if target.kind == "extra":
            text = uv.export_requirements(config.root, extra=target.name)
        else:
            text = uv.export_group_requirements(config.root, group=target.name)
        write_text_atomic(config.root / target.requirements, EXPORT_HEADER + text)


def run_pip_audit(config: PipelineConfig, target: LockTarget, binary: str) -> AuditRun:
    """pip-audit on one target's file; its JSON is read from a fresh output file."""
    output = config.report_dir(SESSION) / "pip-audit" / f"{target.kind}-{target.name}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.unlink(missing_ok=True)
    argv = pip_audit.audit_argv(
        binary,
        target.requirements,
        output=output,
        service=config.audit.service,
        osv_url=config.audit.osv_url,
        timeout=config.audit.timeout,
    )
    result: ToolResult = pip_audit.run_audit(argv, cwd=config.root, timeout=RUN_TIMEOUT)
    write_text_atomic(output.with_suffix(".stderr.log"), result.stderr)
    text = output.read_text(encoding="utf-8") if output.is_file() else None
    return AuditRun(result.returncode, result.stderr, text)


def rate_findings(
    outputs: Sequence[pip_audit.AuditOutput | None], client: OsvClient
) -> dict[str, Rating]:
    ratings: dict[str, Rating] = {}
    for output in outputs:
        for dep in output.audited if output else ():
            for advisory in dep.advisories:
                if advisory.id not in ratings:
                    ratings[advisory.id] = rate(advisory.id, advisory.aliases, client.record)
    return ratings


Runner = Callable[[LockTarget], AuditRun]


def run_audit(
    config: PipelineConfig,
    *,
    strict: bool,
    target_names: Sequence[str] = (),
    runner: Runner | None = None,
    today: date | None = None,
    other_checks: Sequence[Outcome] | None = None,
) -> AuditResult:
    """The session: export, audit, rate, judge, write the reports; raise when it fails.

    ``runner`` replaces running the real pip-audit (tests replay recorded runs through it);
    ``other_checks`` replaces the Dependabot check's outcomes (tested on their own).
    """
    pyproject = tomllib.loads((config.root / "pyproject.toml").read_text(encoding="utf-8"))
    targets = select_targets(lock_targets(config, pyproject), target_names)
    scanner_version = "recorded"
    if runner is None:
        binary = pip_audit.pip_audit()
        scanner_version = pip_audit.version(binary)
        runner = functools.partial(run_pip_audit, config, binary=binary)
    export_targets(config, targets)

    timestamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    runs: list[tuple[LockTarget, list[Pin], AuditRun, pip_audit.AuditOutput | None]] = []
    for target in targets:
        progress(f"pip-audit {target.label}")
        pinned = pins((config.root / target.requirements).read_text(encoding="utf-8"))
        run = runner(target)
        runs.append((target, pinned, run, parse_run(target, run)))
    ratings = rate_findings(
        [output for *_, output in runs],
        OsvClient(config.audit.osv_url, timeout=config.audit.timeout),
    )
    results = [
        target_report(
            target,
            pinned,
            run,
            output,
            ratings,
            scanner_version=scanner_version,
            timestamp=timestamp,
        )
        for target, pinned, run, output in runs
    ]
    result = judge(
        results,
        config,
        today=today or datetime.now(UTC).date(),
        extra_outcomes=dependabot.check(config.root) if other_checks is None else other_checks,
        ratings=ratings,
    )
    write_reports(config, result, strict=strict, scanner_version=scanner_version)
    return result


def write_reports(
    config: PipelineConfig, result: AuditResult, *, strict: bool, scanner_version: str
) -> None:
    folder = config.report_dir(SESSION)
    document = audit_document(result, config, strict=strict, scanner_version=scanner_version)
    write_report(folder / REPORT_FILE, document)
    sarif = to_sarif(
        [t.report for t in result.targets],
        min_severity=config.audit.sarif_min,
        artifact_uri=SARIF_ARTIFACT,
    )
    write_json_atomic(folder / SARIF_FILE, sarif)
    publish_summary(folder, render_audit_summary(result, config, strict=strict))
    for outcome in result.outcomes:
        print(outcome.line(), file=sys.stderr)


def verdict(result: AuditResult, *, strict: bool) -> None:
    """Raise when the session fails: any fail, or unknown under ``strict``; warn otherwise."""
    status = result.status
    if status is Status.FAIL:
        failed = [o.name for o in result.outcomes if o.status is Status.FAIL]
        raise CheckFailedError(f"audit failed: {', '.join(failed)} (reports/{SESSION}/summary.md)")
    if status is Status.UNKNOWN:
        unknown = sum(1 for o in result.outcomes if o.status is Status.UNKNOWN)
        message = (
            f"audit verdict UNKNOWN: {unknown} check(s) could not be decided (dependencies not "
            f"checked; see reports/{SESSION}/summary.md)"
        )
        if exit_code(status, ci=strict, strict=strict) != EXIT_OK:
            raise CheckFailedError(message + "; --strict fails on unknown")
        progress(f"WARNING: {message}. This is NOT a pass; --strict would fail.")
