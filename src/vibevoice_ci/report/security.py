"""The scanners' findings (``trivy``, ``audit``), read through the models their writers use.

``trivy.json`` keeps one vulnerability report per image platform under
``images[].vulnerability_report``; ``audit.json`` keeps one per target under ``reports[]``
(both :class:`~vibevoice_ci.core.vulnerability_models.VulnerabilityReportDocument`). The page,
the summary and ``nox -s notify -- security`` count them here, so they count what the
writers write; a document of another shape is a ``UsageError`` naming the file and the
field, never a silent zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from vibevoice_ci.audit.reports import AuditReport
from vibevoice_ci.core.errors import UsageError
from vibevoice_ci.core.reports import validate_report
from vibevoice_ci.core.vulnerability_models import VulnerabilityReportDocument
from vibevoice_ci.report.documents import status_file_name
from vibevoice_ci.report.model import Overview, SessionReport
from vibevoice_ci.trivy.reports import TrivyReport

SCANNERS = ("trivy", "audit")
SEVERITIES = ("critical", "high", "medium", "low")


@dataclass(frozen=True)
class VulnerabilityCounts:
    """Findings by severity (each vulnerability report's ``summary``)."""

    critical: int = 0
    high: int = 0
    medium: int = 0
    low: int = 0

    def __add__(self, other: VulnerabilityCounts) -> VulnerabilityCounts:
        return VulnerabilityCounts(*(getattr(self, s) + getattr(other, s) for s in SEVERITIES))

    def line(self) -> str:
        return ", ".join(f"{getattr(self, s)} {s}" for s in SEVERITIES)


@dataclass(frozen=True)
class Finding:
    """One vulnerability of one scanned target."""

    id: str
    severity: str
    package: str
    installed_version: str = ""
    fixed_version: str = ""
    target: str = ""


@dataclass(frozen=True)
class SecurityFindings:
    """A scanner's counts and findings; ``problems`` says what could not be read."""

    counts: VulnerabilityCounts = field(default_factory=VulnerabilityCounts)
    findings: tuple[Finding, ...] = ()
    problems: tuple[str, ...] = ()

    def critical(self) -> list[Finding]:
        return [f for f in self.findings if f.severity.lower() == "critical"]


def scanner_of(session: SessionReport) -> str | None:
    """``trivy`` or ``audit`` for a scanner's folder (``audit-3.11`` included), else None."""
    scanner = session.name.split("-")[0]
    return scanner if scanner in SCANNERS else None


def findings_of_session(session: SessionReport) -> SecurityFindings | None:
    """The findings of a scanner's folder (None for another session). A status document that
    could not be read is a problem; one of another shape is a ``UsageError``."""
    scanner = scanner_of(session)
    if scanner is None:
        return None
    if session.document is None:
        return SecurityFindings(problems=(session.verdict.reason,))
    source = f"{session.name}/{status_file_name(scanner)}"
    if scanner == "trivy":
        trivy = validate_report(session.document, TrivyReport, source)
        reports = [image.vulnerability_report for image in trivy.images]
    else:
        reports = list(validate_report(session.document, AuditReport, source).reports)
    return findings_in(reports)


def security_findings_of(overview: Overview) -> dict[str, SecurityFindings]:
    """The scanners' findings, by session name, where their folders exist (UsageError on a
    document of another shape: an alert is never quietly not sent)."""
    found: dict[str, SecurityFindings] = {}
    for session in overview.sessions:
        result = findings_of_session(session)
        if result is not None:
            found[session.name] = result
    return found


def shown_findings(session: SessionReport) -> SecurityFindings | None:
    """:func:`findings_of_session` for the page: a document of another shape is a problem
    shown with the session (the page shows every folder, it never stops at one)."""
    try:
        return findings_of_session(session)
    except UsageError as exc:
        return SecurityFindings(problems=(str(exc),))


def findings_in(reports: Sequence[VulnerabilityReportDocument]) -> SecurityFindings:
    """The counts (each report's ``summary``) and the findings of vulnerability reports."""
    counts = VulnerabilityCounts()
    for report in reports:
        summary = report.summary
        counts = counts + VulnerabilityCounts(
            summary.critical, summary.high, summary.medium, summary.low
        )
    findings = tuple(
        Finding(
            id=vulnerability.id,
            severity=vulnerability.severity.lower(),
            package=vulnerability.package,
            installed_version=vulnerability.installed_version,
            fixed_version=vulnerability.fixed_version,
            target=report.target,
        )
        for report in reports
        for vulnerability in report.vulnerabilities
    )
    return SecurityFindings(counts, findings)
