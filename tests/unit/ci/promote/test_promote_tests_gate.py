"""The tests gate's rule (``promote/tests_gate.py``, pure): of a commit's workflow runs as
GitHub's REST API lists them, the newest run of the required workflow on a push of exactly that
commit decides; other workflows, other commits and other events never count."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.core.environment import RunEnvironment, Secret
from vibevoice_ci.core.errors import EXIT_BAD_INPUT, UsageError
from vibevoice_ci.core.outcome import Status
from vibevoice_ci.promote import tests_gate
from vibevoice_ci.promote.reports import RequiredTests

WORKFLOW = "CI test"
COMMIT = "a" * 40
OTHER_COMMIT = "b" * 40
CONCLUSIONS = ("success", "failure", "cancelled", "timed_out", "skipped", "action_required")


def run(
    run_id: int,
    *,
    name: str = WORKFLOW,
    head_sha: str = COMMIT,
    event: str = "push",
    status: str = "completed",
    conclusion: str | None = "success",
    run_number: int | None = None,
    run_attempt: int = 1,
    created_at: str = "2026-12-01T10:00:00Z",
) -> dict[str, Any]:
    """One run as the API spells it (the fields the rule reads, and a few more)."""
    return {
        "id": run_id,
        "name": name,
        "node_id": f"WFR_{run_id}",
        "head_branch": "main",
        "head_sha": head_sha,
        "path": ".github/workflows/ci-test.yml",
        "event": event,
        "status": status,
        "conclusion": conclusion,
        "run_number": run_id if run_number is None else run_number,
        "run_attempt": run_attempt,
        "created_at": created_at,
        "html_url": f"https://github.com/o/r/actions/runs/{run_id}",
    }


runs_of_the_commit = st.builds(
    run,
    st.integers(1, 10_000),
    status=st.sampled_from(["completed", "completed", "in_progress", "queued"]),
    conclusion=st.sampled_from(CONCLUSIONS),
    run_attempt=st.integers(1, 3),
)
noise = st.builds(
    run,
    st.integers(1, 10_000),
    name=st.sampled_from([WORKFLOW, "CI build and push", "CI smoke test"]),
    head_sha=st.sampled_from([COMMIT, OTHER_COMMIT]),
    event=st.sampled_from(["push", "pull_request", "workflow_run", "schedule"]),
    conclusion=st.sampled_from(CONCLUSIONS),
).filter(lambda r: not (r["name"] == WORKFLOW and r["head_sha"] == COMMIT and r["event"] == "push"))


@settings(max_examples=200)
@given(mine=st.lists(runs_of_the_commit, max_size=6), others=st.lists(noise, max_size=8))
def test_the_newest_run_of_the_workflow_on_a_push_of_the_commit_decides(
    mine: list[dict[str, Any]], others: list[dict[str, Any]]
) -> None:
    gate = tests_gate.judge_runs([*others, *mine], workflow=WORKFLOW, commit=COMMIT)

    if not mine:
        assert (gate.status, gate.run) == ("fail", None)
        assert "untested" in gate.detail
        return
    newest = max(mine, key=lambda r: (r["run_number"], r["run_attempt"], r["created_at"], r["id"]))
    assert gate.run is not None
    assert gate.run.id == newest["id"]
    passed = newest["status"] == "completed" and newest["conclusion"] == "success"
    assert gate.status == ("pass" if passed else "fail")
    assert str(newest["id"]) in gate.detail
    assert newest["html_url"] in gate.detail


@settings(max_examples=200)
@given(others=st.lists(noise, max_size=10))
def test_other_workflows_commits_and_events_never_count(others: list[dict[str, Any]]) -> None:
    gate = tests_gate.judge_runs(others, workflow=WORKFLOW, commit=COMMIT)

    assert (gate.status, gate.run) == ("fail", None)


@settings(max_examples=100)
@given(order=st.permutations([0, 1, 2]))
def test_the_order_the_api_lists_the_runs_in_does_not_matter(order: list[int]) -> None:
    runs = [
        run(10, conclusion="failure"),
        run(11, conclusion="failure", run_attempt=1),
        run(11, conclusion="success", run_attempt=2),  # the re-run of 11 passed
    ]

    gate = tests_gate.judge_runs([runs[i] for i in order], workflow=WORKFLOW, commit=COMMIT)

    assert gate.status == "pass"
    assert gate.run is not None
    assert (gate.run.id, gate.run.run_attempt) == (11, 2)


def test_a_newer_failure_after_a_pass_fails_and_names_the_run() -> None:
    gate = tests_gate.judge_runs(
        [run(10, conclusion="success"), run(12, conclusion="failure")],
        workflow=WORKFLOW,
        commit=COMMIT,
    )

    assert gate.status == "fail"
    assert gate.detail == (
        f"'CI test' run 12 (#12, attempt 1) (https://github.com/o/r/actions/runs/12) of {COMMIT} "
        "concluded failure"
    )


def test_a_run_still_in_progress_fails_saying_to_run_the_job_again() -> None:
    gate = tests_gate.judge_runs(
        [run(10, status="in_progress", conclusion=None)], workflow=WORKFLOW, commit=COMMIT
    )

    assert gate.status == "fail"
    assert "is in_progress, not completed: run this job again" in gate.detail


def test_a_pull_request_run_of_the_same_head_does_not_count() -> None:
    gate = tests_gate.judge_runs([run(10, event="pull_request")], workflow=WORKFLOW, commit=COMMIT)

    assert (gate.status, gate.run) == ("fail", None)
    assert f"no 'CI test' run on a push of {COMMIT} (1 runs of it listed)" in gate.detail


def test_a_malformed_row_is_ignored_never_a_crash() -> None:
    rows: list[dict[str, Any]] = [{"name": WORKFLOW}, {"id": "x", "head_sha": COMMIT}, run(3)]

    gate = tests_gate.judge_runs(rows, workflow=WORKFLOW, commit=COMMIT)

    assert gate.status == "pass"


@pytest.mark.parametrize(
    ("commits", "expected"),
    [
        ([COMMIT, COMMIT], (COMMIT, "")),
        ([], (None, "no image to check")),
        ([COMMIT, None], (None, "an image carries no commit")),
        ([COMMIT, OTHER_COMMIT], (None, "the images name several commits")),
    ],
)
def test_the_commit_is_the_one_every_image_names(
    commits: list[str | None], expected: tuple[str | None, str]
) -> None:
    commit, why = tests_gate.the_commit(commits)

    assert commit == expected[0]
    assert why.startswith(expected[1])


def test_no_token_or_repository_is_unknown_without_asking() -> None:
    for env in (
        RunEnvironment(github_repository="o/r"),
        RunEnvironment(github_token=Secret("t")),
    ):
        gate = tests_gate.check_tests(env, WORKFLOW, COMMIT)
        assert gate.status == "unknown"
        assert "not set" in gate.detail


def test_a_skip_needs_a_reason_and_is_never_an_outcome() -> None:
    with pytest.raises(UsageError) as caught:
        tests_gate.check_tests(RunEnvironment(), WORKFLOW, COMMIT, skip=" ")
    assert caught.value.exit_code == EXIT_BAD_INPUT

    gate = tests_gate.check_tests(RunEnvironment(), WORKFLOW, COMMIT, skip="a local registry")

    assert (gate.status, gate.detail) == ("skipped", "--no-require-tests: a local registry")
    assert tests_gate.gate_outcome(gate) is None
    assert "NOT checked" in tests_gate.gate_note(gate)


@pytest.mark.parametrize(
    ("status", "ci", "stops"),
    [
        ("pass", True, False),
        ("fail", False, True),
        ("unknown", True, True),
        ("unknown", False, False),
        ("skipped", True, False),
    ],
)
def test_the_gate_stops_on_a_fail_and_on_an_unknown_under_ci(
    status: str, ci: bool, stops: bool
) -> None:
    gate = RequiredTests(status=status, workflow=WORKFLOW, commit=COMMIT, run=None, detail="")

    assert tests_gate.gate_stops(gate, ci=ci) is stops
    outcome = tests_gate.gate_outcome(gate)
    assert (outcome is None) == (status == "skipped")
    if outcome is not None:
        assert outcome.status is Status(status)


class FakeClock:
    """Time that passes only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _awaited(
    answers: list[list[dict[str, Any]]], wait: float, poll: float = 30.0
) -> tuple[RequiredTests, FakeClock, list[str], int]:
    """``await_verdict`` over ``answers`` (one per ask; the last repeats), a fake clock."""
    clock, said, asked = FakeClock(), [], [0]

    def fetch() -> list[dict[str, Any]]:
        asked[0] += 1
        return answers[min(asked[0], len(answers)) - 1]

    gate = tests_gate.await_verdict(
        fetch,
        workflow=WORKFLOW,
        commit=COMMIT,
        wait=wait,
        poll=poll,
        clock=clock,
        sleep=clock.sleep,
        say=said.append,
    )
    return gate, clock, said, asked[0]


def test_a_run_still_running_is_waited_for_and_then_trusted() -> None:
    queued = [run(10, status="queued", conclusion=None)]
    running = [run(10, status="in_progress", conclusion=None)]
    gate, clock, said, asked = _awaited([queued, running, running, [run(10)]], wait=2400)
    assert gate.status == "pass"
    assert gate.run is not None
    assert gate.run.id == 10
    assert asked == 4
    assert clock.slept == [30.0, 30.0, 30.0]
    url = "https://github.com/o/r/actions/runs/10"
    assert said[0] == (
        f"waiting for 'CI test' on {COMMIT[:12]} (run 10 (#10, attempt 1) ({url}) is queued): "
        "asking again in 30 s, 2400 s left of tests_wait_seconds"
    )
    assert f"(run 10 (#10, attempt 1) ({url}) is in_progress)" in said[1]
    assert said[1].endswith("asking again in 30 s, 2370 s left of tests_wait_seconds")


def test_a_commit_without_a_run_is_not_waited_for() -> None:
    # GitHub lists a push's run, queued, as soon as it starts it: none after the build is
    # an untested commit, and waiting would only delay the refusal.
    gate, clock, said, asked = _awaited([[run(9, head_sha=OTHER_COMMIT)]], wait=2400)
    assert gate.status == "fail"
    assert "its tests never ran" in gate.detail
    assert (clock.slept, said, asked) == ([], [], 1)


def test_a_run_still_running_when_the_wait_is_over_fails() -> None:
    running = [run(10, status="queued", conclusion=None)]
    gate, clock, _said, asked = _awaited([running], wait=70)
    assert gate.status == "fail"
    assert "is queued, not completed" in gate.detail
    assert clock.slept == [30.0, 30.0, 10.0]  # never past the wait
    assert clock.now == 70
    assert asked == 4


@pytest.mark.parametrize("conclusion", ["success", "failure"])
def test_a_concluded_run_is_judged_at_once(conclusion: str) -> None:
    gate, clock, said, asked = _awaited([[run(10, conclusion=conclusion)]], wait=2400)
    assert gate.status == ("pass" if conclusion == "success" else "fail")
    assert (clock.slept, said, asked) == ([], [], 1)


def test_without_a_wait_a_running_run_fails_at_once() -> None:
    gate, clock, said, asked = _awaited([[run(10, status="in_progress", conclusion=None)]], 0)
    assert gate.status == "fail"
    assert (clock.slept, said, asked) == ([], [], 1)


@settings(max_examples=100, deadline=None)
@given(
    pending=st.integers(0, 5),
    wait=st.integers(0, 300),
    poll=st.integers(1, 60),
    final=st.sampled_from(CONCLUSIONS),
)
def test_the_wait_is_bounded_and_the_concluded_run_decides(
    pending: int, wait: int, poll: int, final: str
) -> None:
    running = [run(10, status="in_progress", conclusion=None)]
    answers = [running] * pending + [[run(10, conclusion=final)]]
    gate, clock, said, asked = _awaited(answers, wait=wait, poll=poll)
    assert clock.now <= wait
    assert all(0 < seconds <= poll for seconds in clock.slept)
    assert len(said) == len(clock.slept) == asked - 1
    if asked == pending + 1:  # it saw the run conclude
        assert gate.status == ("pass" if final == "success" else "fail")
    else:  # the wait ran out first
        assert gate.status == "fail"
        assert clock.now == wait
