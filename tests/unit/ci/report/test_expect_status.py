"""``expect-status`` on the documents the sessions really write: the perf gate's verdict.json
from the real gate, audit.json and trivy.json from the scanners' own writers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scanner_helpers import audit_json, trivy_json

from vibevoice_ci.cli import main
from vibevoice_ci.core.reports import write_report
from vibevoice_ci.core.vulnerabilities import Severity, Vulnerability
from vibevoice_ci.perf import check
from vibevoice_ci.perf.metrics import read_metrics
from vibevoice_ci.perf.regression import Thresholds

METRICS = Path(__file__).resolve().parents[3] / "integration" / "data" / "reports-real"


def _expect(report: Path, status: str) -> int:
    return main(["expect-status", "--report", str(report), "--status", status])


def test_a_perf_run_with_nothing_compared_says_unknown(tmp_path: Path) -> None:
    """verdict.json as the gate writes it without a baseline (.ci/run's fresh machine)."""
    metrics = next(METRICS.rglob("metrics.json"), None)
    if metrics is None:
        pytest.skip("no recorded metrics.json")
    current = tmp_path / "metrics.json"
    write_report(current, read_metrics(metrics))
    result = check.check(current, tmp_path / "baseline.json", Thresholds())
    verdict = tmp_path / "verdict.json"
    write_report(verdict, result.document)
    assert _expect(verdict, "unknown") == 0
    assert _expect(verdict, "pass") == 1


def test_scanner_documents_are_read_through_their_models(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    critical = Vulnerability("CVE-1", Severity.CRITICAL, "zlib", "1.2", "1.3")
    (tmp_path / "audit.json").write_text(json.dumps(audit_json(critical)), encoding="utf-8")
    (tmp_path / "trivy.json").write_text(json.dumps(trivy_json()), encoding="utf-8")
    assert _expect(tmp_path / "audit.json", "fail") == 0
    assert _expect(tmp_path / "audit.json", "unknown") == 1
    assert "says fail, expected unknown" in capsys.readouterr().err
    assert _expect(tmp_path / "trivy.json", "pass") == 0


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("audit.json", '{"status": "unknown"}'),  # a hand-made shape no session writes
        ("audit.json", "{"),
        ("trivy.json", '{"status": "pass", "summary": {}}'),
        ("whatever.json", '{"status": "pass"}'),
    ],
)
def test_a_document_of_another_shape_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str
) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    assert _expect(tmp_path / name, "unknown") == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1
    assert "Traceback" not in err[0]
    assert _expect(tmp_path / "absent" / "audit.json", "pass") == 2
