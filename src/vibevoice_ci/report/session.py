"""The report session (``nox -s report``): one page and one summary of every session's report.

Local-only and not a gate: it shows outcomes, it does not judge them, so it exits 0 whatever
the sessions said (2 for bad input). When Chromium is installed it also opens the page it
wrote, checks that every session's outcome the browser shows is the one its report states,
and saves a screenshot (``reports/index.png``); a page that disagrees is exit 1.
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
from vibevoice_ci.report.render import render_html, render_markdown
from vibevoice_ci.tools import chromium, git

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
        progress(f"{session.status.value.upper():7} {session.name}: {session.verdict.reason}")
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
    """Open ``page`` in headless Chromium and compare the outcomes it shows with the data."""
    shown = chromium.attribute_pairs(chromium.dump_dom(page), "data-session", "data-status")
    problems = page_problems({s.name: s.status.value for s in overview.sessions}, shown)
    if problems:
        return Outcome("browser check", Status.FAIL, "; ".join(problems))
    return Outcome(
        "browser check", Status.PASS, f"Chromium shows the {len(shown)} sessions' outcomes"
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
