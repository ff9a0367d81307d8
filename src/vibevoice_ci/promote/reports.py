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
    commit_before: str | None = Field(
        description="the commit (org.opencontainers.image.revision) of the image it pointed at; "
        "null: an absent tag, or no label"
    )
    commit_after: str | None = Field(description="the commit of the released image; null: no label")
    direction: Literal["created", "forward", "same", "rollback"] = Field(
        description="created: the tag was absent; forward: commit_before is an ancestor of "
        "commit_after; same: same digest or commit (a re-promote); rollback: not forward, moved "
        "because --allow-rollback was given"
    )


class PromoteReport(ReportModel):
    """``promote.json``: the tags moved (none unless smoke passed on the released digests)."""

    status: Literal["pass", "fail"]
    moves: list[MovedTag]
    retries: list[Retry]


SCHEMAS = {"promote.schema.json": PromoteReport}
