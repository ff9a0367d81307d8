"""``reports/audit/audit.json``, as a model: every target's vulnerability report and the verdict.

Each entry of ``reports`` is the shared vulnerability report
(:class:`~vibevoice_ci.core.vulnerability_models.VulnerabilityReportDocument`, the seed
design's schema) plus which locked dependencies it is (``name``, ``kind``, ``requirements``)
and the pins their environment markers left out (``not_applicable``). ``audit.sarif`` is SARIF
2.1.0, a standard of its own, and has no model here.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from vibevoice_ci.core.reports import ReportModel
from vibevoice_ci.core.vulnerability_models import (
    Count,
    OutcomeDocument,
    SeverityName,
    StatusName,
    StrictReport,
    VulnerabilityReportDocument,
)

IsoDate = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]


class AuditTargetReport(VulnerabilityReportDocument):
    """One target's report: the shared schema, and which locked dependencies it covers."""

    name: str  # "tts", "ci", "dev", "ci-tools"
    kind: Literal["image", "extra", "group", "ci-tools"]
    requirements: str  # the hashed requirements file pip-audit read
    not_applicable: list[str]  # "name==version ; markers" of pins this platform skips


class FindingCounts(StrictReport):
    """The gate's buckets: at or above ``fail_at`` and not allowed, allowed, below it."""

    blocking: Count
    allowed: Count
    listed: Count


class RatingDocument(StrictReport):
    """An advisory's severity and where it came from (an OSV record, or why there is none)."""

    severity: SeverityName
    source: str


class AllowListDocument(StrictReport):
    """One ``[[tool.vibevoice-ci.audit.allow]]`` entry (``package`` ``""``: any package)."""

    id: str
    package: str
    reason: str
    expires: IsoDate


class AuditReport(StrictReport):
    """``audit.json``: the overall ``status``, the settings, the counts, every report."""

    session: Literal["audit"]
    status: StatusName
    strict: bool
    scanner: Literal["pip-audit"]
    scanner_version: str  # "recorded" when the tests replay pip-audit's runs
    service: Literal["osv", "pypi"]
    osv_url: str
    fail_at: SeverityName
    checked: Count
    unchecked: Count
    findings: FindingCounts
    outcomes: list[OutcomeDocument]
    reports: list[AuditTargetReport]
    ratings: dict[str, RatingDocument]  # by advisory id
    allow_list: list[AllowListDocument]


SCHEMAS: dict[str, type[ReportModel]] = {"audit.schema.json": AuditReport}
