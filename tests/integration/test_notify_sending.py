"""`python -m vibevoice_ci notify` against a stand-in webhook and GitHub API on 127.0.0.1: the
payloads, the PR comment updated in place, one issue per regression, and no secret ever shown."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import jsonschema
import pytest
from notify_server import FakeGitHub, running_stand_in

from vibevoice_ci.audit import session as audit
from vibevoice_ci.audit.reports import AuditReport
from vibevoice_ci.core.config import TrivyConfig, load_config
from vibevoice_ci.core.outcome import Outcome, Status, render_summary
from vibevoice_ci.core.reports import write_report
from vibevoice_ci.core.vulnerabilities import Severity, Vulnerability, VulnerabilityReport
from vibevoice_ci.notify.messages import FAILURE_MARKER, PERF_MARKER
from vibevoice_ci.perf import regression
from vibevoice_ci.perf.reports import PerfVerdict
from vibevoice_ci.trivy import imagescan
from vibevoice_ci.trivy.imagescan import ImageScan, ImageTarget
from vibevoice_ci.trivy.reports import DatabaseDocument, TrivyReport

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTIFY_SCHEMA = json.loads(
    (REPO_ROOT / "src" / "vibevoice_ci" / "notify" / "notify.schema.json").read_text()
)
TOKEN = "ghs_TOKENVALUE1234567890secret"  # noqa: S105 (a test value)
HOOK_PATH = "/services/T000/B000/HOOKSECRETxyz987"
SHA = "0123456789abcdef0123456789abcdef01234567"
SCANNED = "2026-11-30T12:00:00Z"
JUNIT_FAIL = (
    '<testsuites><testsuite tests="3" failures="1" errors="0" skipped="0">'
    '<testcase classname="tests.unit.test_x" name="test_y"><failure message="assert 1 == 2"/>'
    "</testcase></testsuite></testsuites>"
)


def regression_verdict(*metrics: str) -> PerfVerdict:
    """verdict.json as the perf gate writes it, a regression in each metric named."""
    rows = tuple(
        regression.Row(metric, 100.0, 130.0, 0.3, "+10%", True, "threshold", "p=0.001", True)
        for metric in metrics
    )
    verdict = regression.Verdict(rows, "statistical")
    return regression.verdict_document(verdict, baseline_updated=False, note="kept")


def trivy_report(*found: Vulnerability) -> TrivyReport:
    """trivy.json as the trivy session writes it: one image platform, ``found`` in it."""
    report = VulnerabilityReport("trivy", "0.76.0", "vibevoice-tts:abc", SCANNED, found, (), 120)
    target = ImageTarget("tts", "linux/amd64", "r/vibevoice-tts@sha256:1", "r/vibevoice-tts@x")
    scans = [ImageScan(target, report)]
    verdict = imagescan.judge(TrivyConfig(), scans, [], today=date(2026, 11, 30))
    database = DatabaseDocument(
        repository="mirror", available=True, reason="", metadata={}, seconds=1.0
    )
    return imagescan.document(
        verdict,
        scanner_version="0.76.0",
        database=database,
        images=scans,
        configs=[],
        strict=True,
        source="release file",
    )


def audit_report(*found: Vulnerability) -> AuditReport:
    """audit.json as the audit session writes it: the tts image's pins, ``found`` in them."""
    config = load_config(REPO_ROOT)
    report = VulnerabilityReport("pip-audit", "2.9.0", "image tts", SCANNED, found, (), 40)
    target = audit.TargetResult(audit.LockTarget("tts", "image", Path("tts.txt")), report)
    result = audit.judge([target], config, today=date(2026, 11, 30))
    return audit.audit_document(result, config, strict=True, scanner_version="2.9.0")


def write_reports(root: Path, *, verdict: PerfVerdict | None = None) -> Path:
    reports = root / "reports"
    (reports / "tests").mkdir(parents=True)
    (reports / "tests" / "junit.xml").write_text(JUNIT_FAIL, encoding="utf-8")
    (reports / "lint").mkdir()
    (reports / "lint" / "summary.md").write_text(
        render_summary("lint", [Outcome("ruff", Status.PASS, "clean")]), encoding="utf-8"
    )
    (reports / "perf").mkdir()
    perf_outcomes = [Outcome("regression", Status.FAIL, "regression in TTFA mean")]
    (reports / "perf" / "summary.md").write_text(
        render_summary("Performance", perf_outcomes), encoding="utf-8"
    )
    write_report(reports / "perf" / "verdict.json", verdict or regression_verdict("TTFA mean"))
    (reports / "trivy").mkdir()
    openssl = Vulnerability("CVE-2026-0001", Severity.CRITICAL, "openssl", "3.0.1", "3.0.9")
    curl = Vulnerability("CVE-2026-0003", Severity.HIGH, "curl", "8.0.0")
    zlib = Vulnerability("CVE-2026-0004", Severity.HIGH, "zlib", "1.3")
    write_report(reports / "trivy" / "trivy.json", trivy_report(openssl, curl, zlib))
    (reports / "audit").mkdir()
    jinja2 = Vulnerability("CVE-2026-0002", Severity.MEDIUM, "jinja2", "3.1.0", "3.1.6")
    write_report(reports / "audit" / "audit.json", audit_report(jinja2))
    return reports


@pytest.fixture
def stand_in() -> Iterator[tuple[str, FakeGitHub]]:
    with running_stand_in(TOKEN, HOOK_PATH) as found:
        yield found


def notify(
    reports: Path, event: str, env: dict[str, str], *extra: str
) -> subprocess.CompletedProcess[str]:
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GITHUB_", "SLACK_", "VIBEVOICE_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "vibevoice_ci", "notify", event, *extra],
        cwd=REPO_ROOT,
        env={**base, "VIBEVOICE_REPORTS_DIR": str(reports), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def github_env(base: str, **more: str) -> dict[str, str]:
    return {
        "SLACK_WEBHOOK_URL": base + HOOK_PATH,
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_API_URL": base,
        "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_REPOSITORY": "o/r",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_WORKFLOW": "CI test",
        "GITHUB_SHA": SHA,
        **more,
    }


def assert_no_secret(result: subprocess.CompletedProcess[str], reports: Path) -> None:
    shown = result.stdout + result.stderr
    for folder in (reports / "notify",):
        for path in folder.rglob("*"):
            if path.is_file():
                shown += path.read_text(encoding="utf-8")
    assert TOKEN not in shown
    assert HOOK_PATH not in shown
    assert "HOOKSECRETxyz987" not in shown


def test_a_failure_on_main_posts_the_failed_sessions_to_the_webhook(
    tmp_path: Path, stand_in: tuple[str, FakeGitHub]
) -> None:
    base, state = stand_in
    reports = write_reports(tmp_path)
    needs = json.dumps({"lint": {"result": "success"}, "test": {"result": "failure"}})
    env = github_env(base, GITHUB_REF="refs/heads/main", VIBEVOICE_NEEDS=needs)
    result = notify(reports, "failure", env)
    assert result.returncode == 0, result.stderr
    (post,) = state.webhook_posts()
    text = post.body["text"]
    assert text.startswith(":x: CI test failed on main at 0123456789ab")
    assert "Failed jobs: test" in text
    assert "tests: FAIL: 3 tests, 1 failures" in text
    assert "lint" not in text.split("Failed jobs")[1].replace("Failed jobs: test", "")
    assert "https://github.example/o/r/actions/runs/4242#artifacts" in text
    assert post.headers["content-type"].startswith("application/json")
    assert "authorization" not in post.headers  # the token goes to GitHub only
    # Not a PR: no comment, said plainly.
    assert "PR comment (failure): skipped, the run is not for a pull request" in result.stderr
    assert all(r.path == HOOK_PATH for r in state.requests)
    document = json.loads((reports / "notify" / "notify.json").read_text(encoding="utf-8"))
    jsonschema.validate(document, NOTIFY_SCHEMA)
    assert document["status"] == "pass"
    assert_no_secret(result, reports)


def test_a_pr_failure_comment_is_updated_in_place_not_repeated(
    tmp_path: Path, stand_in: tuple[str, FakeGitHub]
) -> None:
    base, state = stand_in
    state.comments[7] = [{"id": 1, "body": "a reviewer's comment", "html_url": "x"}]
    reports = write_reports(tmp_path)
    env = github_env(base, GITHUB_REF="refs/pull/7/merge")
    first = notify(reports, "failure", env)
    assert first.returncode == 0, first.stderr
    assert "webhook: skipped, a pull request's run" in first.stderr
    assert state.webhook_posts() == []
    assert len(state.comments[7]) == 2
    body = state.comments[7][1]["body"]
    assert body.startswith(FAILURE_MARKER)
    assert "| `tests` | **FAIL** |" in body
    assert "<summary>tests: summary</summary>" not in body  # no summary.md: the table says it
    assert "[the run's artifacts](https://github.example/o/r/actions/runs/4242#artifacts)" in body
    second = notify(reports, "failure", {**env, "GITHUB_SHA": "f" * 40})
    assert second.returncode == 0, second.stderr
    assert "updated on PR #7" in second.stderr
    assert [c["id"] for c in state.comments[7]] == [1, state.comments[7][1]["id"]]
    assert "`ffffffffffff`" in state.comments[7][1]["body"]
    assert state.comments[7][0]["body"] == "a reviewer's comment"
    for request in state.requests:
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert request.headers["x-github-api-version"] == "2022-11-28"
    assert_no_secret(first, reports)
    assert_no_secret(second, reports)


def test_a_regression_keeps_one_open_issue_and_a_new_one_gets_its_own(
    tmp_path: Path, stand_in: tuple[str, FakeGitHub]
) -> None:
    base, state = stand_in
    reports = write_reports(tmp_path)
    env = github_env(base, GITHUB_REF="refs/heads/main", GITHUB_EVENT_NAME="schedule")
    assert notify(reports, "perf", env).returncode == 0
    assert notify(reports, "perf", {**env, "GITHUB_SHA": "e" * 40}).returncode == 0
    (issue,) = state.issues
    assert issue["title"] == "Performance regression: TTFA mean"
    assert issue["labels"] == ["performance-regression"]
    assert "<!-- vibevoice-ci:perf-regression:ttfa-mean -->" in issue["body"]
    assert "`eeeeeeeeeeee`" in issue["body"]  # updated by the second run
    assert "| TTFA mean | 100 | 130 | +30.0% | +10% | p=0.001 |" in issue["body"]
    write_report(
        tmp_path / "reports" / "perf" / "verdict.json", regression_verdict("end-to-end p95")
    )
    result = notify(reports, "perf", env)
    assert result.returncode == 0, result.stderr
    assert [i["title"] for i in state.issues] == [
        "Performance regression: TTFA mean",
        "Performance regression: end-to-end p95",
    ]
    assert "PR comment (perf): skipped" in result.stderr
    assert state.webhook_posts() == []
    assert_no_secret(result, reports)


def test_the_perf_summary_is_a_pr_comment_updated_in_place(
    tmp_path: Path, stand_in: tuple[str, FakeGitHub]
) -> None:
    base, state = stand_in
    reports = write_reports(tmp_path, verdict=regression_verdict())
    env = github_env(base, GITHUB_REF="refs/pull/9/merge")
    for _ in range(2):
        result = notify(reports, "perf", env)
        assert result.returncode == 0, result.stderr
    (comment,) = state.comments[9]
    assert comment["body"].startswith(PERF_MARKER)
    assert "### Performance: UNKNOWN" not in comment["body"]
    assert "regression in TTFA mean" in comment["body"]
    assert state.issues == []
    assert "regression issue: skipped, a pull request's run" in result.stderr


def test_a_follow_up_run_comments_on_the_pull_request_it_reports_on(
    tmp_path: Path, stand_in: tuple[str, FakeGitHub]
) -> None:
    """ci-pr-feedback.yml: a workflow_run job on main's code, reporting on a PR's run."""
    base, state = stand_in
    reports = write_reports(tmp_path)
    env = github_env(
        base,
        GITHUB_REF="refs/heads/main",
        GITHUB_WORKFLOW="CI PR feedback",
        GITHUB_EVENT_NAME="workflow_run",
        VIBEVOICE_PR_NUMBER="12",
        VIBEVOICE_REPORTED_RUN_ID="999",
        VIBEVOICE_REPORTED_SHA="a" * 40,
        VIBEVOICE_REPORTED_WORKFLOW="CI test",
    )
    result = notify(reports, "failure", env)
    assert result.returncode == 0, result.stderr
    (comment,) = state.comments[12]
    body = comment["body"]
    assert body.startswith(FAILURE_MARKER)
    assert "### CI test: " in body
    assert "`aaaaaaaaaaaa`" in body
    assert "(https://github.example/o/r/actions/runs/999#artifacts)" in body
    # On main's ref, but about a pull request: not a failure on main.
    assert state.webhook_posts() == []
    assert "webhook: skipped, a pull request's run" in result.stderr
    perf = notify(reports, "perf", env)
    assert perf.returncode == 0, perf.stderr
    assert state.issues == []  # the regression belongs in the PR's comment, not an issue
    assert "regression issue: skipped, a pull request's run" in perf.stderr
    failure_comment, perf_comment = state.comments[12]
    assert failure_comment["body"].startswith(FAILURE_MARKER)
    assert perf_comment["body"].startswith(PERF_MARKER)
    assert_no_secret(result, reports)
    assert_no_secret(perf, reports)


JUNIT_GREEN = (
    '<testsuites><testsuite tests="3" failures="0" errors="0" skipped="0">'
    '<testcase classname="tests.unit.test_x" name="test_y"/></testsuite></testsuites>'
)


def test_a_passed_run_turns_the_failure_comment_green_and_never_adds_one(
    tmp_path: Path, stand_in: tuple[str, FakeGitHub]
) -> None:
    """ci-pr-feedback.yml after a passed "CI test" run: the red comment an earlier run left
    says it passed now, edited in place; a pull request that was never red gets no comment."""
    base, state = stand_in
    red = write_reports(tmp_path / "red")
    green = tmp_path / "green" / "reports"  # what a passed CI test run uploads
    (green / "tests").mkdir(parents=True)
    (green / "tests" / "junit.xml").write_text(JUNIT_GREEN, encoding="utf-8")
    (green / "lint").mkdir()
    (green / "lint" / "summary.md").write_text(
        render_summary("lint", [Outcome("ruff", Status.PASS, "clean")]), encoding="utf-8"
    )
    follow_up = {
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_WORKFLOW": "CI PR feedback",
        "GITHUB_EVENT_NAME": "workflow_run",
        "VIBEVOICE_REPORTED_WORKFLOW": "CI test",
    }

    def report(reports: Path, pull_request: int, conclusion: str, sha: str) -> str:
        env = github_env(
            base,
            **follow_up,
            VIBEVOICE_PR_NUMBER=str(pull_request),
            VIBEVOICE_REPORTED_RUN_ID=str(1000 + len(state.requests)),
            VIBEVOICE_REPORTED_SHA=sha,
            VIBEVOICE_REPORTED_CONCLUSION=conclusion,
        )
        result = notify(reports, "failure", env)
        assert result.returncode == 0, result.stderr
        assert_no_secret(result, reports)
        return result.stderr

    # Never red: a passed run adds nothing.
    stderr = report(green, 13, "success", "c" * 40)
    assert state.comments.get(13, []) == []
    assert "PR comment (failure): skipped, PR #13 has no earlier comment to update" in stderr

    # Red, then green: one comment, edited from failed to passed.
    report(red, 12, "failure", "a" * 40)
    (comment,) = state.comments[12]
    assert "failed for `aaaaaaaaaaaa`" in comment["body"]
    report(green, 12, "success", "b" * 40)
    (comment,) = state.comments[12]
    body = comment["body"]
    assert body.startswith(FAILURE_MARKER)
    assert "### CI test: passed for `bbbbbbbbbbbb`" in body
    assert "failed" not in body.split("\n", 2)[1]
    assert "An earlier run of this pull request failed; this one passed." in body


def test_a_failed_run_without_a_failed_report_is_not_called_passed(
    tmp_path: Path, stand_in: tuple[str, FakeGitHub]
) -> None:
    """A run can fail before any session writes a report (an install step): the comment says
    the run's conclusion, never "every session passed"."""
    base, state = stand_in
    reports = tmp_path / "reports"
    (reports / "tests").mkdir(parents=True)
    (reports / "tests" / "junit.xml").write_text(JUNIT_GREEN, encoding="utf-8")
    env = github_env(
        base,
        GITHUB_REF="refs/heads/main",
        GITHUB_EVENT_NAME="workflow_run",
        VIBEVOICE_PR_NUMBER="14",
        VIBEVOICE_REPORTED_RUN_ID="77",
        VIBEVOICE_REPORTED_SHA="d" * 40,
        VIBEVOICE_REPORTED_WORKFLOW="CI test",
        VIBEVOICE_REPORTED_CONCLUSION="failure",
    )
    result = notify(reports, "failure", env)
    assert result.returncode == 0, result.stderr
    (comment,) = state.comments[14]
    assert "### CI test: failure for `dddddddddddd`" in comment["body"]
    assert "every session passed" not in comment["body"]


def test_a_critical_finding_is_sent_at_once_and_none_is_not(
    tmp_path: Path, stand_in: tuple[str, FakeGitHub]
) -> None:
    base, state = stand_in
    reports = write_reports(tmp_path)
    env = github_env(base, GITHUB_REF="refs/heads/feature/x")
    result = notify(reports, "security", env)
    assert result.returncode == 0, result.stderr
    (post,) = state.webhook_posts()
    text = post.body["text"]
    assert text.startswith(":rotating_light: 1 CRITICAL vulnerabilities on feature/x")
    assert "trivy: 1 critical, 2 high, 0 medium, 0 low" in text
    assert "CVE-2026-0001: openssl 3.0.1, fixed in 3.0.9 (vibevoice-tts:abc)" in text
    assert "audit" not in text
    write_report(reports / "trivy" / "trivy.json", trivy_report())
    again = notify(reports, "security", env)
    assert again.returncode == 0, again.stderr
    assert len(state.webhook_posts()) == 1
    assert "security alert: skipped, no CRITICAL finding in audit, trivy" in again.stderr
    # A report of another shape is bad input, not a scan that found nothing.
    (reports / "trivy" / "trivy.json").write_text('{"status": "pass", "summary": {}}')
    bad = notify(reports, "security", env)
    assert bad.returncode == 2, bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    assert "trivy/trivy.json: " in bad.stderr
    assert len(state.webhook_posts()) == 1
    assert_no_secret(result, reports)


def test_without_secrets_every_notification_is_skipped_and_said(tmp_path: Path) -> None:
    reports = write_reports(tmp_path)
    env = {"GITHUB_REF": "refs/pull/3/merge", "GITHUB_REPOSITORY": "o/r"}
    result = notify(reports, "failure", {**env, "GITHUB_REF": "refs/heads/main"})
    assert result.returncode == 0, result.stderr
    assert "failure on main: skipped, SLACK_WEBHOOK_URL is not set" in result.stderr
    nightly = notify(reports, "perf", {**env, "GITHUB_REF": "refs/heads/main"})
    assert nightly.returncode == 0, nightly.stderr
    assert "regression issue: skipped, GITHUB_TOKEN is not set" in nightly.stderr
    pr = notify(reports, "perf", env)
    assert pr.returncode == 0, pr.stderr
    assert "PR comment (perf): skipped, GITHUB_TOKEN is not set" in pr.stderr
    summary = (reports / "notify" / "summary.md").read_text(encoding="utf-8")
    assert "GITHUB_TOKEN is not set" in summary


def test_a_dry_run_prints_the_messages_and_sends_nothing(
    tmp_path: Path, stand_in: tuple[str, FakeGitHub]
) -> None:
    base, state = stand_in
    reports = write_reports(tmp_path)
    env = github_env(base, GITHUB_REF="refs/heads/main")
    result = notify(reports, "failure", env, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "--- failure on main ---\n:x: CI test failed on main" in result.stdout
    assert state.requests == []
    assert_no_secret(result, reports)


def test_a_failing_webhook_fails_the_session_without_showing_the_secret(
    tmp_path: Path, stand_in: tuple[str, FakeGitHub]
) -> None:
    base, state = stand_in
    state.webhook_status = 503
    reports = write_reports(tmp_path)
    result = notify(reports, "failure", github_env(base, GITHUB_REF="refs/heads/main"))
    assert result.returncode == 1
    assert len(state.webhook_posts()) == 3  # retried: 503 is transient
    assert "POST http://127.0.0.1:" in result.stderr
    assert "/*** failed 3 times" in result.stderr
    assert_no_secret(result, reports)


def test_a_rejected_token_fails_without_showing_it(
    tmp_path: Path, stand_in: tuple[str, FakeGitHub]
) -> None:
    base, state = stand_in
    reports = write_reports(tmp_path)
    env = github_env(base, GITHUB_REF="refs/pull/7/merge", GITHUB_TOKEN="ghs_WRONGtoken999")  # noqa: S106
    result = notify(reports, "failure", env)
    assert result.returncode == 1
    assert "HTTP 401: Bad credentials" in result.stderr
    assert len([r for r in state.requests if r.path != HOOK_PATH]) == 1  # 401 is not retried
    assert "ghs_WRONGtoken999" not in result.stdout + result.stderr


def test_a_plain_http_webhook_elsewhere_is_refused_before_sending(tmp_path: Path) -> None:
    reports = write_reports(tmp_path)
    secret_url = "http://hooks.example.invalid/services/SECRETPATH"  # noqa: S105
    env = {"SLACK_WEBHOOK_URL": secret_url, "GITHUB_REF": "refs/heads/main"}
    result = notify(reports, "failure", env)
    assert result.returncode == 1
    assert "SLACK_WEBHOOK_URL must be an https:// URL" in result.stderr
    assert "SECRETPATH" not in result.stdout + result.stderr
