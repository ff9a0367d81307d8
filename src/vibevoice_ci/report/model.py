"""The overview of every session's report: the data the page and the summary are made of.

Pure: :mod:`vibevoice_ci.report.read` fills it from the files, :mod:`.render` turns it into
HTML and Markdown, and the notifications build their messages from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from vibevoice_ci.core.outcome import Status
from vibevoice_ci.report.documents import Verdict

# Artifact kinds the page links, in the order it shows them.
ARTIFACT_KINDS = (
    "JUnit",
    "coverage",
    "SARIF",
    "SBOM",
    "metadata",
    "chart",
    "summary",
    "data",
    "log",
)
MAX_LINKS_PER_KIND = 12
# An artifact folder downloaded in CI is named reports-<session>[-<matrix value>].
ARTIFACT_PREFIX = "reports-"
_SHA_RE = re.compile(r"^[0-9a-f]{7,40}$")


@dataclass(frozen=True)
class Artifact:
    """A file of a session's report folder worth linking (path relative to reports/)."""

    kind: str
    path: str


@dataclass(frozen=True)
class SessionReport:
    """One session's folder: its verdict, when it ran, for which commit, what it left."""

    name: str
    verdict: Verdict
    ran_at: str | None  # ISO 8601 UTC
    ran_at_source: str  # "recorded" (a document says so) or "file time"
    commit: str | None
    artifacts: tuple[Artifact, ...] = ()
    summary_markdown: str | None = None
    document: Any = None  # the status document, parsed (None when absent or unreadable)

    @property
    def status(self) -> Status:
        return self.verdict.status

    def artifacts_of(self, kind: str) -> list[Artifact]:
        return [a for a in self.artifacts if a.kind == kind]

    @property
    def chart(self) -> str | None:
        charts = self.artifacts_of("chart")
        return charts[0].path if charts else None


@dataclass(frozen=True)
class Overview:
    """Every session found under reports/, and the context of the rendering."""

    sessions: tuple[SessionReport, ...]
    generated_at: str  # ISO 8601 UTC
    checkout_commit: str | None  # HEAD of the checkout the page was made in
    problems: tuple[str, ...] = ()  # folders that could not be read at all, with the reason

    def by_status(self, status: Status) -> list[SessionReport]:
        return [s for s in self.sessions if s.status is status]

    def session(self, name: str) -> SessionReport | None:
        return next((s for s in self.sessions if s.name == name), None)

    def counts(self) -> dict[Status, int]:
        return {status: len(self.by_status(status)) for status in Status}


def session_name(folder: str) -> str:
    """``reports-tests-3.11`` (a downloaded CI artifact) -> ``tests-3.11``; else as is."""
    return folder[len(ARTIFACT_PREFIX) :] if folder.startswith(ARTIFACT_PREFIX) else folder


def classify(path: str) -> str | None:
    """The artifact kind of a report file (``path`` relative to its session folder), or None
    for a file not worth a link (the page shows every kind in :data:`ARTIFACT_KINDS`)."""
    pure = PurePosixPath(path)
    name = pure.name.lower()
    if name.startswith("."):
        return None
    if name.endswith(".xml") and "junit" in name:
        return "JUnit"
    if name.startswith("coverage") and name.endswith((".xml", ".json")):
        return "coverage"
    if name.endswith((".sarif", ".sarif.json")):
        return "SARIF"
    if name.endswith((".spdx.json", ".cdx.json", ".spdx")) or "sbom" in pure.parts[:-1]:
        return "SBOM"
    if name in ("release.json", "metrics.json", "verdict.json") or "metadata" in name:
        return "metadata"
    if name.endswith((".png", ".svg")):
        return "chart"
    if name == "summary.md":
        return "summary"
    if name.endswith((".log", ".txt")) or "logs" in pure.parts[:-1]:
        return "log"
    if name.endswith((".json", ".jsonl")):
        return "data"
    return None


def artifacts(folder: str, files: Iterable[str]) -> tuple[Artifact, ...]:
    """The linked files of a session folder, grouped in :data:`ARTIFACT_KINDS` order, each
    kind sorted by path and capped at :data:`MAX_LINKS_PER_KIND`."""
    by_kind: dict[str, list[str]] = {kind: [] for kind in ARTIFACT_KINDS}
    for file in files:
        kind = classify(file)
        if kind is not None:
            by_kind[kind].append(file)
    return tuple(
        Artifact(kind, f"{folder}/{file}")
        for kind in ARTIFACT_KINDS
        for file in sorted(by_kind[kind])[:MAX_LINKS_PER_KIND]
    )


def commit_of(documents: Sequence[Any]) -> str | None:
    """The first ``git_sha`` any of ``documents`` records (a dict, or a list of dicts as
    build-metadata.json is)."""
    for document in documents:
        rows = document if isinstance(document, list) else [document]
        for row in rows:
            if isinstance(row, Mapping):
                sha = row.get("git_sha")
                if isinstance(sha, str) and _SHA_RE.match(sha.strip()):
                    return sha.strip()
    return None


def timestamp_of(documents: Sequence[Any]) -> str | None:
    """The first recorded time in ``documents`` (``timestamp``, ``build_timestamp``)."""
    for document in documents:
        rows = document if isinstance(document, list) else [document]
        for row in rows:
            if isinstance(row, Mapping):
                for key in ("timestamp", "generated_at", "build_timestamp"):
                    value = row.get(key)
                    if isinstance(value, str) and value.strip():
                        return value.strip()
    return None
