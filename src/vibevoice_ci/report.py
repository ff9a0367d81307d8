"""Session results as data: atomic JSON/text writes and the Markdown summary."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so a reader sees the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file 0600; give it the mode an ordinary write would have (the
        # existing file's, else 0666 less the umask) so readers, and image layer caches that
        # hash file modes, see no difference.
        os.fchmod(fd, _mode_for(path))
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_json_atomic(path: Path, document: Any) -> None:
    write_text_atomic(path, json.dumps(document, indent=2, sort_keys=True) + "\n")


@dataclass(frozen=True)
class Outcome:
    """One check's verdict: ``pass``, ``fail`` or ``unknown`` (never reported as pass)."""

    name: str
    status: str
    detail: str

    def __post_init__(self) -> None:
        if self.status not in {"pass", "fail", "unknown"}:
            raise ValueError(f"status must be pass, fail or unknown, got {self.status!r}")


def render_summary(title: str, outcomes: Sequence[Outcome], notes: Sequence[str] = ()) -> str:
    """A short Markdown summary: a verdict line, a table of checks, then notes."""
    failed = [o for o in outcomes if o.status == "fail"]
    unknown = [o for o in outcomes if o.status == "unknown"]
    if not outcomes:
        verdict = "**UNKNOWN**: no checks ran"
    elif failed:
        verdict = f"**FAILED**: {len(failed)} of {len(outcomes)} checks failed"
    elif unknown:
        verdict = f"**UNKNOWN**: {len(unknown)} of {len(outcomes)} checks could not be decided"
    else:
        verdict = f"**PASSED**: {len(outcomes)} checks"
    icon = {"pass": "pass", "fail": "FAIL", "unknown": "UNKNOWN"}
    lines = [f"## {title}", "", verdict, "", "| check | result | detail |", "| --- | --- | --- |"]
    for outcome in outcomes:
        name, detail = (_cell(outcome.name), _cell(outcome.detail))
        lines.append(f"| {name} | {icon[outcome.status]} | {detail} |")
    if notes:
        lines += ["", *[f"- {note}" for note in notes]]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def publish_summary(report_dir: Path, markdown: str) -> Path:
    """Write ``summary.md`` into the report folder and append it to $GITHUB_STEP_SUMMARY."""
    target = report_dir / "summary.md"
    write_text_atomic(target, markdown)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with Path(step_summary).open("a", encoding="utf-8") as handle:
            handle.write(markdown + "\n")
    return target
