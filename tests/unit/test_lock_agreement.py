"""uv.lock holds exactly what pyproject.toml asks for, extra by extra and group by group.

`uv lock --locked` compares the lock's recorded metadata with pyproject.toml, but not the
per-extra package lists that `uv sync --extra X` actually installs: a textual git merge once
moved kubernetes-validate under the agent extra and uv did not notice. This test does.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
LOCK_PATH = ROOT / "uv.lock"


def _name(requirement: str) -> str:
    """PEP 503 normalised distribution name of a PEP 508 requirement string."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, f"unparseable requirement {requirement!r}"
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def _project_package() -> dict[str, object]:
    if not LOCK_PATH.is_file():
        pytest.fail("uv.lock is missing: run `uv lock`")
    lock = tomllib.loads(LOCK_PATH.read_text(encoding="utf-8"))
    name = PYPROJECT["project"]["name"]
    (package,) = [p for p in lock["package"] if p["name"] == name]
    return dict(package)


def _locked(table: object) -> dict[str, set[str]]:
    assert isinstance(table, dict)
    return {key: {_name(entry["name"]) for entry in entries} for key, entries in table.items()}


def _requested(table: dict[str, list[object]]) -> dict[str, set[str]]:
    # Dependency groups may include other groups ({include-group = ...}); we use none.
    return {
        key: {_name(entry) for entry in entries if isinstance(entry, str)}
        for key, entries in table.items()
    }


def test_each_extra_in_the_lock_is_exactly_the_extra_in_pyproject() -> None:
    package = _project_package()
    assert _locked(package.get("optional-dependencies", {})) == _requested(
        PYPROJECT["project"]["optional-dependencies"]
    )


def test_each_dependency_group_in_the_lock_is_exactly_the_group_in_pyproject() -> None:
    package = _project_package()
    assert _locked(package.get("dev-dependencies", {})) == _requested(
        PYPROJECT.get("dependency-groups", {})
    )


def test_the_locked_metadata_names_each_requirement_under_its_own_extra() -> None:
    package = _project_package()
    metadata = package["metadata"]
    assert isinstance(metadata, dict)
    locked: dict[str, set[str]] = {}
    for entry in metadata["requires-dist"]:
        extra = re.fullmatch(r"extra == '([^']+)'", entry.get("marker", ""))
        if extra:
            locked.setdefault(extra.group(1), set()).add(_name(entry["name"]))
    assert locked == _requested(PYPROJECT["project"]["optional-dependencies"])
