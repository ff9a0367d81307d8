"""The workflow runs the GitHub API stand-in lists for the act harness (``api_runs``): the runs
the harness really executed, as ``workflows.json`` records them (written by the session's own
writer, read back as ``--append`` reads it), which promote's tests gate then judges."""

from __future__ import annotations

import functools
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.core.reports import write_report
from vibevoice_ci.promote import tests_gate
from vibevoice_ci.workflows.actions import load_workflow
from vibevoice_ci.workflows.github_api import api_runs, stand_in_argv
from vibevoice_ci.workflows.plan import CHAIN, select
from vibevoice_ci.workflows.reports import JobResult, WorkflowRunRecord, WorkflowsReport
from vibevoice_ci.workflows.session import earlier_runs

REPO_ROOT = Path(__file__).resolve().parents[4]
HEAD = "1" * 40
PLANTED = "2" * 40


@functools.cache
def _names() -> dict[str, str]:
    """Each workflow file's ``name:``, as the session reads them."""
    files = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
    return {path.name: str(load_workflow(path).get("name", path.name)) for path in files}


def _record(key: str, run_id: int, head: str, conclusion: str) -> WorkflowRunRecord:
    run = next(run for run in CHAIN if run.key == key)
    return WorkflowRunRecord(
        key=key,
        workflow=run.workflow,
        event=run.event,
        run_id=run_id,
        head_sha=head,
        expected=run.expect,
        conclusion=conclusion,  # type: ignore[arg-type]
        status="pass",
        verdict="concluded as planned",
        jobs=[JobResult(name=f"{run.workflow}/job", result=conclusion)],
        seconds=1.0,
        log=f"reports/workflows/logs/{run_id}-{key}.log",
        why=run.why,
    )


def _first_invocation(tmp_path: Path) -> Path:
    """workflows.json after .ci/run's first `nox -s workflows` (ci-test-lint and the pull
    request runs), as the session writes it."""
    path = tmp_path / "workflows.json"
    records = [
        _record("ci-test-lint", 1001, HEAD, "success"),
        _record("ci-test-lint-planted", 1003, PLANTED, "failure"),
        _record("ci-pr-feedback-red", 1004, PLANTED, "success"),
        _record("ci-test-lint-pr", 1005, HEAD, "success"),
    ]
    report = WorkflowsReport(status="pass", runner_user="runner", repository="o/n", runs=records)
    write_report(path, report)
    return path


def test_every_concluded_run_is_listed_as_the_api_spells_a_completed_run(tmp_path: Path) -> None:
    earlier = earlier_runs(_first_invocation(tmp_path), select(CHAIN, ["ci-smoke-test"]))

    runs = api_runs(earlier, _names(), "o/n")

    assert [(r["id"], r["name"], r["event"], r["conclusion"]) for r in runs] == [
        (1001, "CI test", "push", "success"),
        (1003, "CI test", "pull_request", "failure"),
        (1004, "CI PR feedback", "workflow_run", "success"),
        (1005, "CI test", "pull_request", "success"),
    ]
    assert runs[0] == {
        "id": 1001,
        "name": "CI test",
        "path": ".github/workflows/ci-test.yml",
        "head_sha": HEAD,
        "event": "push",
        "status": "completed",
        "conclusion": "success",
        "run_number": 1001,
        "run_attempt": 1,
        "html_url": "https://github.com/o/n/actions/runs/1001",
    }


def test_promote_in_the_release_chain_trusts_the_first_invocations_ci_test_lint_run(
    tmp_path: Path,
) -> None:
    chain = select(CHAIN, ["ci-build-push", "ci-smoke-test", "ci-provenance"])
    earlier = earlier_runs(_first_invocation(tmp_path), chain)
    this_invocation = [_record("ci-build-push", 1006, HEAD, "success")]

    rows = api_runs([*earlier, *this_invocation], _names(), "o/n")
    gate = tests_gate.judge_runs(rows, workflow="CI test", commit=HEAD)

    assert gate.status == "pass"
    assert gate.run is not None
    assert (gate.run.id, gate.run.event) == (1001, "push")


def test_a_failed_ci_test_lint_run_refuses_and_a_missing_one_is_untested(tmp_path: Path) -> None:
    failed = api_runs([_record("ci-test-lint", 1001, HEAD, "failure")], _names(), "o/n")
    assert tests_gate.judge_runs(failed, workflow="CI test", commit=HEAD).status == "fail"

    pull_request_only = api_runs(
        [_record("ci-test-lint-pr", 1005, HEAD, "success")], _names(), "o/n"
    )
    gate = tests_gate.judge_runs(pull_request_only, workflow="CI test", commit=HEAD)
    assert (gate.status, gate.run) == ("fail", None)


def test_the_release_follow_ups_that_promote_and_sign_get_the_api_stand_in() -> None:
    by_key = {run.key: run for run in CHAIN}
    assert by_key["ci-smoke-test"].github_api
    assert by_key["ci-provenance"].github_api


def test_the_stand_in_is_told_where_the_runs_are() -> None:
    argv = stand_in_argv("/py", Path("/s.py"), "o/n", Path("/rec"), Path("/runs.json"))
    assert argv[-2:] == ["--runs", "/runs.json"]


@settings(max_examples=200)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([run.key for run in CHAIN]),
            st.sampled_from([HEAD, PLANTED]),
            st.sampled_from(["success", "failure", "not run"]),
        ),
        max_size=12,
    )
)
def test_the_gate_over_the_listed_runs_trusts_the_last_ci_test_push_of_the_commit(
    runs: list[tuple[str, str, str]],
) -> None:
    records = [
        _record(key, 1001 + number, head, conclusion)
        for number, (key, head, conclusion) in enumerate(runs)
    ]

    gate = tests_gate.judge_runs(
        api_runs(records, _names(), "o/n"), workflow="CI test", commit=HEAD
    )

    tested = [
        r
        for r in records
        if r.workflow == "ci-test.yml"
        and r.event == "push"
        and r.head_sha == HEAD
        and r.conclusion != "not run"
    ]
    if not tested:
        assert (gate.status, gate.run) == ("fail", None)
        return
    assert gate.run is not None
    assert gate.run.id == tested[-1].run_id
    assert gate.status == ("pass" if tested[-1].conclusion == "success" else "fail")
