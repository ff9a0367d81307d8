"""The overview as a static page and as Markdown (pure: data in, text out).

The page is one HTML file with its CSS inline and no script, font or image from elsewhere, so
it reads the same offline, from a downloaded artifact or a file:// URL. Each session is one
line (its outcome and the reason that decided it, :mod:`vibevoice_ci.report.reasons`), with
everything else folded below it in a ``<details>`` element. What a browser test reads back:
each session's element carries ``data-session`` and ``data-status``, its outcome badge
``data-outcome`` and its decisive reason ``data-decisive`` (both outside the folded part).
All text from the reports is HTML-escaped; links are relative paths inside reports/.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from urllib.parse import quote

from vibevoice_ci.core.outcome import Outcome, Status
from vibevoice_ci.report.model import ARTIFACT_KINDS, Overview, SessionReport
from vibevoice_ci.report.reasons import ReasonGroup, decisive, group_reasons, shorten
from vibevoice_ci.report.security import SecurityFindings, shown_findings

_LABEL = {Status.PASS: "pass", Status.FAIL: "fail", Status.UNKNOWN: "unknown"}
# How much of a reason the Markdown summary's list of reasons shows (summary.md has it whole).
MARKDOWN_REASON_LIMIT = 400
_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1b1f23; max-width: 80rem;
  line-height: 1.4; }
h1 { font-size: 1.5rem; margin-bottom: 0.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
p { margin: 0.4rem 0; }
#sessions { border: 1px solid #d0d7de; border-radius: 6px; margin: 1rem 0; }
.row { display: grid; align-items: baseline; gap: 0 0.75rem; padding: 0.45rem 0.75rem;
  grid-template-columns: 0.8rem 9rem 6rem minmax(0, 1fr) 11rem 7rem; }
.head { background: #f6f8fa; font-weight: 600; border-bottom: 1px solid #d0d7de;
  border-left: 4px solid transparent; border-radius: 6px 6px 0 0; }
details.session { border-left: 4px solid transparent; }
details.session + details.session { border-top: 1px solid #d0d7de; }
details.session[data-status="fail"] { border-left-color: #cf222e; }
details.session[data-status="unknown"] { border-left-color: #d4a72c; }
summary.row { cursor: pointer; list-style: none; }
summary.row::-webkit-details-marker { display: none; }
summary.row::before { content: "\\25B8"; color: #57606a; }
details[open] > summary.row::before { content: "\\25BE"; }
summary.row:hover { background: #f6f8fa; }
.name { font-weight: 600; overflow-wrap: anywhere; }
.why, .more { overflow-wrap: anywhere; }
.ran, .commit { font-size: 0.9em; }
.ran .muted { display: block; font-size: 0.85em; }
.more { padding: 0.25rem 1rem 0.75rem 2.3rem; border-top: 1px dashed #d0d7de; }
.status { font-weight: 700; text-transform: uppercase; padding: 0.1rem 0.45rem;
  border-radius: 0.3rem; white-space: nowrap; font-size: 0.85em; }
.status-pass { background: #dafbe1; color: #116329; }
.status-fail { background: #ffebe9; color: #a40e26; }
.status-unknown { background: #fff8c5; color: #7d4e00; }
.muted { color: #57606a; font-size: 0.9em; }
code { font-family: ui-monospace, monospace; font-size: 0.9em; }
ul.reasons { margin: 0.4rem 0; padding-left: 0; list-style: none; }
ul.reasons > li { margin: 0.3rem 0; }
ul.checks { margin: 0.2rem 0 0.2rem 1.2rem; padding-left: 1rem; }
table { border-collapse: collapse; width: 100%; margin: 0.4rem 0; table-layout: fixed; }
th, td { border: 1px solid #d0d7de; padding: 0.3rem 0.6rem; text-align: left;
  vertical-align: top; overflow-wrap: anywhere; }
th { background: #f6f8fa; } th.check { width: 35%; }
ul.files { margin: 0.4rem 0; padding: 0; list-style: none; }
ul.files li { display: inline; margin-right: 1rem; }
img.chart { max-width: min(100%, 48rem); border: 1px solid #d0d7de; }
@media (max-width: 60rem) {
  body { margin: 1rem; }
  .row { grid-template-columns: 0.8rem 7rem 5.5rem minmax(0, 1fr); }
  .row > .ran, .row > .commit { grid-column: 4; }
  .head > :nth-child(n+5) { display: none; }
  .more { padding-left: 1rem; }
}
""".strip()


def render_html(overview: Overview) -> str:
    """The whole page."""
    headline = _headline(overview)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Pipeline report</title>",
        f"<style>\n{_CSS}\n</style>",
        "</head>",
        "<body>",
        "<h1>Pipeline report</h1>",
        f'<p id="headline">{len(overview.sessions)} sessions: {escape(headline)}. '
        f"Rendered {escape(overview.generated_at)}"
        f"{_commit_text(overview.checkout_commit, ' in checkout ')}.</p>",
        '<p class="muted">One line per session: its outcome and the reason that decided it '
        "(the first failing check, else the first unknown one). Click a line for its checks "
        "and files. Unknown is never a pass: a session that could not be decided, or whose "
        "report could not be read, shows as unknown with the reason.</p>",
    ]
    if overview.problems:
        parts.append('<ul id="problems">')
        parts += [f"<li>{escape(problem)}</li>" for problem in overview.problems]
        parts.append("</ul>")
    if overview.sessions:
        parts += [
            '<div id="sessions">',
            '<div class="row head"><span></span><span>session</span><span>outcome</span>'
            "<span>reason</span><span>ran</span><span>commit</span></div>",
            *(_session(session) for session in overview.sessions),
            "</div>",
        ]
    else:
        parts.append('<p id="empty">No session has written a report folder yet.</p>')
    charts = [s for s in overview.sessions if s.chart]
    if charts:
        parts.append('<h2 id="trends">Trends</h2>')
        parts += [
            f'<figure><img class="chart" src="{_href(s.chart or "")}" '
            f'alt="{escape(s.name)} trend chart"><figcaption>{escape(s.name)}: '
            f"<code>{escape(s.chart or '')}</code></figcaption></figure>"
            for s in charts
        ]
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _session(session: SessionReport) -> str:
    """One session: its line (the ``<summary>``), and what is folded below it."""
    status = _LABEL[session.status]
    name = escape(session.name)
    ran = _when(session.ran_at)
    ran_html = (
        f'<span title="{escape(session.ran_at or "")}">{escape(ran)}</span>'
        if session.ran_at
        else '<span class="muted">not recorded</span>'
    )
    if session.ran_at and session.ran_at_source != "recorded":
        ran_html += f' <span class="muted">{escape(session.ran_at_source)}</span>'
    commit = _commit_text(session.commit) or '<span class="muted">not recorded</span>'
    reason = decisive(session)
    line = (
        f'<summary class="row"><span class="name">{name}</span>'
        f'<span><span class="status status-{status}" data-outcome="{name}">{status}</span></span>'
        f'<span class="why" data-decisive="{name}">{escape(reason.text)}'
        f'<span class="muted">{escape(reason.tail())}</span></span>'
        f'<span class="ran">{ran_html}</span><span class="commit">{commit}</span></summary>'
    )
    return (
        f'<details class="session" id="session-{escape(_anchor(session.name))}" '
        f'data-session="{name}" data-status="{status}">\n{line}\n'
        f'<div class="more">\n{_folded(session)}\n</div>\n</details>'
    )


def _folded(session: SessionReport) -> str:
    """What a session's line unfolds: where its outcome was read, every reason that did not
    pass (grouped, each with its checks), the passed checks, and its files."""
    verdict = session.verdict
    parts = []
    source = f" (read from <code>{escape(verdict.source)}</code>)" if verdict.source else ""
    groups = group_reasons(verdict.checks)
    if not verdict.checks:
        parts.append(f"<p>{escape(verdict.reason)}{source}</p>")
    elif source:
        parts.append(f'<p class="muted">Outcome{source}.</p>')
    if groups:
        parts.append('<ul class="reasons">')
        parts += [_group_html(group) for group in groups]
        parts.append("</ul>")
    findings = shown_findings(session)
    if findings is not None:
        parts += _findings_html(findings)
    passed = [c for c in verdict.checks if c.status is Status.PASS]
    if passed:
        label = f"{len(passed)} check{'s' if len(passed) > 1 else ''} passed"
        parts += [f"<details><summary>{label}</summary>", *_check_table(passed), "</details>"]
    parts += _files(session)
    return "\n".join(parts)


def _findings_html(findings: SecurityFindings) -> list[str]:
    """A scanner's counts (``data-findings``), each CRITICAL finding, and any problem."""
    parts = [
        f'<p data-findings="{escape(findings.counts.line())}">Vulnerabilities: '
        f"{escape(_findings_line(findings))}</p>"
    ]
    critical = [
        f"<li>{escape(f.id)}: {escape(f.package)} {escape(f.installed_version)}"
        f' <span class="muted">{escape(f.target)}</span></li>'
        for f in findings.critical()
    ]
    if critical:
        parts += ['<ul class="checks">', *critical, "</ul>"]
    return parts


def _findings_line(findings: SecurityFindings) -> str:
    """``1 critical, 0 high, 0 medium, 0 low``, or why the findings could not be counted."""
    if findings.problems:
        return "could not be counted: " + "; ".join(findings.problems)
    return findings.counts.line()


def _group_html(group: ReasonGroup) -> str:
    status = _LABEL[group.status]
    head = (
        f'<span class="status status-{status}">{status}</span> '
        f"<strong>{escape(group.text())}</strong>"
    )
    if group.count == 1:
        return f"<li>{head}</li>"
    checks = "".join(
        f"<li>{escape(check.name)}"
        + (f' <span class="muted">&mdash; {escape(own)}</span>' if own else "")
        + "</li>"
        for check, own in zip(group.checks, group.own_counts(), strict=True)
    )
    count = f'<span class="muted">{group.count} checks:</span>'
    return f'<li>{head} {count}<ul class="checks">{checks}</ul></li>'


def _check_table(checks: list[Outcome]) -> list[str]:
    rows = [
        f"<tr><td>{escape(check.name)}</td><td>{escape(check.detail)}</td></tr>" for check in checks
    ]
    return [
        '<table><thead><tr><th class="check">check</th><th>detail</th></tr></thead><tbody>',
        *rows,
        "</tbody></table>",
    ]


def _files(session: SessionReport) -> list[str]:
    links = [
        f'<li>{escape(a.kind)}: <a href="{_href(a.path)}">{escape(_tail(a.path))}</a></li>'
        for kind in ARTIFACT_KINDS
        for a in session.artifacts_of(kind)
    ]
    if not links:
        return ['<p class="muted">No file to link.</p>']
    return ['<ul class="files">', *links, "</ul>"]


def render_markdown(overview: Overview) -> str:
    """The same overview as Markdown (reports/summary.md, and a job summary): one row per
    session with its decisive reason, then every reason that did not pass, each once, with
    its count and its checks."""
    lines = [
        "## Pipeline report",
        "",
        f"{len(overview.sessions)} sessions: {_headline(overview)}. "
        f"Rendered {overview.generated_at}"
        + (f" in checkout `{overview.checkout_commit[:12]}`" if overview.checkout_commit else "")
        + ".",
        "",
        "| session | outcome | reason | ran | commit |",
        "| --- | --- | --- | --- | --- |",
    ]
    for session in overview.sessions:
        ran = _when(session.ran_at) if session.ran_at else "not recorded"
        if session.ran_at and session.ran_at_source != "recorded":
            ran += f" ({session.ran_at_source})"
        commit = f"`{session.commit[:12]}`" if session.commit else "not recorded"
        lines.append(
            f"| {_cell(session.name)} | {_shown(session.status)} | "
            f"{_cell(decisive(session).line())} | {_cell(ran)} | {commit} |"
        )
    if not overview.sessions:
        lines += ["", "No session has written a report folder yet."]
    reasons = [
        _group_markdown(session, group)
        for session in overview.sessions
        for group in group_reasons(session.verdict.checks)
    ]
    if reasons:
        lines += ["", "### Reasons that did not pass", "", *reasons]
    scanned = [(s.name, shown_findings(s)) for s in overview.sessions]
    counted = [
        f"| {_cell(name)} | {_cell(_findings_line(found))} |"
        for name, found in scanned
        if found is not None
    ]
    if counted:
        lines += [
            "",
            "### Vulnerabilities",
            "",
            "| scanner | findings |",
            "| --- | --- |",
            *counted,
        ]
    lines += [f"- {problem}" for problem in overview.problems]
    return "\n".join(lines) + "\n"


def _group_markdown(session: SessionReport, group: ReasonGroup) -> str:
    """``- **audit** UNKNOWN: <reason> (7 checks: a (25 ...), b (18 ...), ...)``."""
    line = f"- **{_inline(session.name)}** {_shown(group.status)}: "
    line += _inline(shorten(group.text(), MARKDOWN_REASON_LIMIT))
    if group.count > 1:
        owns = group.own_counts()
        names = ("; " if any(owns) else ", ").join(
            _inline(check.name) + (f": {own}" if own else "")
            for check, own in zip(group.checks, owns, strict=True)
        )
        line += f" ({group.count} checks: {names})"
    return line


def _headline(overview: Overview) -> str:
    """``4 pass, 1 fail (promote), 3 unknown (audit, helm, smoke)``."""
    parts = []
    for status in Status:
        found = overview.by_status(status)
        names = (
            f" ({', '.join(s.name for s in found)})" if found and status is not Status.PASS else ""
        )
        parts.append(f"{len(found)} {_LABEL[status]}{names}")
    return ", ".join(parts)


def _shown(status: Status) -> str:
    label = _LABEL[status]
    return label.upper() if status is not Status.PASS else label


def _when(timestamp: str | None) -> str:
    """``2026-11-30T16:15:34.636383+00:00`` -> ``2026-11-30 16:15 UTC``; a time without a
    zone stays without one, and text that is no ISO 8601 time is shown as it is."""
    if not timestamp:
        return ""
    try:
        moment = datetime.fromisoformat(timestamp.strip())
    except ValueError:
        return timestamp
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _commit_text(commit: str | None, prefix: str = "") -> str:
    return f"{prefix}<code>{escape(commit[:12])}</code>" if commit else ""


def _href(path: str) -> str:
    return escape(quote(path, safe="/"), quote=True)


def _tail(path: str) -> str:
    return path.split("/", 1)[1] if "/" in path else path


def _anchor(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _inline(text: str) -> str:
    return " ".join(text.split())
