"""Local equals CI: every job runs exactly one nox session, and every session has a job.

The sessions come from the noxfile itself (``nox -l --json``), so adding a session means
adding the workflow that runs it (or naming it in LOCAL_ONLY_SESSIONS with a reason), and
adding a workflow needs no change here.
"""

from __future__ import annotations

import pytest
from workflow_model import (
    NOX_RUN,
    NOX_RUN_WITH_POSARG,
    NOX_RUNS,
    MakeWorkflow,
    NoxSession,
    Workflow,
    has_expression,
    job_session,
    mentions_nox,
)

# Sessions that exist for contributors only and deliberately have no CI job. Keep it short:
# each entry needs a reason, and the test below fails if an entry is stale.
LOCAL_ONLY_SESSIONS: dict[str, str] = {
    "report": "gathers every session's reports of one run into one page; CI shows each job's "
    "own summary and artifacts instead, and the page is for a local run (.ci/run ends with it)",
    "workflows": "runs the workflow files themselves through act on this machine; a workflow "
    "job running it would be GitHub running a GitHub runner inside itself",
    "mutation": "a habit for the gate modules' tests, run by hand when they change: a few "
    "minutes per module on two cores, and what it finds is a test to write, not a build to stop",
}
# Sessions the first milestone must have (the seed's ci-test, ci-build-push, ci-smoke-test).
MILESTONE_ONE_SESSIONS = {"lint", "tests", "build", "smoke"}


def session_problems(wf: Workflow, known: set[str]) -> list[str]:
    """Each job has one step that mentions nox, it is an exact nox line, and its ``env:``
    names one known session (and, for the posarg form, a literal posarg)."""
    problems: list[str] = []
    for job in wf.jobs.values():
        where = f"job {job.id}"
        if job.uses is not None:
            problems.append(f"{where}: calls a reusable workflow instead of nox -s")
            continue
        steps = [step for step in job.steps if mentions_nox(step)]
        if len(steps) != 1:
            problems.append(f"{where}: {len(steps)} steps mention nox (must be exactly one)")
            continue
        (step,) = steps
        if (step.run or "").strip() not in NOX_RUNS:
            problems.append(
                f"{where}: {step.label}: run: must be exactly `{NOX_RUN}` or "
                f"`{NOX_RUN_WITH_POSARG}`, not {step.run!r}"
            )
            continue
        found = job_session(job)
        assert found is not None  # one step, an exact line: the model agrees
        if found.session is None:
            problems.append(f"{where}: the nox step's env: does not set NOX_SESSION")
        elif found.session not in known:
            problems.append(f"{where}: session {found.session!r} is not in `nox -l --json`")
        if found.posarg is not None and (not found.posarg or has_expression(found.posarg)):
            problems.append(f"{where}: NOX_POSARG {found.posarg!r} is not a literal")
        elif (step.run or "").strip() == NOX_RUN_WITH_POSARG and found.posarg is None:
            problems.append(f"{where}: the nox step's env: does not set NOX_POSARG")
        elif (step.run or "").strip() == NOX_RUN and "NOX_POSARG" in step.env:
            problems.append(f"{where}: NOX_POSARG is set but the run: line does not pass it")
    return problems


def sessions_run_by(workflows: list[Workflow]) -> dict[str, list[str]]:
    """Which jobs run which session: ``{session: ["file.yml:job", ...]}``."""
    run: dict[str, list[str]] = {}
    for wf in workflows:
        for job in wf.jobs.values():
            found = job_session(job)
            if found is not None and found.session:
                run.setdefault(found.session, []).append(f"{wf.path.name}:{job.id}")
    return run


def _names(sessions: list[NoxSession]) -> set[str]:
    # `nox -s tests` selects every parametrisation of `tests`, and `nox -s tests-3.11` one.
    return {s.name for s in sessions} | {s.session for s in sessions}


def test_a_bare_nox_runs_only_the_fast_checks(nox_default_sessions: list[NoxSession]) -> None:
    # Image builds and the smoke stack run when named (`nox -s build`), never by a bare `nox`.
    assert _names(nox_default_sessions) == {"lint", "tests"}


def test_no_session_pins_a_python(nox_all_sessions: list[NoxSession]) -> None:
    # Sessions run on the Python that runs nox (checked against pyproject's classifiers), so
    # the README's commands work on whichever supported Python a contributor has.
    assert [s.name for s in nox_all_sessions if s.python is not None] == []


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
RUN = f"run: {NOX_RUN}"
SESSION_ENV = "          NOX_SESSION: tests\n"
EMPTY_POSARG = "          NOX_POSARG: ''\n"
REUSABLE_CALL = "  x:\n    uses: o/r/.github/workflows/w.yml@v1\n"


@pytest.mark.parametrize(
    ("replacements", "expected"),
    [
        ([(RUN, f"{RUN} && nox -s build")], "must be exactly"),
        ([(RUN, "run: nox -s tests build")], "must be exactly"),
        ([(RUN, "run: nox -s tests")], "must be exactly"),
        ([(RUN, 'run: python -m nox -s "$NOX_SESSION"')], "must be exactly"),
        ([(RUN, "run: nox")], "must be exactly"),
        ([(RUN, "run: nox -t check")], "must be exactly"),
        ([(RUN, f"run: {NOX_RUN} -- --push")], "must be exactly"),
        ([(RUN, "run: echo nothing")], "0 steps mention nox"),
        ([(RUN, f"run: |\n          {NOX_RUN}\n          {NOX_RUN}")], "must be exactly"),
        (
            [("      - if: always()\n", f"      - {RUN}\n      - if: always()\n")],
            "2 steps mention nox",
        ),
        ([(SESSION_ENV, "          SESSION: tests\n")], "does not set NOX_SESSION"),
        ([("NOX_SESSION: tests", "NOX_SESSION: typo")], "'typo' is not in"),
        (
            [("NOX_SESSION: tests", "NOX_SESSION: ${{ github.head_ref }}")],
            "is not in `nox -l --json`",
        ),
        ([(RUN, f"run: {NOX_RUN_WITH_POSARG}")], "does not set NOX_POSARG"),
        (
            [
                (RUN, f"run: {NOX_RUN_WITH_POSARG}"),
                (SESSION_ENV, SESSION_ENV + "          NOX_POSARG: ''\n"),
            ],
            "is not a literal",
        ),
        ([(SESSION_ENV, SESSION_ENV + "          NOX_POSARG: -x\n")], "does not pass it"),
        (
            [
                (
                    "jobs:\n  test:\n",
                    "jobs:\n  x:\n    uses: o/r/.github/workflows/w.yml@v1\n  test:\n",
                )
            ],
            "reusable",
        ),
    ],
)
def test_session_rule_catches(
    replacements: list[tuple[str, str]], expected: str, make_workflow: MakeWorkflow
) -> None:
    problems = session_problems(make_workflow(*replacements), KNOWN)
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize("run", [f"run: {NOX_RUN}", f"run: |\n          {NOX_RUN}\n"])
def test_session_rule_accepts_the_plain_line(run: str, make_workflow: MakeWorkflow) -> None:
    wf = make_workflow((RUN, run))
    assert session_problems(wf, KNOWN) == []
    found = job_session(wf.jobs["test"])
    assert found is not None
    assert (found.session, found.posarg) == ("tests", None)


def test_session_rule_accepts_a_posarg_from_env(make_workflow: MakeWorkflow) -> None:
    wf = make_workflow(
        (RUN, f"run: {NOX_RUN_WITH_POSARG}"),
        (SESSION_ENV, SESSION_ENV + "          NOX_POSARG: --push\n"),
    )
    assert session_problems(wf, KNOWN) == []
    found = job_session(wf.jobs["test"])
    assert found is not None
    assert (found.session, found.posarg) == ("tests", "--push")


def test_coverage_notices_a_session_without_a_job(make_workflow: MakeWorkflow) -> None:
    run = sessions_run_by([make_workflow()])
    assert run == {"tests": ["example.yml:test"]}
    assert "build" not in run


FAILURE_ON_MAIN = "failure() && github.event_name == 'push' && github.ref == 'refs/heads/main'"


def test_a_failure_on_main_is_notified_by_a_job_that_alone_sees_the_webhook(
    workflow_by_file: dict[str, Workflow],
) -> None:
    for name, needs in (("ci-test.yml", ("lint", "test")), ("ci-build-push.yml", ("build",))):
        wf = workflow_by_file[name]
        notify = wf.jobs["notify"]
        assert notify.needs == needs, name
        assert notify.raw["if"] == FAILURE_ON_MAIN, name
        assert notify.permissions == {"contents": "read"}, name
        found = job_session(notify)
        assert found is not None
        assert (found.session, found.posarg) == ("notify", "failure")
        assert found.step.env["SLACK_WEBHOOK_URL"] == "${{ secrets.SLACK_WEBHOOK_URL }}"
        assert found.step.env["VIBEVOICE_NEEDS"] == "${{ toJSON(needs) }}"
        others = [job for job_id, job in wf.jobs.items() if job_id != "notify"]
        assert all("SLACK_WEBHOOK_URL" not in str(job.raw) for job in others), name
        assert wf.text.count("secrets.SLACK_WEBHOOK_URL") == 1, name
