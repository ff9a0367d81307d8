"""The layers of vibevoice_ci hold: ``lint-imports`` (import-linter, run by ``nox -s lint``)
passes on the tree, and fails when a foundation module imports a session package."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


def _lint_imports(src: Path, repo_root: Path) -> subprocess.CompletedProcess[str]:
    binary = Path(sys.executable).with_name("lint-imports")
    if not binary.is_file():
        pytest.fail(f"lint-imports is not installed beside {sys.executable} (uv sync --group dev)")
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(binary), "--config", str(repo_root / "pyproject.toml"), "--no-cache"],
        cwd=src,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _copy_package(repo_root: Path, tmp_path: Path) -> Path:
    src = tmp_path / "src"
    shutil.copytree(
        repo_root / "src" / "vibevoice_ci",
        src / "vibevoice_ci",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return src


def test_the_tree_keeps_its_layers(repo_root: Path, tmp_path: Path) -> None:
    result = _lint_imports(_copy_package(repo_root, tmp_path), repo_root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("core/errors.py", "vibevoice_ci.smoke.session"),
        ("core/config.py", "vibevoice_ci.tools.docker"),
        ("tools/docker.py", "vibevoice_ci.build.native"),
        ("core/outcome.py", "vibevoice_ci.cli"),
    ],
)
def test_a_lower_layer_importing_a_higher_one_breaks_the_contract(
    repo_root: Path, tmp_path: Path, lower: str, higher: str
) -> None:
    src = _copy_package(repo_root, tmp_path)
    module = src / "vibevoice_ci" / lower
    module.write_text(module.read_text(encoding="utf-8") + f"\nimport {higher}  # planted\n")
    result = _lint_imports(src, repo_root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN" in result.stdout
    planted = "vibevoice_ci." + lower.removesuffix(".py").replace("/", ".")
    assert f"{planted} -> {higher}" in result.stdout
