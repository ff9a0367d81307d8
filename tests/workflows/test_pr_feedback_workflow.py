"""ci-pr-feedback.yml: when "CI test" finishes on a pull request from this repository, the
failure-comment job runs for a failure and for a success (a success turns the earlier red
comment green; the notify session never creates one for it), and hands the session the run's
conclusion; it does not run for other conclusions, other workflows, or forks.

The jobs' ``if:`` and ``env:`` are evaluated for each event (expressions.py), as GitHub would.
"""

from __future__ import annotations

from typing import Any

import pytest
from expressions import render, step_runs
from workflow_model import Job, Workflow, job_session, parse_workflow

FILE = "ci-pr-feedback.yml"
REPOSITORY = "owner/repo"


def workflow_run_event(
    name: str, conclusion: str, head_repository: str = REPOSITORY
) -> dict[str, Any]:
    """The `github` context of a workflow_run event about a pull request's run."""
    return {
        "github": {
            "event_name": "workflow_run",
            "repository": REPOSITORY,
            "token": "***",
            "event": {
                "workflow_run": {
                    "id": 4242,
                    "name": name,
                    "event": "pull_request",
                    "conclusion": conclusion,
                    "head_sha": "a" * 40,
                    "head_repository": {"full_name": head_repository},
                    "pull_requests": [{"number": 12}],
                }
            },
        }
    }


def _runs(job: Job, context: dict[str, Any]) -> bool:
    return step_runs(str(job.raw.get("if") or ""), context)


def _session_env(job: Job, context: dict[str, Any]) -> dict[str, str]:
    found = job_session(job)
    assert found is not None
    return {key: render(value, context) for key, value in found.step.env.items()}


def feedback_problems(wf: Workflow) -> list[str]:
    """Which jobs run for which finished "CI test" run, and what the comment job is told."""
    job = wf.jobs["failure-comment"]
    problems: list[str] = []
    for conclusion in ("failure", "success"):
        context = workflow_run_event("CI test", conclusion)
        if not _runs(job, context):
            problems.append(f"failure-comment does not run for a CI test {conclusion}")
            continue
        env = _session_env(job, context)
        if env.get("VIBEVOICE_REPORTED_CONCLUSION") != conclusion:
            problems.append(
                f"for a {conclusion} the session is told VIBEVOICE_REPORTED_CONCLUSION="
                f"{env.get('VIBEVOICE_REPORTED_CONCLUSION')!r}"
            )
        if env.get("VIBEVOICE_PR_NUMBER") != "12":
            problems.append("the session is not told the pull request's number")
    for context, what in (
        (workflow_run_event("CI test", "cancelled"), "a cancelled run"),
        (workflow_run_event("CI test", "failure", head_repository="fork/repo"), "a fork's run"),
        (workflow_run_event("CI performance", "failure"), "a CI performance run"),
    ):
        if _runs(job, context):
            problems.append(f"failure-comment runs for {what}")
    return problems


@pytest.fixture(scope="module")
def feedback(workflow_by_file: dict[str, Workflow]) -> Workflow:
    return workflow_by_file[FILE]


def test_a_passed_run_reaches_the_comment_job_with_its_conclusion(feedback: Workflow) -> None:
    assert feedback_problems(feedback) == []


@pytest.mark.parametrize(
    ("replacements", "expected"),
    [
        # main's file: failures only, no conclusion passed on
        (
            [
                (
                    "      (github.event.workflow_run.conclusion == 'success' ||\n"
                    "      github.event.workflow_run.conclusion == 'failure')\n",
                    "      github.event.workflow_run.conclusion == 'failure'\n",
                ),
                (
                    "          VIBEVOICE_REPORTED_CONCLUSION: "
                    "${{ github.event.workflow_run.conclusion }}\n",
                    "",
                ),
            ],
            "does not run for a CI test success",
        ),
        (
            [
                (
                    "          VIBEVOICE_REPORTED_CONCLUSION: "
                    "${{ github.event.workflow_run.conclusion }}\n",
                    "",
                )
            ],
            "VIBEVOICE_REPORTED_CONCLUSION=None",
        ),
        (
            [
                (
                    "      (github.event.workflow_run.conclusion == 'success' ||\n"
                    "      github.event.workflow_run.conclusion == 'failure')\n",
                    "      github.event.workflow_run.conclusion != 'skipped'\n",
                )
            ],
            "runs for a cancelled run",
        ),
    ],
)
def test_the_feedback_rule_catches(
    replacements: list[tuple[str, str]], expected: str, feedback: Workflow
) -> None:
    text = feedback.text
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    problems = feedback_problems(parse_workflow(text, feedback.path))
    assert any(expected in p for p in problems), problems
