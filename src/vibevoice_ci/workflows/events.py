"""The event payloads GitHub would deliver, written by us for act's ``--eventpath`` (pure).

act fills ``github.event`` from this file and nothing else; it ignores a workflow's
``branches``/``paths`` filters and never starts a ``workflow_run`` follow-up itself, so the
harness chooses the workflow and writes the payload that run would have received. Each payload
carries the fields the workflows read (tests/workflows check which ones they are).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JsonObject = dict[str, Any]
# The branch the planned pull request comes from (a branch of the same repository).
PULL_REQUEST_BRANCH = "feature/change"


@dataclass(frozen=True)
class Repository:
    """The repository as the payloads name it."""

    full_name: str
    default_branch: str = "main"

    @property
    def owner(self) -> str:
        return self.full_name.split("/", 1)[0]

    def payload(self) -> JsonObject:
        return {
            "full_name": self.full_name,
            "name": self.full_name.split("/", 1)[1],
            "owner": {"login": self.owner},
            "default_branch": self.default_branch,
            "private": True,
        }


def push(repository: Repository, *, sha: str, ref: str = "refs/heads/main") -> JsonObject:
    """A push of ``sha`` to ``ref`` (a branch or a ``refs/tags/`` tag)."""
    return {
        "ref": ref,
        "after": sha,
        "before": "0" * 40,
        "head_commit": {"id": sha},
        "repository": repository.payload(),
        "sender": {"login": repository.owner},
    }


def pull_request(
    repository: Repository,
    *,
    number: int,
    head_sha: str,
    head_ref: str = PULL_REQUEST_BRANCH,
    labels: tuple[str, ...] = (),
) -> JsonObject:
    """A pull request from a branch of the same repository into its default branch."""
    return {
        "action": "synchronize",
        "number": number,
        "pull_request": {
            "number": number,
            "head": {"sha": head_sha, "ref": head_ref, "repo": repository.payload()},
            "base": {"ref": repository.default_branch, "repo": repository.payload()},
            "labels": [{"name": label} for label in labels],
            "draft": False,
        },
        "repository": repository.payload(),
        "sender": {"login": repository.owner},
    }


def schedule(repository: Repository, *, cron: str) -> JsonObject:
    """A scheduled run (GitHub runs it on the default branch's latest commit)."""
    return {"schedule": cron, "repository": repository.payload()}


@dataclass(frozen=True)
class FinishedRun:
    """What a finished run tells the ``workflow_run`` event it triggers."""

    workflow_name: str
    run_id: int
    event: str
    head_sha: str
    head_branch: str
    conclusion: str
    pull_request_number: int | None = None


def workflow_run(repository: Repository, finished: FinishedRun) -> JsonObject:
    """The ``workflow_run`` (``completed``) event of ``finished``."""
    pull_requests = (
        [{"number": finished.pull_request_number}]
        if finished.pull_request_number is not None
        else []
    )
    return {
        "action": "completed",
        "workflow_run": {
            "id": finished.run_id,
            "name": finished.workflow_name,
            "event": finished.event,
            "head_sha": finished.head_sha,
            "head_branch": finished.head_branch,
            "conclusion": finished.conclusion,
            "status": "completed",
            "pull_requests": pull_requests,
            "head_repository": repository.payload(),
            "repository": repository.payload(),
        },
        "repository": repository.payload(),
        "sender": {"login": repository.owner},
    }
