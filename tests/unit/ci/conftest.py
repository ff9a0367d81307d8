"""Shared fixtures for the pipeline (vibevoice_ci) unit tests."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from vibevoice_ci.core.config import PipelineConfig, parse_config, with_environment

REPO_ROOT = Path(__file__).resolve().parents[3]

VALID_TABLE: dict[str, Any] = {
    "reports_dir": "reports",
    "registry": "ghcr.io/example",
    "platforms": ["linux/amd64", "linux/arm64"],
    "compose_file": "infra/docker/compose.yaml",
    "compose_project": "example-ci",
    "base_image": {
        "default": "python:3.11-slim-bookworm",
        "offline": "example-base:bookworm",
        "debian_suite": "bookworm",
        "debian_packages": ["python3", "ca-certificates"],
    },
    "tools": {"uv": "0.13.9", "docker": "20.10"},
    "smoke": {
        "sentences": ["Please call me back.", "Meet me at 7."],
        "min_recall": {"piper": 0.75},
        "unscored": {"espeak": "scores like noise"},
        "agent": {"turn": "Please call me back.", "min_recall": {"piper": 0.6}},
    },
    "services": {
        "tts": {
            "image": "example-tts",
            "dockerfile": "infra/docker/tts.Dockerfile",
            "requirements": "infra/docker/requirements/tts.txt",
            "extra": "tts",
            "module": "example.tts",
            "container_port": 8000,
            "host_port": 18000,
            "health_path": "/health",
            "ready_path": "/ready",
            "metrics_path": "/metrics",
        }
    },
}


@pytest.fixture
def valid_table() -> dict[str, Any]:
    """A fresh, valid ``[tool.vibevoice-ci]`` table that a test may mutate."""
    return copy.deepcopy(VALID_TABLE)


@pytest.fixture
def repo_root() -> Path:
    """The real repository (holding the real pyproject.toml)."""
    assert (REPO_ROOT / "pyproject.toml").is_file()
    return REPO_ROOT


@pytest.fixture
def project_copy(tmp_path: Path, repo_root: Path) -> Path:
    """A scratch project root holding a copy of the real pyproject.toml (and uv.lock)."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copyfile(repo_root / "pyproject.toml", root / "pyproject.toml")
    if (repo_root / "uv.lock").is_file():
        shutil.copyfile(repo_root / "uv.lock", root / "uv.lock")
    return root


@pytest.fixture
def make_config(
    tmp_path: Path, valid_table: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., PipelineConfig]:
    """A config rooted in the test's tmp_path, with the given environment variables applied
    (reports land in tmp_path/reports; nothing goes to $GITHUB_STEP_SUMMARY)."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)

    def make(**environ: str) -> PipelineConfig:
        # No CA folder of the host's leaks into the build: an empty list means none.
        environ = {"VIBEVOICE_EXTRA_CA_CERTS": "", "VIBEVOICE_BASE_IMAGE": "base:1", **environ}
        return with_environment(parse_config(valid_table, tmp_path), environ)

    return make
