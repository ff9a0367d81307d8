"""A session's outcome: each check's verdict (pass, fail, unknown), the one rule for a list of
them, the one rule for a session's exit code (:func:`exit_code`), and the Markdown summary."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from vibevoice_ci.core.errors import (
    EXIT_CHECK_FAILED,
    EXIT_OK,
    CheckFailedError,
    PipelineError,
)
from vibevoice_ci.core.files import write_text_atomic


class Status(StrEnum):
    """A check's verdict. ``UNKNOWN`` means it could not be decided, and is never a pass."""

    PASS = "pass"  # noqa: S105 (a verdict, not a password)
    FAIL = "fail"
    UNKNOWN = "unknown"

    @classmethod
    def of(cls, passed: bool) -> Status:
        """``PASS`` for True, ``FAIL`` for False: for checks that always reach a verdict."""
        return cls.PASS if passed else cls.FAIL


_LABEL = {Status.PASS: "PASS", Status.FAIL: "FAIL", Status.UNKNOWN: "UNKNOWN"}


@dataclass(frozen=True)
class Outcome:
    """One check's verdict and what it saw: the one result type of every session."""

    name: str
    status: Status
    detail: str

    def __post_init__(self) -> None:
        if not isinstance(self.status, Status):
            raise TypeError(f"status must be a Status, got {self.status!r}")

    @classmethod
    def of(cls, name: str, passed: bool, detail: str) -> Outcome:
        """A pass or a fail, from a check that always reaches a verdict."""
        return cls(name, Status.of(passed), detail)

    @property
    def passed(self) -> bool:
        return self.status is Status.PASS

    def line(self) -> str:
        """``PASS name: detail``, as printed while a session runs."""
        return f"{_LABEL[self.status]} {self.name}: {self.detail}"

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status.value, "detail": self.detail}


def overall(outcomes: Iterable[Outcome]) -> Status:
    """The verdict of a list of checks: any fail fails; else any unknown (or no check at all)
    is unknown; else pass."""
    statuses = {outcome.status for outcome in outcomes}
    if Status.FAIL in statuses:
        return Status.FAIL
    if not statuses or Status.UNKNOWN in statuses:
        return Status.UNKNOWN
    return Status.PASS


def unknown_fails(*, ci: bool, strict: bool | None = None) -> bool:
    """Whether an unknown verdict fails: ``strict`` when given (``--strict``/``--no-strict``),
    else whether ``$CI`` is set. The one rule every session (and script) follows."""
    return ci if strict is None else strict


def exit_code(status: Status, *, ci: bool, strict: bool | None = None) -> int:
    """A session's exit code for its verdict: 0 pass; 1 fail; unknown is 1 when it fails
    (:func:`unknown_fails`: under CI, unless ``--no-strict``), else 0 with a loud warning.
    docs/ci-cd.md ("Unknown and exit codes") has the table; a test checks it against this."""
    if status is Status.FAIL:
        return EXIT_CHECK_FAILED
    if status is Status.UNKNOWN and unknown_fails(ci=ci, strict=strict):
        return EXIT_CHECK_FAILED
    return EXIT_OK


def verdict_error(
    session: str, status: Status, *, ci: bool, strict: bool | None = None, detail: str = ""
) -> CheckFailedError | None:
    """The error a session ends with for ``status`` (None: exit 0), as :func:`exit_code` rules.
    ``detail`` says which checks (and where the summary is)."""
    if exit_code(status, ci=ci, strict=strict) == EXIT_OK:
        return None
    why = ""
    if status is Status.UNKNOWN:
        why = " (unknown fails " + ("under --strict)" if strict else "under CI)")
    return CheckFailedError(f"{session}: {status.value}{why}" + (f": {detail}" if detail else ""))


def unknown_warning(session: str, status: Status) -> str | None:
    """The loud line an allowed unknown prints (never silent, never a pass)."""
    if status is not Status.UNKNOWN:
        return None
    return (
        f"WARNING: {session} verdict is UNKNOWN: NOT a pass (under CI, or with --strict, it fails)"
    )


@contextmanager
def failure_recorded(outcomes: list[Outcome], name: str) -> Iterator[None]:
    """Record a ``PipelineError`` raised inside as a FAIL outcome ``name`` (its first line),
    then let it go on: the session's report names what stopped it, and it still exits."""
    try:
        yield
    except PipelineError as exc:
        outcomes.append(Outcome(name, Status.FAIL, str(exc).splitlines()[0]))
        raise


def render_summary(title: str, outcomes: Sequence[Outcome], notes: Sequence[str] = ()) -> str:
    """A short Markdown summary: a verdict line, a table of checks, then notes."""
    failed = [o for o in outcomes if o.status is Status.FAIL]
    unknown = [o for o in outcomes if o.status is Status.UNKNOWN]
    if not outcomes:
        verdict = "**UNKNOWN**: no checks ran"
    elif failed:
        verdict = f"**FAILED**: {len(failed)} of {len(outcomes)} checks failed"
    elif unknown:
        verdict = f"**UNKNOWN**: {len(unknown)} of {len(outcomes)} checks could not be decided"
    else:
        verdict = f"**PASSED**: {len(outcomes)} checks"
    icon = {Status.PASS: "pass", Status.FAIL: "FAIL", Status.UNKNOWN: "UNKNOWN"}
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
