"""The audit session run as a contributor runs it (``python -m vibevoice_ci audit``), with the
real pip-audit and the OSV API it asks given by URL (tests/osv_replay.py, or a closed port)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
AUDIT_SCHEMA = json.loads(
    (REPO_ROOT / "src" / "vibevoice_ci" / "audit" / "audit.schema.json").read_text()
)
# pip-audit is installed next to this interpreter (nox's session venv, or .venv).
VENV_BIN = Path(sys.executable).parent


def run_audit_session(*args: str, osv_url: str, reports: Path) -> subprocess.CompletedProcess[str]:
    """``python -m vibevoice_ci audit ARGS``, its reports under ``reports``; ``$CI`` unset (it
    decides the default of ``--strict``, and a test must not change meaning under CI)."""
    path = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    if shutil.which("pip-audit", path=path) is None:
        pytest.fail("pip-audit is not installed: uv sync --extra audit")
    env = {
        **os.environ,
        "PATH": path,
        "VIBEVOICE_OSV_URL": osv_url,
        "VIBEVOICE_REPORTS_DIR": str(reports),
    }
    env.pop("CI", None)
    return subprocess.run(
        [sys.executable, "-m", "vibevoice_ci", "audit", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def audit_report(reports: Path) -> dict[str, Any]:
    """``reports/audit/audit.json``, checked against its committed schema."""
    document: dict[str, Any] = json.loads((reports / "audit" / "audit.json").read_text())
    jsonschema.validate(document, AUDIT_SCHEMA)
    return document
