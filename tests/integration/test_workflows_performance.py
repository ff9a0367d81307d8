"""Issue 17: ci-performance.yml executed by act (as the ``runner`` user): a repository's first
nightly run, with no baseline, is unknown (never a pass); a pull request labelled ``perf``
after it is compared with the baseline that nightly saved and passes; ci-pr-feedback's
``perf-comment`` then posts its verdict table to GitHub's REST API stand-in on 127.0.0.1.

No image is needed: without ``--release`` the perf session loads a local process of the tts
service (espeak). The harness removes the ``perf-state-`` cache entries before the nightly
(``evict_cache``), so "no baseline" is true however often this runs. A few minutes: two perf
sessions on a small, shared machine.
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

from vibevoice_ci.notify.messages import PERF_MARKER

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(1200),
    pytest.mark.xdist_group("act-runner"),
]

REPOSITORY = "vibevoice/vibevoice-realtime-platform"
RUNS = ("ci-performance-nightly", "ci-performance-pr", "ci-pr-feedback-perf")


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One harness run of the three planned runs, from a clean clone (non-strict: the
    nightly is unknown by plan)."""
    bin_dir = _need_act_runner()
    clone = _planted(tmp_path_factory.mktemp("performance"), None)
    environ = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    # The runs check the workflow's wiring, not the gate's power: a short run.
    argv = [sys.executable, "-m", "vibevoice_ci", "workflows", "--no-strict"]
    argv += [
        "--job-env",
        "VIBEVOICE_PERF_REQUESTS=60",
        "--job-env",
        "VIBEVOICE_PERF_CAPACITY_MAX=2",
    ]
    result = subprocess.run(
        [*argv, "--run", "ci-performance-nightly", "--run", "ci-pr-feedback-perf"],
        cwd=clone,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
        timeout=1140,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    return clone


def _runs(clone: Path) -> dict[str, dict[str, Any]]:
    report = json.loads((clone / "reports" / "workflows" / "workflows.json").read_text("utf-8"))
    assert report["status"] == "unknown"
    return {run["key"]: run for run in report["runs"]}


def _jobs(run: dict[str, Any]) -> dict[str, str]:
    # act pads a job's name; a job whose `if:` is false is not run, and not listed.
    return {job["name"].split("/", 1)[-1].strip(): job["result"] for job in run["jobs"]}


def test_the_first_nightly_is_unknown_and_the_pull_request_passes(harness: Path) -> None:
    runs = _runs(harness)
    assert list(runs) == list(RUNS)
    nightly = runs["ci-performance-nightly"]
    assert nightly["status"] == "unknown"
    assert nightly["verdict"] == "'Run the perf session' could not reach a verdict here"
    assert _jobs(nightly) == {
        "perf (nox -s perf)": "failure",
        "notify (nox -s notify -- perf)": "success",
    }
    # The perf step failed because nothing could be compared, and for nothing else.
    log = Path(nightly["log"]).read_text("utf-8")
    assert "error: perf: unknown (unknown fails under CI)" in log
    assert "no baseline (created it from this run)" in log
    pull_request = runs["ci-performance-pr"]
    assert (pull_request["status"], pull_request["conclusion"]) == ("pass", "success")
    assert _jobs(pull_request) == {"perf (nox -s perf)": "success"}  # notify: not on a PR
    feedback = runs["ci-pr-feedback-perf"]
    assert feedback["status"] == "pass"
    assert _jobs(feedback) == {"perf-comment (nox -s notify -- perf)": "success"}


def test_the_pull_request_was_compared_with_the_nightlys_baseline(harness: Path) -> None:
    verdict = json.loads((harness / "reports" / "perf" / "verdict.json").read_text("utf-8"))
    assert verdict["status"] == "pass", verdict
    assert verdict["baseline_updated"] is False  # a pull request never moves it


def test_the_api_got_the_perf_comment_and_no_issue(harness: Path) -> None:
    lines = (harness / "reports" / "workflows" / "github-api.jsonl").read_text("utf-8")
    received = [json.loads(line) for line in lines.splitlines() if line.strip()]
    writes = [request for request in received if request["method"] in ("POST", "PATCH")]
    assert [(r["method"], r["path"], r["status"]) for r in writes] == [
        ("POST", f"/repos/{REPOSITORY}/issues/1/comments", 201)
    ]
    body = writes[0]["body"]["body"]
    assert body.startswith(PERF_MARKER)
    assert "### Performance: PASS for" in body
