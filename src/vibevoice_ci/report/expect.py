"""``expect-status``: a session's status document, read through the model its writer writes.

The file's name says which document it is (``audit.json``, ``trivy.json``, ``verdict.json``
...); it is read with :func:`~vibevoice_ci.core.reports.read_report` as that model, so a
document of another shape (a hand-made ``{"status": ...}``) is one line, exit 2, never a
status taken on trust.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel

from vibevoice_ci.audit.reports import AuditReport
from vibevoice_ci.core.errors import UsageError
from vibevoice_ci.core.outcome import Status
from vibevoice_ci.core.reports import read_report
from vibevoice_ci.helm.reports import HelmReport
from vibevoice_ci.notify.reports import NotifyReport
from vibevoice_ci.perf.reports import PerfVerdict
from vibevoice_ci.promote.reports import PromoteReport
from vibevoice_ci.sign.reports import SignReport
from vibevoice_ci.smoke.reports import SmokeReport
from vibevoice_ci.trivy.reports import TrivyReport
from vibevoice_ci.workflows.reports import WorkflowsReport

# A status document's file name -> the model its session writes it with.
STATUS_DOCUMENTS: Mapping[str, type[BaseModel]] = {
    "audit.json": AuditReport,
    "trivy.json": TrivyReport,
    "smoke.json": SmokeReport,
    "helm.json": HelmReport,
    "sign.json": SignReport,
    "promote.json": PromoteReport,
    "notify.json": NotifyReport,
    "verdict.json": PerfVerdict,  # the perf gate's
    "workflows.json": WorkflowsReport,
}


def read_status_document(path: Path) -> Status:
    """The top-level ``status`` of a session's status document, read through its model."""
    model = STATUS_DOCUMENTS.get(path.name)
    if model is None:
        raise UsageError(
            f"report {path}: not a session's status document (one of "
            f"{', '.join(sorted(STATUS_DOCUMENTS))})"
        )
    document = read_report(path, model, "report")
    return Status(str(getattr(document, "status")))  # noqa: B009 (every model has one)
