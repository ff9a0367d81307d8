"""mutmut 3: mutation testing. It copies the project into ``mutants/`` (in the folder it runs
in), writes every mutant of the files its ``[tool.mutmut]`` table selects into those copies,
behind a trampoline that picks one mutant per test run, and runs the selected tests against
each mutant in a forked child (at most ``--max-children`` at once).

What it leaves behind, and what this module reads: for each mutated file
``mutants/<path>.meta``, a JSON object whose ``exit_code_by_key`` maps each mutant's name
(``<module>.x_<function>__mutmut_<n>``, a method ``<module>.xǁ<Class>ǁ<method>__mutmut_<n>``)
to the exit code of its test run (null: not run); ``mutmut show NAME`` prints the mutant as a
unified diff. The exit codes mean what mutmut 3.8's ``status_by_exit_code`` says
(:data:`STATUS_BY_EXIT_CODE`), its own ``mutmut results`` included.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vibevoice_ci.core.files import write_text_atomic
from vibevoice_ci.tools._exec import find_tool, require_version, run_tool
from vibevoice_ci.tools._output import read_version

SUPPORTED_VERSION = "3.8.1"
INSTALL_HINT = (
    "install mutmut with: uv sync --extra mutation (or python -m pip install mutmut==3.8.1)"
)
_VERSION_RE = re.compile(r"mutmut, version (\d+\.\d+\.\d+\S*)")
_SPINNER = frozenset(chr(code) for code in range(0x2800, 0x2900))  # Braille: its spinner

MutantStatus = Literal[
    "killed",
    "survived",
    "no tests",
    "timeout",
    "suspicious",
    "skipped",
    "caught by type check",
    "segfault",
    "interrupted",
    "not checked",
]

# mutmut 3.8.1's mutmut/stats.py, status_by_exit_code (any other code: "suspicious"). 3 is
# pytest's internal error, a kill; 24, -24 and 152 are SIGXCPU (its CPU-time limit), 255 too.
STATUS_BY_EXIT_CODE: Mapping[int | None, MutantStatus] = {
    1: "killed",
    3: "killed",
    0: "survived",
    5: "no tests",
    33: "no tests",
    2: "interrupted",
    None: "not checked",
    34: "skipped",
    35: "suspicious",
    36: "timeout",
    37: "caught by type check",
    -24: "timeout",
    24: "timeout",
    152: "timeout",
    255: "timeout",
    -11: "segfault",
    -9: "segfault",
}


class MalformedOutputError(ValueError):
    """mutmut's meta file or diff is not what mutmut 3.8 writes (one line, for the caller)."""


def status_of(exit_code: int | None) -> MutantStatus:
    """What a mutant's recorded test-run exit code means (mutmut's own table; pure)."""
    return STATUS_BY_EXIT_CODE.get(exit_code, "suspicious")


def parse_meta(text: str) -> dict[str, int | None]:
    """A ``.meta`` file's ``exit_code_by_key``: mutant name to exit code (None: not run)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedOutputError(f"mutmut's meta file is not JSON: {exc}") from None
    codes = document.get("exit_code_by_key") if isinstance(document, dict) else None
    if not isinstance(codes, dict):
        raise MalformedOutputError("mutmut's meta file has no exit_code_by_key object")
    result: dict[str, int | None] = {}
    for name, code in codes.items():
        if code is not None and (type(code) is not int):
            raise MalformedOutputError(f"mutmut's meta file gives {name} the exit code {code!r}")
        result[name] = code
    return result


@dataclass(frozen=True)
class MutantDiff:
    """What a mutant changes: the original lines it replaces and the lines it puts there."""

    removed: tuple[str, ...]
    added: tuple[str, ...]


def parse_show(text: str) -> MutantDiff:
    """The changed lines of ``mutmut show NAME``'s unified diff, without their -/+ and the
    indentation (pure). A mutant that deletes a line has no added line."""
    lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith("@@"))
    except StopIteration:
        raise MalformedOutputError("mutmut show printed no diff hunk") from None
    removed = tuple(line[1:].strip() for line in lines[start:] if line.startswith("-"))
    added = tuple(line[1:].strip() for line in lines[start:] if line.startswith("+"))
    if not removed and not added:
        raise MalformedOutputError("mutmut show printed a diff that changes no line")
    return MutantDiff(removed, added)


def module_of(path: Path) -> str:
    """The dotted module name mutmut gives a file under ``src/`` (``src/a/b.py``: ``a.b``)."""
    parts = path.with_suffix("").parts
    if len(parts) < 2 or parts[0] != "src" or path.suffix != ".py":
        raise ValueError(f"{path}: not a Python module under src/")
    names = parts[1:-1] if parts[-1] == "__init__" else parts[1:]
    return ".".join(names)


def function_of(mutant: str, module: str) -> str:
    """The function a mutant of ``module`` mutates, as written in the source: ``compare``,
    or ``Verdict.to_document`` for a method (pure)."""
    prefix = module + "."
    if not mutant.startswith(prefix) or "__mutmut_" not in mutant:
        raise ValueError(f"{mutant} is not a mutant of {module}")
    mangled = mutant[len(prefix) :].rsplit("__mutmut_", 1)[0]
    if mangled.startswith("xǁ"):
        return ".".join(part for part in mangled[2:].split("ǁ") if part)
    if mangled.startswith("x_"):
        return mangled[2:]
    raise ValueError(f"{mutant} is not a mutant of {module}")


def mutant_pattern(module: str, function: str) -> str:
    """The ``mutmut run`` glob that selects every mutant of one function or method (pure)."""
    if "." in function:
        return f"{module}.xǁ{'ǁ'.join(function.split('.'))}__mutmut_*"
    return f"{module}.x_{function}__mutmut_*"


def config_table(
    *,
    mutate: str,
    tests: Sequence[str],
    also_copy: Sequence[str],
    pytest_args: Sequence[str],
) -> str:
    """The ``[tool.mutmut]`` TOML table of one module's run (pure): mutate the file ``mutate``
    (relative to the folder mutmut runs in, under ``src``), run only ``tests``."""

    def array(values: Sequence[str]) -> str:
        return "[" + ", ".join(json.dumps(value) for value in values) + "]"

    return "\n".join(
        [
            "[tool.mutmut]",
            'source_paths = ["src"]',
            f"only_mutate = {array([mutate])}",
            f"also_copy = {array(also_copy)}",
            f"pytest_add_cli_args = {array(pytest_args)}",
            f"pytest_add_cli_args_test_selection = {array(tests)}",
            # Every run starts from an empty mutants/: no result is carried over.
            "use_git_change_detection = false",
            "",
        ]
    )


def run_argv(binary: str, *, max_children: int, patterns: Sequence[str] = ()) -> list[str]:
    """``mutmut run`` with at most ``max_children`` test runs at once (pure)."""
    return [binary, "run", "--max-children", str(max_children), *patterns]


def mutmut() -> str:
    """The mutmut binary, at the pinned version (else ToolMissingError, exit 3)."""
    binary = find_tool("mutmut", INSTALL_HINT, env_override="VIBEVOICE_MUTMUT")
    output = run_tool([binary, "--version"], timeout=60).stdout
    require_version(
        "mutmut",
        read_version(_VERSION_RE, output, "mutmut --version"),
        SUPPORTED_VERSION,
        INSTALL_HINT,
        binary=binary,
    )
    return binary


def without_spinner(output: str) -> str:
    """mutmut's output less its spinner's redrawn lines, the last progress line kept (pure)."""
    kept: list[str] = []
    progress = ""
    for line in re.split(r"[\r\n]+", output):
        if line[:1] in _SPINNER:
            progress = line[1:].strip()
            continue
        if progress:
            kept.append(progress)
            progress = ""
        kept.append(line)
    if progress:
        kept.append(progress)
    return "\n".join(kept).strip() + "\n"


def run(
    binary: str,
    workspace: Path,
    *,
    max_children: int,
    patterns: Sequence[str],
    timeout: float,
    log: Path,
) -> int:
    """``mutmut run`` in ``workspace``; its output (the spinner left out) goes to ``log``.
    Returns its exit code: 0 when it ran every mutant."""
    result = run_tool(
        run_argv(binary, max_children=max_children, patterns=patterns),
        cwd=workspace,
        check=False,
        timeout=timeout,
    )
    write_text_atomic(log, without_spinner(result.stdout + result.stderr))
    return result.returncode


def show(binary: str, workspace: Path, mutant: str) -> MutantDiff:
    """``mutmut show MUTANT`` in ``workspace``, parsed."""
    return parse_show(run_tool([binary, "show", mutant], cwd=workspace, timeout=120).stdout)
