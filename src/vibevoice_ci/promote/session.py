"""``promote``: move ``latest`` / the version tag to a pushed index, only after smoke passed on it.

The gate is data: the build's ``release.json`` says which digest each service was pushed at
and which tags it should carry; the smoke session's ``smoke.json`` says whether the checks
passed and which image references it pulled and ran. Promotion happens only when the smoke
verdict is pass, the container was tested, and every released service was tested at exactly
its released digest. Anything else leaves every tag where it was (exit 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vibevoice_ci.build.reports import Release, Retry
from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.errors import CheckFailedError, PipelineError
from vibevoice_ci.core.outcome import Outcome, Status, publish_summary, render_summary
from vibevoice_ci.core.progress import progress
from vibevoice_ci.core.reports import read_report, write_report
from vibevoice_ci.core.retry import RetryLog, with_retries
from vibevoice_ci.promote.reports import MovedTag, PromoteReport
from vibevoice_ci.smoke.reports import SmokeReport
from vibevoice_ci.tools import crane
from vibevoice_ci.tools._exec import run_tool


@dataclass(frozen=True)
class Move:
    """Point ``repository:tag`` at ``repository@digest``."""

    service: str
    repository: str
    digest: str
    tag: str

    @property
    def source(self) -> str:
        return f"{self.repository}@{self.digest}"

    @property
    def target(self) -> str:
        return f"{self.repository}:{self.tag}"


def plan(release: Release, smoke: SmokeReport) -> list[Move]:
    """The tag moves ``release`` asks for, if ``smoke`` allows them; else CheckFailedError
    (pure). See the module docstring for the rule."""
    if release.status != "pass" or not release.images:
        raise CheckFailedError("the release build did not pass: nothing to promote")
    if smoke.status is not Status.PASS:
        raise CheckFailedError(
            f"smoke verdict is {smoke.status.value!r}, not pass: tags left unchanged"
        )
    if smoke.container is not Status.PASS:
        raise CheckFailedError("smoke did not test the container: tags left unchanged")
    tested = set(smoke.images.values())
    moves: list[Move] = []
    untested = []
    for image in release.images:
        if image.reference not in tested:
            untested.append(image.reference)
            continue
        for tag in image.promote_tags:
            moves.append(Move(image.service, image.repository, image.digest, tag))
    if untested:
        raise CheckFailedError(
            f"smoke did not test {', '.join(untested)} (it tested "
            f"{', '.join(sorted(tested)) or 'no pinned image'}): tags left unchanged"
        )
    return moves


def current_digest(reference: str) -> str | None:
    """The digest a tag points at now, or None where the tag does not exist."""
    result = run_tool(
        crane.argv(crane.crane(), ["digest", reference], reference), check=False, timeout=120
    )
    return result.stdout.strip() if result.ok else None


def promote(config: PipelineConfig, *, release_file: Path, smoke_file: Path) -> list[Move]:
    """Apply :func:`plan`; write ``promote.json`` and the summary on every path."""
    report_dir = config.report_dir("promote")
    retries = RetryLog()
    outcomes: list[Outcome] = []
    moves: list[Move] = []
    records: list[MovedTag] = []
    try:
        moves = plan(
            read_report(release_file, Release, "release file"),
            read_report(smoke_file, SmokeReport, "smoke report"),
        )
        if not moves:
            outcomes.append(Outcome("promote", Status.PASS, "this ref promotes no tag"))
        for move in moves:
            before, after = _apply(move, retries)
            records.append(MovedTag(target=move.target, before=before, after=after))
            outcomes.append(Outcome(move.target, Status.PASS, f"{before or 'absent'} -> {after}"))
    except PipelineError as exc:
        outcomes.append(Outcome("promote", Status.FAIL, str(exc)))
        raise
    finally:
        write_report(
            report_dir / "promote.json",
            PromoteReport(
                status="pass" if all(o.passed for o in outcomes) and outcomes else "fail",
                moves=records,
                retries=Retry.all_of(retries),
            ),
        )
        publish_summary(report_dir, render_summary("promote", outcomes, _notes(release_file)))
    return moves


def _apply(move: Move, retries: RetryLog) -> tuple[str | None, str]:
    """Move one tag; return the digest it pointed at before (None: absent) and after."""
    before = current_digest(move.target)
    progress(f"promote {move.target}: {before or 'absent'} -> {move.digest}")
    with_retries(f"tag {move.target}", lambda: crane.tag(move.source, move.tag), log=retries)
    after = with_retries(f"digest of {move.target}", lambda: crane.digest(move.target), log=retries)
    if after != move.digest:
        raise CheckFailedError(f"{move.target} points at {after}, not {move.digest}")
    return before, after


def _notes(release_file: Path) -> Sequence[str]:
    return [f"release file `{release_file}`", "tags move only after smoke passed on the digest"]
