"""``nox -s workflows -- --append``: a later part of one CI run keeps the earlier runs' records.

The earlier report is the one the session's own writer writes (``write_report`` of a
``WorkflowsReport``), never hand-made JSON.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from vibevoice_ci.core.errors import UsageError
from vibevoice_ci.core.reports import write_report
from vibevoice_ci.workflows.plan import CHAIN, select
from vibevoice_ci.workflows.reports import JobResult, WorkflowRunRecord, WorkflowsReport
from vibevoice_ci.workflows.session import earlier_runs


def _record(key: str, run_id: int) -> WorkflowRunRecord:
    return WorkflowRunRecord(
        key=key,
        workflow="ci-test.yml",
        event="push",
        run_id=run_id,
        head_sha="0" * 40,
        expected="success",
        conclusion="success",
        status="pass",
        verdict="concluded success, as planned",
        jobs=[JobResult(name="CI test/lint (nox -s lint)", result="success")],
        seconds=30.0,
        log=f"reports/workflows/logs/{run_id}-{key}.log",
        why="",
    )


def _written(tmp_path: Path, *records: WorkflowRunRecord) -> Path:
    path = tmp_path / "workflows.json"
    report = WorkflowsReport(
        status="pass", runner_user="runner", repository="o/n", runs=list(records)
    )
    write_report(path, report)
    return path


def test_the_earlier_runs_stay_and_a_run_named_again_is_dropped(tmp_path: Path) -> None:
    path = _written(tmp_path, _record("ci-test-lint", 1001), _record("ci-security-deps", 1002))
    again = select(CHAIN, ["ci-test-lint"])
    assert [run.key for run in earlier_runs(path, again)] == ["ci-security-deps"]
    chain = select(CHAIN, ["ci-build-push"])
    assert [run.run_id for run in earlier_runs(path, chain)] == [1001, 1002]


def test_no_earlier_report_means_no_earlier_runs(tmp_path: Path) -> None:
    assert earlier_runs(tmp_path / "workflows.json", CHAIN) == []


def test_an_earlier_report_of_the_wrong_shape_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "workflows.json"
    path.write_text('{"status": "pass", "runs": "none"}', encoding="utf-8")
    with pytest.raises(UsageError, match="the earlier workflows report") as raised:
        earlier_runs(path, CHAIN)
    assert "\n" not in str(raised.value)
