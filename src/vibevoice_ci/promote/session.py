"""``promote``: move ``latest`` / the version tag to a pushed index, only after smoke passed on it.

The gate is data: the build's ``release.json`` says which digest each service was pushed at
and which tags it should carry; the smoke session's ``smoke.json`` says whether the checks
passed and which image references it pulled and ran. Promotion happens only when the smoke
verdict is pass, the container was tested, and every released service was tested at exactly
its released digest. Anything else leaves every tag where it was (exit 1).

Tags only move forward: before anything moves, each tag's current commit (its image's
``org.opencontainers.image.revision``) must be an ancestor of, or the same as, the commit the
release was built from (``git merge-base --is-ancestor`` in this checkout). A move backwards or
sideways, or one whose old commit this checkout does not hold (a shallow clone: fetch the
history), is refused unless ``--allow-rollback`` (the rollback runbook) is given. :func:`judge`
is the rule; an absent tag moves, the same commit moves as a no-op.

Only tested commits move: before any tag moves, the commit the released images were built from
(their revision label) must have a run of the required workflow (``CI test``) that concluded
success, as GitHub's REST API lists that commit's runs (``promote/tests_gate.py``). A failed,
unfinished or missing run refuses (exit 1), naming the run; an API that cannot be asked is
unknown, which fails under CI. ``--no-require-tests REASON`` skips that check, saying why;
promote.json records the run trusted (or the skip).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vibevoice_ci.build.reports import Release, Retry
from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.errors import CheckFailedError, PipelineError, UsageError
from vibevoice_ci.core.outcome import (
    Outcome,
    Status,
    overall,
    publish_summary,
    render_summary,
    unknown_warning,
)
from vibevoice_ci.core.progress import progress
from vibevoice_ci.core.reports import read_report, write_report
from vibevoice_ci.core.retry import RetryLog, with_retries
from vibevoice_ci.promote import tests_gate
from vibevoice_ci.promote.reports import MovedTag, PromoteReport, RequiredTests
from vibevoice_ci.smoke.reports import SmokeReport
from vibevoice_ci.tools import crane, git
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


Direction = Literal["created", "forward", "same", "rollback"]


def judge(
    target: str,
    *,
    before: str | None,
    after: str,
    old_commit: str | None,
    new_commit: str | None,
    relation: git.Ancestry | None,
    allow_rollback: bool,
) -> Direction:
    """Whether moving ``target`` from digest ``before`` (None: absent) to ``after`` goes
    forward (pure). ``old_commit``/``new_commit`` are the images' revisions (None: not
    labelled); ``relation`` is git's answer for the two (None where it was not asked).

    created: the tag was absent; same: same digest or same commit (a re-promote); forward:
    the old commit is an ancestor of the new; rollback: anything else, allowed only with
    ``allow_rollback``, else a one-line CheckFailedError saying why and what to do.
    """
    if before is None:
        return "created"
    if before == after or (old_commit is not None and old_commit == new_commit):
        return "same"
    if relation is git.Ancestry.ANCESTOR:
        return "forward"
    if relation is git.Ancestry.SAME:
        return "same"
    if allow_rollback:
        return "rollback"
    if old_commit is None or new_commit is None:
        which = f"{target} ({before})" if old_commit is None else f"the release ({after})"
        reason = f"{which} carries no {crane.REVISION} label, so its commit is unknown"
    elif relation is git.Ancestry.UNKNOWN:
        reason = (
            f"commit {old_commit} that {target} holds (or {new_commit}) is not in this "
            "checkout, a shallow clone: fetch the history (git fetch --unshallow; "
            "actions/checkout with fetch-depth: 0) and promote again"
        )
    else:
        reason = f"{new_commit} does not descend from {old_commit}, the commit {target} holds"
    raise CheckFailedError(
        f"refusing to move {target} backwards: {reason}; --allow-rollback moves it anyway"
    )


def current_digest(reference: str) -> str | None:
    """The digest a tag points at now, or None where the tag does not exist."""
    result = run_tool(
        crane.argv(crane.crane(), ["digest", reference], reference), check=False, timeout=120
    )
    return result.stdout.strip() if result.ok else None


@dataclass(frozen=True)
class Judged:
    """A move with what it was judged on: the digests and commits before and after."""

    move: Move
    before: str | None
    commit_before: str | None
    commit_after: str | None
    direction: Direction


def promote(
    config: PipelineConfig,
    *,
    release_file: Path,
    smoke_file: Path,
    allow_rollback: bool = False,
    skip_tests: str | None = None,
) -> list[Move]:
    """Apply :func:`plan`, every move judged by :func:`judge` and the commit's tests checked
    (:func:`tests_gate.check_tests`; ``skip_tests``: the reason to skip that) before any tag
    moves; write ``promote.json`` and the summary on every path."""
    report_dir = config.report_dir("promote")
    retries = RetryLog()
    outcomes: list[Outcome] = []
    moves: list[Move] = []
    records: list[MovedTag] = []
    gate: RequiredTests | None = None
    try:
        problem = tests_gate.skip_problem(skip_tests)
        if problem:
            raise UsageError(problem)
        moves = plan(
            read_report(release_file, Release, "release file"),
            read_report(smoke_file, SmokeReport, "smoke report"),
        )
        if not moves:
            outcomes.append(Outcome("promote", Status.PASS, "this ref promotes no tag"))
        judged = [_judge(move, config.root, allow_rollback, retries) for move in moves]
        if judged:
            gate = _check_tests(config, judged, skip_tests, retries, outcomes)
            if tests_gate.gate_stops(gate, ci=config.env.ci):
                unknown = " (unknown fails under CI)" if gate.status == "unknown" else ""
                raise CheckFailedError(f"{gate.detail}{unknown}: tags left unchanged")
        for step in judged:
            after = _apply(step, retries)
            records.append(
                MovedTag(
                    target=step.move.target,
                    before=step.before,
                    after=after,
                    commit_before=step.commit_before,
                    commit_after=step.commit_after,
                    direction=step.direction,
                )
            )
            outcomes.append(
                Outcome(
                    step.move.target,
                    Status.PASS,
                    f"{step.before or 'absent'} -> {after} ({step.direction})",
                )
            )
    except PipelineError as exc:
        outcomes.append(Outcome("promote", Status.FAIL, str(exc)))
        raise
    finally:
        write_report(
            report_dir / "promote.json",
            PromoteReport(
                status=overall(outcomes) if outcomes else Status.FAIL,
                tests=gate,
                moves=records,
                retries=Retry.all_of(retries),
            ),
        )
        notes = [*_notes(release_file), *([tests_gate.gate_note(gate)] if gate else [])]
        publish_summary(report_dir, render_summary("promote", outcomes, notes))
    return moves


def _check_tests(
    config: PipelineConfig,
    judged: Sequence[Judged],
    skip: str | None,
    retries: RetryLog,
    outcomes: list[Outcome],
) -> RequiredTests:
    """The tests gate for the released commit, recorded in ``outcomes`` and printed."""
    commit, why = tests_gate.the_commit(step.commit_after for step in judged)
    workflow = config.promote.required_workflow
    gate = tests_gate.check_tests(
        config.env,
        workflow,
        commit,
        why_no_commit=why,
        skip=skip,
        log=retries,
        wait=config.promote.tests_wait_seconds,
    )
    outcome = tests_gate.gate_outcome(gate)
    progress(outcome.line() if outcome else tests_gate.gate_note(gate))
    if outcome is not None:
        outcomes.append(outcome)
    warning = unknown_warning("promote: the tests gate", outcome.status) if outcome else None
    if warning and not tests_gate.gate_stops(gate, ci=config.env.ci):
        progress(warning)
    return gate


def _judge(move: Move, repo: Path, allow_rollback: bool, retries: RetryLog) -> Judged:
    """Read what ``move`` would replace and judge it (registry and git reads; nothing moves)."""

    def revision(reference: str) -> str | None:
        return with_retries(
            f"revision of {reference}", lambda: crane.revision(reference), log=retries
        )

    before = current_digest(move.target)
    new_commit = revision(move.source)
    old_commit = new_commit
    if before is None:
        old_commit = None
    elif before != move.digest:
        old_commit = revision(f"{move.repository}@{before}")
    relation = None
    if before is not None and old_commit and new_commit and old_commit != new_commit:
        relation = git.ancestry(repo, old_commit, new_commit)
    direction = judge(
        move.target,
        before=before,
        after=move.digest,
        old_commit=old_commit,
        new_commit=new_commit,
        relation=relation,
        allow_rollback=allow_rollback,
    )
    return Judged(move, before, old_commit, new_commit, direction)


def _apply(step: Judged, retries: RetryLog) -> str:
    """Move one judged tag (a tag already at the digest is left alone); return the digest it
    points at after, read back."""
    move = step.move
    progress(f"promote {move.target}: {step.before or 'absent'} -> {move.digest}, {step.direction}")
    if step.before != move.digest:
        with_retries(f"tag {move.target}", lambda: crane.tag(move.source, move.tag), log=retries)
    after = with_retries(f"digest of {move.target}", lambda: crane.digest(move.target), log=retries)
    if after != move.digest:
        raise CheckFailedError(f"{move.target} points at {after}, not {move.digest}")
    return after


def _notes(release_file: Path) -> Sequence[str]:
    return [
        f"release file `{release_file}`",
        "tags move only after smoke passed on the digest, and only forward in git history "
        "unless --allow-rollback",
    ]
