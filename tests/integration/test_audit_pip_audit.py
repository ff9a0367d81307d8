"""The audit session with the real pip-audit (the audit extra's pinned 2.10.1).

* Its advisory service unreachable (OSV pointed at a closed port on 127.0.0.1, so this holds
  on any machine, online or not): pip-audit checks nothing, and the session says unknown, not
  pass; --strict makes that exit 1.
* Its advisory service answering (tests/osv_replay.py on 127.0.0.1 with the planted records
  of tests/data/audit/osv/): the real vulnerability path finds click's planted advisory, rates
  it HIGH from the GHSA alias, fails the session and writes it to the SARIF log.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from audit_support import VENV_BIN, audit_report, run_audit_session

from loopback import closed_port_url
from osv_replay import DATA, running_osv
from vibevoice_ci.audit.session import run_audit
from vibevoice_ci.core.config import PipelineConfig, parse_config
from vibevoice_ci.core.outcome import Status
from vibevoice_ci.core.vulnerabilities import Severity

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _pip_audit_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # pip-audit is installed next to this interpreter (nox's session venv, or .venv).
    monkeypatch.setenv("PATH", f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    assert shutil.which("pip-audit"), "pip-audit is not installed: uv sync --extra audit"


def test_unreachable_service_is_unknown_never_a_pass(tmp_path: Path) -> None:
    url = closed_port_url()
    lenient = run_audit_session(
        "--target", "tts", "--target", "ci-tools", osv_url=url, reports=tmp_path
    )
    assert lenient.returncode == 0, lenient.stderr
    assert "This is NOT a pass" in lenient.stderr
    document = audit_report(tmp_path)
    assert document["status"] == "unknown"
    assert document["checked"] == 0
    assert document["unchecked"] > 10
    for report in document["reports"]:
        reasons = {entry["reason"] for entry in report["unchecked"]}
        assert reasons == {
            "advisory service unreachable (127.0.0.1: connection refused); pip-audit exited 1"
        }, reasons
    summary = (tmp_path / "audit" / "summary.md").read_text()
    assert "pinned dependencies were NOT checked" in summary

    expect = subprocess.run(
        [sys.executable, "-m", "vibevoice_ci", "expect-status", "--status", "unknown",
         "--report", str(tmp_path / "audit" / "audit.json")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert expect.returncode == 0, expect.stderr

    strict = run_audit_session("--target", "tts", "--strict", osv_url=url, reports=tmp_path)
    assert strict.returncode == 1
    assert "--strict fails on unknown" in strict.stderr
    assert "Traceback" not in strict.stderr


@pytest.fixture
def project(tmp_path: Path) -> PipelineConfig:
    # The repository's own configuration, for a copy holding three pins of the tts image.
    table: dict[str, Any] = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"][
        "vibevoice-ci"
    ]
    table["services"] = {"tts": table["services"]["tts"]}
    root = tmp_path / "project"
    (root / "infra" / "docker" / "requirements").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "example"\n\n[project.optional-dependencies]\ntts = ["click"]\n'
    )
    shutil.copy(DATA / "requirements.txt", root / "infra/docker/requirements/tts.txt")
    return parse_config(table, root)


def test_the_real_vulnerability_path_finds_a_planted_high_advisory(
    project: PipelineConfig,
) -> None:
    with running_osv() as osv:
        config = project.model_copy(
            update={"audit": project.audit.model_copy(update={"osv_url": osv.url})}
        )
        result = run_audit(config, strict=True, today=date(2026, 11, 30), other_checks=())

    queried = [r for r in osv.requests if r.startswith("POST /v1/query")]
    assert len(queried) == 3  # click, h11, idna; colorama's marker excludes this platform
    assert result.status is Status.FAIL
    assert [(v.id, v.package, v.severity) for v in result.gate.blocking] == [
        ("PYSEC-2026-9001", "click", Severity.HIGH)
    ]
    assert [(v.package, v.severity) for v in result.gate.listed] == [("idna", Severity.MEDIUM)]
    (target,) = result.targets
    assert (target.report.checked, target.report.unchecked) == (3, ())
    assert target.report.scanner_version == "2.10.1"
    sarif = json.loads((config.report_dir("audit") / "audit.sarif").read_text())
    assert "PYSEC-2026-9001" in {r["ruleId"] for r in sarif["runs"][0]["results"]}
