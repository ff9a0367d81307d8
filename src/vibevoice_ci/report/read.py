"""Reading reports/ into an :class:`Overview` (the edge: files in, data out).

Every folder directly under reports/ is one session (a CI artifact folder named
``reports-<session>`` is read as ``<session>``). What a folder says is decided by the pure
rules in :mod:`vibevoice_ci.report.documents`; a file that cannot be read, or a status
document of another shape than its session writes, makes that session *unknown* with the
reason, never a crash and never a status taken on trust.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from vibevoice_ci.build.reports import Release
from vibevoice_ci.core.errors import UsageError
from vibevoice_ci.core.outcome import Status
from vibevoice_ci.core.reports import validate_report
from vibevoice_ci.report import documents as docs
from vibevoice_ci.report.expect import STATUS_DOCUMENTS
from vibevoice_ci.report.model import (
    Overview,
    SessionReport,
    artifacts,
    commit_of,
    session_name,
    timestamp_of,
)

# Files besides the status document that may record the commit or the time of a run.
_CONTEXT_FILES = ("build-metadata.json", "metrics.json", "release.json")
# A status document's file name -> the model its session writes it with: the documents
# expect-status reads, and the build's release.json (its status document, docs.STATUS_FILES).
DOCUMENT_MODELS: Mapping[str, type[BaseModel]] = {**STATUS_DOCUMENTS, "release.json": Release}
# Files the reader writes itself at the top of reports/ (never a session).
OWN_FILES = ("index.html", "summary.md", "index.png")
_MAX_FILES = 2000


def read_overview(
    reports_dir: Path, *, checkout_commit: str | None, skip: tuple[str, ...] = ()
) -> Overview:
    """Every session folder under ``reports_dir`` (sorted by name), except ``skip``."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if not reports_dir.is_dir():
        return Overview((), now, checkout_commit, (f"{reports_dir} does not exist",))
    sessions: list[SessionReport] = []
    problems: list[str] = []
    for folder in sorted(p for p in reports_dir.iterdir() if p.is_dir()):
        if folder.name.startswith(".") or session_name(folder.name) in skip:
            continue
        try:
            sessions.append(read_session(folder))
        except OSError as exc:
            reason = f"{folder.name}/ could not be read ({exc.strerror or exc})"
            problems.append(reason)
            verdict = docs.Verdict(Status.UNKNOWN, reason, "")
            sessions.append(SessionReport(session_name(folder.name), verdict, None, "", None))
    return Overview(tuple(sessions), now, checkout_commit, tuple(problems))


def read_session(folder: Path) -> SessionReport:
    """One session folder: its verdict (the convention in ``documents``), time, commit, files."""
    name = session_name(folder.name)
    files = _files(folder)
    document: Any = None
    # A matrix leg's folder (tests-3.11) follows its session's (tests) convention.
    status_file = folder / docs.status_file_name(name)
    if not status_file.is_file():
        status_file = folder / docs.status_file_name(name.split("-")[0])
    summary = _read_text(folder / "summary.md")
    if status_file.is_file():
        source = f"{folder.name}/{status_file.name}"
        text = _read_text(status_file)
        if text is None:
            verdict = docs.Verdict(Status.UNKNOWN, f"{source} could not be read", source)
        else:
            document, problem = docs.parse_json_document(text, source)
            problem = problem or shape_problem(document, status_file.name, source)
            verdict = (
                docs.Verdict(Status.UNKNOWN, problem, source)
                if problem
                else docs.verdict_from_document(document, source)
            )
            if summary is not None:
                summary_verdict = docs.verdict_from_summary(summary, f"{folder.name}/summary.md")
                verdict = docs.with_summary(verdict, summary_verdict)
    elif summary is not None:
        verdict = docs.verdict_from_summary(summary, f"{folder.name}/summary.md")
    elif (folder / "junit.xml").is_file():
        text = _read_text(folder / "junit.xml")
        source = f"{folder.name}/junit.xml"
        verdict = (
            docs.verdict_from_junit(text, source)
            if text is not None
            else docs.Verdict(Status.UNKNOWN, f"{source} could not be read", source)
        )
    else:
        verdict = docs.Verdict(
            Status.UNKNOWN,
            f"no status document ({docs.status_file_name(name)} with a status, summary.md "
            "with a verdict line, or junit.xml)",
            "",
        )
    context = [document, *(_json(folder / f) for f in _CONTEXT_FILES)]
    recorded = verdict.timestamp or timestamp_of(context)
    ran_at, ran_at_source = (
        (recorded, "recorded") if recorded else (_newest_file_time(folder, files), "file time")
    )
    return SessionReport(
        name=name,
        verdict=verdict,
        ran_at=ran_at,
        ran_at_source=ran_at_source,
        commit=verdict.git_sha or commit_of(context),
        artifacts=artifacts(folder.name, files),
        summary_markdown=summary,
        document=document,
    )


def shape_problem(document: Any, file_name: str, source: str) -> str | None:
    """Why ``document`` is not of the shape its session writes (checked through the model its
    writer writes it with, :data:`DOCUMENT_MODELS`), or None.

    A document of another shape is unknown with this one line, never its ``status`` taken on
    trust: a hand-made ``{"status": "pass"}`` is not a passed smoke test."""
    model = DOCUMENT_MODELS.get(file_name)
    if model is None:
        return None
    try:
        validate_report(document, model, source)
    except UsageError as exc:
        return f"{exc} (not the shape its session writes)"
    return None


def _files(folder: Path) -> list[str]:
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            found.append(path.relative_to(folder).as_posix())
            if len(found) >= _MAX_FILES:
                break
    return found


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _json(path: Path) -> Any:
    text = _read_text(path) if path.is_file() else None
    if text is None:
        return None
    document, _ = docs.parse_json_document(text, path.name)
    return document


def _newest_file_time(folder: Path, files: list[str]) -> str | None:
    times = []
    for file in files:
        try:
            times.append((folder / file).stat().st_mtime)
        except OSError:
            continue
    if not times:
        return None
    return datetime.fromtimestamp(max(times), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
