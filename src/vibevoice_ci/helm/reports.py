"""The helm session's document: ``helm.json`` (:class:`HelmReport`).

Written on every path by ``helm/session.py``; read generically by ``report`` and ``notify``.
"""

from __future__ import annotations

from pydantic import Field

from vibevoice_ci.core.outcome import Status
from vibevoice_ci.core.reports import Check, ReportModel


class Level(ReportModel):
    """One level's checks; a level that did not run is one unknown check saying why."""

    level: str = Field(description="static, cluster or pods")
    status: Status = Field(description="its checks' verdict")
    checks: list[Check]
    notes: list[str]


class HelmReport(ReportModel):
    """``helm.json``: the chart checked at each level."""

    status: Status = Field(description="every level's checks' verdict")
    levels: list[Level]
    accepted_unknown: dict[str, str] = Field(
        description="check -> why it may stay unknown here ([tool.vibevoice-ci.helm] "
        "expected_unknown or the CI job's own)"
    )
    notes: list[str]


SCHEMAS = {"helm.schema.json": HelmReport}
