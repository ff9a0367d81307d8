"""``reports/notify/notify.json``, as a model: what the notify session tried, and what it skipped.

Every string in it has had the secrets' values redacted before it was made (``http.redact``).
"""

from __future__ import annotations

from typing import Literal

from vibevoice_ci.core.reports import ReportModel
from vibevoice_ci.core.vulnerability_models import OutcomeDocument, StatusName, StrictReport


class NotifyReport(StrictReport):
    """The overall ``status`` (pass when nothing was tried), the event, and each notification:
    the ones tried as ``checks``, the ones skipped (and why) as ``notes``."""

    status: StatusName
    event: Literal["failure", "security", "perf"]
    dry_run: bool
    checks: list[OutcomeDocument]
    notes: list[str]


SCHEMAS: dict[str, type[ReportModel]] = {"notify.schema.json": NotifyReport}
