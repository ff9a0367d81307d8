"""The trivy session's judgement, pure: what to scan, and what the scans' findings mean.

Three parts, each with its own verdict, and one overall status (docs/ci-cd.md, "trivy"):

- *vulnerabilities* (OS and Python packages of every image, each platform): the shared gate
  (``vulnerabilities.gate``: CRITICAL fails by default, the allow-list with expiry dates). Without
  the vulnerability database nothing is checked, and the part is UNKNOWN, never a pass;
- *secrets*: any secret trivy finds in an image fails, unless an exception names its rule and
  the file it is in (a false positive in a third-party package, with the reason and a date);
- *misconfigurations*: the Dockerfiles and the Helm chart (``trivy config``) and each image's
  own configuration; findings at the configured severity or above fail unless an exception
  with a reason and an unexpired date covers them.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from vibevoice_ci.build.reports import Release
from vibevoice_ci.core.config import ScanException, TrivyConfig
from vibevoice_ci.core.errors import UsageError
from vibevoice_ci.core.outcome import Outcome, Status, overall
from vibevoice_ci.core.vulnerabilities import (
    SARIF_SCHEMA,
    GateResult,
    Severity,
    VulnerabilityReport,
    gate,
    to_sarif,
)
from vibevoice_ci.core.vulnerability_models import OutcomeDocument, VulnerabilityReportDocument
from vibevoice_ci.tools.trivy import Misconfiguration, Secret
from vibevoice_ci.trivy.reports import (
    ConfigScanDocument,
    DatabaseDocument,
    ExceptedMisconfiguration,
    ExceptedSecret,
    ExceptionDocument,
    ImageDocument,
    MisconfigurationDocument,
    PartDocument,
    PartsDocument,
    SecretDocument,
    TrivyReport,
    misconfiguration_fields,
    secret_fields,
)

PARTS = ("vulnerabilities", "secrets", "misconfigurations")


@dataclass(frozen=True)
class ImageTarget:
    """One platform of one pushed image, by digest."""

    service: str
    platform: str
    reference: str  # repository@sha256:... of this platform's manifest
    index: str  # repository@sha256:... of the image index it belongs to

    @property
    def slug(self) -> str:
        return f"{self.service}-{self.platform.replace('/', '-')}"


@dataclass(frozen=True)
class ImageScan:
    """What the scans of one image target found (or why it could not be scanned)."""

    target: ImageTarget
    vulnerabilities: VulnerabilityReport
    secrets: tuple[Secret, ...] = ()
    misconfigurations: tuple[Misconfiguration, ...] = ()
    error: str = ""  # the scan itself failed: every part of this image is FAIL
    seconds: float = 0.0


@dataclass(frozen=True)
class ConfigScan:
    """``trivy config`` of one folder: the files it checked and what failed."""

    target: str  # repository-relative folder
    files: tuple[str, ...]
    misconfigurations: tuple[Misconfiguration, ...]
    error: str = ""


@dataclass(frozen=True)
class Verdict:
    """The session's verdict: outcomes per part, the overall status, and what was excepted."""

    parts: Mapping[str, tuple[Outcome, ...]]
    vulnerability_gate: GateResult
    blocking_misconfigurations: tuple[Misconfiguration, ...] = ()
    excepted: tuple[tuple[Misconfiguration, ScanException], ...] = field(default=())
    blocking_secrets: tuple[tuple[ImageTarget, Secret], ...] = ()
    excepted_secrets: tuple[tuple[ImageTarget, Secret, ScanException], ...] = ()

    @property
    def outcomes(self) -> tuple[Outcome, ...]:
        return tuple(outcome for part in PARTS for outcome in self.parts[part])

    def part_status(self, part: str) -> Status:
        return overall(self.parts[part])

    @property
    def status(self) -> Status:
        return overall(self.outcomes)


def targets_from_release(release: Release) -> list[ImageTarget]:
    """Every platform manifest of every image a release build pushed (its release.json, read
    as the build's model)."""
    if not release.images:
        raise UsageError("the release file lists no image")
    return [
        ImageTarget(
            service=image.service,
            platform=entry.platform,
            reference=f"{image.repository}@{entry.digest}",
            index=image.reference,
        )
        for image in release.images
        for entry in image.platforms
    ]


def judge(
    config: TrivyConfig,
    images: Sequence[ImageScan],
    configs: Sequence[ConfigScan],
    *,
    today: date,
) -> Verdict:
    """The verdict of the session (see the module docstring)."""
    vulnerability_gate = gate(
        [scan.vulnerabilities for scan in images if not scan.error],
        fail_at=config.fail_on,
        allow_list=config.allow,
        today=today,
    )
    vulnerabilities = list(vulnerability_gate.outcomes)
    secrets: list[Outcome] = []
    misconfig: list[Outcome] = []
    blocking: list[Misconfiguration] = []
    excepted: list[tuple[Misconfiguration, ScanException]] = []
    secrets_blocking: list[tuple[ImageTarget, Secret]] = []
    secrets_excepted: list[tuple[ImageTarget, Secret, ScanException]] = []
    for scan in images:
        name = f"{scan.target.service} {scan.target.platform}"
        if scan.error:
            for part in (vulnerabilities, secrets, misconfig):
                part.append(Outcome(f"trivy: {name}", Status.FAIL, f"scan failed: {scan.error}"))
            continue
        found_secrets: list[Secret] = []
        for secret in scan.secrets:
            target = f"{scan.target.service}:{secret.target}"
            entry = exception_for(secret.rule_id, target, config.exceptions, today)
            if entry is None:
                found_secrets.append(secret)
                secrets_blocking.append((scan.target, secret))
            else:
                secrets_excepted.append((scan.target, secret, entry))
        excepted_here = len(scan.secrets) - len(found_secrets)
        secrets.append(_secret_outcome(name, found_secrets, excepted_here))
        found = [_in_image(scan.target.service, finding) for finding in scan.misconfigurations]
        outcome, block, allowed = _misconfig_outcome(
            f"image config: {name}", found, config, today=today
        )
        misconfig.append(outcome)
        blocking += block
        excepted += allowed
    for config_scan in configs:
        name = f"config: {config_scan.target}"
        if config_scan.error:
            misconfig.append(Outcome(name, Status.FAIL, f"scan failed: {config_scan.error}"))
            continue
        if not config_scan.files:
            misconfig.append(Outcome(name, Status.UNKNOWN, "trivy found no file to check"))
            continue
        outcome, block, allowed = _misconfig_outcome(
            name, config_scan.misconfigurations, config, today=today
        )
        misconfig.append(
            Outcome(
                outcome.name, outcome.status, f"{len(config_scan.files)} files; " + outcome.detail
            )
        )
        blocking += block
        excepted += allowed
    for entry in config.exceptions:
        if entry.expired(today):
            misconfig.append(
                Outcome(
                    f"exception: {entry.id} ({entry.target})",
                    Status.FAIL,
                    f"expired on {entry.expires.isoformat()} ({entry.reason}): fix the "
                    "finding or renew the exception with a new reason",
                )
            )
    if not images:
        vulnerabilities.append(Outcome("trivy: images", Status.UNKNOWN, "no image was scanned"))
        secrets.append(Outcome("trivy: images", Status.UNKNOWN, "no image was scanned"))
    return Verdict(
        parts={
            "vulnerabilities": tuple(vulnerabilities),
            "secrets": tuple(secrets),
            "misconfigurations": tuple(misconfig),
        },
        vulnerability_gate=vulnerability_gate,
        blocking_misconfigurations=tuple(blocking),
        excepted=tuple(excepted),
        blocking_secrets=tuple(secrets_blocking),
        excepted_secrets=tuple(secrets_excepted),
    )


def _in_image(service: str, finding: Misconfiguration) -> Misconfiguration:
    """An image's finding, its target named ``<service>:<path in the image>``."""
    return Misconfiguration(
        id=finding.id,
        title=finding.title,
        severity=finding.severity,
        target=f"{service}:{finding.target}",
        line=finding.line,
        message=finding.message,
        resolution=finding.resolution,
    )


def _secret_outcome(name: str, secrets: Sequence[Secret], excepted: int) -> Outcome:
    if not secrets:
        tail = f" ({excepted} excepted: see trivy.json)" if excepted else ""
        return Outcome(f"secrets: {name}", Status.PASS, f"no secret found{tail}")
    where = ", ".join(sorted({f"{s.target}:{s.line} ({s.rule_id})" for s in secrets})[:5])
    return Outcome(f"secrets: {name}", Status.FAIL, f"{len(secrets)} secret(s): {where}")


def exception_for(
    check: str, target: str, exceptions: Iterable[ScanException], today: date
) -> ScanException | None:
    """The unexpired exception covering a finding of ``check`` (a misconfiguration's id, a
    secret's rule) in ``target`` (the entry's glob on the file)."""
    for entry in exceptions:
        if (
            entry.id == check
            and fnmatch.fnmatchcase(target, entry.target)
            and not entry.expired(today)
        ):
            return entry
    return None


def _misconfig_outcome(
    name: str, findings: Sequence[Misconfiguration], config: TrivyConfig, *, today: date
) -> tuple[Outcome, list[Misconfiguration], list[tuple[Misconfiguration, ScanException]]]:
    blocking: list[Misconfiguration] = []
    excepted: list[tuple[Misconfiguration, ScanException]] = []
    below = 0
    for finding in findings:
        if finding.severity.rank < config.misconfig_fail_on.rank:
            below += 1
            continue
        entry = exception_for(finding.id, finding.target, config.exceptions, today)
        if entry is None:
            blocking.append(finding)
        else:
            excepted.append((finding, entry))
    notes = []
    if excepted:
        notes.append(f"{len(excepted)} excepted ({', '.join(sorted({f.id for f, _ in excepted}))})")
    if below:
        notes.append(f"{below} below {config.misconfig_fail_on.value}")
    tail = f" ({'; '.join(notes)})" if notes else ""
    if blocking:
        ids = ", ".join(sorted({f"{f.id} {f.target}" for f in blocking}))
        return (
            Outcome(name, Status.FAIL, f"{len(blocking)} finding(s): {ids}{tail}"),
            blocking,
            excepted,
        )
    return (
        Outcome(
            name, Status.PASS, f"no finding at {config.misconfig_fail_on.value} or above{tail}"
        ),
        blocking,
        excepted,
    )


def part_detail(outcomes: Sequence[Outcome]) -> str:
    """One line for a part: what decided its status (pure)."""
    status = overall(outcomes)
    deciding = [o for o in outcomes if o.status is status] or list(outcomes)
    if not deciding:
        return "nothing was checked"
    first = deciding[0]
    more = f" (+{len(deciding) - 1} more)" if len(deciding) > 1 else ""
    return f"{first.name}: {first.detail}{more}"


def document(
    verdict: Verdict,
    *,
    scanner_version: str,
    database: DatabaseDocument,
    images: Sequence[ImageScan],
    configs: Sequence[ConfigScan],
    strict: bool,
    source: str,
) -> TrivyReport:
    """The session's JSON report (reports/trivy/trivy.json): a top-level ``status`` (overall)
    and one per part, each image's vulnerability report in the design's schema (pure)."""
    return TrivyReport(
        status=verdict.status.value,
        strict=strict,
        parts=PartsDocument.model_validate(
            {
                part: PartDocument(
                    status=verdict.part_status(part).value,
                    detail=part_detail(verdict.parts[part]),
                )
                for part in PARTS
            }
        ),
        scanner="trivy",
        scanner_version=scanner_version,
        images_from=source,
        database=database,
        images=[
            ImageDocument(
                service=scan.target.service,
                platform=scan.target.platform,
                reference=scan.target.reference,
                index=scan.target.index,
                scan_seconds=round(scan.seconds, 1),
                error=scan.error,
                vulnerability_report=VulnerabilityReportDocument.of(scan.vulnerabilities),
                secrets=[SecretDocument.of(secret) for secret in scan.secrets],
                misconfigurations=[
                    MisconfigurationDocument.of(item) for item in scan.misconfigurations
                ],
            )
            for scan in images
        ],
        config=[
            ConfigScanDocument(
                target=scan.target,
                files=list(scan.files),
                error=scan.error,
                misconfigurations=[
                    MisconfigurationDocument.of(item) for item in scan.misconfigurations
                ],
            )
            for scan in configs
        ],
        excepted=[
            ExceptedMisconfiguration.model_validate(
                {**misconfiguration_fields(finding), "exception": _exception(entry)}
            )
            for finding, entry in verdict.excepted
        ],
        excepted_secrets=[
            ExceptedSecret.model_validate(
                {
                    "service": target.service,
                    "platform": target.platform,
                    **secret_fields(secret),
                    "exception": _exception(entry),
                }
            )
            for target, secret, entry in verdict.excepted_secrets
        ],
        outcomes=[OutcomeDocument.of(outcome) for outcome in verdict.outcomes],
    )


def _exception(entry: ScanException) -> ExceptionDocument:
    return ExceptionDocument(reason=entry.reason, expires=str(entry.expires))


def sarif(
    verdict: Verdict,
    images: Sequence[ImageScan],
    *,
    min_severity: Severity,
    dockerfiles: Mapping[str, str],
) -> dict[str, Any]:
    """One SARIF log: a ``trivy`` run with the images' vulnerabilities (attached to each
    service's Dockerfile) and a ``trivy-config`` run with secrets and the misconfigurations
    that are not excepted, at ``min_severity`` or above only (pure)."""
    runs: list[dict[str, Any]] = []
    for scan in images:
        if scan.error:
            continue
        log = to_sarif(
            [scan.vulnerabilities],
            min_severity=min_severity,
            artifact_uri=dockerfiles.get(scan.target.service, "Dockerfile"),
        )
        for run in log["runs"]:
            if not runs:
                runs.append(run)
                continue
            known = {rule["id"] for rule in runs[0]["tool"]["driver"]["rules"]}
            runs[0]["tool"]["driver"]["rules"] += [
                rule for rule in run["tool"]["driver"]["rules"] if rule["id"] not in known
            ]
            runs[0]["results"] += run["results"]
    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    for target, secret in verdict.blocking_secrets:
        if secret.severity.rank < min_severity.rank:
            continue
        rule_id = f"secret/{secret.rule_id}"
        rules.setdefault(rule_id, _rule(rule_id, secret.title or secret.rule_id, secret.severity))
        uri = dockerfiles.get(target.service, "Dockerfile")
        text = (
            f"secret ({secret.rule_id}) in the {target.service} image "
            f"({target.platform}) at {secret.target}:{secret.line}: {secret.match}"
        )
        results.append(_result(rule_id, secret.severity, text, uri, 1))
    for finding in verdict.blocking_misconfigurations:
        if finding.severity.rank < min_severity.rank:
            continue
        rules.setdefault(finding.id, _rule(finding.id, finding.title, finding.severity))
        service, sep, path = finding.target.partition(":")
        uri = dockerfiles.get(service, "Dockerfile") if sep else finding.target
        line = finding.line if not sep else 1
        text = f"{finding.title}: {finding.message}" + (
            f" (in the {service} image: {path})" if sep else ""
        )
        results.append(_result(finding.id, finding.severity, text, uri, max(line, 1)))
    runs.append(
        {
            "tool": {
                "driver": {
                    "name": "trivy-config",
                    "informationUri": "https://trivy.dev/",
                    "rules": list(rules.values()),
                }
            },
            "results": results,
        }
    )
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": runs}


def _level(severity: Severity) -> str:
    return "error" if severity.rank >= Severity.HIGH.rank else "warning"


def _rule(rule_id: str, title: str, severity: Severity) -> dict[str, Any]:
    score = {"CRITICAL": "9.5", "HIGH": "8.0", "UNKNOWN": "8.0", "MEDIUM": "5.5", "LOW": "2.0"}
    return {
        "id": rule_id,
        "shortDescription": {"text": title or rule_id},
        "defaultConfiguration": {"level": _level(severity)},
        "properties": {"security-severity": score[severity.value], "tags": ["security"]},
    }


def _result(rule_id: str, severity: Severity, text: str, uri: str, line: int) -> dict[str, Any]:
    return {
        "ruleId": rule_id,
        "level": _level(severity),
        "message": {"text": text},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": uri},
                    "region": {"startLine": line},
                }
            }
        ],
    }
