"""Only tested commits move or are signed: the commit's run of the required workflow (``CI
test``, ``required_workflow`` in ``[tool.vibevoice-ci.promote]`` and ``.sign``) must have
concluded success.

GitHub's REST API lists the workflow runs of a commit (``GET
/repos/{repository}/actions/runs?head_sha={sha}``, with ``$GITHUB_TOKEN``, at
``$GITHUB_API_URL``). :func:`judge_runs` is the rule (pure): of the runs named as the required
workflow, on a push of exactly that commit (a pull request's run tested a merge, not the
commit), the newest (run number, then attempt, then creation time) decides: success passes;
any other conclusion, a run not completed, or no such run fails, naming the run. An API that
cannot be asked (no token, no repository, no answer; ``$GITHUB_API_URL`` defaults to
api.github.com) is unknown, as is a commit nobody knows;
under CI unknown fails (``core.outcome.unknown_fails``). ``--no-require-tests REASON`` skips the
check, recorded with its reason.

GitHub starts the required workflow beside the build, so when the build's follow-up asks, the
run may still be queued or running: :func:`await_verdict` asks again every
``POLL_SECONDS`` until it has concluded or ``tests_wait_seconds`` have passed, saying each time
what it waits for; then the verdict is the rule's (a run still not completed fails).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from vibevoice_ci.core.environment import RunEnvironment
from vibevoice_ci.core.errors import ToolFailedError, UsageError
from vibevoice_ci.core.outcome import Outcome, Status, unknown_fails
from vibevoice_ci.core.progress import progress
from vibevoice_ci.core.retry import RetryLog
from vibevoice_ci.promote.reports import RequiredTests, TrustedRun
from vibevoice_ci.tools.github import GitHub

TESTED_EVENT = "push"  # a pull_request run's head_sha is the PR head, but it tested a merge
SKIP_FLAG = "--no-require-tests"
POLL_SECONDS = 30.0


def trusted_run(row: Mapping[str, Any]) -> TrustedRun | None:
    """One run as the API lists it, or None when a field the rule needs is missing (pure)."""
    try:
        return TrustedRun(
            id=int(row["id"]),
            name=str(row.get("name") or ""),
            head_sha=str(row["head_sha"]),
            event=str(row.get("event") or ""),
            run_number=int(row.get("run_number") or 0),
            run_attempt=int(row.get("run_attempt") or 1),
            status=str(row.get("status") or ""),
            conclusion=str(row["conclusion"]) if row.get("conclusion") else None,
            created_at=str(row.get("created_at") or ""),
            html_url=str(row.get("html_url") or ""),
        )
    except (KeyError, TypeError, ValueError):
        return None


def newest_run(
    rows: Iterable[Mapping[str, Any]], *, workflow: str, commit: str
) -> TrustedRun | None:
    """The newest run of ``workflow`` on a push of ``commit`` among ``rows`` (pure); other
    workflows, other commits and other events never count."""
    runs = [run for run in map(trusted_run, rows) if run is not None]
    mine = [
        run
        for run in runs
        if run.name == workflow and run.head_sha == commit and run.event == TESTED_EVENT
    ]
    if not mine:
        return None
    return max(mine, key=lambda run: (run.run_number, run.run_attempt, run.created_at, run.id))


def _named(run: TrustedRun) -> str:
    where = f" ({run.html_url})" if run.html_url else ""
    return f"run {run.id} (#{run.run_number}, attempt {run.run_attempt}){where}"


def judge_runs(rows: Sequence[Mapping[str, Any]], *, workflow: str, commit: str) -> RequiredTests:
    """The gate's verdict for ``commit`` from the API's ``rows`` (the module docstring's rule;
    pure)."""
    run = newest_run(rows, workflow=workflow, commit=commit)
    if run is None:
        return RequiredTests(
            status="fail",
            workflow=workflow,
            commit=commit,
            run=None,
            detail=f"no {workflow!r} run on a push of {commit} ({len(rows)} runs of it listed): "
            "its tests never ran, so it is untested",
        )
    if run.status != "completed":
        return RequiredTests(
            status="fail",
            workflow=workflow,
            commit=commit,
            run=run,
            detail=f"{workflow!r} {_named(run)} of {commit} is {run.status or 'not completed'}, "
            "not completed: run this job again once it has concluded",
        )
    passed = run.conclusion == "success"
    return RequiredTests(
        status="pass" if passed else "fail",
        workflow=workflow,
        commit=commit,
        run=run,
        detail=f"{workflow!r} {_named(run)} of {commit} concluded {run.conclusion or 'nothing'}",
    )


def await_verdict(
    fetch: Callable[[], Sequence[Mapping[str, Any]]],
    *,
    workflow: str,
    commit: str,
    wait: float,
    poll: float = POLL_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    say: Callable[[str], None] = progress,
) -> RequiredTests:
    """Judge ``fetch()``'s runs, asking again every ``poll`` s while the newest such run is
    listed and not completed,
    for at most ``wait`` s; each wait is said (``say``) with the time left."""
    deadline = clock() + wait
    while True:
        rows = fetch()
        verdict = judge_runs(rows, workflow=workflow, commit=commit)
        left = deadline - clock()
        run = verdict.run  # the newest such run, which decided the verdict
        # No run at all is not waited for: GitHub lists a push's run, queued, as soon as the
        # push starts it, so a commit without one after its build is untested.
        if run is None or run.status == "completed" or left <= 0:
            return verdict
        say(
            f"waiting for {workflow!r} on {commit[:12]} ({_named(run)} is "
            f"{run.status or 'not completed'}): asking again in "
            f"{min(poll, left):.0f} s, {left:.0f} s left of tests_wait_seconds"
        )
        sleep(min(poll, left))


def unknown_gate(workflow: str, commit: str | None, why: str) -> RequiredTests:
    """The gate when it cannot be decided (pure)."""
    return RequiredTests(status="unknown", workflow=workflow, commit=commit, run=None, detail=why)


def skip_problem(reason: str | None) -> str | None:
    """Why ``--no-require-tests REASON`` is unusable (a blank reason), else None (pure)."""
    if reason is not None and not reason.strip():
        return f"{SKIP_FLAG} needs a reason (why this run may skip the tests gate)"
    return None


def skipped_gate(workflow: str, commit: str | None, reason: str) -> RequiredTests:
    """The gate skipped by ``--no-require-tests REASON`` (pure); a blank reason is exit 2."""
    problem = skip_problem(reason)
    if problem:
        raise UsageError(problem)
    return RequiredTests(
        status="skipped",
        workflow=workflow,
        commit=commit,
        run=None,
        detail=f"{SKIP_FLAG}: {reason.strip()}",
    )


def the_commit(commits: Iterable[str | None]) -> tuple[str | None, str]:
    """The one commit the images were built from, or None and why not (pure)."""
    found = set(commits)
    if not found:
        return None, "no image to check"
    if None in found or "" in found:
        return None, "an image carries no commit (org.opencontainers.image.revision / git_sha)"
    if len(found) > 1:
        return None, f"the images name several commits ({', '.join(sorted(map(str, found)))})"
    return str(next(iter(found))), ""


def check_tests(
    env: RunEnvironment,
    workflow: str,
    commit: str | None,
    *,
    why_no_commit: str = "",
    skip: str | None = None,
    log: RetryLog | None = None,
    wait: float = 0.0,
) -> RequiredTests:
    """Ask GitHub's REST API for ``commit``'s runs and judge them, waiting up to ``wait`` s for
    a run not yet concluded (the edge of this module)."""
    if skip is not None:
        return skipped_gate(workflow, commit, skip)
    if commit is None:
        return unknown_gate(workflow, None, f"which commit to check is unknown: {why_no_commit}")
    missing = [
        name
        for name, value in (
            ("GITHUB_TOKEN", env.github_token),
            ("GITHUB_REPOSITORY", env.github_repository),
        )
        if not value
    ]
    if env.github_token is None or not env.github_repository:
        return unknown_gate(
            workflow,
            commit,
            f"GitHub's REST API cannot be asked for {commit}'s runs: {', '.join(missing)} not "
            f"set ({SKIP_FLAG} REASON skips the check, saying why)",
        )
    api = GitHub(env.github_api_url, env.github_repository, env.github_token, log or RetryLog())
    try:
        return await_verdict(
            lambda: api.workflow_runs(commit), workflow=workflow, commit=commit, wait=wait
        )
    except ToolFailedError as exc:
        return unknown_gate(workflow, commit, f"the workflow runs of {commit}: {exc}")


def gate_outcome(gate: RequiredTests) -> Outcome | None:
    """The gate as a session's check; None when skipped (a note says so instead)."""
    if gate.status == "skipped":
        return None
    short = gate.commit[:12] if gate.commit else "the commit"
    return Outcome(f"{gate.workflow} of {short}", Status(gate.status), gate.detail)


def gate_note(gate: RequiredTests) -> str:
    """The summary's line about the gate (the run trusted, or the skip and its reason)."""
    if gate.status == "skipped":
        return f"tests gate SKIPPED ({gate.detail}): the commit's tests were NOT checked"
    if gate.status == "pass" and gate.run is not None:
        return f"trusted {gate.workflow!r} run {gate.run.id}: {gate.run.html_url or 'no URL'}"
    return f"tests gate {gate.status}: {gate.detail}"


def gate_stops(gate: RequiredTests, *, ci: bool) -> bool:
    """Whether the gate stops the session before anything moves or is signed: a fail, or an
    unknown where unknown fails (under CI)."""
    return gate.status == "fail" or (gate.status == "unknown" and unknown_fails(ci=ci))
