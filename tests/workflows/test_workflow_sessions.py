"""Local equals CI: every job runs exactly one nox session, and every session has a job.

The sessions come from the noxfile itself (``nox -l --json``), so adding a session means
adding the workflow that runs it (or naming it in LOCAL_ONLY_SESSIONS with a reason), and
adding a workflow needs no change here.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from vibevoice_ci.workflows import (
    NoxSession,
    Workflow,
    job_nox_invocations,
    job_sessions,
)

MakeWorkflow = Callable[..., Workflow]

# Sessions that exist for contributors only and deliberately have no CI job. Keep it short:
# each entry needs a reason, and the test below fails if an entry is stale.
LOCAL_ONLY_SESSIONS: dict[str, str] = {
    # "fmt": "rewrites files in place; CI checks formatting in `lint` instead",
}
# Sessions the first milestone must have (the seed's ci-test, ci-build-push, ci-smoke-test).
MILESTONE_ONE_SESSIONS = {"lint", "tests", "build", "smoke"}


def session_problems(wf: Workflow, known: set[str]) -> list[str]:
    """Each job runs nox exactly once, naming exactly one known session, by ``-s``."""
    problems: list[str] = []
    for job in wf.jobs.values():
        if job.uses is not None:
            problems.append(f"job {job.id}: calls a reusable workflow instead of nox -s")
            continue
        invocations = job_nox_invocations(wf, job)
        sessions = job_sessions(wf, job)
        where = f"job {job.id}"
        if len(invocations) != 1:
            problems.append(f"{where}: runs nox {len(invocations)} times (must be exactly once)")
            continue
        (_, invocation) = invocations[0]
        if invocation.selectors:
            problems.append(f"{where}: selects sessions with {invocation.selectors} (use -s)")
        if len(sessions) != 1:
            problems.append(f"{where}: names {len(sessions)} sessions (must be exactly one)")
            continue
        session = sessions[0]
        if session.resolved is None:
            problems.append(f"{where}: {session.written!r} uses a variable no env: block sets")
        elif session.resolved not in known:
            problems.append(f"{where}: session {session.resolved!r} is not in `nox -l --json`")
    return problems


def sessions_run_by(workflows: list[Workflow]) -> dict[str, list[str]]:
    """Which jobs run which session: ``{session: ["file.yml:job", ...]}``."""
    run: dict[str, list[str]] = {}
    for wf in workflows:
        for job in wf.jobs.values():
            for session in job_sessions(wf, job):
                if session.resolved:
                    run.setdefault(session.resolved, []).append(f"{wf.path.name}:{job.id}")
    return run


def _names(sessions: list[NoxSession]) -> set[str]:
    # `nox -s tests` selects every parametrisation of `tests`, and `nox -s tests-3.11` one.
    return {s.name for s in sessions} | {s.session for s in sessions}


def test_nox_lists_the_milestone_sessions(nox_all_sessions: list[NoxSession]) -> None:
    assert _names(nox_all_sessions) >= MILESTONE_ONE_SESSIONS
    assert all(s.description for s in nox_all_sessions), "every session needs a docstring"


def test_default_listing_is_part_of_the_full_listing(
    nox_default_sessions: list[NoxSession], nox_all_sessions: list[NoxSession]
) -> None:
    assert _names(nox_default_sessions) <= _names(nox_all_sessions)


def test_every_job_runs_exactly_one_listed_session(
    workflows: list[Workflow], nox_all_sessions: list[NoxSession]
) -> None:
    known = _names(nox_all_sessions)
    problems = [f"{wf.path.name}: {p}" for wf in workflows for p in session_problems(wf, known)]
    assert problems == []


def test_every_session_has_a_job(
    workflows: list[Workflow], nox_all_sessions: list[NoxSession]
) -> None:
    run = sessions_run_by(workflows)
    missing = sorted(
        s.name for s in nox_all_sessions if s.name not in run and s.name not in LOCAL_ONLY_SESSIONS
    )
    assert missing == [], (
        f"sessions without a CI job: {missing}; add a workflow job that runs "
        "`nox -s <session>`, or add the session to LOCAL_ONLY_SESSIONS with a reason"
    )


def test_local_only_sessions_are_current(
    workflows: list[Workflow], nox_all_sessions: list[NoxSession]
) -> None:
    names = {s.name for s in nox_all_sessions}
    run = sessions_run_by(workflows)
    assert [s for s in LOCAL_ONLY_SESSIONS if s not in names] == [], "no longer in the noxfile"
    assert {s: run[s] for s in LOCAL_ONLY_SESSIONS if s in run} == {}, "has a job after all"
    assert all(reason.strip() for reason in LOCAL_ONLY_SESSIONS.values())


KNOWN = {"tests", "build"}


@pytest.mark.parametrize(
    ("replacements", "expected"),
    [
        ([('run: nox -s "$NOX_SESSION"', 'run: nox -s "$NOX_SESSION" && nox -s build')], "2 times"),
        ([('run: nox -s "$NOX_SESSION"', "run: nox -s tests build")], "2 sessions"),
        ([('run: nox -s "$NOX_SESSION"', "run: nox")], "0 sessions"),
        ([('run: nox -s "$NOX_SESSION"', "run: echo nothing")], "0 times"),
        ([('run: nox -s "$NOX_SESSION"', "run: nox -t check")], "selects sessions"),
        ([('run: nox -s "$NOX_SESSION"', 'run: nox -s "$SESSION"')], "no env: block"),
        ([("NOX_SESSION: tests", "NOX_SESSION: typo")], "'typo' is not in"),
    ],
)
def test_session_rule_catches(
    replacements: list[tuple[str, str]], expected: str, make_workflow: MakeWorkflow
) -> None:
    problems = session_problems(make_workflow(*replacements), KNOWN)
    assert any(expected in p for p in problems), problems


def test_session_rule_accepts_the_spellings(make_workflow: MakeWorkflow) -> None:
    for run in (
        "nox -s tests",
        "python -m nox --session tests",
        'nox --sessions="$NOX_SESSION" -- -x',
        "NOX_DEFAULT_VENV_BACKEND=uv nox -e ${NOX_SESSION}",
    ):
        wf = make_workflow(('run: nox -s "$NOX_SESSION"', f"run: {run}"))
        assert session_problems(wf, KNOWN) == [], run


def test_coverage_notices_a_session_without_a_job(make_workflow: MakeWorkflow) -> None:
    run = sessions_run_by([make_workflow()])
    assert run == {"tests": ["example.yml:test"]}
    assert "build" not in run
