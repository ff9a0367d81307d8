"""oras: push a file to a registry as an OCI artifact (the planted trivy database)."""

from __future__ import annotations

from pathlib import Path

from vibevoice_ci.tools._exec import find_tool, run_tool
from vibevoice_ci.tools.crane import plain_http

INSTALL_HINT = (
    "build it from the Go module proxy: bash scripts/ci/install-go-tools.sh oras "
    "(go install oras.land/oras/cmd/oras@<pinned version>)"
)


def oras() -> str:
    return find_tool("oras", INSTALL_HINT, env_override="VIBEVOICE_ORAS")


def push_argv(
    binary: str, reference: str, file: Path, *, artifact_type: str, media_type: str
) -> list[str]:
    """``oras push`` of one file with its media type; plain HTTP for loopback (pure). The
    file is named by its base name inside the artifact, so oras runs in its folder."""
    return [
        binary,
        "push",
        *(["--plain-http"] if plain_http(reference) else []),
        "--artifact-type",
        artifact_type,
        reference,
        f"{file.name}:{media_type}",
    ]


def push(reference: str, file: Path, *, artifact_type: str, media_type: str) -> None:
    argv = push_argv(oras(), reference, file, artifact_type=artifact_type, media_type=media_type)
    run_tool(argv, cwd=file.parent, timeout=300)
