"""The overview as a static page and as Markdown (pure: data in, text out).

The page is one HTML file with its CSS inline and no script, font or image from elsewhere, so
it reads the same offline, from a downloaded artifact or a file:// URL. Every session's row
carries ``data-session`` and ``data-status`` attributes: what a browser test reads back.
All text from the reports is HTML-escaped; links are relative paths inside reports/.
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from vibevoice_ci.core.outcome import Outcome, Status
from vibevoice_ci.report.model import ARTIFACT_KINDS, Overview, SessionReport

_LABEL = {Status.PASS: "pass", Status.FAIL: "fail", Status.UNKNOWN: "unknown"}
_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1b1f23; max-width: 80rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #d0d7de; padding: 0.35rem 0.6rem; text-align: left;
  vertical-align: top; }
th { background: #f6f8fa; }
.status { font-weight: 700; text-transform: uppercase; padding: 0.1rem 0.5rem;
  border-radius: 0.3rem; white-space: nowrap; }
.status-pass { background: #dafbe1; color: #116329; }
.status-fail { background: #ffebe9; color: #a40e26; }
.status-unknown { background: #fff8c5; color: #7d4e00; }
.muted { color: #57606a; font-size: 0.9em; }
code { font-family: ui-monospace, monospace; font-size: 0.9em; }
img.chart { max-width: 100%; border: 1px solid #d0d7de; }
ul.links { margin: 0; padding-left: 1.2rem; }
""".strip()


def render_html(overview: Overview) -> str:
    """The whole page."""
    counts = overview.counts()
    headline = ", ".join(f"{counts[s]} {_LABEL[s]}" for s in Status)
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
        '<p class="muted">Unknown is never a pass: a session that could not be decided, or '
        "whose report could not be read, shows as unknown with the reason.</p>",
    ]
    if overview.problems:
        parts.append('<ul id="problems">')
        parts += [f"<li>{escape(problem)}</li>" for problem in overview.problems]
        parts.append("</ul>")
    parts += [
        '<table id="sessions">',
        "<thead><tr><th>session</th><th>outcome</th><th>reason</th><th>ran</th>"
        "<th>commit</th><th>files</th></tr></thead>",
        "<tbody>",
        *(_row(session) for session in overview.sessions),
        "</tbody>",
        "</table>",
    ]
    if not overview.sessions:
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
    for session in overview.sessions:
        parts += _details(session)
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _row(session: SessionReport) -> str:
    status = _LABEL[session.status]
    links = "".join(
        f'<li>{escape(a.kind)}: <a href="{_href(a.path)}">{escape(_tail(a.path))}</a></li>'
        for kind in ARTIFACT_KINDS
        if kind not in ("log", "data")
        for a in session.artifacts_of(kind)
    )
    ran = escape(session.ran_at or "not recorded")
    if session.ran_at and session.ran_at_source != "recorded":
        ran += f' <span class="muted">({escape(session.ran_at_source)})</span>'
    return (
        f'<tr data-session="{escape(session.name)}" data-status="{status}">'
        f'<td><a href="#session-{escape(_anchor(session.name))}">{escape(session.name)}</a></td>'
        f'<td><span class="status status-{status}">{status}</span></td>'
        f"<td>{escape(session.verdict.reason)}"
        + (
            f' <span class="muted">(from {escape(session.verdict.source)})</span>'
            if session.verdict.source
            else ""
        )
        + f"</td><td>{ran}</td>"
        f"<td>{_commit_text(session.commit) or 'not recorded'}</td>"
        f'<td><ul class="links">{links}</ul></td></tr>'
    )


def _details(session: SessionReport) -> list[str]:
    status = _LABEL[session.status]
    parts = [
        f'<section id="session-{escape(_anchor(session.name))}">',
        f'<h2>{escape(session.name)} <span class="status status-{status}">{status}</span></h2>',
    ]
    wrong = [c for c in session.verdict.checks if c.status is not Status.PASS]
    passed = [c for c in session.verdict.checks if c.status is Status.PASS]
    if wrong:
        parts += _check_table(wrong)
    if passed:
        parts.append(f"<details><summary>{len(passed)} checks passed</summary>")
        parts += [*_check_table(passed), "</details>"]
    others = [a for kind in ("log", "data") for a in session.artifacts_of(kind)]
    if others:
        parts.append('<p class="muted">Also: ')
        parts.append(
            ", ".join(f'<a href="{_href(a.path)}">{escape(_tail(a.path))}</a>' for a in others)
        )
        parts.append("</p>")
    parts.append("</section>")
    return parts


def _check_table(checks: list[Outcome]) -> list[str]:
    rows = []
    for check in checks:
        label = _LABEL[check.status]
        rows.append(
            f'<tr><td>{escape(check.name)}</td><td><span class="status status-{label}">'
            f"{label}</span></td><td>{escape(check.detail)}</td></tr>"
        )
    return [
        "<table><thead><tr><th>check</th><th>outcome</th><th>detail</th></tr></thead><tbody>",
        *rows,
        "</tbody></table>",
    ]


def render_markdown(overview: Overview) -> str:
    """The same overview as Markdown (reports/summary.md, and a job summary)."""
    counts = overview.counts()
    lines = [
        "## Pipeline report",
        "",
        f"{len(overview.sessions)} sessions: "
        + ", ".join(f"{counts[s]} {_LABEL[s]}" for s in Status)
        + f". Rendered {overview.generated_at}"
        + (f" in checkout `{overview.checkout_commit[:12]}`" if overview.checkout_commit else "")
        + ".",
        "",
        "| session | outcome | reason | ran | commit |",
        "| --- | --- | --- | --- | --- |",
    ]
    for session in overview.sessions:
        label = _LABEL[session.status]
        shown = label.upper() if session.status is not Status.PASS else label
        ran = session.ran_at or "not recorded"
        if session.ran_at and session.ran_at_source != "recorded":
            ran += f" ({session.ran_at_source})"
        commit = f"`{session.commit[:12]}`" if session.commit else "not recorded"
        lines.append(
            f"| {_cell(session.name)} | {shown} | {_cell(session.verdict.reason)} | "
            f"{_cell(ran)} | {commit} |"
        )
    if not overview.sessions:
        lines += ["", "No session has written a report folder yet."]
    lines += [f"- {problem}" for problem in overview.problems]
    return "\n".join(lines) + "\n"


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
