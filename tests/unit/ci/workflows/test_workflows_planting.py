"""Planting a change in the runner's clone (runner.py), judging a planned failure (plan.py),
and the cache entries a run removes first (session.py): the argument lists are pure; the
planting round trip runs git in a temporary repository."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from vibevoice_ci.core.errors import UsageError
from vibevoice_ci.core.outcome import Status
from vibevoice_ci.workflows.github_api import stand_in_argv
from vibevoice_ci.workflows.plan import CHAIN, PlannedRun, judge
from vibevoice_ci.workflows.runner import Runner, plant_argv, planted, unplant_argv
from vibevoice_ci.workflows.session import evict_cache, remove_job_workspaces

ROOT = Path(__file__).resolve().parents[4]
LINT_DEFECT = ROOT / "tests" / "workflows" / "plants" / "lint-defect.patch"
PLANTED_FAILURE = PlannedRun(
    "p", "ci-test.yml", "pull_request", expect="failure", failing_step="Run the lint session"
)


def test_planting_applies_to_the_index_and_commits_the_index_alone() -> None:
    (refresh, apply, commit) = plant_argv("git", Path("/w"), Path("/p.patch"), "planted: p.patch")
    assert refresh[-3:] == ["update-index", "-q", "--refresh"]
    assert apply == ["git", "-c", "safe.directory=/w", "-C", "/w", "apply", "--index", "/p.patch"]
    assert commit[:5] == ["git", "-c", "safe.directory=/w", "-C", "/w"]
    assert commit[-5:] == ["commit", "--quiet", "--no-verify", "--message", "planted: p.patch"]
    assert "--all" not in commit


def test_taking_a_plant_out_resets_to_the_head_and_reverses_the_patch() -> None:
    (reset, refresh, reverse) = unplant_argv("git", Path("/w"), "abc", Path("/p.patch"))
    assert reset[-4:] == ["reset", "--quiet", "--soft", "abc"]
    assert refresh[-3:] == ["update-index", "-q", "--refresh"]
    assert reverse[-4:] == ["apply", "--index", "--reverse", "/p.patch"]


def _git(repository: Path, *args: str) -> str:
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    done = subprocess.run(
        ["git", *identity, "-C", str(repository), *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    """A runner that is the current user, its clone at one commit with an uncommitted change."""
    home = tmp_path / "home"
    workspace = home / "vibevoice-act" / "repository"
    workspace.mkdir(parents=True)
    _git(workspace, "init", "--quiet")
    (workspace / "README.md").write_text("readme\n", encoding="utf-8")
    _git(workspace, "add", "README.md")
    _git(workspace, "commit", "--quiet", "--message", "base")
    (workspace / "README.md").write_text("readme, edited\n", encoding="utf-8")
    return Runner("me", home, False, tmp_path / "toolcache")


def test_the_lint_defect_is_committed_for_the_run_and_gone_after(runner: Runner) -> None:
    workspace = runner.workspace
    head = _git(workspace, "rev-parse", "HEAD")
    planted_file = workspace / "src" / "vibevoice_ci" / "core" / "planted_defect.py"
    with planted(runner, head, LINT_DEFECT) as sha:
        assert sha != head
        assert _git(workspace, "rev-parse", "HEAD") == sha
        assert _git(workspace, "rev-parse", "HEAD~1") == head
        assert "import os" in _git(
            workspace, "show", f"{sha}:{planted_file.relative_to(workspace)}"
        )
        # The clone's own uncommitted change is not swept into the planted commit.
        assert _git(workspace, "show", f"{sha}:README.md") == "readme"
        assert planted_file.is_file()
        # The run changes its files' stats (the clone is handed to the runner): still undone.
        os.utime(planted_file, (1_000_000, 1_000_000))
    assert _git(workspace, "rev-parse", "HEAD") == head
    assert not planted_file.exists()
    assert (workspace / "README.md").read_text(encoding="utf-8") == "readme, edited\n"
    assert _git(workspace, "status", "--porcelain") == "M README.md"
    assert _git(workspace, "cat-file", "-t", sha) == "commit"  # still fetchable by its SHA


def test_the_plant_is_taken_out_when_the_run_raises(runner: Runner) -> None:
    head = _git(runner.workspace, "rev-parse", "HEAD")
    with pytest.raises(RuntimeError), planted(runner, head, LINT_DEFECT):
        raise RuntimeError("act failed to start")
    assert _git(runner.workspace, "rev-parse", "HEAD") == head
    assert _git(runner.workspace, "status", "--porcelain") == "M README.md"


def test_a_patch_that_does_not_apply_is_one_usage_error(runner: Runner, tmp_path: Path) -> None:
    patch = tmp_path / "bad.patch"
    patch.write_text(
        "--- a/absent.txt\n+++ b/absent.txt\n@@ -1 +1 @@\n-old\n+new\n", encoding="utf-8"
    )
    head = _git(runner.workspace, "rev-parse", "HEAD")
    with (
        pytest.raises(UsageError, match=r"cannot plant .*bad\.patch: git apply --index"),
        planted(runner, head, patch),
    ):
        pass
    assert _git(runner.workspace, "rev-parse", "HEAD") == head


def test_a_planned_failure_at_its_step_passes() -> None:
    assert judge(PLANTED_FAILURE, False, ["Run the lint session"])[0] is Status.PASS


@pytest.mark.parametrize(
    "failed", [["Install nox and uv"], ["Run the lint session", "Upload lint reports"], []]
)
def test_a_planned_failure_anywhere_else_fails(failed: list[str]) -> None:
    status, why = judge(PLANTED_FAILURE, False, failed)
    assert status is Status.FAIL
    assert "planned to fail at 'Run the lint session' alone" in why


def test_a_planned_failure_that_succeeded_fails() -> None:
    status, why = judge(PLANTED_FAILURE, True, [])
    assert status is Status.FAIL
    assert why == "concluded success, planned failure"


def test_every_planted_patch_in_the_chain_exists() -> None:
    plants = [run.plant for run in CHAIN if run.plant is not None]
    assert plants
    assert all((ROOT / plant).is_file() for plant in plants)


def test_the_pr_feedback_runs_follow_a_failed_and_a_passed_pull_request_run() -> None:
    by_key = {run.key: run for run in CHAIN}
    red, green = by_key["ci-pr-feedback-red"], by_key["ci-pr-feedback-green"]
    assert red.github_api
    assert green.github_api
    assert by_key[str(red.after)].expect == "failure"
    assert by_key[str(red.after)].event == "pull_request"
    assert by_key[str(green.after)].expect == "success"
    assert by_key[str(green.after)].event == "pull_request"
    keys = [run.key for run in CHAIN]
    assert keys.index("ci-pr-feedback-red") < keys.index("ci-pr-feedback-green")


def test_evicting_removes_only_the_entries_with_the_prefix(tmp_path: Path) -> None:
    for name in ("perf-state-main-1001.tar", "perf-state-main-1002.tar", "Linux-py3.11-x.tar"):
        (tmp_path / name).write_bytes(b"")
    removed = evict_cache(tmp_path, ["perf-state-"])
    assert [path.name for path in removed] == [
        "perf-state-main-1001.tar",
        "perf-state-main-1002.tar",
    ]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["Linux-py3.11-x.tar"]
    assert evict_cache(tmp_path / "absent", ["perf-state-"]) == []


def test_the_job_folders_act_left_go_and_the_tool_cache_link_stays(tmp_path: Path) -> None:
    action_cache = tmp_path / "act"
    job = action_cache / "0af4d710732ae821"
    (job / "hostexecutor" / ".nox").mkdir(parents=True)
    (job / "hostexecutor" / ".nox" / "python").write_text("", encoding="utf-8")
    (job / "hostexecutor" / ".nox" / "python").chmod(0o400)
    (tmp_path / "toolcache").mkdir()
    (action_cache / "tool_cache").symlink_to(tmp_path / "toolcache")
    assert remove_job_workspaces(action_cache) == [job]
    assert [path.name for path in action_cache.iterdir()] == ["tool_cache"]
    assert (tmp_path / "toolcache").is_dir()  # the link went untouched, and its target
    assert remove_job_workspaces(tmp_path / "absent") == []


def test_the_api_stand_in_gets_no_token_in_its_arguments() -> None:
    argv = stand_in_argv("/py", Path("/r/tests/integration/notify_server.py"), "o/n", Path("/x"))
    assert argv == [
        "/py",
        "/r/tests/integration/notify_server.py",
        "serve",
        "--repository",
        "o/n",
        "--record",
        "/x",
    ]
