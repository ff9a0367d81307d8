"""The event payloads the harness writes for act (events.py): every field a workflow file reads
from ``github.event`` is there, with the values of the run it describes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.workflows import events

ROOT = Path(__file__).resolve().parents[4]
REPOSITORY = events.Repository("owner/project")
SHA = "a" * 40
FINISHED = events.FinishedRun(
    workflow_name="CI test",
    run_id=1001,
    event="pull_request",
    head_sha=SHA,
    head_branch="feature/change",
    conclusion="failure",
    pull_request_number=7,
)


def _resolve(payload: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(payload, list):
            payload = payload[0] if payload else None
        assert isinstance(payload, dict), f"{path}: {part!r} is under a non-object"
        assert part in payload, f"{path}: no {part!r} in the payload"
        payload = payload[part]
    return payload


def _read_paths() -> set[str]:
    """Every ``github.event.<path>`` the workflow files read (up to the first ``[`` or ``*``)."""
    found: set[str] = set()
    for path in (ROOT / ".github" / "workflows").glob("*.yml"):
        for match in re.findall(r"github\.event\.([A-Za-z_][A-Za-z0-9_.]*)", path.read_text()):
            found.add(match.rstrip("."))
    return found


def test_the_workflows_read_event_fields() -> None:
    assert {"workflow_run.id", "workflow_run.head_sha", "pull_request.number"} <= _read_paths()


@pytest.mark.parametrize("path", sorted(_read_paths()))
def test_every_field_a_workflow_reads_is_in_the_payload(path: str) -> None:
    payloads = {
        "workflow_run": events.workflow_run(REPOSITORY, FINISHED),
        "pull_request": events.pull_request(REPOSITORY, number=7, head_sha=SHA, labels=("perf",)),
    }
    _resolve(payloads[path.split(".", 1)[0]], path)


def test_workflow_run_carries_the_finished_run() -> None:
    run = events.workflow_run(REPOSITORY, FINISHED)["workflow_run"]
    assert run["id"] == 1001
    assert run["head_sha"] == SHA
    assert run["conclusion"] == "failure"
    assert run["name"] == "CI test"
    assert run["event"] == "pull_request"
    assert run["pull_requests"] == [{"number": 7}]
    assert run["head_repository"]["full_name"] == "owner/project"


def test_a_run_without_a_pull_request_lists_none() -> None:
    finished = events.FinishedRun("CI build", 1002, "push", SHA, "main", "success")
    assert events.workflow_run(REPOSITORY, finished)["workflow_run"]["pull_requests"] == []


def test_pull_request_labels_are_objects_with_a_name() -> None:
    payload = events.pull_request(REPOSITORY, number=3, head_sha=SHA, labels=("perf", "docs"))
    assert payload["pull_request"]["labels"] == [{"name": "perf"}, {"name": "docs"}]
    assert payload["number"] == payload["pull_request"]["number"] == 3
    assert payload["pull_request"]["head"]["sha"] == SHA
    unlabelled = events.pull_request(REPOSITORY, number=3, head_sha=SHA)
    assert unlabelled["pull_request"]["labels"] == []


def test_push_and_schedule() -> None:
    push = events.push(REPOSITORY, sha=SHA)
    assert (push["ref"], push["after"], push["head_commit"]["id"]) == ("refs/heads/main", SHA, SHA)
    assert events.schedule(REPOSITORY, cron="0 3 * * 1")["schedule"] == "0 3 * * 1"


names = st.from_regex(r"[A-Za-z0-9_.-]{1,20}", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(owner=names, name=names, labels=st.lists(names, max_size=5))
def test_the_repository_is_named_the_same_everywhere(
    owner: str, name: str, labels: list[str]
) -> None:
    repository = events.Repository(f"{owner}/{name}")
    payload = events.pull_request(repository, number=1, head_sha=SHA, labels=tuple(labels))
    assert payload["repository"]["owner"]["login"] == owner
    assert payload["repository"]["name"] == name
    assert payload["pull_request"]["head"]["repo"]["full_name"] == f"{owner}/{name}"
    assert [label["name"] for label in payload["pull_request"]["labels"]] == labels


def test_a_pull_request_comes_from_the_planned_branch_of_the_same_repository() -> None:
    payload = events.pull_request(REPOSITORY, number=1, head_sha=SHA)
    assert payload["pull_request"]["head"]["ref"] == events.PULL_REQUEST_BRANCH
    assert payload["pull_request"]["head"]["repo"]["full_name"] == REPOSITORY.full_name
