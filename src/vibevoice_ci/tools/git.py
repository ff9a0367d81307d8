"""git: the commit, ref and cleanliness of the work tree that a build records, and whether one
commit descends from another (promote)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from vibevoice_ci.core.errors import ToolFailedError, ToolMissingError
from vibevoice_ci.tools._exec import failure_message, find_tool, run_tool

INSTALL_HINT = "install git (Debian: apt-get install git)"


@dataclass(frozen=True)
class GitState:
    sha: str
    ref: str
    dirty: bool
    # Committer date of HEAD, UTC, ``YYYY-MM-DDTHH:MM:SSZ`` (reproducible image timestamps).
    committed_at: str = ""


def git() -> str:
    return find_tool("git", INSTALL_HINT)


def head_sha(repo: Path) -> str | None:
    """The HEAD commit of ``repo``, or None where there is no git or no repository (reports
    that merely record the commit carry on without it)."""
    try:
        result = run_tool([git(), "rev-parse", "HEAD"], cwd=repo, check=False, timeout=30)
    except ToolMissingError:
        return None
    sha = result.stdout.strip()
    return sha if result.ok and sha else None


def state(repo: Path) -> GitState:
    """The HEAD commit, its symbolic ref (or the SHA when detached) and whether files changed."""
    binary = git()
    sha = run_tool([binary, "rev-parse", "HEAD"], cwd=repo, timeout=30).stdout.strip()
    ref_result = run_tool([binary, "symbolic-ref", "-q", "HEAD"], cwd=repo, check=False, timeout=30)
    ref = ref_result.stdout.strip() if ref_result.ok else sha
    porcelain = run_tool(
        [binary, "status", "--porcelain", "--untracked-files=no"], cwd=repo, timeout=60
    ).stdout
    committed_at = run_tool(
        [binary, "show", "--no-patch", "--format=%cd", "--date=format-local:%Y-%m-%dT%H:%M:%SZ"],
        cwd=repo,
        env={"TZ": "UTC"},
        timeout=30,
    ).stdout.strip()
    return GitState(sha=sha, ref=ref, dirty=bool(porcelain.strip()), committed_at=committed_at)


class Ancestry(Enum):
    """How an old commit relates to a new one in a checkout (``git merge-base --is-ancestor``)."""

    SAME = "same"
    ANCESTOR = "ancestor"  # old is an ancestor of new: new is a descendant
    NOT_ANCESTOR = "not-ancestor"
    UNKNOWN = "unknown"  # the checkout does not hold the old (or new) commit: a shallow clone


def ancestry(repo: Path, old: str, new: str) -> Ancestry:
    """Whether ``old`` is ``new``, an ancestor of it, or neither, in ``repo``'s history; UNKNOWN
    where either commit is not in the checkout (never a guess)."""
    binary = git()
    for commit in (old, new):
        known = run_tool(
            [binary, "cat-file", "-e", f"{commit}^{{commit}}"], cwd=repo, check=False, timeout=30
        )
        if not known.ok:
            return Ancestry.UNKNOWN
    if old == new:
        return Ancestry.SAME
    result = run_tool(
        [binary, "merge-base", "--is-ancestor", old, new], cwd=repo, check=False, timeout=30
    )
    if result.returncode == 0:
        return Ancestry.ANCESTOR
    if result.returncode == 1:
        return Ancestry.NOT_ANCESTOR
    raise ToolFailedError(failure_message(result))
