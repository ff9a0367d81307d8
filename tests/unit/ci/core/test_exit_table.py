"""docs/ci-cd.md's "Unknown and exit codes" table, checked against the code: the one rule
(``core.outcome.exit_code``), the gates' own verdict functions, and each command's flags."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from vibevoice_ci import cli
from vibevoice_ci.core.errors import EXIT_CHECK_FAILED, EXIT_OK
from vibevoice_ci.core.outcome import Outcome, Status, exit_code
from vibevoice_ci.lint.infra import lint_verdict

DOC = Path(__file__).resolve().parents[4] / "docs" / "ci-cd.md"
SCRIPT = "scripts/check_performance_regression.py"
# Commands whose row is named differently in the table (its first backquoted word).
COMMAND_OF = {"lint": "lint-infra"}
COLUMNS = ("pass", "fail", "unknown, CI unset", "unknown, CI set", "unknown, --no-strict")


def table() -> dict[str, tuple[str, ...]]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("### Unknown and exit codes", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[str, ...]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 7 or not cells[0].startswith("`"):
            continue
        name = re.match(r"`([^`]+)`", cells[0])
        assert name is not None
        rows[name[1]] = tuple(cells[1:])
    return rows


def _options(command: str) -> set[str]:
    found = {c.name: c for c in cli.commands()}[command]
    parser = argparse.ArgumentParser()
    found.add_arguments(parser)
    return {option for action in parser._actions for option in action.option_strings}


def _rule_row(strict_option: bool) -> tuple[str, ...]:
    codes = (
        exit_code(Status.PASS, ci=True),
        exit_code(Status.FAIL, ci=False),
        exit_code(Status.UNKNOWN, ci=False),
        exit_code(Status.UNKNOWN, ci=True),
    )
    no_strict = str(exit_code(Status.UNKNOWN, ci=True, strict=False)) if strict_option else "-"
    return ("yes" if strict_option else "no", *map(str, codes), no_strict)


def test_every_gate_session_has_a_row() -> None:
    rows = table()
    gates = set(cli.SESSION_PACKAGES) - {"build"}  # pass or fail, never unknown
    assert gates <= set(rows), sorted(gates - set(rows))
    assert SCRIPT in rows


@pytest.mark.parametrize(
    "session",
    ["audit", "trivy", "smoke", "perf", "helm", "notify", "sign", "promote", "mutation"],
)
def test_a_session_row_is_the_one_rule_and_its_flags(session: str) -> None:
    options = _options(session)
    strict_option = "--no-strict" in options
    assert strict_option == ("--strict" in options)
    assert table()[session] == _rule_row(strict_option)


def test_the_lint_row_is_its_verdict_function() -> None:
    """A linter not installed leaves lint unknown: a missing tool, exit 3 under CI."""
    unknown = [Outcome("actionlint", Status.UNKNOWN, "not installed")]
    failed = [Outcome.of("actionlint", False, "finding")]
    under_ci = lint_verdict(unknown, strict=True)
    assert under_ci is not None
    assert lint_verdict(failed, strict=False) is not None
    row = (
        "no",
        str(EXIT_OK),
        str(EXIT_CHECK_FAILED),
        str(EXIT_OK if lint_verdict(unknown, strict=False) is None else 1),
        str(under_ci.exit_code),
        "-",
    )
    assert "--no-strict" not in _options(COMMAND_OF["lint"])
    assert table()["lint"] == row


def test_the_report_row_never_judges() -> None:
    assert table()["report"] == ("no", "0", "0", "0", "0", "-")
    assert "--no-strict" not in _options("report")


def test_the_script_row_keeps_example_1() -> None:
    """Nothing compared (no baseline) is unknown and exits 0 from the script even with $CI
    set (the script passes strict=False to the one rule; run under CI in
    tests/unit/ci/perf/test_perf_regression.py, Example 1)."""
    assert table()[SCRIPT] == ("no", "0", "1", "0", "0", "-")
    assert exit_code(Status.UNKNOWN, ci=True, strict=False) == EXIT_OK
    assert exit_code(Status.FAIL, ci=True, strict=False) == EXIT_CHECK_FAILED
