"""Issue 17: ci-pr-feedback.yml executed by act (as the ``runner`` user) after a failed and
after a passed ci-test run of one pull request, against GitHub's REST API stand-in on
127.0.0.1 (``tests/integration/notify_server.py serve``, started by the harness and reached
through ``$GITHUB_API_URL`` as a runner sets it).

The failed run is real: the harness commits a planted lint defect
(``tests/workflows/plants/lint-defect.patch``) on the pull request's head in its clone, ci-test's
lint job fails at the lint session on it, and ci-pr-feedback posts the failure comment; then
the same pull request without it passes, and ci-pr-feedback edits that comment to green
(issue 17 defect 9). The test reads what the API stand-in received (``github-api.jsonl``) and
``workflows.json``. About 4 minutes: two lint jobs and two notify jobs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_workflows_planted import _need_act_runner, _planted

from vibevoice_ci.notify.messages import FAILURE_MARKER

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(1500),
    pytest.mark.xdist_group("act-runner"),
]

REPOSITORY = "vibevoice/vibevoice-realtime-platform"
COMMENTS = f"/repos/{REPOSITORY}/issues/1/comments"
RUNS = ("ci-test-lint-planted", "ci-pr-feedback-red", "ci-test-lint-pr", "ci-pr-feedback-green")


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One harness run of the four planned runs, from a clean clone; (clone, output)."""
    bin_dir = _need_act_runner()
    clone = _planted(tmp_path_factory.mktemp("feedback"), None)
    environ = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "vibevoice_ci",
            "workflows",
            "--run",
            "ci-pr-feedback-red",
            "--run",
            "ci-pr-feedback-green",
        ],
        cwd=clone,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
        timeout=1440,
    )
    output = result.stdout[-6000:] + result.stderr[-3000:]
    assert result.returncode == 0, output
    return clone, output


def _received(clone: Path) -> list[dict[str, Any]]:
    lines = (clone / "reports" / "workflows" / "github-api.jsonl").read_text("utf-8")
    return [json.loads(line) for line in lines.splitlines() if line.strip()]


def test_every_run_concluded_as_planned(harness: tuple[Path, str]) -> None:
    clone, _ = harness
    report = json.loads((clone / "reports" / "workflows" / "workflows.json").read_text("utf-8"))
    assert report["status"] == "pass"
    runs = {run["key"]: run for run in report["runs"]}
    assert list(runs) == list(RUNS)
    assert {key: runs[key]["status"] for key in RUNS} == dict.fromkeys(RUNS, "pass")
    planted, passed = runs["ci-test-lint-planted"], runs["ci-test-lint-pr"]
    assert planted["conclusion"] == "failure"
    assert planted["verdict"] == "concluded failure, as planned"
    assert passed["conclusion"] == "success"
    # The planted head is a commit of its own, on top of the head the passing run tested.
    assert planted["head_sha"] != passed["head_sha"]
    for key in ("ci-pr-feedback-red", "ci-pr-feedback-green"):
        # perf-comment's `if:` is false for a CI test run: act runs, and lists, nothing of it.
        jobs = {job["name"].split("/", 1)[-1].strip(): job["result"] for job in runs[key]["jobs"]}
        assert jobs == {"failure-comment (nox -s notify -- failure)": "success"}, key


def test_the_lint_job_failed_on_the_planted_defect(harness: tuple[Path, str]) -> None:
    clone, _ = harness
    report = json.loads((clone / "reports" / "workflows" / "workflows.json").read_text("utf-8"))
    planted = next(run for run in report["runs"] if run["key"] == "ci-test-lint-planted")
    log = Path(planted["log"]).read_text("utf-8")
    assert "planted_defect.py" in log
    assert "F401" in log


def test_the_api_got_one_comment_created_red_then_edited_green(
    harness: tuple[Path, str],
) -> None:
    clone, _ = harness
    report = json.loads((clone / "reports" / "workflows" / "workflows.json").read_text("utf-8"))
    heads = {run["key"]: run["head_sha"] for run in report["runs"]}
    received = _received(clone)
    assert received, "the GitHub API stand-in received nothing"
    assert all(request["status"] != 401 for request in received), received
    writes = [request for request in received if request["method"] in ("POST", "PATCH")]
    assert [(request["method"], request["status"]) for request in writes] == [
        ("POST", 201),
        ("PATCH", 200),
    ]
    created, edited = writes
    assert created["path"] == COMMENTS
    red = created["body"]["body"]
    assert red.startswith(FAILURE_MARKER)
    # The lint session stops at ruff's failure before it writes a report, so the comment
    # can name the failed run and its planted head, not the session (see the run's log).
    assert f"### CI test: failure for `{heads['ci-test-lint-planted'][:12]}`" in red
    assert edited["path"] == f"/repos/{REPOSITORY}/issues/comments/{created['id']}"
    green = edited["body"]["body"]
    assert green.startswith(FAILURE_MARKER)
    assert f"### CI test: passed for `{heads['ci-test-lint-pr'][:12]}`" in green
    assert "An earlier run of this pull request failed; this one passed." in green
    # Each notify run looked for the marked comment first (GET), then wrote.
    reads = [request for request in received if request["method"] == "GET"]
    assert reads
    assert all(request["path"] == COMMENTS for request in reads)


def test_the_notify_record_came_back_as_the_green_runs_artifact(
    harness: tuple[Path, str],
) -> None:
    clone, _ = harness
    notify = json.loads((clone / "reports" / "notify" / "notify.json").read_text("utf-8"))
    assert notify["status"] == "pass"
    assert [check["name"] for check in notify["checks"]] == ["PR comment (failure)"]
    assert "updated on PR #1" in notify["checks"][0]["detail"]
