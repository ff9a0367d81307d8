"""Every process the pipeline runs to completion has a bounded time: ``_exec``'s run functions
take no default timeout, and no call in the repository leaves it out."""

from __future__ import annotations

import ast
import inspect
import sys
from pathlib import Path

import pytest

from vibevoice_ci.core.errors import ToolFailedError
from vibevoice_ci.tools import _exec

ROOT = Path(__file__).resolve().parents[4]
RUN_FUNCTIONS = ("run_tool", "run_linter")
SCANNED = ("src", "scripts", "tests", "noxfile.py")


def _python_files() -> list[Path]:
    found: list[Path] = []
    for name in SCANNED:
        path = ROOT / name
        found += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return found


def calls_without_timeout(source: str) -> list[int]:
    """The lines of calls to ``run_tool``/``run_linter`` (by name or as an attribute) that do
    not pass ``timeout=`` (a ``**kwargs`` does not count: the bound must be visible)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name in RUN_FUNCTIONS and not any(kw.arg == "timeout" for kw in node.keywords):
            lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("name", RUN_FUNCTIONS)
def test_the_run_functions_require_a_timeout(name: str) -> None:
    parameter = inspect.signature(getattr(_exec, name)).parameters["timeout"]

    assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
    assert parameter.default is inspect.Parameter.empty


def test_the_scan_sees_a_call_without_a_timeout() -> None:
    source = "run_tool(['git'], check=False)\n_exec.run_linter(a, b, cwd=c, timeout=5)\n"

    assert calls_without_timeout(source) == [1]


def test_every_call_to_the_run_functions_names_its_timeout() -> None:
    missing = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in _python_files()
        for line in calls_without_timeout(path.read_text(encoding="utf-8"))
    ]

    assert not missing, f"calls without timeout=: {', '.join(missing)}"


def test_a_timed_out_tool_is_one_line_naming_the_tool_and_the_seconds() -> None:
    with pytest.raises(ToolFailedError) as caught:
        _exec.run_tool([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)

    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(Path(sys.executable).name + " ")
    assert message.endswith("did not finish within 0.5 s")
