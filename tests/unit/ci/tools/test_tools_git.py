"""``tools.git.ancestry`` against real repositories: same, ancestor, sideways, backwards, and a
shallow clone that does not hold the old commit (UNKNOWN, never a guess)."""

from __future__ import annotations

from pathlib import Path

from git_history import History
from vibevoice_ci.tools import git
from vibevoice_ci.tools.git import Ancestry


def test_ancestry_follows_the_history(tmp_path: Path) -> None:
    history = History(tmp_path / "repo")
    first = history.commit("first")
    second = history.commit("second")
    history.branch_from(first, "side")
    sideways = history.commit("sideways")

    assert git.ancestry(history.root, first, second) is Ancestry.ANCESTOR
    assert git.ancestry(history.root, second, second) is Ancestry.SAME
    assert git.ancestry(history.root, second, first) is Ancestry.NOT_ANCESTOR
    assert git.ancestry(history.root, second, sideways) is Ancestry.NOT_ANCESTOR
    assert git.ancestry(history.root, first, sideways) is Ancestry.ANCESTOR


def test_a_commit_the_checkout_does_not_hold_is_unknown(tmp_path: Path) -> None:
    history = History(tmp_path / "repo")
    first = history.commit("first")
    second = history.commit("second")
    clone = history.shallow_clone(tmp_path / "clone")

    assert git.ancestry(clone.root, first, second) is Ancestry.UNKNOWN
    assert git.ancestry(clone.root, second, first) is Ancestry.UNKNOWN
    assert git.ancestry(clone.root, "0" * 40, second) is Ancestry.UNKNOWN
    # the full history answers
    assert git.ancestry(history.root, first, second) is Ancestry.ANCESTOR
