"""uv: export the lock file into the hashed requirements files the images install from."""

from __future__ import annotations

from pathlib import Path

from vibevoice_ci.tools._exec import find_tool, run_tool

INSTALL_HINT = "install uv with: python3 -m pip install uv"


def uv() -> str:
    return find_tool("uv", INSTALL_HINT, env_override="VIBEVOICE_UV")


def export_argv(binary: str, *, extra: str) -> list[str]:
    """``uv export`` of one extra's runtime dependencies, hashed, from the frozen lock (pure)."""
    return [
        binary,
        "export",
        "--frozen",
        "--format",
        "requirements-txt",
        "--no-dev",
        "--no-emit-project",
        "--no-header",
        "--extra",
        extra,
    ]


def export_requirements(project_root: Path, *, extra: str) -> str:
    return run_tool(export_argv(uv(), extra=extra), cwd=project_root, timeout=120).stdout
