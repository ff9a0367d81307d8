"""A session's reasons grouped, and the one that decided its outcome: every check that did not
pass is in exactly one group, with the right count, and nothing is dropped; the decisive reason
is the first failing one, else the first unknown one, else a short pass line."""

from __future__ import annotations

from collections import Counter
from html import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.core.outcome import Outcome, Status
from vibevoice_ci.report import documents as docs
from vibevoice_ci.report.model import Overview, SessionReport
from vibevoice_ci.report.reasons import (
    Decisive,
    decisive,
    group_reasons,
    names_line,
    shorten,
    split_detail,
)
from vibevoice_ci.report.render import render_html, render_markdown

# Reasons none of which is a part of another, so "appears exactly once" can be counted in text.
REASONS = [
    "advisory service unreachable (api.osv.dev: name resolution failed); pip-audit exited 1",
    "vulnerability database could not be downloaded",
    "level not run: not selected (--level)",
    "scan failed: manifest unknown",
    "",
]
statuses = st.sampled_from(list(Status))


@st.composite
def details(draw: st.DrawFn) -> str:
    """A detail as the sessions write them: a reason, with or without a count of its own."""
    reason = draw(st.sampled_from(REASONS))
    if reason and draw(st.booleans()):
        return f"{draw(st.integers(0, 60))} target(s) not checked: {reason}"
    return reason


checks_lists = st.lists(
    st.builds(
        Outcome,
        st.sampled_from(["pip-audit: image tts", "pip-audit: extra ci", "trivy: agent", "pods"]),
        statuses,
        details(),
    ),
    max_size=14,
)


@settings(max_examples=300, deadline=None)
@given(checks=checks_lists)
def test_every_reason_is_grouped_once_with_its_count_and_nothing_is_dropped(
    checks: list[Outcome],
) -> None:
    groups = group_reasons(checks)
    not_passed = [c for c in checks if c.status is not Status.PASS]
    # Every check that did not pass is in exactly one group; no pass is in any.
    grouped = [check for group in groups for check in group.checks]
    assert Counter(grouped) == Counter(not_passed)
    assert sum(group.count for group in groups) == len(not_passed)
    # Each reason (per status) is one group, whose count is how many checks give it.
    keys = [(group.status, group.reason) for group in groups]
    assert len(keys) == len(set(keys))
    expected = Counter((c.status, split_detail(c.detail)[1]) for c in not_passed)
    assert {key: group.count for key, group in zip(keys, groups, strict=True)} == expected
    for group in groups:
        assert all(c.status is group.status for c in group.checks)
        assert all(split_detail(c.detail)[1] == group.reason for c in group.checks)
        # The checks keep their order; the groups come in the order of their first check,
        # failing reasons first.
        positions = [i for i, c in enumerate(not_passed) if c in group.checks]
        assert list(group.checks) == [not_passed[i] for i in positions]
        assert group.reason in group.text() or group.count == 1
    firsts = [not_passed.index(group.checks[0]) for group in groups]
    ranks = [
        (0 if group.status is Status.FAIL else 1, first)
        for group, first in zip(groups, firsts, strict=True)
    ]
    assert ranks == sorted(ranks)


@settings(max_examples=200, deadline=None)
@given(checks=checks_lists, status=statuses)
def test_the_page_and_the_summary_list_every_reason_once_with_its_count(
    checks: list[Outcome], status: Status
) -> None:
    session = SessionReport(
        "audit", docs.Verdict(status, "r", "audit/audit.json", tuple(checks)), None, "", None
    )
    overview = Overview((session,), "now", None)
    markdown = render_markdown(overview)
    listed = [line for line in markdown.splitlines() if line.startswith("- **audit** ")]
    groups = group_reasons(checks)
    assert len(listed) == len(groups)
    for group, line in zip(groups, listed, strict=True):
        label = "FAIL" if group.status is Status.FAIL else "UNKNOWN"
        assert line.startswith(f"- **audit** {label}: {' '.join(group.text().split())}")
        if group.count > 1:
            assert f"({group.count} checks: " in line
            assert all(check.name in line for check in group.checks)
    page = render_html(overview)
    for group in groups:
        assert page.count(f"<strong>{escape(group.text())}</strong>") == sum(
            1 for g in groups if g.text() == group.text()
        )
        if group.count > 1:
            assert f"{group.count} checks:" in page


@pytest.mark.parametrize(
    ("detail", "own", "reason"),
    [
        (
            "25 target(s) not checked: advisory service unreachable (x); pip-audit exited 1",
            "25 target(s) not checked",
            "advisory service unreachable (x); pip-audit exited 1",
        ),
        ("2 finding(s) at HIGH or above: CVE-1", "2 finding(s) at HIGH or above", "CVE-1"),
        ("level not run: not selected (--level)", "", "level not run: not selected (--level)"),
        ("3 files; 1 finding(s): AVD-1", "", "3 files; 1 finding(s): AVD-1"),
        (
            "8 objects valid against Kubernetes 1.29, 1.35",
            "",
            "8 objects valid against Kubernetes 1.29, 1.35",
        ),
        ("", "", ""),
    ],
)
def test_a_details_own_count_is_set_aside(detail: str, own: str, reason: str) -> None:
    assert split_detail(detail) == (own, reason)


def test_checks_that_say_the_same_differing_only_by_their_count_read_as_one_reason() -> None:
    checks = [
        Outcome("pip-audit: image agent (a.txt)", Status.UNKNOWN, "25 target(s) not checked: down"),
        Outcome("dependabot: schema", Status.PASS, "valid"),
        Outcome("pip-audit: image tts (t.txt)", Status.UNKNOWN, "18 target(s) not checked: down"),
        Outcome("pip-audit: ci-tools (c.txt)", Status.UNKNOWN, "18 target(s) not checked: down"),
    ]
    (group,) = group_reasons(checks)
    assert (group.status, group.text(), group.count) == (Status.UNKNOWN, "down", 3)
    assert group.own_counts() == (
        "25 target(s) not checked",
        "18 target(s) not checked",
        "18 target(s) not checked",
    )
    session = SessionReport(
        "audit", docs.Verdict(Status.UNKNOWN, "x", "", tuple(checks)), None, "", None
    )
    assert decisive(session).line() == (
        "down (3 checks: pip-audit: image agent, image tts, ci-tools)"
    )


def test_identical_details_are_shown_whole() -> None:
    checks = [
        Outcome(n, Status.UNKNOWN, "level not run: not selected") for n in ("cluster", "pods")
    ]
    (group,) = group_reasons(checks)
    assert group.text() == "level not run: not selected"
    assert group.own_counts() == ("", "")


def _session(status: Status, checks: list[Outcome], reason: str = "r") -> SessionReport:
    return SessionReport(
        "s", docs.Verdict(status, reason, "s/s.json", tuple(checks)), None, "", None
    )


def test_a_failing_session_is_decided_by_its_first_failing_reason() -> None:
    checks = [
        Outcome("a", Status.UNKNOWN, "not run"),
        Outcome("b", Status.FAIL, "1 finding(s) at HIGH or above: CVE-1"),
        Outcome("c", Status.FAIL, "scan failed: x"),
        Outcome("d", Status.PASS, "ok"),
    ]
    assert decisive(_session(Status.FAIL, checks)) == Decisive(
        "b: 1 finding(s) at HIGH or above: CVE-1", (), 2
    )
    assert decisive(_session(Status.FAIL, checks)).line().endswith("; and 2 other reasons")


def test_an_unknown_session_is_decided_by_its_first_unknown_reason() -> None:
    checks = [Outcome("a", Status.PASS, "ok"), Outcome("b", Status.UNKNOWN, "no database")]
    assert decisive(_session(Status.UNKNOWN, checks)).line() == "b: no database"


@pytest.mark.parametrize(
    ("status", "checks", "reason", "line"),
    [
        (Status.PASS, [Outcome("a", Status.PASS, "ok")] * 3, "r", "3 checks passed"),
        (Status.PASS, [Outcome("a", Status.PASS, "ok")], "r", "1 check passed"),
        (
            Status.PASS,
            [Outcome("a", Status.PASS, "ok"), Outcome("b", Status.UNKNOWN, "accepted")],
            "r",
            "1 of 2 checks passed (1 unknown)",
        ),
        (Status.PASS, [], "34 tests, 0 failures", "34 tests, 0 failures"),
        (Status.FAIL, [], "fail: a note", "a note"),
        (Status.UNKNOWN, [], "s/s.json is not valid JSON (x)", "s/s.json is not valid JSON (x)"),
        (Status.FAIL, [Outcome("a", Status.PASS, "ok")], "fail: release moved", "release moved"),
    ],
)
def test_pass_lines_and_sessions_without_a_check_that_says_why(
    status: Status, checks: list[Outcome], reason: str, line: str
) -> None:
    assert decisive(_session(status, checks, reason)).line() == line


def test_the_line_is_short_and_the_names_say_how_many_more() -> None:
    names = [f"trivy: registry/vibevoice-{i}:latest (linux/amd64)" for i in range(9)]
    shown = names_line(names)
    assert shown.startswith("trivy: registry/vibevoice-0:latest, registry/vibevoice-1:latest")
    assert shown.endswith(" more")
    assert len(shown) <= 100
    assert len(names_line(["one very long name " * 10])) == 90
    assert len(shorten("x " * 500)) == 200
    assert shorten("a\n b") == "a b"


def test_trivys_images_without_a_database_read_as_one_reason() -> None:
    """The trivy session's vulnerability part offline: each image platform unchecked for the
    same reason (trivy/session.py's image_report, through the shared gate)."""
    from datetime import date

    from vibevoice_ci.core.vulnerabilities import (
        Severity,
        Unchecked,
        VulnerabilityReport,
        gate,
    )

    digest = "sha256:" + "0123456789abcdef" * 4
    reason = "vulnerability database unavailable: ghcr.io/aquasecurity/trivy-db:2 unreachable"
    reports = [
        VulnerabilityReport(
            "trivy",
            "0.58.1",
            name,
            "2026-12-07T03:00:00Z",
            unchecked=(Unchecked(name, reason),),
        )
        for service in ("agent", "tts")
        for platform in ("linux/amd64", "linux/arm64")
        for name in [f"127.0.0.1:5000/vibevoice/{service}@{digest} ({platform})"]
    ]
    outcomes = gate(reports, fail_at=Severity.HIGH, today=date(2026, 12, 7)).outcomes
    checks = [*outcomes, Outcome("secrets: tts (linux/amd64)", Status.PASS, "no secret found")]
    (group,) = group_reasons(checks)
    assert (group.count, group.text()) == (4, f"1 target(s) not checked: {reason}")
    session = _session(Status.UNKNOWN, checks)
    line = decisive(session).line()
    assert line.startswith(f"1 target(s) not checked: {reason} (4 checks: trivy: 127.0.0.1:5000/")
    # The platform is what tells two names apart: it stays; the digest is cut short.
    assert "vibevoice/agent@sha256:0123456789ab… (linux/amd64), " in line
    assert "0123456789abcdef0123" not in line


def test_names_drop_a_parenthesis_only_while_they_stay_distinct() -> None:
    assert names_line(["a: x (1.txt)", "a: y (2.txt)"]) == "a: x, y"
    assert names_line(["a: x (amd64)", "a: x (arm64)"]) == "a: x (amd64), x (arm64)"
