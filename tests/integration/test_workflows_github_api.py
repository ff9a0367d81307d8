"""The act harness's GitHub REST API stand-in as ``nox -s workflows`` starts it (``github_api``:
``notify_server.py serve`` in its own process on 127.0.0.1): it lists the runs the harness wrote
(``github-api-runs.json``, read again for each request), accepts the token it is given (the
release chain's ``GITHUB_TOKEN``), and appends to the record of an earlier invocation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vibevoice_ci.core.environment import RunEnvironment, Secret
from vibevoice_ci.core.retry import RetryLog
from vibevoice_ci.promote import tests_gate
from vibevoice_ci.tools.github import GitHub
from vibevoice_ci.workflows.github_api import github_api, write_api_runs
from vibevoice_ci.workflows.reports import JobResult, WorkflowRunRecord

pytestmark = pytest.mark.integration
REPO_ROOT = Path(__file__).resolve().parents[2]
HEAD = "3" * 40
TOKEN = "ghs_RELEASECHAINTOKEN42"  # noqa: S105 (a test value)


def _record(run_id: int, workflow: str, event: str, conclusion: str) -> WorkflowRunRecord:
    return WorkflowRunRecord(
        key=f"run-{run_id}",
        workflow=workflow,
        event=event,
        run_id=run_id,
        head_sha=HEAD,
        expected="success",
        conclusion=conclusion,  # type: ignore[arg-type]
        status="pass",
        verdict="concluded as planned",
        jobs=[JobResult(name="job", result=conclusion)],
        seconds=1.0,
        log="log",
        why="",
    )


def test_the_stand_in_lists_the_runs_the_harness_wrote_as_they_change(tmp_path: Path) -> None:
    record, runs = tmp_path / "github-api.jsonl", tmp_path / "github-api-runs.json"
    record.write_text('{"an earlier invocation": "kept"}\n', encoding="utf-8")
    names = {"ci-test.yml": "CI test", "ci-build-push.yml": "CI build and push"}
    write_api_runs(runs, [_record(1001, "ci-test.yml", "push", "failure")], names, "o/n")

    with github_api(REPO_ROOT, "o/n", record, runs=runs, token=TOKEN) as api:
        assert api.token == TOKEN
        env = RunEnvironment(
            github_token=Secret(TOKEN), github_repository="o/n", github_api_url=api.url
        )
        first = tests_gate.check_tests(env, "CI test", HEAD)
        write_api_runs(
            runs,
            [
                _record(1001, "ci-test.yml", "push", "failure"),
                _record(1002, "ci-test.yml", "push", "success"),
                _record(1003, "ci-build-push.yml", "push", "success"),
            ],
            names,
            "o/n",
        )
        second = tests_gate.check_tests(env, "CI test", HEAD)
        listed = GitHub(api.url, "o/n", Secret(TOKEN), RetryLog()).workflow_runs("4" * 40)

    assert (first.status, first.run.id if first.run else None) == ("fail", 1001)
    assert (second.status, second.run.id if second.run else None) == ("pass", 1002)
    assert second.run is not None
    assert second.run.html_url == "https://github.com/o/n/actions/runs/1002"
    assert listed == []  # another commit has no run
    lines = record.read_text(encoding="utf-8").splitlines()
    assert lines[0] == '{"an earlier invocation": "kept"}'
    asked = [json.loads(line) for line in lines[1:]]
    assert [(line["path"], line["status"]) for line in asked] == [
        ("/repos/o/n/actions/runs", 200)
    ] * 3
    assert TOKEN not in record.read_text(encoding="utf-8")
