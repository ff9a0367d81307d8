"""``vibevoice_ci.core.outcome``: atomic writes, the Markdown summary and $GITHUB_STEP_SUMMARY."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.core.errors import EXIT_CHECK_FAILED, CheckFailedError
from vibevoice_ci.core.files import write_json_atomic, write_text_atomic
from vibevoice_ci.core.outcome import (
    Outcome,
    Status,
    exit_code,
    overall,
    publish_summary,
    render_summary,
    unknown_warning,
    verdict_error,
)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# --- atomic writes ----------------------------------------------------------------------------


def test_write_text_creates_missing_parents(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "c" / "out.txt"

    write_text_atomic(target, "héllo\n")

    assert target.read_text(encoding="utf-8") == "héllo\n"
    assert _leftovers(target.parent) == []


def test_write_text_replaces_existing_content(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("a much longer previous content\n" * 10, encoding="utf-8")

    write_text_atomic(target, "short\n")

    assert target.read_text(encoding="utf-8") == "short\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_write_text_writes_utf8_verbatim(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"

    write_text_atomic(target, "line1\r\nünïcødé ✓\n")

    assert target.read_bytes() == "line1\r\nünïcødé ✓\n".encode()


def test_failed_write_keeps_the_old_file_and_removes_the_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("previous\n", encoding="utf-8")

    with pytest.raises(UnicodeEncodeError):
        write_text_atomic(target, "half written \ud800 lone surrogate")

    assert target.read_text(encoding="utf-8") == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_failed_first_write_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "new" / "out.txt"

    with pytest.raises(UnicodeEncodeError):
        write_text_atomic(target, "\udfff")

    assert list((tmp_path / "new").iterdir()) == []


def test_write_json_is_sorted_indented_and_newline_terminated(tmp_path: Path) -> None:
    target = tmp_path / "r" / "out.json"

    write_json_atomic(target, {"b": [1, 2], "a": {"z": None, "y": True}})

    text = target.read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert json.loads(text) == {"b": [1, 2], "a": {"z": None, "y": True}}
    assert text.index('"a"') < text.index('"b"')
    assert text.index('"y"') < text.index('"z"')
    assert '\n  "a": {' in text


def test_write_json_replaces_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    write_json_atomic(target, [1])
    write_json_atomic(target, [2, 3])

    assert json.loads(target.read_text(encoding="utf-8")) == [2, 3]
    assert _leftovers(tmp_path) == []


def test_write_json_of_unserialisable_document_keeps_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    write_json_atomic(target, {"ok": True})

    with pytest.raises(TypeError):
        write_json_atomic(target, {"bad": object()})

    assert json.loads(target.read_text(encoding="utf-8")) == {"ok": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_write_json_with_lone_surrogate_keeps_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    write_json_atomic(target, {"ok": True})

    # json.dumps escapes non-ASCII by default, so even a lone surrogate is written safely.
    write_json_atomic(target, {"text": "\ud800"})

    assert json.loads(target.read_text(encoding="utf-8")) == {"text": "\ud800"}
    assert _leftovers(tmp_path) == []


# --- Outcome and render_summary ---------------------------------------------------------------


@pytest.mark.parametrize("status", ["pass", "PASS", "passed", "ok", "", "skip", True, None])
def test_outcome_takes_a_status_never_a_free_string(status: object) -> None:
    with pytest.raises(TypeError, match="status must be a Status"):
        Outcome("check", status, "")  # type: ignore[arg-type]


def test_there_are_exactly_three_statuses() -> None:
    assert [status.value for status in Status] == ["pass", "fail", "unknown"]
    assert Status("unknown") is Status.UNKNOWN


@pytest.mark.parametrize(
    ("outcome", "line", "passed"),
    [
        (Outcome.of("health", True, "HTTP 200"), "PASS health: HTTP 200", True),
        (Outcome.of("health", False, "HTTP 503"), "FAIL health: HTTP 503", False),
        (Outcome("db", Status.UNKNOWN, "unreachable"), "UNKNOWN db: unreachable", False),
    ],
)
def test_outcome_line_json_and_passed(outcome: Outcome, line: str, passed: bool) -> None:
    assert outcome.line() == line
    assert outcome.passed is passed
    assert outcome.to_json() == {
        "name": outcome.name,
        "status": outcome.status.value,
        "detail": outcome.detail,
    }
    assert json.loads(json.dumps(outcome.to_json()))["status"] in {"pass", "fail", "unknown"}


def test_overall_examples() -> None:
    ok, bad, unsure = (Outcome("a", s, "") for s in (Status.PASS, Status.FAIL, Status.UNKNOWN))

    assert overall([ok, ok]) is Status.PASS
    assert overall([ok, unsure]) is Status.UNKNOWN
    assert overall([unsure, bad, ok]) is Status.FAIL
    assert overall([]) is Status.UNKNOWN  # no check at all is never a pass
    assert overall(iter([ok])) is Status.PASS


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list(Status)), max_size=8))
def test_overall_passes_only_when_every_check_passed(statuses: list[Status]) -> None:
    verdict = overall(Outcome(f"c{i}", s, "") for i, s in enumerate(statuses))

    assert (verdict is Status.PASS) == (bool(statuses) and set(statuses) == {Status.PASS})
    assert (verdict is Status.FAIL) == (Status.FAIL in statuses)


def test_summary_all_pass() -> None:
    text = render_summary(
        "smoke (docker)",
        [
            Outcome("health", Status.PASS, "HTTP 200 in 3 ms"),
            Outcome("ready", Status.PASS, "HTTP 200"),
        ],
    )

    lines = text.splitlines()
    assert lines[0] == "## smoke (docker)"
    assert lines[2] == "**PASSED**: 2 checks"
    assert "| check | result | detail |" in lines
    assert "| health | pass | HTTP 200 in 3 ms |" in lines
    assert "| ready | pass | HTTP 200 |" in lines
    assert text.endswith("|\n")
    assert "FAIL" not in text
    assert "UNKNOWN" not in text


def test_summary_some_fail() -> None:
    text = render_summary(
        "smoke",
        [
            Outcome("health", Status.PASS, "ok"),
            Outcome("synthesis", Status.FAIL, "silent"),
            Outcome("metrics", Status.UNKNOWN, "not scraped"),
        ],
    )

    lines = text.splitlines()
    assert lines[2] == "**FAILED**: 1 of 3 checks failed"
    assert "| synthesis | FAIL | silent |" in lines
    assert "| metrics | UNKNOWN | not scraped |" in lines
    assert "PASSED" not in text


def test_summary_unknown_is_never_a_pass() -> None:
    text = render_summary(
        "scan",
        [
            Outcome("a", Status.PASS, ""),
            Outcome("b", Status.UNKNOWN, ""),
            Outcome("c", Status.UNKNOWN, ""),
        ],
    )

    assert text.splitlines()[2] == "**UNKNOWN**: 2 of 3 checks could not be decided"
    assert "PASSED" not in text


def test_summary_escapes_pipes_and_flattens_newlines_in_details() -> None:
    text = render_summary("t", [Outcome("c", Status.FAIL, "a | b\nc|d")])

    row = next(line for line in text.splitlines() if line.startswith("| c |"))
    assert row == "| c | FAIL | a \\| b c\\|d |"
    # the row still has exactly the table's four unescaped separators
    assert row.replace("\\|", "").count("|") == 4


def test_summary_notes_are_a_list_after_the_table() -> None:
    text = render_summary(
        "build", [Outcome("tts", Status.PASS, "built")], ["base image `x`", "Docker engine 24.0"]
    )

    lines = text.splitlines()
    assert lines[-3:] == ["", "- base image `x`", "- Docker engine 24.0"]
    assert lines.index("| tts | pass | built |") < lines.index("- base image `x`")


def test_summary_without_notes_ends_with_the_table() -> None:
    text = render_summary("build", [Outcome("tts", Status.PASS, "built")])

    assert text.splitlines()[-1] == "| tts | pass | built |"


# --- publish_summary --------------------------------------------------------------------------


def test_publish_writes_summary_md_and_appends_to_step_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    step_summary = tmp_path / "step-summary.md"
    step_summary.write_text("## earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    report_dir = tmp_path / "reports" / "smoke"

    first = publish_summary(report_dir, "## smoke\n\nfirst\n")
    second = publish_summary(report_dir, "## smoke\n\nsecond\n")

    assert first == second == report_dir / "summary.md"
    assert first.read_text(encoding="utf-8") == "## smoke\n\nsecond\n"
    assert step_summary.read_text(encoding="utf-8") == (
        "## earlier step\n## smoke\n\nfirst\n\n## smoke\n\nsecond\n\n"
    )


def test_publish_without_step_summary_only_writes_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.chdir(tmp_path)

    target = publish_summary(tmp_path / "r", "text\n")

    assert target.read_text(encoding="utf-8") == "text\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_publish_with_empty_step_summary_variable_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", "")
    monkeypatch.chdir(tmp_path)

    publish_summary(tmp_path / "r", "text\n")

    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_atomic_write_gives_new_files_the_umask_mode(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        target = tmp_path / "new.txt"
        write_text_atomic(target, "x")
    finally:
        os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o644


def test_atomic_write_keeps_an_existing_files_mode(tmp_path: Path) -> None:
    target = tmp_path / "script.sh"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o755)
    write_text_atomic(target, "new")
    assert target.stat().st_mode & 0o777 == 0o755
    assert target.read_text(encoding="utf-8") == "new"


def test_a_failure_inside_is_recorded_by_its_first_line_and_raised_again() -> None:
    from vibevoice_ci.core.errors import ToolFailedError
    from vibevoice_ci.core.outcome import failure_recorded

    outcomes: list[Outcome] = []
    with pytest.raises(ToolFailedError), failure_recorded(outcomes, "release"):
        raise ToolFailedError("buildx failed\nsecond line of its log")
    assert outcomes == [Outcome("release", Status.FAIL, "buildx failed")]


def test_nothing_is_recorded_when_the_work_succeeds_or_fails_otherwise() -> None:
    from vibevoice_ci.core.outcome import failure_recorded

    outcomes: list[Outcome] = []
    with failure_recorded(outcomes, "sign"):
        pass
    with pytest.raises(KeyError), failure_recorded(outcomes, "sign"):
        raise KeyError("a bug is not a check's failure")
    assert outcomes == []


# --- the error a session ends with, and the warning an allowed unknown prints -------------------


@pytest.mark.parametrize(
    ("status", "ci", "strict", "detail", "message"),
    [
        (Status.FAIL, False, None, "", "smoke: fail"),
        (Status.FAIL, True, False, "tts (see summary.md)", "smoke: fail: tts (see summary.md)"),
        (Status.UNKNOWN, True, None, "", "smoke: unknown (unknown fails under CI)"),
        (
            Status.UNKNOWN,
            True,
            None,
            "container",
            "smoke: unknown (unknown fails under CI): container",
        ),
        (Status.UNKNOWN, False, True, "", "smoke: unknown (unknown fails under --strict)"),
        (Status.UNKNOWN, True, True, "x", "smoke: unknown (unknown fails under --strict): x"),
    ],
)
def test_a_failing_verdict_is_one_line_saying_why(
    status: Status, ci: bool, strict: bool | None, detail: str, message: str
) -> None:
    error = verdict_error("smoke", status, ci=ci, strict=strict, detail=detail)
    assert isinstance(error, CheckFailedError)
    assert str(error) == message
    assert error.exit_code == EXIT_CHECK_FAILED


def test_without_a_detail_the_error_names_the_session_and_verdict_alone() -> None:
    assert str(verdict_error("perf", Status.FAIL, ci=False)) == "perf: fail"


@pytest.mark.parametrize(
    ("status", "ci", "strict"),
    [
        (Status.PASS, True, True),
        (Status.UNKNOWN, False, None),
        (Status.UNKNOWN, True, False),
    ],
)
def test_a_verdict_that_exits_0_raises_nothing(
    status: Status, ci: bool, strict: bool | None
) -> None:
    assert verdict_error("smoke", status, ci=ci, strict=strict, detail="ignored") is None


@given(st.sampled_from(Status), st.booleans(), st.none() | st.booleans())
def test_an_error_exactly_when_the_exit_code_is_not_0(
    status: Status, ci: bool, strict: bool | None
) -> None:
    error = verdict_error("s", status, ci=ci, strict=strict)
    assert (error is None) == (exit_code(status, ci=ci, strict=strict) == 0)


def test_only_an_unknown_verdict_warns_and_never_as_a_pass() -> None:
    assert unknown_warning("perf", Status.UNKNOWN) == (
        "WARNING: perf verdict is UNKNOWN: NOT a pass (under CI, or with --strict, it fails)"
    )
    assert unknown_warning("perf", Status.PASS) is None
    assert unknown_warning("perf", Status.FAIL) is None
