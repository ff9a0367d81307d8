"""hadolint and ShellCheck wrappers: parsing (pure) and the real binaries on real files."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.core.config import load_config
from vibevoice_ci.core.errors import ToolFailedError
from vibevoice_ci.lint.infra import shell_scripts
from vibevoice_ci.tools import hadolint, shellcheck

ROOT = load_config().root


def test_hadolint_parse_real_output() -> None:
    output = json.dumps(
        [
            {
                "code": "DL3006",
                "column": 1,
                "file": "a.Dockerfile",
                "level": "warning",
                "line": 1,
                "message": "Always tag the version of an image explicitly",
            },
        ]
    )
    [finding] = hadolint.parse(output)
    assert str(finding) == (
        "a.Dockerfile:1: DL3006 [warning]: Always tag the version of an image explicitly"
    )


@pytest.mark.parametrize("output", ["", "{", "{}", '[{"code": "X"}]', "[1]"])
def test_hadolint_parse_rejects_malformed_output(output: str) -> None:
    with pytest.raises(ToolFailedError, match="hadolint printed unexpected output"):
        hadolint.parse(output)


def test_shellcheck_parse_real_output() -> None:
    output = json.dumps(
        {
            "comments": [
                {
                    "file": "a.sh",
                    "line": 3,
                    "endLine": 3,
                    "column": 1,
                    "endColumn": 7,
                    "level": "warning",
                    "code": 2164,
                    "message": "Use 'cd ... || exit'.",
                }
            ]
        }
    )
    [finding] = shellcheck.parse(output)
    assert str(finding) == "a.sh:3:1: SC2164 [warning]: Use 'cd ... || exit'."


@settings(max_examples=150)
@given(st.text(max_size=40))
def test_parsers_never_raise_anything_but_tool_failed(text: str) -> None:
    for parse in (hadolint.parse, shellcheck.parse):
        with contextlib.suppress(ToolFailedError):
            parse(text)


def test_argv_builders() -> None:
    assert hadolint.argv("hadolint", [Path("a.Dockerfile")]) == [
        "hadolint",
        "--format",
        "json",
        "--no-color",
        "a.Dockerfile",
    ]
    assert shellcheck.argv("shellcheck", [Path("x.sh")]) == [
        "shellcheck",
        "--format",
        "json1",
        "--external-sources",
        "x.sh",
    ]


def test_shell_scripts_finds_ci_run_and_install_scripts() -> None:
    found = [str(path) for path in shell_scripts(ROOT)]
    assert ".ci/run" in found
    assert "scripts/ci/install-tools.sh" in found
    assert found == sorted(found)


@pytest.mark.integration
def test_real_hadolint_flags_a_bad_dockerfile_and_passes_ours(tmp_path: Path) -> None:
    bad = tmp_path / "bad.Dockerfile"
    bad.write_text("FROM debian\nRUN cd /tmp && apt-get install curl\n", encoding="utf-8")
    codes = {finding.code for finding in hadolint.run([bad], cwd=tmp_path)}
    assert {"DL3006", "DL3003"} <= codes
    dockerfiles = [s.dockerfile for s in load_config().services.values()]
    assert hadolint.run(dockerfiles, cwd=ROOT) == []


@pytest.mark.integration
def test_real_shellcheck_flags_a_bad_script_and_passes_ours(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/bin/bash\necho $1\ncd foo\n", encoding="utf-8")
    codes = {finding.code for finding in shellcheck.run([bad], cwd=tmp_path)}
    assert {2086, 2164} <= codes
    assert shellcheck.run(shell_scripts(ROOT), cwd=ROOT) == []


@pytest.mark.integration
def test_real_tools_fail_loudly_on_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ToolFailedError):
        hadolint.run([tmp_path / "missing.Dockerfile"], cwd=tmp_path)
    with pytest.raises(ToolFailedError):
        shellcheck.run([tmp_path / "missing.sh"], cwd=tmp_path)
