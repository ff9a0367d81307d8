"""The report session (``nox -s report``): one page and one summary of every session's report.

Local-only and not a gate: it shows outcomes, it does not judge them, so it exits 0 whatever
the sessions said (2 for bad input). When Chromium is installed it also opens the page it
wrote, checks that every session's outcome the browser shows is the one its report states and
that its outcome and decisive reason are shown without unfolding anything, and saves a
screenshot (``reports/index.png``); a page that disagrees is exit 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.errors import CheckFailedError, ToolMissingError
from vibevoice_ci.core.files import write_text_atomic
from vibevoice_ci.core.outcome import Outcome, Status, publish_summary
from vibevoice_ci.core.progress import progress
from vibevoice_ci.report.model import Overview
from vibevoice_ci.report.read import read_overview
from vibevoice_ci.report.reasons import decisive
from vibevoice_ci.report.render import render_html, render_markdown
from vibevoice_ci.tools import chromium, git
from vibevoice_ci.tools.chromium import ShownText

PAGE = "index.html"
SCREENSHOT = "index.png"
# Folders under reports/ that are not sessions' reports.
NOT_SESSIONS = ("report",)


@dataclass(frozen=True)
class ReportRun:
    overview: Overview
    page: Path
    summary: Path
    browser: Outcome
    screenshot: Path | None


def run_report(config: PipelineConfig, *, browser: bool = True) -> ReportRun:
    """Render reports/index.html and reports/summary.md; check the page in Chromium."""
    reports = config.reports_dir
    commit = config.env.github_sha or git.head_sha(config.root)
    overview = read_overview(reports, checkout_commit=commit, skip=NOT_SESSIONS)
    page = reports / PAGE
    write_text_atomic(page, render_html(overview))
    summary = publish_summary(reports, render_markdown(overview))
    for session in overview.sessions:
        progress(f"{session.status.value.upper():7} {session.name}: {decisive(session).line()}")
    shot: Path | None = None
    if not browser:
        outcome = Outcome("browser check", Status.UNKNOWN, "not run (--no-browser)")
    else:
        try:
            outcome = check_page(page, overview)
            shot = chromium.screenshot(page, reports / SCREENSHOT)
        except ToolMissingError as exc:
            outcome = Outcome("browser check", Status.UNKNOWN, f"not run: {exc}")
    progress(outcome.line())
    progress(f"wrote {page} and {summary}" + (f", screenshot {shot}" if shot else ""))
    if outcome.status is Status.FAIL:
        raise CheckFailedError(f"report: {outcome.detail}")
    return ReportRun(overview, page, summary, outcome, shot)


def check_page(page: Path, overview: Overview) -> Outcome:
    """Open ``page`` in headless Chromium and compare what it shows with the data: each
    session's outcome, and its outcome badge and decisive reason in view without unfolding."""
    dom = chromium.dump_dom(page)
    shown = chromium.attribute_pairs(dom, "data-session", "data-status")
    problems = page_problems({s.name: s.status.value for s in overview.sessions}, shown)
    problems += line_problems(
        {s.name: (s.status.value, decisive(s).line()) for s in overview.sessions},
        outcomes=chromium.element_texts(dom, "data-outcome"),
        reasons=chromium.element_texts(dom, "data-decisive"),
    )
    if problems:
        return Outcome("browser check", Status.FAIL, "; ".join(problems))
    return Outcome(
        "browser check",
        Status.PASS,
        f"Chromium shows the {len(shown)} sessions' outcomes, each with its decisive reason "
        "in view without unfolding",
    )


def page_problems(expected: Mapping[str, str], shown: Mapping[str, str]) -> list[str]:
    """Where the page's outcomes differ from the reports' (pure)."""
    problems = [
        f"{name}: page shows {shown.get(name, 'nothing')}, report says {status}"
        for name, status in sorted(expected.items())
        if shown.get(name) != status
    ]
    problems += [
        f"{name}: on the page but not in reports/" for name in sorted(set(shown) - set(expected))
    ]
    return problems


def line_problems(
    expected: Mapping[str, tuple[str, str]],
    *,
    outcomes: Mapping[str, ShownText],
    reasons: Mapping[str, ShownText],
) -> list[str]:
    """Where a session's line on the page is not what a reader must see at a glance (pure):
    ``expected`` is each session's ``(outcome, decisive reason)``; ``outcomes`` and
    ``reasons`` what the browser shows in its badge and reason, and whether they are folded."""
    problems = []
    for name, (status, reason) in sorted(expected.items()):
        for what, want, found in (
            ("outcome badge", status, outcomes.get(name)),
            ("decisive reason", reason, reasons.get(name)),
        ):
            if found is None:
                problems.append(f"{name}: the page shows no {what}")
            elif found.folded:
                problems.append(f"{name}: its {what} is folded away (not in view until unfolded)")
            elif " ".join(found.text.split()) != " ".join(want.split()):
                problems.append(f"{name}: the {what} shows {found.text!r}, expected {want!r}")
    return problems
