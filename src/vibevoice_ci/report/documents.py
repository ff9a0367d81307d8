"""What one session's report folder says, decided from its files' text (pure).

The convention a session follows so that ``nox -s report`` and ``nox -s notify`` understand it
(docs/ci-cd.md, "One report of every session"), in the order the reader tries them:

1. **A status document**: ``reports/<session>/<session>.json``, a JSON object whose
   ``status`` is ``"pass"``, ``"fail"`` or ``"unknown"``. Optional fields the reader shows:
   ``checks`` (a list of ``{"name", "status", "detail"}``, as ``report.Outcome.to_json``
   writes), ``notes`` (a list of text), ``git_sha`` (else ``tests.commit``: the commit
   promote's and sign's tests gate checked) and ``timestamp`` (ISO 8601, UTC). A
   scanner's findings are read through its own model (:mod:`vibevoice_ci.report.security`).
   A folder named in :data:`STATUS_FILES` uses that file instead (the build's ``release.json``).
2. **The summary's verdict line**: ``summary.md`` as ``report.render_summary`` writes it
   (``**PASSED**``, ``**FAILED**`` or ``**UNKNOWN**`` on a line of its own).
3. **JUnit XML**: ``junit.xml``; any failure or error fails, no test at all is unknown.

A folder with none of these, or whose status document is not readable JSON or has no valid
``status``, is *unknown*, with the reason; never a crash, never a pass.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vibevoice_ci.core.outcome import Outcome, Status

# Sessions whose status document has another name than <session>.json.
STATUS_FILES: Mapping[str, str] = {"build": "release.json"}
_VERDICT_RE = re.compile(r"^\*\*(PASSED|FAILED|UNKNOWN)\*\*(?::\s*(?P<rest>.*))?$", re.MULTILINE)
_VERDICTS = {"PASSED": Status.PASS, "FAILED": Status.FAIL, "UNKNOWN": Status.UNKNOWN}
_SHA_RE = re.compile(r"^[0-9a-f]{7,40}$")


@dataclass(frozen=True)
class Verdict:
    """A session's outcome as its files state it, and where that came from."""

    status: Status
    reason: str
    source: str  # the file the verdict was read from ("" when none)
    checks: tuple[Outcome, ...] = ()
    git_sha: str | None = None
    timestamp: str | None = None


def status_file_name(session: str) -> str:
    """The status document's file name for ``session`` (the convention above)."""
    return STATUS_FILES.get(session, f"{session}.json")


def parse_json_document(text: str, source: str) -> tuple[Any, str | None]:
    """``(document, None)`` or ``(None, why it is unreadable)``."""
    try:
        return json.loads(text), None
    except ValueError as exc:
        return None, f"{source} is not valid JSON ({exc})"


def verdict_from_document(document: Any, source: str) -> Verdict:
    """The verdict a status document states (rule 1); malformed is unknown with the reason."""
    if not isinstance(document, dict):
        return Verdict(Status.UNKNOWN, f"{source} is not a JSON object", source)
    raw = document.get("status")
    try:
        status = Status(str(raw))
    except ValueError:
        return Verdict(
            Status.UNKNOWN, f"{source} has no valid status (pass, fail, unknown): {raw!r}", source
        )
    checks = tuple(_checks(document.get("checks")))
    levels = document.get("levels")
    if isinstance(levels, list):  # the helm session nests its checks per level
        for level in levels:
            if isinstance(level, dict):
                prefix = str(level.get("level", ""))
                checks += tuple(
                    Outcome(
                        f"{prefix}: {c.name}" if prefix and c.name != prefix else c.name,
                        c.status,
                        c.detail,
                    )
                    for c in _checks(level.get("checks"))
                )
    return Verdict(
        status,
        _reason(status, checks, document),
        source,
        checks,
        git_sha=_sha(document.get("git_sha")) or _sha(_tested_commit(document)),
        timestamp=_text(document.get("timestamp")) or _text(document.get("generated_at")),
    )


def verdict_from_summary(markdown: str, source: str) -> Verdict:
    """The verdict line of a ``report.render_summary`` summary (rule 2)."""
    match = _VERDICT_RE.search(markdown)
    if match is None:
        return Verdict(Status.UNKNOWN, f"{source} has no verdict line (**PASSED** ...)", source)
    status = _VERDICTS[match[1]]
    rest = (match["rest"] or "").strip()
    checks = tuple(_summary_checks(markdown))
    failing = [c for c in checks if c.status is not Status.PASS]
    reason = rest or match[1].lower()
    if status is not Status.PASS and failing:
        reason += ": " + "; ".join(
            f"{c.name}: {c.detail}" if c.detail else c.name for c in failing[:3]
        )
    return Verdict(status, reason, source, checks)


def with_summary(verdict: Verdict, summary: Verdict) -> Verdict:
    """A status document's verdict, with the summary's checks and reason when the document
    lists no check of its own and both agree on the status (promote.json, release.json)."""
    if verdict.checks or summary.status is not verdict.status or not summary.checks:
        return verdict
    return Verdict(
        verdict.status,
        summary.reason,
        verdict.source,
        summary.checks,
        verdict.git_sha,
        verdict.timestamp,
    )


_SUMMARY_STATUS = {"pass": Status.PASS, "FAIL": Status.FAIL, "UNKNOWN": Status.UNKNOWN}


def _summary_checks(markdown: str) -> list[Outcome]:
    """The rows of ``report.render_summary``'s check table."""
    checks = []
    for line in markdown.splitlines():
        if not line.startswith("| ") or not line.rstrip().endswith(" |"):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip()[1:-1])]
        if len(cells) != 3 or cells[1] not in _SUMMARY_STATUS:
            continue
        name, label, detail = (c.replace("\\|", "|") for c in cells)
        checks.append(Outcome(name, _SUMMARY_STATUS[label], detail))
    return checks


def verdict_from_junit(xml_text: str, source: str) -> Verdict:
    """Counts from JUnit XML (rule 3): a failure or error fails; no test is unknown."""
    try:
        root = ET.fromstring(xml_text)  # noqa: S314 (our own pytest's output)
    except ET.ParseError as exc:
        return Verdict(Status.UNKNOWN, f"{source} is not valid XML ({exc})", source)
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    if root.tag not in ("testsuite", "testsuites") or not suites:
        return Verdict(Status.UNKNOWN, f"{source} holds no <testsuite>", source)
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for suite in suites:
        for key in totals:
            try:
                totals[key] += int(suite.get(key, "0"))
            except ValueError:
                return Verdict(Status.UNKNOWN, f"{source}: {key}={suite.get(key)!r}", source)
    counts = (
        f"{totals['tests']} tests, {totals['failures']} failures, {totals['errors']} errors, "
        f"{totals['skipped']} skipped"
    )
    failed = tuple(
        Outcome(f"{case.get('classname', '')}::{case.get('name', '')}", Status.FAIL, _first(case))
        for suite in suites
        for case in suite.iter("testcase")
        if case.find("failure") is not None or case.find("error") is not None
    )
    if totals["failures"] or totals["errors"]:
        status = Status.FAIL
    elif totals["tests"] - totals["skipped"] <= 0:
        status = Status.UNKNOWN
        counts = f"no test ran ({counts})"
    else:
        status = Status.PASS
    return Verdict(status, counts, source, failed, timestamp=suites[0].get("timestamp"))


def _checks(rows: Any) -> list[Outcome]:
    if not isinstance(rows, list):
        return []
    checks = []
    for row in rows:
        if not isinstance(row, dict):
            continue
        try:
            status = Status(str(row.get("status")))
        except ValueError:
            # The perf gate's rows say `regression` instead of a status.
            if not isinstance(row.get("regression"), bool):
                continue
            status = Status.of(not row["regression"])
        name = _text(row.get("name")) or _text(row.get("metric")) or "?"
        detail = _text(row.get("detail")) or _text(row.get("verdict")) or ""
        checks.append(Outcome(name, status, detail))
    return checks


def _reason(status: Status, checks: Sequence[Outcome], document: Mapping[str, Any]) -> str:
    if status is Status.PASS:
        return f"{len(checks)} checks passed" if checks else "passed"
    wrong = [c for c in checks if c.status is not Status.PASS]
    if wrong:
        shown = "; ".join(
            f"{c.name}: {_short(c.detail)}" if c.detail else c.name for c in wrong[:5]
        )
        more = f" (and {len(wrong) - 5} more)" if len(wrong) > 5 else ""
        return f"{status.value}: {shown}{more}"
    notes = document.get("notes")
    if isinstance(notes, list) and notes:
        return f"{status.value}: {_text(notes[0]) or ''}".rstrip(": ")
    note = _text(document.get("note"))
    return f"{status.value}: {note}" if note else f"{status.value} (the document names no check)"


def _first(case: ET.Element) -> str:
    problem = case.find("failure")
    if problem is None:
        problem = case.find("error")
    text = "" if problem is None else (problem.get("message") or problem.text or "").strip()
    return text.splitlines()[0] if text else ""


def _short(text: str, limit: int = 160) -> str:
    """A check's detail as a reason shows it (the page's check table shows it whole)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _tested_commit(document: dict[str, Any]) -> Any:
    """The commit promote's and sign's tests gate checked (``tests.commit``), if any."""
    tests = document.get("tests")
    return tests.get("commit") if isinstance(tests, dict) else None


def _sha(value: Any) -> str | None:
    text = _text(value)
    return text if text and _SHA_RE.match(text) else None
