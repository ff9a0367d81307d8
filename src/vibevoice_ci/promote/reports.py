"""The promote session's document: ``promote.json`` (:class:`PromoteReport`), and the record
of the tests gate that promote and sign share (:class:`RequiredTests`, also in ``sign.json``).

Written on every path by ``promote/session.py``; read generically by ``report`` and
``notify``. Its inputs are the build's ``release.json`` (``build.reports.Release``), the
smoke session's ``smoke.json`` (``smoke.reports.SmokeReport``) and the commit's workflow runs
from GitHub's REST API (``promote/tests_gate.py``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from vibevoice_ci.build.reports import Retry
from vibevoice_ci.core.outcome import Status
from vibevoice_ci.core.reports import ReportModel


class TrustedRun(ReportModel):
    """The workflow run the tests gate judged: the newest run of the required workflow for the
    commit, as GitHub's REST API listed it."""

    id: int
    name: str = Field(description="the workflow's name")
    head_sha: str
    event: str
    run_number: int
    run_attempt: int
    status: str = Field(description="queued, in_progress, completed, ...")
    conclusion: str | None = Field(description="success, failure, cancelled, ...; null: not done")
    created_at: str
    html_url: str


class RequiredTests(ReportModel):
    """Whether the commit's tests passed before anything moved or was signed: the newest
    run of ``workflow`` on a push of ``commit`` concluded success."""

    status: Literal["pass", "fail", "unknown", "skipped"] = Field(
        description="pass: that run concluded success; fail: it concluded otherwise, is not "
        "completed, or there is none; unknown: the API could not be asked or the commit is "
        "unknown; skipped: --no-require-tests, with its reason in detail"
    )
    workflow: str = Field(description="the required workflow's name (config: required_workflow)")
    commit: str | None = Field(description="the commit checked; null: not known")
    run: TrustedRun | None = Field(description="the run judged; null: none found or not asked")
    detail: str = Field(description="why the status is what it is (the skip's reason)")


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
    """``promote.json``: the tags moved (none unless smoke passed on the released digests and
    the released commit's tests passed)."""

    status: Status = Field(
        description="pass: every tag moved; fail: none moved; unknown: moved, but whether the "
        "commit's tests passed could not be decided (allowed outside CI only, with a warning)"
    )
    tests: RequiredTests | None = Field(
        default=None,
        description="the tests gate; null: not reached (nothing to move, or refused before); "
        "absent from documents written before the gate existed",
    )
    moves: list[MovedTag]
    retries: list[Retry]


SCHEMAS = {"promote.schema.json": PromoteReport}
