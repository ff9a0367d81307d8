"""A real git repository with commits, made in a test's folder, for what decides on ancestry
(``tools.git.ancestry``, promote's forward-only rule)."""

from __future__ import annotations

import subprocess
from pathlib import Path

_IDENTITY = ["-c", "user.name=test", "-c", "user.email=test@example.invalid"]


class History:
    """``git init`` in ``root``; :meth:`commit` adds an empty commit on the current branch."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        completed = subprocess.run(
            ["git", *_IDENTITY, *args],
            cwd=self.root,
            check=True,
            capture_output=True,
            text=True,
            timeout=30,
        )
        return completed.stdout.strip()

    def commit(self, message: str) -> str:
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def branch_from(self, commit: str, name: str) -> None:
        """Check out a new branch ``name`` at ``commit`` (later commits go on it)."""
        self.git("checkout", "-q", "-b", name, commit)

    def shallow_clone(self, destination: Path) -> History:
        """A depth-1 clone of the current branch: its tip only, as actions/checkout makes."""
        subprocess.run(
            ["git", "clone", "-q", "--depth", "1", f"file://{self.root}", str(destination)],
            check=True,
            capture_output=True,
            timeout=60,
        )
        clone = History.__new__(History)
        clone.root = destination
        return clone
