"""The notifications' messages (pure) and their settings: what each says, the markers that let
a comment or an issue be found again, and secrets that never show; the session's notify.json."""

from __future__ import annotations

import dataclasses
import json
import pickle
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scanner_helpers import audit_json, trivy_json

from vibevoice_ci.core.config import PipelineConfig, load_config
from vibevoice_ci.core.environment import (
    RunEnvironment,
    Secret,
    parse_needs,
    parse_pull_request,
    run_environment,
)
from vibevoice_ci.core.errors import CheckFailedError, ConfigError, UsageError
from vibevoice_ci.core.outcome import Outcome, Status, publish_summary, render_summary
from vibevoice_ci.core.reports import report_json, validate_report, write_report
from vibevoice_ci.core.vulnerabilities import Severity, Vulnerability
from vibevoice_ci.notify import messages as m
from vibevoice_ci.notify.reports import NotifyReport
from vibevoice_ci.notify.session import run_notify
from vibevoice_ci.perf import regression
from vibevoice_ci.perf.reports import PerfVerdict
from vibevoice_ci.report.documents import Verdict
from vibevoice_ci.report.model import Overview, SessionReport
from vibevoice_ci.report.security import VulnerabilityCounts, security_findings_of
from vibevoice_ci.tools.http import HttpError, check_url, is_allowed_url, redact, shown_url

REPO = Path(__file__).resolve().parents[4]
CONTEXT = m.RunContext(
    workflow="CI test",
    ref="refs/heads/main",
    sha="0123456789abcdef0123456789abcdef01234567",
    run_url="https://github.com/o/r/actions/runs/1",
    needs={"lint": "success", "test": "failure"},
)
texts = st.text(max_size=80)


def session(
    name: str, status: Status, reason: str = "r", summary: str | None = None
) -> SessionReport:
    return SessionReport(
        name, Verdict(status, reason, f"{name}/x"), None, "file time", None, (), summary
    )


def overview(*sessions: SessionReport) -> Overview:
    return Overview(tuple(sessions), "now", None)


def test_the_failure_message_names_the_failed_jobs_and_sessions_not_the_passed_ones() -> None:
    text = m.failure_message(
        overview(
            session("lint", Status.PASS), session("tests", Status.FAIL, "3 tests, 1 failures")
        ),
        CONTEXT,
    )
    assert text.splitlines() == [
        ":x: CI test failed on main at 0123456789ab",
        "Failed jobs: test",
        "- tests: FAIL: 3 tests, 1 failures",
        "Run and artifacts: <https://github.com/o/r/actions/runs/1#artifacts|"
        "https://github.com/o/r/actions/runs/1>",
    ]


def test_an_unknown_session_is_a_failure_in_every_message() -> None:
    found = overview(session("smoke", Status.UNKNOWN, "no Docker engine"))
    assert "- smoke: UNKNOWN: no Docker engine" in m.failure_message(found, CONTEXT)
    assert "| `smoke` | **UNKNOWN** | no Docker engine |" in m.failure_comment(found, CONTEXT)


def test_without_reports_or_jobs_the_message_says_where_to_look() -> None:
    text = m.failure_message(overview(), m.RunContext())
    assert "No failed session report was found" in text
    assert "unknown ref" in text


@settings(max_examples=150, deadline=None)
@given(
    names=st.lists(st.from_regex(r"[a-z]{1,8}", fullmatch=True), unique=True, max_size=5),
    statuses=st.lists(st.sampled_from(list(Status)), min_size=5, max_size=5),
    summaries=st.lists(texts, min_size=5, max_size=5),
)
def test_the_comment_carries_its_marker_once_and_every_failed_session(
    names: list[str], statuses: list[Status], summaries: list[str]
) -> None:
    # A summary that contains the marker text itself must not make a second marker.
    found = overview(
        *(
            session(name, status, "why", m.FAILURE_MARKER + summary)
            for name, status, summary in zip(names, statuses, summaries, strict=False)
        )
    )
    body = m.failure_comment(found, CONTEXT)
    assert body.startswith(m.FAILURE_MARKER)
    assert body.count(m.FAILURE_MARKER) == 1
    assert len(body) <= m.MAX_BODY + 1
    for s in found.sessions:
        assert f"| `{s.name}` |" in body
        if s.status is not Status.PASS:
            assert f"<summary>{s.name}: summary</summary>" in body


def test_the_comment_has_the_artifact_link_and_the_failed_summary() -> None:
    body = m.failure_comment(
        overview(session("tests", Status.FAIL, "1 failed", "## tests\n\n**FAILED**\n")), CONTEXT
    )
    assert "### CI test: 1 failed for `0123456789ab`" in body
    assert "Failed jobs: `test`" in body
    assert "### tests" in body  # the summary's heading is demoted under the comment's
    assert "[the run's artifacts](https://github.com/o/r/actions/runs/1#artifacts)" in body


def test_the_perf_comment_is_the_perf_summary_under_its_marker() -> None:
    perf = session("perf", Status.PASS, "3 checks", "## Performance\n\n**PASSED**: 3 checks\n")
    body = m.perf_comment(perf, CONTEXT)
    assert body.startswith(m.PERF_MARKER + "\n### Performance: PASS for `0123456789ab`")
    assert "**PASSED**: 3 checks" in body
    assert body.count("<!--") == 1


def _verdict(*metrics: str, regressed: bool = True) -> PerfVerdict:
    """verdict.json as the perf gate writes it: a row per metric named, and the error rate."""
    rows = [
        regression.Row(
            name=name,
            baseline=10.0,
            current=12.5,
            change=0.25,
            threshold="+10%",
            exceeded=True,
            rule="threshold + mann-whitney-u",
            evidence="p=0.002",
            regression=regressed,
        )
        for name in metrics
    ]
    rows.append(
        regression.Row("error rate", 0.0, 0.0, None, "<= 1%", False, "threshold", "", False)
    )
    verdict = regression.Verdict(tuple(rows), "statistical")
    document = regression.verdict_document(verdict, baseline_updated=False, note="kept")
    return validate_report(report_json(document), PerfVerdict, "verdict.json")


@settings(max_examples=100, deadline=None)
@given(
    metrics=st.lists(
        st.sampled_from(["TTFA mean", "TTFA p50", "end-to-end p95"]),
        min_size=1,
        max_size=3,
        unique=True,
    )
)
def test_one_regression_has_one_key_whatever_the_order(metrics: list[str]) -> None:
    draft = m.regression_issue(_verdict(*metrics), None, CONTEXT)
    again = m.regression_issue(_verdict(*reversed(metrics)), None, CONTEXT)
    assert draft is not None
    assert again is not None
    assert draft.marker == again.marker
    assert draft.title == again.title
    assert draft.body.startswith(draft.marker)
    assert "error rate" not in draft.title


def test_different_regressions_have_different_markers() -> None:
    one = m.regression_issue(_verdict("TTFA mean"), None, CONTEXT)
    two = m.regression_issue(_verdict("TTFA mean", "end-to-end p95"), None, CONTEXT)
    assert one is not None
    assert two is not None
    assert one.marker == "<!-- vibevoice-ci:perf-regression:ttfa-mean -->"
    assert two.marker == "<!-- vibevoice-ci:perf-regression:end-to-end-p95+ttfa-mean -->"
    assert "| TTFA mean | 10 | 12.5 | +25.0% | +10% | p=0.002 |" in one.body


def test_no_regression_no_issue() -> None:
    created = PerfVerdict(
        status="pass",
        regression=False,
        mode=None,
        checks=[],
        baseline_created=True,
        baseline_updated=False,
        note="No baseline: created it",
    )
    for verdict in (_verdict("TTFA mean", regressed=False), _verdict(), created):
        assert m.regression_issue(verdict, None, CONTEXT) is None


def test_a_critical_finding_makes_an_alert_and_high_alone_does_not() -> None:
    critical = Vulnerability("CVE-1", Severity.CRITICAL, "zlib", "1")
    high = Vulnerability("CVE-2", Severity.HIGH, "curl", "8")
    found = security_findings_of(
        overview(scanned("trivy", trivy_json(critical, high)), scanned("audit", audit_json(high)))
    )
    alert = m.security_alert(found, CONTEXT)
    assert alert is not None
    assert alert.splitlines()[:3] == [
        ":rotating_light: 1 CRITICAL vulnerabilities on main at 0123456789ab",
        "- trivy: 1 critical, 1 high, 0 medium, 0 low",
        "  - CVE-1: zlib 1 (r/tts@sha256:1 (linux/amd64))",
    ]
    assert "audit" not in alert
    assert m.security_alert({"audit": found["audit"]}, CONTEXT) is None


def scanned(name: str, document: Any) -> SessionReport:
    return SessionReport(name, Verdict(Status.FAIL, "x", "t"), None, "", None, document=document)


def test_security_reports_are_read_through_their_models_and_unreadable_ones_said() -> None:
    critical = Vulnerability("CVE-1", Severity.CRITICAL, "zlib", "1.2", "1.3")
    high = Vulnerability("GHSA-2", Severity.HIGH, "jinja2", "3.1.0")
    trivy = scanned("trivy", trivy_json(critical, high))
    audit_report = scanned("audit", audit_json(high))
    unreadable = session("audit-3.11", Status.UNKNOWN, "audit-3.11/audit.json is not valid JSON")
    found = security_findings_of(
        overview(trivy, audit_report, unreadable, session("lint", Status.PASS))
    )
    assert set(found) == {"trivy", "audit", "audit-3.11"}
    assert found["trivy"].counts == VulnerabilityCounts(critical=1, high=1)
    assert [(f.id, f.target) for f in found["trivy"].critical()] == [
        ("CVE-1", "r/tts@sha256:1 (linux/amd64)")
    ]
    assert found["audit"].counts == VulnerabilityCounts(high=1)
    assert found["audit-3.11"].problems == ("audit-3.11/audit.json is not valid JSON",)
    alert = m.security_alert(found, CONTEXT)
    assert alert is not None
    assert alert.splitlines()[:3] == [
        ":rotating_light: 1 CRITICAL vulnerabilities on main at 0123456789ab",
        "- trivy: 1 critical, 1 high, 0 medium, 0 low",
        "  - CVE-1: zlib 1.2, fixed in 1.3 (r/tts@sha256:1 (linux/amd64))",
    ]
    assert "audit" not in alert


def test_a_scanner_report_of_another_shape_is_bad_input() -> None:
    shapeless = scanned("trivy", {"status": "fail", "summary": {"critical": 2}})
    with pytest.raises(UsageError, match=r"^trivy/trivy\.json: strict: Field required"):
        security_findings_of(overview(shapeless))


# ---- settings and secrets


def test_a_secret_never_prints() -> None:
    secret = Secret("hunter2-value")
    env = RunEnvironment(slack_webhook_url=secret, github_token=Secret("tok-value"))
    for shown in (repr(secret), str(secret), f"{secret}", f"{secret!r}", repr(env), str(env)):
        assert "hunter2" not in shown
        assert "tok-value" not in shown
    assert secret.reveal() == "hunter2-value"
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_the_environment_gives_the_notification_settings() -> None:
    env = run_environment(
        {
            "SLACK_WEBHOOK_URL": " https://hooks.example/x ",
            "GITHUB_TOKEN": "t",
            "GITHUB_API_URL": "https://ghe.example/api/v3/",
            "GITHUB_REPOSITORY": "o/r",
            "GITHUB_REF": "refs/pull/12/merge",
            "VIBEVOICE_NEEDS": '{"lint": {"result": "failure", "outputs": {}}}',
        }
    )
    assert env.slack_webhook_url == Secret("https://hooks.example/x")
    assert env.github_token == Secret("t")
    assert env.github_api_url == "https://ghe.example/api/v3"
    assert (env.github_repository, env.pull_request) == ("o/r", 12)
    assert env.needs_results == {"lint": "failure"}
    empty = run_environment({"SLACK_WEBHOOK_URL": "  "})
    assert (empty.slack_webhook_url, empty.github_token, empty.pull_request) == (None, None, None)
    assert empty.github_api_url == "https://api.github.com"


@pytest.mark.parametrize(
    ("number", "ref", "expected"),
    [("", "refs/pull/5/merge", 5), ("7", "refs/heads/main", 7), ("", "refs/heads/main", None)],
)
def test_pull_request_numbers(number: str, ref: str, expected: int | None) -> None:
    assert parse_pull_request(number, ref) == expected


@pytest.mark.parametrize("text", ["x", "0", "-1"])
def test_a_bad_pull_request_number_is_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError, match="VIBEVOICE_PR_NUMBER"):
        parse_pull_request(text, "")


@pytest.mark.parametrize("text", ["{", "[]", '{"a": 1}', '{"a": {"outputs": {}}}'])
def test_bad_needs_are_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError, match="VIBEVOICE_NEEDS"):
        parse_needs(text)


@settings(max_examples=200, deadline=None)
@given(value=st.text(min_size=6, max_size=40).filter(lambda v: v.strip() == v), noise=texts)
def test_redaction_removes_every_secret_value(value: str, noise: str) -> None:
    text = f"{noise} POST {value} failed: {value}{noise}"
    assert value not in redact(text, [Secret(value), None])


def test_a_webhook_url_is_shown_by_host_only() -> None:
    url = "https://hooks.slack.com/services/T0/B0/SECRET"
    assert shown_url(url, secret_url=True) == "https://hooks.slack.com/***"
    assert "SECRET" not in redact(f"POST {url}", [Secret(url)])
    assert "/services/T0/B0/SECRET" not in redact("GET /services/T0/B0/SECRET", [Secret(url)])


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://hooks.slack.com/x", True),
        ("http://127.0.0.1:8080/x", True),
        ("http://localhost/x", True),
        ("http://hooks.slack.com/x", False),
        ("file:///etc/passwd", False),
        ("ftp://x/y", False),
        ("https:///nohost", False),
        ("http://[::1]:8080/x", True),
        ("http://127.0.0.1.example.com/x", False),
        ("http://localhost.example.com/x", False),
        ("HTTP://127.0.0.1/x", True),
    ],
)
def test_only_https_or_loopback_http_is_sent_to(url: str, ok: bool) -> None:
    assert is_allowed_url(url) is ok
    if ok:
        check_url(url, "X")
    else:
        with pytest.raises(UsageError, match="X must be an https:// URL") as caught:
            check_url(url, "X")
        assert url not in str(caught.value)


@pytest.mark.parametrize(
    ("status", "transient"),
    [
        *[(None, True), (408, True), (429, True), (500, True), (503, True), (504, True)],
        *[(400, False), (401, False), (403, False), (404, False), (422, False), (301, False)],
    ],
)
def test_no_answer_and_the_transient_statuses_are_worth_another_attempt(
    status: int | None, transient: bool
) -> None:
    assert HttpError("x", status).transient is transient
    assert HttpError("x", status, transient=False).transient is False


def test_a_notify_report_outcome_is_redacted() -> None:
    outcome = Outcome(
        "webhook", Status.FAIL, redact("POST https://h/abc: 500", [Secret("https://h/abc")])
    )
    assert "abc" not in outcome.detail


# ---- the session's own report


def _notify_config(tmp_path: Path) -> PipelineConfig:
    env = RunEnvironment(
        git_ref="refs/heads/main",
        github_sha="0123456789abcdef0123456789abcdef01234567",
        github_token=Secret("tok-never-shown"),
        github_repository="o/r",
    )
    return load_config(REPO).model_copy(update={"reports_dir": tmp_path / "reports", "env": env})


def test_notify_json_is_what_the_schema_says_and_holds_no_secret(tmp_path: Path) -> None:
    config = _notify_config(tmp_path)
    perf = config.report_dir("perf")
    publish_summary(perf, render_summary("Performance", [Outcome("regression", Status.FAIL, "")]))
    write_report(perf / "verdict.json", _verdict("TTFA mean"))  # as the perf gate writes it
    run = run_notify(config, "perf", dry_run=True)
    assert run.messages["regression issue"].startswith("Performance regression: TTFA mean")
    text = (config.report_dir("notify") / "notify.json").read_text(encoding="utf-8")
    schema = json.loads((Path(m.__file__).with_name("notify.schema.json")).read_text())
    jsonschema.validate(json.loads(text), schema)
    document = validate_report(json.loads(text), NotifyReport, "notify.json")
    assert (document.event, document.status, document.dry_run) == ("perf", "pass", True)
    assert "regression issue: skipped, dry run" in document.notes
    assert "tok-never-shown" not in text


def test_a_perf_verdict_of_another_shape_is_bad_input_not_no_regression(tmp_path: Path) -> None:
    config = _notify_config(tmp_path)
    perf = config.report_dir("perf")
    perf.mkdir(parents=True)
    (perf / "verdict.json").write_text('{"regression": true, "checks": []}', encoding="utf-8")
    with pytest.raises(UsageError) as refused:
        run_notify(config, "perf", dry_run=True)
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith("the perf gate's verdict ")
    assert "status: Field required" in message
    (perf / "verdict.json").unlink()
    run = run_notify(config, "perf", dry_run=True)
    assert "regression issue: skipped, reports/perf/verdict.json is absent" in run.skipped


def test_an_unknown_fails_under_ci_unless_no_strict(tmp_path: Path) -> None:
    """A scanner folder whose report cannot be read: the security event is unknown, which
    under $CI exits 1 (the one rule), with --no-strict (or outside CI) a loud exit 0."""
    config = _notify_config(tmp_path)
    trivy = config.report_dir("trivy")
    trivy.mkdir(parents=True)
    (trivy / "trivy.json").write_text("{not json", encoding="utf-8")
    local = run_notify(config, "security", dry_run=True)
    assert local.status is Status.UNKNOWN
    under_ci = config.model_copy(update={"env": dataclasses.replace(config.env, ci=True)})
    with pytest.raises(CheckFailedError, match=r"^notify: unknown \(unknown fails under CI\)"):
        run_notify(under_ci, "security", dry_run=True)
    assert run_notify(under_ci, "security", dry_run=True, strict=False).status is Status.UNKNOWN
    with pytest.raises(CheckFailedError):
        run_notify(config, "security", dry_run=True, strict=True)


def test_a_service_that_served_nothing_gets_its_regression_issue(tmp_path: Path) -> None:
    """verdict.json as the perf session writes it when no request succeeded (a 100% error
    rate): notify -- perf drafts the regression issue, never 'verdict.json is absent'."""
    verdict = regression.nothing_served(regression.Thresholds(), 0.0, "no request succeeded")
    config = _notify_config(tmp_path)
    perf = config.report_dir("perf")
    publish_summary(perf, render_summary("Performance", [Outcome("load test", Status.FAIL, "")]))
    document = regression.verdict_document(verdict, baseline_updated=False, note="kept")
    write_report(perf / "verdict.json", document)
    run = run_notify(config, "perf", dry_run=True)
    assert run.messages["regression issue"].startswith("Performance regression: error rate")
    assert (
        "| error rate | 0 | 1 | n/a | <= 1% | no request succeeded |"
        in (run.messages["regression issue"])
    )
