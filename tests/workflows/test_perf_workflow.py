"""ci-performance.yml does what the seed design and issue 8 ask of it."""

from __future__ import annotations

from typing import Any

import pytest
from actions_cache import CacheService, Entry, restore_keys
from expressions import render, step_runs
from workflow_model import Job, Step, Workflow, job_session, parse_uses, parse_workflow, uses_of

CI_PERF = "ci-performance.yml"


def test_perf_runs_nightly_at_two_and_by_hand(workflow_by_file: dict[str, Workflow]) -> None:
    wf = workflow_by_file[CI_PERF]
    assert wf.triggers["schedule"] == {"crons": ["0 2 * * *"]}
    assert "workflow_dispatch" in wf.triggers


def test_perf_job_shape(workflow_by_file: dict[str, Workflow]) -> None:
    job = workflow_by_file[CI_PERF].jobs["perf"]
    assert job.timeout_minutes == 45
    found = job_session(job)
    assert found is not None
    assert found.session == "perf"
    assert job.permissions == {"contents": "read"}
    (upload,) = uses_of(job, "actions/upload-artifact")
    assert upload.with_["retention-days"] == 90
    assert upload.with_["path"] == "reports/perf/"


def _state_steps(job: Job) -> tuple[Step, Step]:
    """The perf job's restore and save steps of .perf-state."""
    by_path = {
        parse_uses(step.uses).path: step
        for step in uses_of(job, "actions/cache")
        if step.uses and step.with_.get("path") == ".perf-state"
    }
    return by_path["restore"], by_path["save"]


def _context(event: str, ref: str, run_id: int, base_ref: str = "") -> dict[str, Any]:
    """The `github` context of a run, as far as cache keys and conditions read it."""
    return {
        "github": {
            "event_name": event,
            "ref": ref,
            "ref_name": ref.removeprefix("refs/heads/").removeprefix("refs/pull/"),
            "base_ref": base_ref,
            "head_ref": "feature/faster" if base_ref else "",
            "run_id": run_id,
        },
        "runner": {"os": "Linux"},
    }


NIGHTLY_1 = _context("schedule", "refs/heads/main", 100)
PR_RUN_1 = _context("pull_request", "refs/pull/7/merge", 200, base_ref="main")
NIGHTLY_2 = _context("schedule", "refs/heads/main", 300)
PR_RUN_2 = _context("pull_request", "refs/pull/7/merge", 400, base_ref="main")
DISPATCH = _context("workflow_dispatch", "refs/heads/main", 500)
DEFAULT_BRANCH = "refs/heads/main"


def _run(job: Job, cache: CacheService, context: dict[str, Any], name: str) -> Entry | None:
    """One run of the perf job against the cache: what it restores; saves what it saves
    (the session's outcome does not matter: the save runs on every outcome or never)."""
    restore, save = _state_steps(job)
    github = context["github"]
    scopes = [
        github["ref"],
        f"refs/heads/{github['base_ref']}" if github["base_ref"] else "",
        DEFAULT_BRANCH,
    ]
    restored = cache.restore(
        [scope for scope in scopes if scope],
        render(str(restore.with_["key"]), context),
        [render(key, context) for key in restore_keys(restore.with_.get("restore-keys"))],
    )
    for status in ("success", "failure"):
        if step_runs(save.if_, context, status=status):
            cache.save(github["ref"], render(str(save.with_["key"]), context), name)
            break
    return restored


def perf_baseline_problems(wf: Workflow) -> list[str]:
    """Nightly runs on main carry the baseline forward; a pull request is compared with main's
    newest baseline, even after an earlier run of that pull request, and never leaves a state
    behind that a later run of it would read instead (GitHub searches the pull request's own
    cache scope before main's)."""
    job = wf.jobs["perf"]
    cache = CacheService()
    problems: list[str] = []
    _run(job, cache, NIGHTLY_1, "nightly 1")
    _run(job, cache, PR_RUN_1, "pull request run 1")
    second_nightly = _run(job, cache, NIGHTLY_2, "nightly 2")
    if second_nightly is None or second_nightly.saved_by != "nightly 1":
        problems.append(f"the second nightly restored {second_nightly}, not the first's state")
    compared_with = _run(job, cache, PR_RUN_2, "pull request run 2")
    if compared_with is None or compared_with.saved_by != "nightly 2":
        problems.append(
            "a pull request's second run restored "
            f"{compared_with.saved_by if compared_with else 'nothing'} ({compared_with}), "
            "not main's newest baseline (nightly 2)"
        )
    problems += [
        f"a pull request run saved {entry.key!r} (it must leave no state behind)"
        for entry in cache.entries
        if entry.saved_by.startswith("pull request")
    ]
    after_dispatch = _run(job, cache, DISPATCH, "manual run")
    if after_dispatch is None or after_dispatch.saved_by != "nightly 2":
        problems.append(f"a manual run on main restored {after_dispatch}, not nightly 2's state")
    return problems


def test_a_pull_request_is_compared_with_mains_newest_baseline(
    workflow_by_file: dict[str, Workflow],
) -> None:
    assert perf_baseline_problems(workflow_by_file[CI_PERF]) == []


def test_the_state_is_saved_on_every_outcome_of_a_run_on_main(
    workflow_by_file: dict[str, Workflow],
) -> None:
    restore, save = _state_steps(workflow_by_file[CI_PERF].jobs["perf"])
    assert restore.with_["path"] == save.with_["path"] == ".perf-state"
    for status in ("success", "failure"):
        assert step_runs(save.if_, NIGHTLY_1, status=status)
        assert not step_runs(save.if_, PR_RUN_1, status=status)


# Text of the file's cache keys, to plant the old schemes in.
READ_KEY = "perf-state-${{ github.base_ref || github.ref_name }}-"
SAVE_KEY = "perf-state-${{ github.ref_name }}-"
SAVE_IF = "if: always() && github.event_name != 'pull_request'"


@pytest.mark.parametrize(
    ("replacements", "expected"),
    [
        # main's file before the fix: keys `perf-state-<run id>`, restore-keys `perf-state-`,
        # saved on every run, pull requests included
        (
            [(READ_KEY, "perf-state-"), (SAVE_KEY, "perf-state-"), (SAVE_IF, "if: always()")],
            "restored pull request run 1",
        ),
        # keys by branch, but a pull request saves too
        ([(SAVE_IF, "if: always()")], "a pull request run saved 'perf-state-7/merge-200'"),
        # a pull request reads its own branch's keys: never main's baseline
        ([(READ_KEY, SAVE_KEY)], "restored nothing"),
    ],
)
def test_the_baseline_rule_catches(
    replacements: list[tuple[str, str]], expected: str, workflow_by_file: dict[str, Workflow]
) -> None:
    text = workflow_by_file[CI_PERF].text
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    problems = perf_baseline_problems(parse_workflow(text, CI_PERF))
    assert any(expected in problem for problem in problems), problems


def test_a_failed_nightly_opens_or_updates_the_regression_issue(
    workflow_by_file: dict[str, Workflow],
) -> None:
    wf = workflow_by_file[CI_PERF]
    assert set(wf.jobs) == {"perf", "notify"}
    notify = wf.jobs["notify"]
    assert notify.needs == ("perf",)
    assert notify.raw["if"] == "failure() && github.event_name != 'pull_request'"
    assert notify.permissions == {"contents": "read", "issues": "write"}
    found = job_session(notify)
    assert found is not None
    assert (found.session, found.posarg) == ("notify", "perf")
    assert found.step.env["GITHUB_TOKEN"] == "${{ github.token }}"  # noqa: S105
    assert uses_of(notify, "actions/cache") == []
