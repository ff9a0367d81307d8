"""A local OSV API on 127.0.0.1 that serves recorded advisory records (tests/data/audit/osv/).

It answers the two calls the audit makes, as api.osv.dev does:

* ``POST /v1/query`` with ``{"package": {"name", "ecosystem"}, "version"}`` (pip-audit's OSV
  service): ``{"vulns": [records]}`` for the records whose ``affected`` entry names that PyPI
  package and lists that version, else ``{}``;
* ``GET /v1/vulns/<id>`` (the audit's severity lookup): the record, or 404.

``fail_with`` makes every answer that HTTP status instead (a service in trouble).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from loopback import JsonHandler, serving

DATA = Path(__file__).resolve().parent / "data" / "audit"
RECORDS = DATA / "osv"


def load_records(folder: Path = RECORDS) -> dict[str, dict[str, Any]]:
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob("*.json"))
    }


@dataclass
class OsvReplay:
    """The running server: its URL (the OSV API root) and what it was asked."""

    url: str
    records: Mapping[str, Mapping[str, Any]]
    requests: list[str] = field(default_factory=list)
    fail_with: int | None = None

    def matching(self, name: str, version: str) -> list[Mapping[str, Any]]:
        found = []
        for record in self.records.values():
            for affected in record.get("affected", []):
                package = affected.get("package", {})
                if (
                    package.get("ecosystem") == "PyPI"
                    and package.get("name") == name
                    and version in affected.get("versions", [])
                ):
                    found.append(record)
                    break
        return found


def _handler(state: OsvReplay) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def do_GET(self) -> None:
            state.requests.append(f"GET {self.path}")
            if state.fail_with is not None:
                self.send_json(state.fail_with, {"message": "planted failure"})
                return
            prefix = "/v1/vulns/"
            record = (
                state.records.get(self.path[len(prefix) :])
                if self.path.startswith(prefix)
                else None
            )
            if record is None:
                self.send_json(404, {"code": 5, "message": "Bug not found."})
            else:
                self.send_json(200, record)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            query = json.loads(self.rfile.read(length) or b"{}")
            state.requests.append(f"POST {self.path} {json.dumps(query, sort_keys=True)}")
            if state.fail_with is not None:
                self.send_json(state.fail_with, {"message": "planted failure"})
                return
            if self.path != "/v1/query":
                self.send_json(404, {"message": "not found"})
                return
            package = query.get("package", {})
            found = state.matching(str(package.get("name")), str(query.get("version")))
            self.send_json(200, {"vulns": found} if found else {})

    return Handler


@contextmanager
def running_osv(records: Mapping[str, Mapping[str, Any]] | None = None) -> Iterator[OsvReplay]:
    """Serve ``records`` (default: every recorded one) on a free port of 127.0.0.1."""
    state = OsvReplay("", load_records() if records is None else records)
    with serving(_handler(state)) as state.url:
        yield state


def ids(records: Sequence[Mapping[str, Any]]) -> list[str]:
    return [str(record["id"]) for record in records]
