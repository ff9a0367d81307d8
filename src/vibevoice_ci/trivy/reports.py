"""The trivy session's JSON, as models: ``trivy.json`` and the per-image vulnerability reports.

- ``reports/trivy/trivy.json`` (:class:`TrivyReport`): the overall ``status``, one status per
  part (``trivy-expect`` reads them), the database, every image platform's findings (its
  vulnerability report in the seed design's schema, its secrets and misconfigurations), the
  configuration scans, what exceptions covered, and the outcomes.
- ``reports/trivy/vulnerabilities/<service>-<os>-<arch>.json``: one image platform's
  vulnerability report, the shared
  :class:`~vibevoice_ci.core.vulnerability_models.VulnerabilityReportDocument`.

``trivy.sarif`` is SARIF 2.1.0, a standard of its own, and has no model here.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from vibevoice_ci.core.reports import ReportModel
from vibevoice_ci.core.vulnerability_models import (
    OutcomeDocument,
    SeverityName,
    StatusName,
    StrictReport,
    VulnerabilityReportDocument,
)
from vibevoice_ci.tools.trivy import Misconfiguration, Secret

IsoDate = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]
Seconds = Annotated[float, Field(ge=0)]


class PartDocument(StrictReport):
    """One part's verdict and the line that decided it."""

    status: StatusName
    detail: str


class PartsDocument(StrictReport):
    """The three parts, each with its own verdict (``trivy-expect --part``)."""

    vulnerabilities: PartDocument
    secrets: PartDocument
    misconfigurations: PartDocument


class DatabaseDocument(StrictReport):
    """Where the vulnerability database came from, and whether it could be fetched."""

    repository: str
    available: bool
    reason: str  # why it could not be fetched; "" when it was
    metadata: dict[str, Any]  # trivy's db/metadata.json as trivy wrote it; {} when unavailable
    seconds: Seconds  # the download, to a tenth of a second


class SecretDocument(StrictReport):
    """A secret trivy found in an image: the rule, the file and line, the match masked."""

    rule_id: str
    title: str
    severity: SeverityName
    target: str
    line: int
    match: str

    @classmethod
    def of(cls, secret: Secret) -> SecretDocument:
        return cls.model_validate(secret_fields(secret))


class MisconfigurationDocument(StrictReport):
    """A failed configuration check (a Dockerfile line, a rendered chart object)."""

    id: str
    title: str
    severity: SeverityName
    target: str
    line: int
    message: str
    resolution: str

    @classmethod
    def of(cls, finding: Misconfiguration) -> MisconfigurationDocument:
        return cls.model_validate(misconfiguration_fields(finding))


class ImageDocument(StrictReport):
    """One image platform: what was scanned, how long it took, and what was found."""

    service: str
    platform: str
    reference: str  # repository@sha256:... of this platform's manifest
    index: str  # repository@sha256:... of the image index
    scan_seconds: Seconds
    error: str  # the scan itself failed (then every part of this image fails); "" when not
    vulnerability_report: VulnerabilityReportDocument
    secrets: list[SecretDocument]
    misconfigurations: list[MisconfigurationDocument]


class ConfigScanDocument(StrictReport):
    """``trivy config`` of one folder: the files it checked and every finding."""

    target: str  # repository-relative folder
    files: list[str]
    error: str
    misconfigurations: list[MisconfigurationDocument]


class ExceptionDocument(StrictReport):
    """The exception that covered a finding: why, and until when."""

    reason: str
    expires: IsoDate


class ExceptedMisconfiguration(MisconfigurationDocument):
    """A misconfiguration at the gate's severity that an exception covered."""

    exception: ExceptionDocument


class ExceptedSecret(SecretDocument):
    """A secret an exception covered, with the image platform it was found in."""

    service: str
    platform: str
    exception: ExceptionDocument


class TrivyReport(StrictReport):
    """``trivy.json``: the overall ``status`` and one per part, and everything behind them."""

    status: StatusName
    strict: bool
    parts: PartsDocument
    scanner: Literal["trivy"]
    scanner_version: str
    images_from: str  # the release file, or the tags in the registry
    database: DatabaseDocument
    images: list[ImageDocument]
    config: list[ConfigScanDocument]
    excepted: list[ExceptedMisconfiguration]
    excepted_secrets: list[ExceptedSecret]
    outcomes: list[OutcomeDocument]


def secret_fields(secret: Secret) -> dict[str, object]:
    return {
        "rule_id": secret.rule_id,
        "title": secret.title,
        "severity": secret.severity.value,
        "target": secret.target,
        "line": secret.line,
        "match": secret.match,
    }


def misconfiguration_fields(finding: Misconfiguration) -> dict[str, object]:
    return {
        "id": finding.id,
        "title": finding.title,
        "severity": finding.severity.value,
        "target": finding.target,
        "line": finding.line,
        "message": finding.message,
        "resolution": finding.resolution,
    }


SCHEMAS: dict[str, type[ReportModel]] = {
    "trivy.schema.json": TrivyReport,
    "vulnerability-report.schema.json": VulnerabilityReportDocument,
}
