"""Artifacts handed from one workflow run to its ``workflow_run`` follow-up (issue 17, part C:
"an artifact name or path that differs between ci-build-push and ci-smoke-test").

A follow-up downloads the triggering run's artifacts by name (or pattern), with that run's id.
A name the triggering workflow never uploads fails only on GitHub, after the build; a path that
differs puts the reports where the follow-up's session does not read them. The rule reads both
files: every such download names (or matches) an artifact some workflow the follow-up names
uploads, and a download by name unpacks at the path it was uploaded from.
"""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase

import pytest
from workflow_model import Step, Workflow, parse_workflow, uses_of

FROM_TRIGGER = "github.event.workflow_run.id"
EXPRESSION = "${{"


def _uploads(wf: Workflow) -> list[Step]:
    return [s for job in wf.jobs.values() for s in uses_of(job, "actions/upload-artifact")]


def _followed(wf: Workflow, by_name: dict[str, Workflow]) -> list[Workflow]:
    names = wf.triggers.get("workflow_run", {}).get("workflows", [])
    return [by_name[name] for name in names if isinstance(name, str) and name in by_name]


def _path(step: Step) -> str:
    return str(step.with_.get("path", "")).strip().rstrip("/")


def cross_run_artifact_problems(workflows: Sequence[Workflow]) -> list[str]:
    """Each download of a triggering run's artifact matches an upload of a workflow it follows."""
    by_name = {wf.name: wf for wf in workflows if wf.name}
    problems: list[str] = []
    for wf in workflows:
        sources = _followed(wf, by_name)
        uploads = [(source, step) for source in sources for step in _uploads(source)]
        for job in wf.jobs.values():
            for step in uses_of(job, "actions/download-artifact"):
                if FROM_TRIGGER not in str(step.with_.get("run-id", "")):
                    continue  # an artifact of this run, not of the one it follows
                where = f"{wf.path.name} job {job.id}: {step.label}"
                name = step.with_.get("name")
                pattern = step.with_.get("pattern")
                if name is not None:
                    same = [(s, u) for s, u in uploads if u.with_.get("name") == name]
                    if not same:
                        followed = ", ".join(s.path.name for s in sources) or "nothing"
                        problems.append(f"{where}: no upload of {name!r} in {followed}")
                    elif all(_path(u) != _path(step) for _, u in same):
                        paths = sorted({_path(u) for _, u in same})
                        problems.append(
                            f"{where}: {name!r} unpacked at {_path(step)!r}, uploaded from {paths}"
                        )
                elif pattern is not None:
                    names = [str(u.with_.get("name", "")) for _, u in uploads]
                    if not any(fnmatchcase(n.split(EXPRESSION)[0], str(pattern)) for n in names):
                        problems.append(f"{where}: pattern {pattern!r} matches no upload")
    return problems


def test_every_follow_up_downloads_what_its_trigger_uploads(workflows: list[Workflow]) -> None:
    assert cross_run_artifact_problems(workflows) == []
    followed = [wf.path.name for wf in workflows if "workflow_run" in wf.triggers]
    assert "ci-smoke-test.yml" in followed  # the rule has the release chain to check


BUILD = "ci-build-push.yml"
SMOKE = "ci-smoke-test.yml"


@pytest.mark.parametrize(
    ("file", "old", "new", "problem"),
    [
        (BUILD, "name: reports-build", "name: reports-builds", "no upload of 'reports-build'"),
        (SMOKE, "name: reports-build", "name: build-reports", "no upload of 'build-reports'"),
        (SMOKE, "path: reports/build/", "path: reports/", "unpacked at 'reports'"),
    ],
)
def test_a_renamed_or_moved_artifact_between_build_and_smoke_is_caught(
    workflows: list[Workflow],
    file: str,
    old: str,
    new: str,
    problem: str,
) -> None:
    (original,) = [wf for wf in workflows if wf.path.name == file]
    assert old in original.text
    planted = parse_workflow(original.text.replace(old, new, 1), original.path)
    others = [wf for wf in workflows if wf.path.name != file]
    problems = cross_run_artifact_problems([*others, planted])
    assert any(problem in line for line in problems), problems
