"""The workflows session's document: ``workflows.json`` (:class:`WorkflowsReport`).

Written by ``workflows/session.py`` after every run of the chain; read by ``report``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from vibevoice_ci.core.outcome import Status
from vibevoice_ci.core.reports import ReportModel


class JobResult(ReportModel):
    """One job of a run, as act concluded it."""

    name: str = Field(description="act's job name (workflow/job, with matrix values)")
    result: str = Field(description="success, failure, skipped or cancelled")


class WorkflowRunRecord(ReportModel):
    """One workflow run of the chain."""

    key: str
    workflow: str = Field(description="the file under .github/workflows/")
    event: str
    run_id: int
    head_sha: str
    expected: Literal["success", "failure"]
    conclusion: Literal["success", "failure", "not run"]
    status: Status = Field(
        description="pass: concluded as planned; unknown: only the step that cannot reach a "
        "verdict here failed; fail: anything else"
    )
    verdict: str = Field(description="why the status is what it is")
    jobs: list[JobResult]
    seconds: float
    log: str = Field(description="act's JSON log of the run (a copy in reports/workflows/logs/)")
    why: str


class WorkflowsReport(ReportModel):
    """``workflows.json``: every run of the chain and how it concluded."""

    status: Status
    runner_user: str
    repository: str
    runs: list[WorkflowRunRecord]


SCHEMAS = {"workflows.schema.json": WorkflowsReport}
