"""The vulnerability report both scanners write (the seed design's Vulnerability Report Schema).

`audit` (pip-audit) and `trivy` turn their tool's output into `VulnerabilityReport`s; the gate
(`gate`), the JSON document (`vulnerability_models.VulnerabilityReportDocument`) and the SARIF
log (`to_sarif`) are shared, so the two sessions judge and publish findings the same way.
Everything here is pure.

A report also says what the scanner could *not* check (`unchecked`): pip-audit offline reports
"no known vulnerabilities" while it reached no advisory service, and trivy without its database
scans nothing. A report with unchecked targets is never clean: its verdict is unknown.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from vibevoice_ci.core.outcome import Outcome, Status

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


class Severity(StrEnum):
    """A finding's severity; `UNKNOWN` when no advisory gave one (never treated as low)."""

    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"
    UNKNOWN = "UNKNOWN"

    @property
    def rank(self) -> int:
        """Higher is worse; UNKNOWN ranks with HIGH, so an unrated finding still fails the gate."""
        return {"CRITICAL": 4, "HIGH": 3, "UNKNOWN": 3, "MEDIUM": 2, "LOW": 1}[self.value]

    @classmethod
    def parse(cls, text: str) -> Severity:
        """`high`, `HIGH`, `moderate` (GitHub's word for medium) ...; anything else is UNKNOWN."""
        word = text.strip().upper()
        if word == "MODERATE":
            return cls.MEDIUM
        return cls(word) if word in cls.__members__ else cls.UNKNOWN

    @classmethod
    def from_cvss_score(cls, score: float) -> Severity:
        """CVSS v3/v4 qualitative rating: 9.0+ critical, 7.0+ high, 4.0+ medium, 0.1+ low."""
        if score >= 9.0:
            return cls.CRITICAL
        if score >= 7.0:
            return cls.HIGH
        if score >= 4.0:
            return cls.MEDIUM
        if score > 0.0:
            return cls.LOW
        return cls.UNKNOWN


SEVERITY_ORDER: tuple[Severity, ...] = (
    Severity.CRITICAL,
    Severity.HIGH,
    Severity.MEDIUM,
    Severity.LOW,
    Severity.UNKNOWN,
)


@dataclass(frozen=True)
class Vulnerability:
    """One advisory affecting one installed package."""

    id: str
    severity: Severity
    package: str
    installed_version: str
    fixed_version: str = ""
    description: str = ""
    aliases: tuple[str, ...] = ()

    def ids(self) -> frozenset[str]:
        """The advisory's id and its aliases (an allow-list entry may name any of them)."""
        return frozenset((self.id, *self.aliases))


@dataclass(frozen=True)
class Unchecked:
    """A target (a package, an image layer, a whole image) the scanner could not check."""

    target: str
    reason: str


@dataclass(frozen=True)
class VulnerabilityReport:
    """One scan of one target, in the seed design's schema plus what was left unchecked."""

    scanner: str
    scanner_version: str
    target: str
    scan_timestamp: str
    vulnerabilities: tuple[Vulnerability, ...] = ()
    unchecked: tuple[Unchecked, ...] = ()
    checked: int = 0

    def summary(self) -> dict[str, int]:
        """Counts per severity, lower-case keys as the schema has them (unknown included)."""
        counts = {severity.value.lower(): 0 for severity in SEVERITY_ORDER}
        for vulnerability in self.vulnerabilities:
            counts[vulnerability.severity.value.lower()] += 1
        return counts


@dataclass(frozen=True)
class AllowListEntry:
    """An accepted finding: which advisory, why, and until when (an expired entry fails)."""

    id: str
    reason: str
    expires: date
    package: str = ""

    def covers(self, vulnerability: Vulnerability) -> bool:
        named = self.id in vulnerability.ids()
        return named and (not self.package or self.package == vulnerability.package)

    def expired(self, today: date) -> bool:
        return today > self.expires


@dataclass(frozen=True)
class GateResult:
    """What the gate decided about a set of reports, with the findings sorted into buckets."""

    outcomes: tuple[Outcome, ...]
    blocking: tuple[Vulnerability, ...]
    allowed: tuple[Vulnerability, ...]
    listed: tuple[Vulnerability, ...] = field(default=())


def gate(
    reports: Sequence[VulnerabilityReport],
    *,
    fail_at: Severity,
    allow_list: Sequence[AllowListEntry] = (),
    today: date,
) -> GateResult:
    """Judge the reports: findings at or above `fail_at` fail unless allowed; unchecked is unknown.

    One outcome per report (`<scanner>: <target>`), plus one per expired allow-list entry. A
    report that found nothing but left targets unchecked is UNKNOWN, never PASS.
    """
    outcomes: list[Outcome] = []
    blocking: list[Vulnerability] = []
    allowed: list[Vulnerability] = []
    listed: list[Vulnerability] = []
    for report in reports:
        report_blocking: list[Vulnerability] = []
        for vulnerability in report.vulnerabilities:
            if vulnerability.severity.rank < fail_at.rank:
                listed.append(vulnerability)
            elif any(entry.covers(vulnerability) for entry in allow_list):
                allowed.append(vulnerability)
            else:
                report_blocking.append(vulnerability)
        blocking.extend(report_blocking)
        outcomes.append(_report_outcome(report, report_blocking, fail_at))
    for entry in allow_list:
        if entry.expired(today):
            outcomes.append(
                Outcome(
                    f"allow-list: {entry.id}",
                    Status.FAIL,
                    f"expired on {entry.expires.isoformat()} ({entry.reason}): "
                    "fix the finding or renew the entry with a new reason",
                )
            )
    return GateResult(tuple(outcomes), tuple(blocking), tuple(allowed), tuple(listed))


def _report_outcome(
    report: VulnerabilityReport, blocking: Sequence[Vulnerability], fail_at: Severity
) -> Outcome:
    name = f"{report.scanner}: {report.target}"
    if blocking:
        ids = ", ".join(sorted({v.id for v in blocking}))
        return Outcome(
            name, Status.FAIL, f"{len(blocking)} finding(s) at {fail_at.value} or above: {ids}"
        )
    if report.unchecked:
        reasons = sorted({u.reason for u in report.unchecked})
        return Outcome(
            name,
            Status.UNKNOWN,
            f"{len(report.unchecked)} target(s) not checked: {'; '.join(reasons)}",
        )
    counts = report.summary()
    found = ", ".join(f"{n} {level}" for level, n in counts.items() if n)
    return Outcome(
        name,
        Status.PASS,
        f"{report.checked} checked; nothing at {fail_at.value} or above"
        + (f" ({found} listed)" if found else ""),
    )


def to_sarif(
    reports: Iterable[VulnerabilityReport], *, min_severity: Severity, artifact_uri: str
) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run per scanner, findings at `min_severity` or above only.

    `artifact_uri` names the file the findings are attached to in GitHub's Security tab (a
    lock file or a Dockerfile): SARIF needs a location, and a package has no line of its own.
    """
    runs: dict[tuple[str, str], dict[str, Any]] = {}
    for report in reports:
        run = runs.setdefault(
            (report.scanner, report.scanner_version),
            {
                "tool": {
                    "driver": {
                        "name": report.scanner,
                        "version": report.scanner_version,
                        "informationUri": "https://github.com/",
                        "rules": [],
                    }
                },
                "results": [],
            },
        )
        rule_ids = {rule["id"] for rule in run["tool"]["driver"]["rules"]}
        for vulnerability in report.vulnerabilities:
            if vulnerability.severity.rank < min_severity.rank:
                continue
            rule_id = vulnerability.id
            if rule_id not in rule_ids:
                rule_ids.add(rule_id)
                run["tool"]["driver"]["rules"].append(_sarif_rule(vulnerability))
            run["results"].append(_sarif_result(vulnerability, report.target, artifact_uri))
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": list(runs.values())}


def _sarif_level(severity: Severity) -> str:
    return "error" if severity.rank >= Severity.HIGH.rank else "warning"


def _sarif_rule(vulnerability: Vulnerability) -> dict[str, Any]:
    # GitHub reads `security-severity` (a CVSS-like number) to rank code-scanning alerts.
    score = {"CRITICAL": "9.5", "HIGH": "8.0", "UNKNOWN": "8.0", "MEDIUM": "5.5", "LOW": "2.0"}
    return {
        "id": vulnerability.id,
        "shortDescription": {"text": f"{vulnerability.id} in {vulnerability.package}"},
        "fullDescription": {"text": vulnerability.description or vulnerability.id},
        "defaultConfiguration": {"level": _sarif_level(vulnerability.severity)},
        "properties": {
            "security-severity": score[vulnerability.severity.value],
            "tags": ["security", "vulnerability", vulnerability.severity.value],
        },
    }


def _sarif_result(vulnerability: Vulnerability, target: str, artifact_uri: str) -> dict[str, Any]:
    fix = (
        f"; fixed in {vulnerability.fixed_version}"
        if vulnerability.fixed_version
        else "; no fix released"
    )
    return {
        "ruleId": vulnerability.id,
        "level": _sarif_level(vulnerability.severity),
        "message": {
            "text": (
                f"{vulnerability.package} {vulnerability.installed_version} in {target} "
                f"is affected by {vulnerability.id} ({vulnerability.severity.value}){fix}"
            )
        },
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": artifact_uri},
                    "region": {"startLine": 1},
                }
            }
        ],
        "partialFingerprints": {
            "vulnerability": f"{vulnerability.id}/{vulnerability.package}/{target}"
        },
    }


def render_findings_markdown(result: GateResult, *, limit: int = 50) -> str:
    """The findings part of a summary: blocking first, then allowed, then listed (capped)."""
    lines: list[str] = []
    for title, findings in (
        ("Blocking", result.blocking),
        ("Allowed by the allow-list", result.allowed),
        ("Listed (below the gate)", result.listed),
    ):
        if not findings:
            continue
        lines += [
            f"### {title} ({len(findings)})",
            "",
            "| id | severity | package | installed | fixed |",
        ]
        lines.append("| --- | --- | --- | --- | --- |")
        ordered = sorted(findings, key=lambda v: (-v.severity.rank, v.package, v.id))
        for vulnerability in ordered[:limit]:
            lines.append(
                f"| {vulnerability.id} | {vulnerability.severity.value} | {vulnerability.package} "
                f"| {vulnerability.installed_version} | {vulnerability.fixed_version or '-'} |"
            )
        if len(ordered) > limit:
            lines.append(f"| ... {len(ordered) - limit} more in the JSON report | | | | |")
        lines.append("")
    return "\n".join(lines)
