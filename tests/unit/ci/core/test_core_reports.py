"""Report models: written atomically as sorted JSON; a reader's wrong shape is one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vibevoice_ci.core.errors import EXIT_BAD_INPUT, UsageError
from vibevoice_ci.core.reports import ReportModel, read_report, validate_report, write_report


class _Part(ReportModel):
    status: str


class _Report(ReportModel):
    status: str
    parts: dict[str, _Part]


def test_a_report_round_trips_through_its_file(tmp_path: Path) -> None:
    report = _Report(status="pass", parts={"b": _Part(status="fail"), "a": _Part(status="pass")})
    path = tmp_path / "session" / "report.json"
    write_report(path, report)
    text = path.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"
    assert read_report(path, _Report, "report") == report


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"status": "pass"}', "report {path}: parts: Field required"),
        ('{"status": "pass", "parts": {"a": {}}}', "report {path}: parts.a.status: Field required"),
        ('{"status": 1, "parts": {}, "x": 2}', "(and 1 more)"),
        ("[]", "report {path}: (document): Input should be an object"),
        ("not json", "report {path}: (document): Invalid JSON"),
    ],
)
def test_a_document_of_the_wrong_shape_is_one_line(
    tmp_path: Path, content: str, expected: str
) -> None:
    path = tmp_path / "report.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        read_report(path, _Report, "report")
    message = str(caught.value)
    assert "\n" not in message
    assert expected.format(path=path) in message
    assert caught.value.exit_code == EXIT_BAD_INPUT


def test_a_missing_report_is_named(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"smoke report .* not found"):
        read_report(tmp_path / "smoke.json", _Report, "smoke report")


def test_a_decoded_document_is_validated_too() -> None:
    with pytest.raises(UsageError, match=r"release file: parts: Input should be a valid dict"):
        validate_report({"status": "pass", "parts": []}, _Report, "release file")
