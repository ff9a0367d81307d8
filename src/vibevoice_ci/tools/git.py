"""git: the commit, ref and cleanliness of the work tree that a build records."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vibevoice_ci.core.errors import ToolMissingError
from vibevoice_ci.tools._exec import find_tool, run_tool

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
