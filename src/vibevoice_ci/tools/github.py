"""The GitHub REST calls the pipeline makes: for notify, a PR comment updated in place and an
issue per regression, found again by its marker (never a second one while the first is open);
for promote and sign, the workflow runs of a commit (:meth:`GitHub.workflow_runs`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from vibevoice_ci.core.environment import Secret
from vibevoice_ci.core.retry import RetryLog
from vibevoice_ci.tools.http import HttpError, check_url, request_json

MAX_PAGES = 10
PER_PAGE = 100
API_VERSION = "2022-11-28"


@dataclass(frozen=True)
class Posted:
    """What a call did: ``created`` or ``updated``, the object's number/id and its URL."""

    action: Literal["created", "updated"]
    id: int
    url: str


@dataclass(frozen=True)
class GitHub:
    """The REST API of one repository (``owner/name``), authenticated with ``token``."""

    api_url: str
    repository: str
    token: Secret
    log: RetryLog

    def __post_init__(self) -> None:
        check_url(self.api_url, "GITHUB_API_URL")

    def _url(self, path: str) -> str:
        owner, _, name = self.repository.partition("/")
        return f"{self.api_url}/repos/{quote(owner)}/{quote(name)}{path}"

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        headers = {"X-GitHub-Api-Version": API_VERSION, "Accept": "application/vnd.github+json"}
        response = request_json(
            method,
            self._url(path),
            payload=payload,
            token=self.token,
            log=self.log,
            headers=headers,
        )
        return response.body

    def _pages(self, path: str) -> Iterator[dict[str, Any]]:
        joiner = "&" if "?" in path else "?"
        for page in range(1, MAX_PAGES + 1):
            rows = self._call("GET", f"{path}{joiner}per_page={PER_PAGE}&page={page}")
            if not isinstance(rows, list):
                return
            yield from (row for row in rows if isinstance(row, dict))
            if len(rows) < PER_PAGE:
                return

    def workflow_runs(self, head_sha: str) -> list[dict[str, Any]]:
        """The workflow runs of commit ``head_sha`` (``GET /actions/runs?head_sha=``), as the
        API lists them: its first ``PER_PAGE`` (the newest first), every one a JSON object."""
        document = self._call(
            "GET", f"/actions/runs?head_sha={quote(head_sha)}&per_page={PER_PAGE}"
        )
        runs = document.get("workflow_runs") if isinstance(document, dict) else None
        if not isinstance(runs, list):
            where = self._url("/actions/runs")
            raise HttpError(f"GET {where}: no workflow_runs list in the answer", transient=False)
        return [run for run in runs if isinstance(run, dict)]

    def upsert_comment(self, pull_request: int, marker: str, body: str) -> Posted:
        """Update the PR's comment that carries ``marker``, or create it."""
        updated = self.update_comment(pull_request, marker, body)
        if updated is not None:
            return updated
        created = self._call("POST", f"/issues/{pull_request}/comments", {"body": body})
        return Posted("created", _field(created, "id"), _html_url(created, {}))

    def update_comment(self, pull_request: int, marker: str, body: str) -> Posted | None:
        """Update the PR's comment that carries ``marker``; None when it has none."""
        for comment in self._pages(f"/issues/{pull_request}/comments"):
            if marker in str(comment.get("body") or ""):
                updated = self._call(
                    "PATCH", f"/issues/comments/{int(comment['id'])}", {"body": body}
                )
                return Posted("updated", int(comment["id"]), _html_url(updated, comment))
        return None

    def upsert_issue(self, marker: str, title: str, body: str, labels: tuple[str, ...]) -> Posted:
        """Update the open issue that carries ``marker`` (title and body), or open one."""
        for issue in self._pages("/issues?state=open"):
            if "pull_request" in issue:
                continue
            if marker in str(issue.get("body") or ""):
                number = int(issue["number"])
                updated = self._call("PATCH", f"/issues/{number}", {"title": title, "body": body})
                return Posted("updated", number, _html_url(updated, issue))
        created = self._call(
            "POST", "/issues", {"title": title, "body": body, "labels": list(labels)}
        )
        return Posted("created", _field(created, "number"), _html_url(created, {}))


def _field(document: Any, key: str) -> int:
    value = document.get(key) if isinstance(document, dict) else None
    return int(value) if isinstance(value, int) else 0


def _html_url(document: Any, fallback: dict[str, Any]) -> str:
    for source in (document, fallback):
        if isinstance(source, dict) and isinstance(source.get("html_url"), str):
            return str(source["html_url"])
    return ""
