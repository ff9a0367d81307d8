"""mmdebstrap: build a minimal Debian root filesystem, the recipe for the offline base image."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vibevoice_ci.tools._exec import find_tool, run_tool

INSTALL_HINT = "install it with: apt-get install mmdebstrap (Debian/Ubuntu, needs root)"
MERGED_USR_HOOKS = Path("/usr/share/mmdebstrap/hooks/merged-usr")


def mmdebstrap() -> str:
    return find_tool("mmdebstrap", INSTALL_HINT)


def rootfs_argv(
    binary: str,
    *,
    suite: str,
    packages: Sequence[str],
    mirrors: Sequence[str],
    output: Path,
    architecture: str | None = None,
) -> list[str]:
    """Arguments for a minbase root filesystem tarball holding ``packages`` (pure).

    The base stays a plain Debian: extra CA certificates for TLS-intercepting proxies are
    added by the service Dockerfiles' build stage, so they work on any base and never ship.
    """
    argv = [
        binary,
        "--variant=minbase",
        "--mode=root",
        "--format=tar",
        f"--include={','.join(packages)}",
        '--aptopt=Acquire::Retries "3"',
        "--dpkgopt=path-exclude=/usr/share/doc/*",
        "--dpkgopt=path-exclude=/usr/share/man/*",
    ]
    if MERGED_USR_HOOKS.is_dir():
        argv.append(f"--hook-dir={MERGED_USR_HOOKS}")
    if architecture:
        argv.append(f"--architectures={architecture}")
    argv += ['--customize-hook=rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*']
    argv += [suite, str(output), *mirrors]
    return argv


def build_rootfs(argv: Sequence[str]) -> None:
    run_tool(argv, capture=False, timeout=1800)
