"""The promote session's document: ``promote.json`` (:class:`PromoteReport`).

Written on every path by ``promote/session.py``; read generically by ``report`` and
``notify``. Its inputs are the build's ``release.json`` (``build.reports.Release``) and the
smoke session's ``smoke.json`` (``smoke.reports.SmokeReport``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from vibevoice_ci.build.reports import Retry
from vibevoice_ci.core.reports import ReportModel


class MovedTag(ReportModel):
    """One tag moved to a released digest."""

    target: str = Field(description="repository:tag")
    before: str | None = Field(description="the digest it pointed at before; null: absent")
    after: str = Field(description="the digest it points at now, read back from the registry")


class PromoteReport(ReportModel):
    """``promote.json``: the tags moved (none unless smoke passed on the released digests)."""

    status: Literal["pass", "fail"]
    moves: list[MovedTag]
    retries: list[Retry]


SCHEMAS = {"promote.schema.json": PromoteReport}
