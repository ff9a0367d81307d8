"""A stand-in on 127.0.0.1 for a webhook and for the part of GitHub's REST API the pipeline
uses (issue comments and issues for the notifications; a commit's workflow runs, ``GET
/repos/{owner}/{name}/actions/runs?head_sha=``, for promote's and sign's tests gate), keeping
what it was sent. The workflow runs it lists are the ones a test puts in
``FakeGitHub.workflow_runs``, or, served as a program, those of ``--runs FILE``.

For the client's own tests it can also answer a path with a redirect, answer the webhook with
a queue of statuses, answer late, and echo what it was sent in its errors (as careless servers
do), so that what the client raises and logs is checked against secrets echoed back.

Run as a program (``python tests/integration/notify_server.py serve --repository OWNER/NAME
--record FILE``) it serves until stopped, for the workflows executed by act
(``nox -s workflows``): it prints its ``http://127.0.0.1:<port>`` base URL as its first line,
takes the token it accepts from ``$VIBEVOICE_STAND_IN_TOKEN`` (never from its arguments), and
appends every API request it answers to FILE as one JSON line (method, path, query, body, the
status it answered and the id of the object it answered with; never the token). A request
without the token is answered 401, and recorded so. ``--runs FILE`` (a JSON list of workflow
runs as the API spells them, which the harness rewrites as its runs finish) is read again for
each request; FILE absent is no run."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

if __name__ == "__main__":  # run as a program: its helpers live one folder up (tests/)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loopback import JsonHandler, serving


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeGitHub:
    """The state behind the stand-in: comments per issue number, issues, every request."""

    token: str
    webhook_path: str
    repository: str = "o/r"  # owner/name, as the API's paths spell it
    record: Path | None = None  # every request appended here as a JSON line
    requests: list[Received] = field(default_factory=list)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    issues: list[dict[str, Any]] = field(default_factory=list)
    workflow_runs: list[dict[str, Any]] = field(default_factory=list)  # as the API lists them
    runs_file: Path | None = None  # read for each request instead, when given
    webhook_status: int = 200
    webhook_statuses: list[int] = field(default_factory=list)  # answered first, in order
    redirects: dict[str, tuple[int, str]] = field(default_factory=dict)  # path: status, Location
    delay_seconds: float = 0.0  # before each answer
    echo_credentials: bool = False  # a 401 quotes the Authorization header it was sent
    next_id: int = 1000
    lock: threading.Lock = field(default_factory=threading.Lock)

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def runs(self) -> list[dict[str, Any]]:
        """The workflow runs it lists: ``runs_file``'s (read now), else ``workflow_runs``."""
        if self.runs_file is None:
            return self.workflow_runs
        try:
            document = json.loads(self.runs_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        return [run for run in document if isinstance(run, dict)]

    def webhook_posts(self) -> list[Received]:
        return [r for r in self.requests if r.path == self.webhook_path]


def _handler(state: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def _redirect(self, status: int, location: str) -> None:
            self.send_response(status)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _handle(self) -> None:
            time.sleep(state.delay_seconds)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            parts = urlsplit(self.path)
            with state.lock:
                state.requests.append(
                    Received(
                        self.command,
                        parts.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                    )
                )
                if parts.path in state.redirects:
                    self._redirect(*state.redirects[parts.path])
                    return
                if parts.path == state.webhook_path:
                    self._webhook(parts.path)
                    return
                if self.headers.get("Authorization") != f"Bearer {state.token}":
                    sent = self.headers.get("Authorization")
                    quoted = f" ({sent})" if state.echo_credentials else ""
                    self.send_json(401, {"message": f"Bad credentials{quoted}"})
                    self._record(parts.path, parts.query, body)
                    return
                self._api(parts.path, parse_qs(parts.query), body)
                self._record(parts.path, parts.query, body)

        def send_json(self, status: int, document: Any) -> None:
            self.answered = (status, document)
            super().send_json(status, document)

        def _record(self, path: str, query: str, body: Any) -> None:
            """One JSON line of the request and the answer (never the token) in the record."""
            if state.record is None:
                return
            status, document = getattr(self, "answered", (0, None))
            line = {
                "method": self.command,
                "path": path,
                "query": query,
                "body": body,
                "status": status,
                "id": document.get("id") if isinstance(document, dict) else None,
            }
            with state.record.open("a", encoding="utf-8") as record:
                record.write(json.dumps(line) + "\n")

        def _webhook(self, path: str) -> None:
            status = (
                state.webhook_statuses.pop(0) if state.webhook_statuses else state.webhook_status
            )
            if status == 200:
                self.send_json(200, {"ok": True})
            else:  # like a careless server, the error names the hook it was sent to
                self.send_json(status, {"ok": False, "message": f"no hook at {path} just now"})

        def _api(self, path: str, query: dict[str, list[str]], body: Any) -> None:
            repo = f"/repos/{re.escape(state.repository)}"
            page = int(query.get("page", ["1"])[0])
            per_page = int(query.get("per_page", ["30"])[0])
            if path == f"/repos/{state.repository}/actions/runs" and self.command == "GET":
                self._workflow_runs(query, page, per_page)
            elif m := re.fullmatch(rf"{repo}/issues/(\d+)/comments", path):
                comments = state.comments.setdefault(int(m[1]), [])
                if self.command == "GET":
                    self.send_json(200, comments[(page - 1) * per_page : page * per_page])
                    return
                comment = {"id": state.new_id(), "body": body["body"], "html_url": "c"}
                comments.append(comment)
                self.send_json(201, comment)
            elif m := re.fullmatch(rf"{repo}/issues/comments/(\d+)", path):
                for comments in state.comments.values():
                    for comment in comments:
                        if comment["id"] == int(m[1]):
                            comment["body"] = body["body"]
                            self.send_json(200, comment)
                            return
                self.send_json(404, {"message": "Not Found"})
            elif path == f"/repos/{state.repository}/issues" and self.command == "GET":
                open_issues = [i for i in state.issues if i["state"] == "open"]
                self.send_json(200, open_issues[(page - 1) * per_page : page * per_page])
            elif path == f"/repos/{state.repository}/issues" and self.command == "POST":
                issue = {
                    "number": len(state.issues) + 1,
                    "state": "open",
                    "title": body["title"],
                    "body": body["body"],
                    "labels": body.get("labels", []),
                    "html_url": f"issue-{len(state.issues) + 1}",
                }
                state.issues.append(issue)
                self.send_json(201, issue)
            elif (m := re.fullmatch(rf"{repo}/issues/(\d+)", path)) and self.command == "PATCH":
                issue = state.issues[int(m[1]) - 1]
                issue.update({k: v for k, v in body.items() if k in ("title", "body")})
                self.send_json(200, issue)
            else:
                self.send_json(404, {"message": "Not Found"})

        def _workflow_runs(self, query: dict[str, list[str]], page: int, per_page: int) -> None:
            """The API's list: the newest first, only ``head_sha``'s when it is given."""
            runs = state.runs()
            if "head_sha" in query:
                runs = [run for run in runs if run.get("head_sha") == query["head_sha"][0]]
            runs = sorted(runs, key=lambda run: int(run.get("id") or 0), reverse=True)
            shown = runs[(page - 1) * per_page : page * per_page]
            self.send_json(200, {"total_count": len(runs), "workflow_runs": shown})

        do_GET = do_POST = do_PATCH = _handle

    return Handler


@contextmanager
def running_stand_in(token: str, webhook_path: str) -> Iterator[tuple[str, FakeGitHub]]:
    """``(base URL, state)`` of a stand-in listening on 127.0.0.1 (a free port)."""
    state = FakeGitHub(token=token, webhook_path=webhook_path)
    with serving(_handler(state)) as base:
        yield base, state


def serve(argv: list[str]) -> int:
    """Serve the GitHub API stand-in until stopped (SIGTERM or Ctrl-C); see the module doc."""
    parser = argparse.ArgumentParser(prog="notify_server.py serve")
    parser.add_argument("--repository", required=True, help="owner/name the API serves")
    parser.add_argument("--record", type=Path, required=True, help="JSON lines of every request")
    parser.add_argument("--runs", type=Path, help="a JSON list of the workflow runs it lists")
    args = parser.parse_args(argv)
    token = os.environ.get("VIBEVOICE_STAND_IN_TOKEN", "")
    if not token:
        parser.error("$VIBEVOICE_STAND_IN_TOKEN (the token the API accepts) is not set")
    args.record.parent.mkdir(parents=True, exist_ok=True)
    args.record.touch()  # appended to: the harness keeps an earlier invocation's (--append)
    state = FakeGitHub(
        token=token,
        webhook_path="/webhook",
        repository=args.repository,
        record=args.record,
        runs_file=args.runs,
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] != ["serve"]:
        sys.exit(
            "usage: notify_server.py serve --repository OWNER/NAME --record FILE [--runs FILE]"
        )
    sys.exit(serve(sys.argv[2:]))
