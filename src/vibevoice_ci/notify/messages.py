"""The notifications' text, made from the sessions' reports (pure: data in, messages out).

* :func:`failure_message`: a failed run on main, for the webhook (Slack's ``{"text"}``).
* :func:`failure_comment`: the PR comment naming each failed session, its summary and the
  artifact link; it starts with :data:`FAILURE_MARKER`, so the next push updates it in place.
* :func:`perf_comment`: the perf summary on the PR, the same way (:data:`PERF_MARKER`).
* :func:`security_alert`: any CRITICAL finding of the ``trivy`` or ``audit`` reports (read by
  :func:`vibevoice_ci.report.security.security_findings_of` through those sessions' models,
  as the report page reads them).
* :func:`regression_issue`: a GitHub issue for a performance regression, with a marker that
  names the regressed metrics, so one regression keeps one open issue (updated, not repeated).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from vibevoice_ci.core.outcome import Status
from vibevoice_ci.perf.reports import PerfVerdict, VerdictCheck
from vibevoice_ci.report.model import Overview, SessionReport
from vibevoice_ci.report.security import Finding, SecurityFindings

FAILURE_MARKER = "<!-- vibevoice-ci:failure -->"
PERF_MARKER = "<!-- vibevoice-ci:perf -->"
REGRESSION_MARKER_PREFIX = "<!-- vibevoice-ci:perf-regression:"
REGRESSION_LABEL = "performance-regression"
# GitHub refuses a comment or issue body over 65,536 characters; stay well under it.
MAX_BODY = 60_000
MAX_SUMMARY = 6_000
_FAILED_RESULTS = frozenset({"failure", "cancelled"})


@dataclass(frozen=True)
class RunContext:
    """Where the notification is about: the run, its commit and ref, its links."""

    workflow: str = "CI"
    ref: str | None = None
    sha: str | None = None
    run_url: str | None = None  # https://github.com/<repo>/actions/runs/<id>
    needs: Mapping[str, str] = field(default_factory=dict)  # job -> result
    # The run's conclusion when a follow-up reports on it (workflow_run): success, failure...
    conclusion: str | None = None

    @property
    def passed(self) -> bool:
        """The reported run concluded successfully (known only in a follow-up)."""
        return self.conclusion == "success"

    @property
    def artifacts_url(self) -> str | None:
        return f"{self.run_url}#artifacts" if self.run_url else None

    @property
    def branch(self) -> str | None:
        if self.ref and self.ref.startswith("refs/heads/"):
            return self.ref[len("refs/heads/") :]
        return None


@dataclass(frozen=True)
class IssueDraft:
    title: str
    body: str
    marker: str
    labels: tuple[str, ...] = (REGRESSION_LABEL,)


def is_main(context: RunContext) -> bool:
    return context.ref == "refs/heads/main"


def failed_sessions(overview: Overview) -> list[SessionReport]:
    """Sessions that failed or could not be decided: unknown is never a pass."""
    return [s for s in overview.sessions if s.status is not Status.PASS]


def failed_jobs(context: RunContext) -> list[str]:
    return sorted(job for job, result in context.needs.items() if result in _FAILED_RESULTS)


def failure_message(overview: Overview, context: RunContext) -> str:
    """The webhook text for a failed run (plain text with Slack's ``<url|label>`` links)."""
    commit = f" at {context.sha[:12]}" if context.sha else ""
    where = context.branch or context.ref or "an unknown ref"
    lines = [f":x: {context.workflow} failed on {where}{commit}"]
    jobs = failed_jobs(context)
    if jobs:
        lines.append("Failed jobs: " + ", ".join(jobs))
    for session in failed_sessions(overview):
        lines.append(f"- {session.name}: {session.status.value.upper()}: {_one_line(session)}")
    if not jobs and not failed_sessions(overview):
        lines.append("No failed session report was found: see the run's logs.")
    if context.run_url:
        lines.append(f"Run and artifacts: <{context.artifacts_url}|{context.run_url}>")
    return "\n".join(lines)


def failure_comment(overview: Overview, context: RunContext) -> str:
    """The PR comment: which sessions failed, their summaries, the artifact link."""
    failed = failed_sessions(overview)
    jobs = failed_jobs(context)
    commit = f" for `{context.sha[:12]}`" if context.sha else ""
    notes: list[str] = []
    if context.passed:
        # A green run after a red one: the same comment now says so (never a new comment).
        title = f"### {context.workflow}: passed{commit}"
        notes = ["An earlier run of this pull request failed; this one passed.", ""]
    elif failed or jobs:
        title = f"### {context.workflow}: {len(failed) or len(jobs)} failed{commit}"
    elif context.conclusion is not None:
        title = f"### {context.workflow}: {context.conclusion}{commit}"
        notes = ["No session's report names a failure: see the run's log.", ""]
    else:
        title = f"### {context.workflow}: every session passed{commit}"
    lines = [FAILURE_MARKER, title, "", *notes]
    if jobs:
        lines += [f"Failed jobs: {', '.join(f'`{job}`' for job in jobs)}", ""]
    if overview.sessions:
        lines += ["| session | outcome | reason |", "| --- | --- | --- |"]
        for session in overview.sessions:
            label = session.status.value
            shown = f"**{label.upper()}**" if session.status is not Status.PASS else label
            lines.append(f"| `{session.name}` | {shown} | {_cell(session.verdict.reason)} |")
        lines.append("")
    for session in failed:
        if session.summary_markdown:
            lines += [
                "<details>",
                f"<summary>{_escape_html(session.name)}: summary</summary>",
                "",
                _clip(_demote_headings(session.summary_markdown), MAX_SUMMARY),
                "",
                "</details>",
                "",
            ]
    if context.run_url:
        lines.append(f"Reports: [the run's artifacts]({context.artifacts_url}).")
    lines.append(
        "_This comment is updated in place on every push; reproduce a session locally with "
        "`nox -s <session>`._"
    )
    return _clip("\n".join(lines), MAX_BODY) + "\n"


def perf_comment(perf: SessionReport, context: RunContext) -> str:
    """The perf session's summary as a PR comment (updated in place like the failure one)."""
    commit = f" for `{context.sha[:12]}`" if context.sha else ""
    lines = [
        PERF_MARKER,
        f"### Performance: {perf.status.value.upper()}{commit}",
        "",
        _clip(_demote_headings(perf.summary_markdown or perf.verdict.reason), MAX_SUMMARY),
        "",
    ]
    if context.run_url:
        lines.append(
            f"Metrics, verdict and trend chart: [the run's artifacts]({context.artifacts_url})."
        )
    return _clip("\n".join(lines), MAX_BODY) + "\n"


def security_alert(findings: Mapping[str, SecurityFindings], context: RunContext) -> str | None:
    """The alert text when any scanner counts a CRITICAL finding; None when none does."""
    critical = {name: f for name, f in findings.items() if f.counts.critical > 0}
    if not critical:
        return None
    commit = f" at {context.sha[:12]}" if context.sha else ""
    where = context.branch or context.ref or "an unknown ref"
    total = sum(f.counts.critical for f in critical.values())
    lines = [f":rotating_light: {total} CRITICAL vulnerabilities on {where}{commit}"]
    for name, result in sorted(critical.items()):
        lines.append(f"- {name}: {result.counts.line()}")
        lines += [f"  - {_finding(f)}" for f in result.critical()[:10]]
        if len(result.critical()) > 10:
            lines.append(f"  - and {len(result.critical()) - 10} more")
    if context.run_url:
        lines.append(f"Reports: <{context.artifacts_url}|{context.run_url}>")
    return "\n".join(lines)


def regression_rows(verdict: PerfVerdict) -> list[VerdictCheck]:
    """The regressed rows of the perf gate's verdict.json (``checks`` with ``regression``)."""
    if not verdict.regression:
        return []
    return [row for row in verdict.checks if row.regression]


def regression_key(rows: Sequence[VerdictCheck]) -> str:
    """The regression's identity: its metrics, sorted and slugged (``e2e-p95+ttfa-mean``)."""
    names = sorted({_slug(row.metric) for row in rows})
    return "+".join(names) or "unnamed"


def regression_issue(
    verdict: PerfVerdict, perf: SessionReport | None, context: RunContext
) -> IssueDraft | None:
    """The issue for a regression in ``verdict`` (the perf gate's verdict.json), or None."""
    rows = regression_rows(verdict)
    if not rows:
        return None
    key = regression_key(rows)
    marker = f"{REGRESSION_MARKER_PREFIX}{key} -->"
    metrics = ", ".join(sorted({row.metric for row in rows}))
    lines = [
        marker,
        f"The nightly performance gate found a regression in {metrics}.",
        "",
        "| metric | baseline | current | change | threshold | evidence |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        shown = "n/a" if row.change is None else f"{row.change:+.1%}"
        lines.append(
            f"| {_cell(row.metric)} | {row.baseline:.4g} | {row.current:.4g} | {shown} | "
            f"{_cell(row.threshold)} | {_cell(row.evidence)} |"
        )
    lines.append("")
    if context.sha:
        lines.append(
            f"Last seen at `{context.sha[:12]}`"
            + (f" ([run]({context.run_url}))." if context.run_url else ".")
        )
    if perf is not None and perf.chart and context.run_url:
        lines.append(
            f"Trend chart: `{perf.chart}` in [the run's artifacts]({context.artifacts_url})."
        )
    lines += [
        "",
        "_Opened by `nox -s notify -- perf`; the next run with the same regression updates this "
        "issue instead of opening another. Close it when the regression is fixed._",
    ]
    title = f"Performance regression: {metrics}"
    return IssueDraft(title, _clip("\n".join(lines), MAX_BODY) + "\n", marker)


def _finding(f: Finding) -> str:
    fixed = f", fixed in {f.fixed_version}" if f.fixed_version else ""
    version = f" {f.installed_version}" if f.installed_version else ""
    target = f" ({f.target})" if f.target else ""
    return f"{f.id}: {f.package}{version}{fixed}{target}"


def _one_line(session: SessionReport, limit: int = 300) -> str:
    text = session.verdict.reason.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "metric"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _escape_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _demote_headings(markdown: str) -> str:
    return re.sub(r"^(#{1,3}) ", r"#\1 ", markdown, flags=re.MULTILINE).replace("<!--", "&lt;!--")


def _clip(text: str, limit: int) -> str:
    return (
        text
        if len(text) <= limit
        else text[: limit - 40].rstrip() + "\n\n…(cut; see the artifacts)"
    )
