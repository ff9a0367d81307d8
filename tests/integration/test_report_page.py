"""`nox -s report`'s page opened in headless Chromium (Debian's `chromium`), on real session
outputs (tests/integration/data/reports-real: copied from real runs of lint, tests, build,
smoke, promote, perf, helm and audit), plus a malformed report: the outcomes the browser shows
are the ones the reports' files state, each session's outcome and decisive reason are in view
without unfolding anything, and a screenshot lands in the report folder."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from capabilities import under_ci
from vibevoice_ci.core.errors import ToolMissingError
from vibevoice_ci.core.outcome import Status
from vibevoice_ci.report.read import read_overview
from vibevoice_ci.report.render import render_html
from vibevoice_ci.report.session import check_page
from vibevoice_ci.tools import chromium

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
REAL_REPORTS = Path(__file__).with_name("data") / "reports-real"
SOURCES = REPO_ROOT / "src" / "vibevoice_ci"  # each session's committed schemas
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def require_chromium() -> None:
    try:
        chromium.chromium()
    except ToolMissingError as exc:
        if under_ci():
            pytest.fail(f"under CI Chromium must be installed (scripts/ci/install-tools.sh): {exc}")
        pytest.skip(f"Chromium is not installed here: {exc}")


def stated_outcomes(reports: Path) -> dict[str, str]:
    """Each session's outcome read straight from its files, independently of the reader: a
    status document of a shape its committed schema refuses states nothing (unknown)."""
    stated: dict[str, str] = {}
    for folder in sorted(p for p in reports.iterdir() if p.is_dir()):
        name = folder.name
        document = folder / ("release.json" if name == "build" else f"{name}.json")
        if document.is_file():
            try:
                content = json.loads(document.read_text(encoding="utf-8"))
            except ValueError:
                content = {}
            status = content.get("status")
            schema = SOURCES / name / document.name.replace(".json", ".schema.json")
            if schema.is_file() and not jsonschema.Draft202012Validator(
                json.loads(schema.read_text(encoding="utf-8"))
            ).is_valid(content):
                status = None  # not of the shape its session writes (its committed schema)
            stated[name] = status if status in ("pass", "fail", "unknown") else "unknown"
        elif (folder / "summary.md").is_file():
            verdict = re.search(
                r"^\*\*(PASSED|FAILED|UNKNOWN)\*\*", (folder / "summary.md").read_text(), re.M
            )
            stated[name] = {"PASSED": "pass", "FAILED": "fail"}.get(
                verdict[1] if verdict else "", "unknown"
            )
        elif (folder / "junit.xml").is_file():
            suite = ET.parse(folder / "junit.xml").getroot().find("testsuite")  # noqa: S314
            assert suite is not None
            bad = int(suite.get("failures", "0")) + int(suite.get("errors", "0"))
            stated[name] = "fail" if bad else "pass"
        else:
            stated[name] = "unknown"
    return stated


def test_the_page_shows_each_sessions_outcome_as_its_report_states(tmp_path: Path) -> None:
    require_chromium()
    reports = tmp_path / "reports"
    shutil.copytree(REAL_REPORTS, reports)
    (reports / "sign").mkdir()
    (reports / "sign" / "sign.json").write_text('{"status": "pass", "checks": [', encoding="utf-8")
    # A trivy.json of a shape trivy never wrote (the one docs/ci-cd.md once described): its
    # "pass" is not taken on trust.
    (reports / "trivy").mkdir()
    (reports / "trivy" / "trivy.json").write_text(
        json.dumps({"status": "pass", "summary": {"critical": 0}, "vulnerabilities": []}),
        encoding="utf-8",
    )
    # A session no model covers yet is read by the convention, its text escaped.
    (reports / "licenses").mkdir()
    (reports / "licenses" / "licenses.json").write_text(
        json.dumps(
            {
                "status": "fail",
                "checks": [{"name": "<img src=x>", "status": "fail", "detail": "1 GPL package"}],
            }
        ),
        encoding="utf-8",
    )
    env = {**os.environ, "VIBEVOICE_REPORTS_DIR": str(reports)}
    result = subprocess.run(
        [sys.executable, "-m", "vibevoice_ci", "report"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (
        "PASS browser check: Chromium shows the 11 sessions' outcomes, each with its decisive "
        "reason in view without unfolding" in result.stderr
    )

    stated = stated_outcomes(reports)
    assert stated == {
        "audit": "unknown",  # no advisory service reachable: nothing checked, never a pass
        "build": "pass",
        "helm": "unknown",
        "licenses": "fail",
        "lint": "pass",
        "perf": "pass",
        "promote": "fail",
        "sign": "unknown",  # malformed JSON: unknown, with the reason, not a crash
        "smoke": "unknown",
        "tests": "pass",
        "trivy": "unknown",  # another shape than trivy writes: unknown, with the reason
    }
    dom = chromium.dump_dom(reports / "index.html")
    assert chromium.attribute_pairs(dom, "data-session", "data-status") == stated
    assert "sign/sign.json is not valid JSON" in dom
    assert "trivy/trivy.json: strict: Field required" in dom
    # One line per session, in view; seven audit targets' one reason said once, with a count.
    reasons = chromium.element_texts(dom, "data-decisive")
    assert sorted(reasons) == sorted(stated)
    assert not any(shown.folded for shown in reasons.values())
    assert reasons["audit"].text.startswith(
        "advisory service unreachable (api.osv.dev: name resolution failed); pip-audit exited 1 "
        "(7 checks: pip-audit: image agent, image tts,"
    )
    assert reasons["helm"].text == "level not run: not selected (--level) (2 checks: cluster, pods)"
    assert reasons["sign"].text.startswith("sign/sign.json is not valid JSON")
    assert dom.count("advisory service unreachable") == 2  # the line, and the folded group
    assert "&lt;img src=x&gt;" in dom
    assert "<img src=x>" not in dom
    assert 'src="perf/trend.png"' in dom
    assert 'href="tests/junit.xml"' in dom
    assert 'href="tests/coverage.xml"' in dom
    screenshot = reports / "index.png"
    assert screenshot.read_bytes().startswith(PNG_MAGIC)
    summary = (reports / "summary.md").read_text(encoding="utf-8")
    assert "| promote | FAIL |" in summary
    assert "| audit | UNKNOWN | advisory service unreachable" in summary
    assert summary.count("advisory service unreachable") == 2  # the row, the list of reasons


def test_a_decisive_reason_folded_away_fails_the_browser_check(tmp_path: Path) -> None:
    require_chromium()
    reports = tmp_path / "reports"
    shutil.copytree(REAL_REPORTS, reports)
    overview = read_overview(reports, checkout_commit=None)
    page = reports / "index.html"
    html = render_html(overview)
    assert check_page(_write(page, html), overview).status is Status.PASS
    # helm's reason moved from its line into what the line folds: in the page, not in view.
    line = re.search(r'<span class="why" data-decisive="helm">.*?</span></span>', html)
    assert line is not None
    start = html.index('data-session="helm"')
    more = html.index('<div class="more">', start) + len('<div class="more">')
    folded = (html[:more] + line[0] + html[more:]).replace(line[0], "", 1)
    outcome = check_page(_write(page, folded), overview)
    assert outcome.status is Status.FAIL
    assert "helm: its decisive reason is folded away" in outcome.detail
    # And a badge that says another outcome than the report.
    wrong = html.replace('data-outcome="helm">unknown<', 'data-outcome="helm">pass<')
    outcome = check_page(_write(page, wrong), overview)
    assert outcome.status is Status.FAIL
    assert "helm: the outcome badge shows 'pass', expected 'unknown'" in outcome.detail


def _write(page: Path, html: str) -> Path:
    page.write_text(html, encoding="utf-8")
    return page
