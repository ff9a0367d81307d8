"""The report session's reading and rendering: every session's outcome shows, escaped, and a
report that cannot be read is unknown with its reason, never a crash or a pass."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from html import escape
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from release_helpers import release, released_image
from scanner_helpers import audit_json, trivy_json

from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.errors import UsageError
from vibevoice_ci.core.outcome import Outcome, Status, render_summary
from vibevoice_ci.core.vulnerabilities import Severity, Vulnerability
from vibevoice_ci.promote import session as promote
from vibevoice_ci.report import documents as docs
from vibevoice_ci.report.model import Overview, SessionReport, artifacts, classify, session_name
from vibevoice_ci.report.read import DOCUMENT_MODELS, read_overview, read_session
from vibevoice_ci.report.reasons import decisive, group_reasons, split_detail
from vibevoice_ci.report.render import render_html, render_markdown
from vibevoice_ci.report.session import line_problems, page_problems
from vibevoice_ci.tools.chromium import (
    ShownText,
    attribute_pairs,
    base_argv,
    element_texts,
    screenshot_argv,
)

REAL_REPORTS = Path(__file__).parents[3] / "integration" / "data" / "reports-real"
names = st.from_regex(r"[a-z][a-z0-9_]{0,10}(-[0-9.]{1,4})?", fullmatch=True)
# Text with every character HTML cares about, and some that Markdown does.
texts = st.lists(
    st.sampled_from([*"ab <>&\"'|/\n*_`é", "<script>", "</td>", "<!--"]), max_size=12
).map("".join)
statuses = st.sampled_from(list(Status))


@st.composite
def sessions(draw: st.DrawFn) -> SessionReport:
    status = draw(statuses)
    checks = tuple(
        Outcome(draw(texts), draw(statuses), draw(texts)) for _ in range(draw(st.integers(0, 3)))
    )
    return SessionReport(
        name=draw(names),
        verdict=docs.Verdict(status, draw(texts), draw(texts), checks),
        ran_at=draw(st.none() | st.just("2026-11-30T12:00:00Z")),
        ran_at_source=draw(st.sampled_from(["recorded", "file time"])),
        commit=draw(st.none() | st.from_regex(r"[0-9a-f]{40}", fullmatch=True)),
        artifacts=artifacts("x", draw(st.lists(texts.map(lambda t: t + ".json"), max_size=3))),
    )


@st.composite
def overviews(draw: st.DrawFn) -> Overview:
    found = draw(st.lists(sessions(), max_size=6, unique_by=lambda s: s.name))
    return Overview(tuple(found), "2026-11-30T12:00:00Z", draw(st.none() | st.just("a" * 40)))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overview=overviews())
def test_every_sessions_outcome_is_on_the_page_as_the_data_says(overview: Overview) -> None:
    page = render_html(overview)
    shown = attribute_pairs(page, "data-session", "data-status")
    assert shown == {s.name: s.status.value for s in overview.sessions}
    assert page_problems({s.name: s.status.value for s in overview.sessions}, shown) == []
    # Each session's badge and decisive reason are in its line, not in what it folds.
    assert (
        line_problems(
            {s.name: (s.status.value, decisive(s).line()) for s in overview.sessions},
            outcomes=element_texts(page, "data-outcome"),
            reasons=element_texts(page, "data-decisive"),
        )
        == []
    )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overview=overviews())
def test_report_text_is_escaped_and_nothing_loads_from_elsewhere(overview: Overview) -> None:
    page = render_html(overview)
    # The page has no script at all, so a reason or check name can never become one.
    assert "<script" not in page
    assert "</td></td>" not in page
    assert "http://" not in page
    assert "https://" not in page
    assert page.count("<style>") == 1
    assert "<link" not in page
    for session in overview.sessions:
        assert escape(decisive(session).text) in page
        if not session.verdict.checks:
            assert escape(session.verdict.reason) in page
        for check in session.verdict.checks:
            assert escape(check.name) in page
            own, reason = split_detail(check.detail)
            assert escape(own) in page
            assert escape(reason) in page


@settings(max_examples=100, deadline=None)
@given(overview=overviews())
def test_markdown_has_one_row_per_session_with_its_outcome(overview: Overview) -> None:
    markdown = render_markdown(overview)
    rows = [line for line in markdown.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == len(overview.sessions) + 1  # the header
    for session, row in zip(overview.sessions, rows[1:], strict=True):
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        assert cells[1].lower() == session.status.value
        assert "\n" not in row


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    document=json_values
    | st.fixed_dictionaries(
        {"status": st.sampled_from(["pass", "fail", "unknown", "PASS", 1, None])},
        optional={"checks": json_values, "levels": json_values, "notes": json_values},
    )
)
def test_any_json_document_gives_a_verdict_and_never_a_false_pass(document: object) -> None:
    verdict = docs.verdict_from_document(document, "x/x.json")
    assert isinstance(verdict.status, Status)
    if verdict.status is Status.PASS:
        assert isinstance(document, dict)
        assert document.get("status") == "pass"
    if not (isinstance(document, dict) and document.get("status") in ("pass", "fail", "unknown")):
        assert verdict.status is Status.UNKNOWN
        assert "x/x.json" in verdict.reason


@settings(max_examples=100, deadline=None)
@given(
    outcomes=st.lists(
        st.builds(Outcome, texts.filter(lambda t: t.strip()), statuses, texts), max_size=5
    )
)
def test_a_render_summary_reads_back_as_its_verdict(outcomes: list[Outcome]) -> None:
    verdict = docs.verdict_from_summary(render_summary("t", outcomes), "t/summary.md")
    from vibevoice_ci.core.outcome import overall

    assert verdict.status is overall(outcomes)
    assert [c.status for c in verdict.checks] == [o.status for o in outcomes]


@pytest.mark.parametrize(
    ("xml", "status", "phrase"),
    [
        (
            '<testsuites><testsuite tests="3" failures="0" errors="0" skipped="1"/></testsuites>',
            Status.PASS,
            "3 tests",
        ),
        (
            '<testsuite tests="2" failures="1" errors="0" skipped="0"><testcase classname="a" '
            'name="b"><failure message="boom">x</failure></testcase></testsuite>',
            Status.FAIL,
            "1 failures",
        ),
        (
            '<testsuite tests="2" failures="0" errors="0" skipped="2"/>',
            Status.UNKNOWN,
            "no test ran",
        ),
        ("<testsuite", Status.UNKNOWN, "not valid XML"),
        ("<html/>", Status.UNKNOWN, "no <testsuite>"),
        ('<testsuite tests="x"/>', Status.UNKNOWN, "tests='x'"),
    ],
)
def test_junit_verdicts(xml: str, status: Status, phrase: str) -> None:
    verdict = docs.verdict_from_junit(xml, "tests/junit.xml")
    assert verdict.status is status
    assert phrase in verdict.reason


def test_a_failed_junit_case_is_listed_with_its_message() -> None:
    xml = (
        '<testsuite tests="1" failures="1" errors="0" skipped="0"><testcase classname="m" '
        'name="t"><failure message="assert 1 == 2">trace</failure></testcase></testsuite>'
    )
    verdict = docs.verdict_from_junit(xml, "j")
    assert verdict.checks == (Outcome("m::t", Status.FAIL, "assert 1 == 2"),)


def _session_of(document_name: str) -> str:
    """The session whose folder holds the status document ``document_name``."""
    return "build" if document_name == "release.json" else document_name.removesuffix(".json")


def _folder(root: Path, name: str, files: dict[str, str]) -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("files", "status", "phrase"),
    [
        ({"licenses.json": "{not json"}, Status.UNKNOWN, "licenses/licenses.json is not valid"),
        ({"licenses.json": "[1, 2]"}, Status.UNKNOWN, "not a JSON object"),
        ({"licenses.json": '{"status": "green"}'}, Status.UNKNOWN, "no valid status"),
        ({"licenses.json": '{"checks": []}'}, Status.UNKNOWN, "no valid status"),
        ({"notes.txt": "hello"}, Status.UNKNOWN, "no status document (licenses.json"),
        ({"summary.md": "## x\n\nno verdict here\n"}, Status.UNKNOWN, "no verdict line"),
        (
            {
                "licenses.json": json.dumps(
                    {
                        "status": "fail",
                        "checks": [
                            {"name": "licenses", "status": "fail", "detail": "2 GPL packages"}
                        ],
                    }
                )
            },
            Status.FAIL,
            "licenses: 2 GPL packages",
        ),
        ({"licenses.json": '{"status": "pass"}'}, Status.PASS, "passed"),
    ],
)
def test_a_new_sessions_folder_is_read_by_the_convention(
    tmp_path: Path, files: dict[str, str], status: Status, phrase: str
) -> None:
    """A session no model covers yet (``licenses``) is read by the convention alone."""
    report = read_session(_folder(tmp_path, "licenses", files))
    assert report.status is status
    assert phrase in report.verdict.reason


# The sessions' status documents (perf's verdict is read from its summary.md, not verdict.json).
STATUS_FILES = sorted(set(DOCUMENT_MODELS) - {"verdict.json"})


@pytest.mark.parametrize("name", STATUS_FILES)
def test_a_known_sessions_document_of_another_shape_is_unknown_not_its_status(
    tmp_path: Path, name: str
) -> None:
    """A hand-made ``{"status": "pass"}`` as a session's status document is not that session
    passing: it is unknown, with the one line saying which field is wrong."""
    session = _session_of(name)
    report = read_session(_folder(tmp_path, session, {name: '{"status": "pass", "checks": []}'}))
    assert report.status is Status.UNKNOWN
    assert report.verdict.reason.startswith(f"{session}/{name}: ")
    assert report.verdict.reason.endswith("(not the shape its session writes)")
    assert "\n" not in report.verdict.reason


def test_the_scanners_documents_as_their_writers_write_them_are_read_as_their_status(
    tmp_path: Path,
) -> None:
    critical = Vulnerability("CVE-1", Severity.CRITICAL, "zlib", "1.2", "1.3")
    audit = _folder(tmp_path, "audit", {"audit.json": json.dumps(audit_json(critical))})
    trivy = _folder(tmp_path, "trivy", {"trivy.json": json.dumps(trivy_json())})
    assert read_session(audit).status is Status.FAIL
    assert read_session(trivy).status is Status.PASS


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(STATUS_FILES),
    document=json_values
    | st.fixed_dictionaries(
        {"status": st.sampled_from(["pass", "fail", "unknown"])},
        optional={"checks": json_values, "notes": json_values, "images": json_values},
    ),
)
def test_a_known_sessions_document_passes_only_in_its_writers_shape(
    name: str, document: object
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        files = {name: json.dumps(document)}
        report = read_session(_folder(Path(folder), _session_of(name), files))
    if report.status is not Status.UNKNOWN:
        DOCUMENT_MODELS[name].model_validate(document)  # it is of its writer's shape
        assert isinstance(document, dict)
        assert document["status"] == report.status.value


def test_a_status_file_that_cannot_be_read_is_unknown_not_a_crash(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "trivy", {})
    (folder / "trivy.json").write_bytes(b"\xff\xfe not utf-8")
    report = read_session(folder)
    assert report.status is Status.UNKNOWN
    assert "could not be read" in report.verdict.reason


def test_a_document_without_checks_takes_the_summarys_reason(
    make_config: Callable[..., PipelineConfig], tmp_path: Path
) -> None:
    """promote.json and summary.md as the promote session writes them when it fails."""
    config = make_config()
    gone = tmp_path / "gone.json"
    with pytest.raises(UsageError):
        promote.promote(config, release_file=gone, smoke_file=tmp_path / "smoke.json")
    report = read_session(config.report_dir("promote"))
    assert report.status is Status.FAIL
    assert f"release file {gone} not found" in report.verdict.reason


def test_commit_and_time_come_from_what_the_folder_records(tmp_path: Path) -> None:
    sha = "0123456789abcdef0123456789abcdef01234567"
    folder = _folder(
        tmp_path,
        "build",
        {
            "release.json": release(released_image("tts")).model_dump_json(),
            "build-metadata.json": json.dumps(
                [{"git_sha": sha, "build_timestamp": "2026-11-30T13:05:34Z"}]
            ),
            "sbom/tts-linux-amd64.spdx.json": "{}",
        },
    )
    report = read_session(folder)
    assert (report.commit, report.ran_at, report.ran_at_source) == (
        sha,
        "2026-11-30T13:05:34Z",
        "recorded",
    )
    assert [(a.kind, a.path) for a in report.artifacts] == [
        ("SBOM", "build/sbom/tts-linux-amd64.spdx.json"),
        ("metadata", "build/build-metadata.json"),
        ("metadata", "build/release.json"),
    ]


def test_without_a_recorded_time_the_files_time_is_shown_as_such(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "lint", {"summary.md": render_summary("lint", [])})
    os.utime(folder / "summary.md", (1_800_000_000, 1_800_000_000))
    report = read_session(folder)
    assert (report.ran_at, report.ran_at_source) == ("2027-01-15T08:00:00Z", "file time")
    assert report.commit is None


def test_ci_artifact_folders_are_read_as_their_session(tmp_path: Path) -> None:
    xml = (
        '<testsuite tests="1" failures="0" errors="0" skipped="0" timestamp="2026-11-30T01:02:03"/>'
    )
    _folder(tmp_path, "reports-tests-3.11", {"junit.xml": xml, "coverage.xml": "<coverage/>"})
    _folder(tmp_path, "report", {"x.json": "{}"})  # the report session's own: skipped
    overview = read_overview(tmp_path, checkout_commit=None, skip=("report",))
    (tests,) = overview.sessions
    assert (tests.name, tests.status, tests.ran_at) == (
        "tests-3.11",
        Status.PASS,
        "2026-11-30T01:02:03",
    )
    assert {a.kind for a in tests.artifacts} == {"JUnit", "coverage"}


def test_a_missing_reports_folder_is_said_not_crashed_on(tmp_path: Path) -> None:
    overview = read_overview(tmp_path / "none", checkout_commit=None)
    assert overview.sessions == ()
    assert "does not exist" in overview.problems[0]
    assert "No session" in render_html(overview)


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("junit.xml", "JUnit"),
        ("coverage.xml", "coverage"),
        ("trivy.sarif", "SARIF"),
        ("results.sarif.json", "SARIF"),
        ("sbom/tts.spdx.json", "SBOM"),
        ("build-metadata.json", "metadata"),
        ("trend.png", "chart"),
        ("summary.md", "summary"),
        ("logs/compose.log", "log"),
        ("history.jsonl", "data"),
        ("rendered/a.yaml", None),
        (".hidden.json", None),
    ],
)
def test_artifact_kinds(path: str, kind: str | None) -> None:
    assert classify(path) == kind


def test_session_names_of_artifact_folders() -> None:
    assert session_name("reports-tests-3.11") == "tests-3.11"
    assert session_name("perf") == "perf"


def test_the_page_shows_the_perf_chart_by_relative_link() -> None:
    perf = SessionReport(
        "perf",
        docs.Verdict(Status.PASS, "ok", "perf/summary.md"),
        None,
        "file time",
        None,
        artifacts("perf", ["trend.png", "verdict.json"]),
    )
    page = render_html(Overview((perf,), "now", None))
    assert '<img class="chart" src="perf/trend.png"' in page


def test_the_page_counts_a_critical_finding_the_scanners_wrote(tmp_path: Path) -> None:
    """trivy.json (images[].vulnerability_report) and audit.json (reports[]) as the sessions
    write them, each with a planted CRITICAL finding: the page and the summary count it."""
    critical = Vulnerability("CVE-2026-0001", Severity.CRITICAL, "openssl", "3.0.1", "3.0.9")
    high = Vulnerability("GHSA-2", Severity.HIGH, "jinja2", "3.1.0")
    reports = tmp_path / "reports"
    for name, document in (("trivy", trivy_json(critical, high)), ("audit", audit_json(critical))):
        (reports / name).mkdir(parents=True)
        (reports / name / f"{name}.json").write_text(json.dumps(document), encoding="utf-8")
    overview = read_overview(reports, checkout_commit=None)
    page = render_html(overview)
    assert 'data-findings="1 critical, 1 high, 0 medium, 0 low"' in page
    assert 'data-findings="1 critical, 0 high, 0 medium, 0 low"' in page
    assert "CVE-2026-0001: openssl 3.0.1" in page
    markdown = render_markdown(overview)
    assert "| trivy | 1 critical, 1 high, 0 medium, 0 low |" in markdown
    assert "| audit | 1 critical, 0 high, 0 medium, 0 low |" in markdown


def test_a_scanner_document_of_another_shape_is_shown_as_not_counted(tmp_path: Path) -> None:
    """The shape no session writes (a top-level summary) is never counted as zero."""
    folder = tmp_path / "reports" / "trivy"
    folder.mkdir(parents=True)
    shapeless = {"status": "pass", "summary": {"critical": 2}, "vulnerabilities": []}
    (folder / "trivy.json").write_text(json.dumps(shapeless), encoding="utf-8")
    overview = read_overview(tmp_path / "reports", checkout_commit=None)
    markdown = render_markdown(overview)
    assert "| trivy | could not be counted: trivy/trivy.json: " in markdown
    assert "0 critical" not in markdown
    assert "could not be counted" in render_html(overview)


def test_page_problems_name_each_disagreement() -> None:
    problems = page_problems({"a": "pass", "b": "fail"}, {"a": "fail", "c": "pass"})
    assert problems == [
        "a: page shows fail, report says pass",
        "b: page shows nothing, report says fail",
        "c: on the page but not in reports/",
    ]


def test_chromium_arguments() -> None:
    base = base_argv("/usr/bin/chromium", Path("/tmp/p"))
    assert base[0] == "/usr/bin/chromium"
    assert {"--headless", "--no-sandbox", "--disable-background-networking"} <= set(base)
    assert "--user-data-dir=/tmp/p" in base
    argv = screenshot_argv(base, "file:///r/index.html", Path("/r/index.png"))
    assert argv[-1] == "file:///r/index.html"
    assert "--screenshot=/r/index.png" in argv


def test_chromium_is_found_by_its_debian_or_google_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vibevoice_ci.core.errors import ToolMissingError
    from vibevoice_ci.tools import chromium

    monkeypatch.delenv("VIBEVOICE_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolMissingError, match="apt-get install chromium"):
        chromium.chromium()
    browser = tmp_path / "google-chrome"
    browser.write_text("#!/bin/sh\n", encoding="utf-8")
    browser.chmod(0o755)
    assert chromium.chromium() == str(browser)
    debian = tmp_path / "chromium"
    debian.write_text("#!/bin/sh\n", encoding="utf-8")
    debian.chmod(0o755)
    assert chromium.chromium() == str(debian)


def test_a_folder_that_cannot_be_listed_is_an_unknown_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vibevoice_ci.report import read

    _folder(tmp_path, "audit", {"audit.json": '{"status": "pass"}'})

    def refuse(folder: Path) -> list[str]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(read, "_files", refuse)
    overview = read_overview(tmp_path, checkout_commit=None)
    (audit,) = overview.sessions
    assert audit.status is Status.UNKNOWN
    assert audit.verdict.reason == "audit/ could not be read (Permission denied)"
    assert overview.problems == ("audit/ could not be read (Permission denied)",)


def test_what_a_reader_sees_without_unfolding() -> None:
    dom = (
        '<details data-x="row"><summary><span data-x="line">a &amp; <b>b</b></span></summary>'
        '<div><span data-x="inside">c</span><details open><span data-x="deep">d</span>'
        '</details></div></details><details open><summary>s</summary><p data-x="open">e<br>f'
        '</p></details><p hidden><span data-x="hidden">g</span></p><img data-x="img">'
    )
    assert element_texts(dom, "data-x") == {
        "row": ShownText("a & bcd", folded=False),
        "line": ShownText("a & b", folded=False),
        "inside": ShownText("c", folded=True),
        "deep": ShownText("d", folded=True),
        "open": ShownText("ef", folded=False),
        "hidden": ShownText("g", folded=True),
        "img": ShownText("", folded=False),
    }


def test_line_problems_name_a_folded_missing_or_different_line() -> None:
    expected = {"a": ("pass", "3 checks passed"), "b": ("fail", "x: y"), "c": ("unknown", "z")}
    problems = line_problems(
        expected,
        outcomes={
            "a": ShownText("pass", folded=False),
            "b": ShownText("fail", folded=True),
            "c": ShownText("unknown", folded=False),
        },
        reasons={"a": ShownText("3  checks\npassed", folded=False), "b": ShownText("x: y", False)},
    )
    assert problems == [
        "b: its outcome badge is folded away (not in view until unfolded)",
        "c: the page shows no decisive reason",
    ]
    assert line_problems({"a": ("pass", "p")}, outcomes={}, reasons={}) == [
        "a: the page shows no outcome badge",
        "a: the page shows no decisive reason",
    ]
    assert line_problems(
        {"a": ("fail", "r")},
        outcomes={"a": ShownText("pass", False)},
        reasons={"a": ShownText("r", False)},
    ) == ["a: the outcome badge shows 'pass', expected 'fail'"]


# --- the real reports of a previous run (tests/integration/data/reports-real) -----------------


@pytest.fixture(scope="module")
def real() -> Overview:
    return read_overview(REAL_REPORTS, checkout_commit=None)


def test_each_real_session_reads_as_one_line_with_the_reason_that_decided_it(
    real: Overview,
) -> None:
    lines = {s.name: (s.status.value, decisive(s).line()) for s in real.sessions}
    assert lines["audit"] == (
        "unknown",
        "advisory service unreachable (api.osv.dev: name resolution failed); pip-audit "
        "exited 1 (7 checks: pip-audit: image agent, image tts, extra audit, extra ci, "
        "extra perf, group dev, … 1 more)",
    )
    assert lines["helm"] == (
        "unknown",
        "level not run: not selected (--level) (2 checks: cluster, pods)",
    )
    assert lines["build"] == ("pass", "1 check passed")
    assert lines["lint"] == ("pass", "4 checks passed")
    assert lines["tests"] == ("pass", "34 tests, 0 failures, 0 errors, 0 skipped")
    status, promote = lines["promote"]
    assert (status, promote.startswith("promote: release file /tmp/")) == ("fail", True)
    status, smoke = lines["smoke"]
    assert status == "unknown"
    assert smoke.startswith("speech POST /v1/tts: espeak: not scored")
    assert smoke.endswith("…; and 1 other reason")
    assert all(len(line) <= 320 for _, line in lines.values())


def test_the_real_audit_reasons_are_one_group_of_seven(real: Overview) -> None:
    audit = real.session("audit")
    assert audit is not None
    (group,) = group_reasons(audit.verdict.checks)
    assert group.count == 7
    assert group.text() == (
        "advisory service unreachable (api.osv.dev: name resolution failed); pip-audit exited 1"
    )
    assert group.own_counts()[0] == "25 target(s) not checked"


def test_the_real_page_keeps_each_line_short_and_folds_the_rest(real: Overview) -> None:
    page = render_html(real)
    reasons = element_texts(page, "data-decisive")
    assert {name: shown.folded for name, shown in reasons.items()} == dict.fromkeys(
        (s.name for s in real.sessions), False
    )
    # A session's line holds its name, badge, reason, time and commit: no list, table, link
    # or preformatted block that could make it a screen tall.
    lines = re.findall(r'<summary class="row">(.*?)</summary>', page, re.DOTALL)
    assert len(lines) == len(real.sessions)
    for line in lines:
        assert not re.search(r"<(ul|ol|table|pre|a|img|br)\b", line)
    assert "<pre" not in page
    # The files are in the folded part, every one still linked.
    for session in real.sessions:
        for artifact in session.artifacts:
            assert f'href="{artifact.path}"' in page
    # Every check of the real reports is on the page (folded), none dropped.
    for session in real.sessions:
        for check in session.verdict.checks:
            assert escape(check.name) in page


def test_the_real_summary_lists_each_reason_once_with_its_count(real: Overview) -> None:
    markdown = render_markdown(real)
    assert "8 sessions: 4 pass, 1 fail (promote), 3 unknown (audit, helm, smoke)." in markdown
    assert "4 pass, 1 fail (promote), 3 unknown (audit, helm, smoke)." in render_html(real)
    assert markdown.count("advisory service unreachable") == 2  # the table row, the list
    (audit,) = [line for line in markdown.splitlines() if line.startswith("- **audit**")]
    assert audit.startswith(
        "- **audit** UNKNOWN: advisory service unreachable (api.osv.dev: name resolution "
        "failed); pip-audit exited 1 (7 checks: pip-audit: image agent "
        "(infra/docker/requirements/agent.txt): 25 target(s) not checked; "
    )
    (helm,) = [line for line in markdown.splitlines() if line.startswith("- **helm**")]
    assert (
        helm
        == "- **helm** UNKNOWN: level not run: not selected (--level) (2 checks: cluster, pods)"
    )
    assert (
        "| helm | UNKNOWN | level not run: not selected (--level) (2 checks: cluster, pods) |"
        in markdown
    )


def test_a_folder_full_of_files_keeps_its_line_one_line(tmp_path: Path) -> None:
    """helm's folder in a full run holds its own build's SBOMs and metadata: the old row listed
    them all in a narrow column, a screen of blank space beside it. They are folded now."""
    files = {"helm.json": (REAL_REPORTS / "helm" / "helm.json").read_text(encoding="utf-8")}
    for service in ("tts", "agent"):
        for arch in ("amd64", "arm64"):
            files[f"build/sbom/vibevoice-{service}-linux-{arch}.spdx.json"] = "{}"
            files[f"build/sbom/vibevoice-{service}-linux-{arch}.cdx.json"] = "{}"
    files |= {"build/build-metadata.json": "[]", "logs/cluster/etcd.log": "x"}
    helm = read_session(_folder(tmp_path, "helm", files))
    assert len(helm.artifacts) == 11  # 8 SBOMs, the metadata, a log, helm.json
    page = render_html(Overview((helm,), "now", None))
    (line,) = re.findall(r'<summary class="row">(.*?)</summary>', page, re.DOTALL)
    assert "<a " not in line
    assert "<li" not in line
    for artifact in helm.artifacts:
        assert f'href="{artifact.path}"' in page
