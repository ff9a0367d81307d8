"""trivy.json and audit.json as their sessions write them, for the tests of their readers
(notify, the report page): each built by the sessions' own judgement and document code from
real inputs (vulnerability reports with the planted findings), never by hand."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from vibevoice_ci.audit import session as audit
from vibevoice_ci.core.config import TrivyConfig, load_config
from vibevoice_ci.core.reports import report_json
from vibevoice_ci.core.vulnerabilities import Vulnerability, VulnerabilityReport
from vibevoice_ci.trivy import imagescan
from vibevoice_ci.trivy.imagescan import ImageScan, ImageTarget
from vibevoice_ci.trivy.reports import DatabaseDocument

REPO = Path(__file__).resolve().parents[3]
SCANNED = "2026-11-30T12:00:00Z"


def trivy_json(*found: Vulnerability) -> Any:
    """trivy.json as the trivy session writes it, one image platform with ``found``."""
    report = VulnerabilityReport("trivy", "0.76.0", "r/tts@sha256:1 (linux/amd64)", SCANNED, found)
    target = ImageTarget("tts", "linux/amd64", "r/tts@sha256:1", "r/tts@sha256:0")
    scans = [ImageScan(target, report)]
    verdict = imagescan.judge(TrivyConfig(), scans, [], today=date(2026, 11, 30))
    database = DatabaseDocument(
        repository="mirror", available=True, reason="", metadata={}, seconds=1.0
    )
    return report_json(
        imagescan.document(
            verdict,
            scanner_version="0.76.0",
            database=database,
            images=scans,
            configs=[],
            strict=True,
            source="release file",
        )
    )


def audit_json(*found: Vulnerability) -> Any:
    """audit.json as the audit session writes it, the tts image's target with ``found``."""
    config = load_config(REPO)
    report = VulnerabilityReport("pip-audit", "2.9.0", "image tts", SCANNED, found, checked=3)
    target = audit.TargetResult(audit.LockTarget("tts", "image", Path("tts.txt")), report)
    result = audit.judge([target], config, today=date(2026, 11, 30))
    return report_json(audit.audit_document(result, config, strict=True, scanner_version="2.9"))
