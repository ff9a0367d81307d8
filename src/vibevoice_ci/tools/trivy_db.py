"""trivy-db: trivy's own database builder, run on a hand-made advisory tree (tests, docs).

Built from the Go module proxy at the pinned pseudo-version ([tool.vibevoice-ci.tools]
trivy-db) by scripts/ci/install-go-tools.sh. Its GHSA source lists Go's standard packages when
it starts (``go list std``), so ``go`` must be on PATH when it runs.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from vibevoice_ci.core.errors import ToolMissingError
from vibevoice_ci.tools._exec import find_tool, run_tool

INSTALL_HINT = (
    "build it from the Go module proxy: bash scripts/ci/install-go-tools.sh trivy-db "
    "(go install github.com/aquasecurity/trivy-db/cmd/trivy-db@<pinned version>)"
)
GO_FALLBACK = Path("/usr/local/go/bin")


def trivy_db() -> str:
    return find_tool("trivy-db", INSTALL_HINT, env_override="VIBEVOICE_TRIVY_DB")


def build_argv(binary: str, *, tree: Path, output: Path, sources: Sequence[str]) -> list[str]:
    """``trivy-db build`` of ``sources`` (vuln-list folders under ``tree``) into ``output``
    (trivy.db and metadata.json) (pure)."""
    args = [binary, "build", "--cache-dir", str(tree), "--output-dir", str(output)]
    for source in sources:
        args += ["--only-update", source]
    return args


def go_path_env() -> dict[str, str]:
    """PATH with a Go toolchain on it (trivy-db needs ``go list std`` at start): the search
    path as it is, plus /usr/local/go/bin where the machine image keeps Go."""
    path = os.pathsep.join([*os.get_exec_path(), str(GO_FALLBACK)])
    if shutil.which("go", path=path) is None:
        raise ToolMissingError("trivy-db needs a Go toolchain on PATH (go list std)")
    return {"PATH": path}


def build(tree: Path, output: Path, *, sources: Sequence[str]) -> Path:
    """Build the database; returns the folder holding trivy.db and metadata.json."""
    output.mkdir(parents=True, exist_ok=True)
    run_tool(
        build_argv(trivy_db(), tree=tree, output=output, sources=sources),
        env=go_path_env(),
        timeout=600,
    )
    return output
