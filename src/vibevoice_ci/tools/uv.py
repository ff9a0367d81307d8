"""uv: the hashed requirements files, exported from the lock (images) or compiled (CI tools)."""

from __future__ import annotations

from collections.abc import Sequence
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


def export_group_argv(binary: str, *, group: str) -> list[str]:
    """``uv export`` of one dependency group alone (no project, no extras), hashed (pure)."""
    return [
        binary,
        "export",
        "--frozen",
        "--format",
        "requirements-txt",
        "--only-group",
        group,
        "--no-emit-project",
        "--no-header",
    ]


def export_group_requirements(project_root: Path, *, group: str) -> str:
    return run_tool(export_group_argv(uv(), group=group), cwd=project_root, timeout=120).stdout


def compile_argv(
    binary: str,
    *,
    python_version: str,
    output_file: str | None = None,
    upgrade: bool = False,
) -> list[str]:
    """``uv pip compile`` of the requirements on stdin, hashed, for every platform (pure).

    ``--universal`` gives one file that holds on any OS and architecture (markers where a
    dependency is platform-specific); ``--python-version`` is the oldest Python it must suit.
    uv keeps the versions pinned in an existing ``output_file`` where they still satisfy the
    input (so a re-run is stable while PyPI moves on), unless ``upgrade`` asks for the newest.
    """
    argv = [
        binary,
        "pip",
        "compile",
        "-",
        "--universal",
        "--generate-hashes",
        "--python-version",
        python_version,
        "--no-header",
    ]
    if output_file is not None:
        argv += ["--output-file", output_file]
    if upgrade:
        argv.append("--upgrade")
    return argv


def compile_requirements(
    requirements: Sequence[str],
    *,
    python_version: str,
    cwd: Path,
    output_file: Path | None = None,
    upgrade: bool = False,
) -> str:
    """Resolve ``requirements`` (lines such as ``nox==2026.10.20``) into a hashed file's text.

    ``output_file``, when given, is both uv's source of the pins to keep and where uv writes
    its result (the text returned is what it wrote); pass a scratch copy, never a committed
    file, so that file is only ever replaced atomically by the caller.
    """
    argv = compile_argv(
        uv(),
        python_version=python_version,
        output_file=None if output_file is None else str(output_file),
        upgrade=upgrade,
    )
    stdin = "".join(f"{line}\n" for line in requirements)
    result = run_tool(argv, cwd=cwd, stdin_data=stdin, timeout=300)
    if output_file is not None:
        return output_file.read_text(encoding="utf-8")
    return result.stdout
