"""The shared vulnerability report: severities, the gate, the allow-list and SARIF."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.core.errors import UsageError
from vibevoice_ci.core.outcome import Outcome, Status, overall
from vibevoice_ci.core.reports import report_json, validate_report
from vibevoice_ci.core.vulnerabilities import (
    AllowListEntry,
    Severity,
    Unchecked,
    Vulnerability,
    VulnerabilityReport,
    gate,
    render_findings_markdown,
    to_sarif,
)
from vibevoice_ci.core.vulnerability_models import OutcomeDocument, VulnerabilityReportDocument

TODAY = date(2026, 11, 30)


def finding(vid: str, severity: Severity, package: str = "pkg") -> Vulnerability:
    return Vulnerability(vid, severity, package, "1.0", "1.1", "desc")


def scan(*found: Vulnerability, unchecked: tuple[Unchecked, ...] = ()) -> VulnerabilityReport:
    return VulnerabilityReport(
        "pip-audit", "2.9.0", "tts", "2026-11-30T12:00:00Z", found, unchecked, checked=10
    )


severities = st.sampled_from(list(Severity))
findings = st.builds(
    finding,
    st.from_regex(
        r"(CVE-20[0-9]{2}-[0-9]{4,6}|GHSA-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4})", fullmatch=True
    ),
    severities,
    st.sampled_from(["openssl", "jinja2", "numpy", "urllib3"]),
)


def test_severity_parse_and_cvss() -> None:
    assert Severity.parse("moderate") is Severity.MEDIUM
    assert Severity.parse(" high ") is Severity.HIGH
    assert Severity.parse("whatever") is Severity.UNKNOWN
    assert Severity.from_cvss_score(9.8) is Severity.CRITICAL
    assert Severity.from_cvss_score(7.0) is Severity.HIGH
    assert Severity.from_cvss_score(6.9) is Severity.MEDIUM
    assert Severity.from_cvss_score(0.1) is Severity.LOW
    assert Severity.from_cvss_score(0.0) is Severity.UNKNOWN


def test_high_finding_fails_and_medium_is_listed() -> None:
    result = gate(
        [scan(finding("CVE-1", Severity.HIGH), finding("CVE-2", Severity.MEDIUM))],
        fail_at=Severity.HIGH,
        today=TODAY,
    )
    assert overall(result.outcomes) is Status.FAIL
    assert [v.id for v in result.blocking] == ["CVE-1"]
    assert [v.id for v in result.listed] == ["CVE-2"]


def test_unrated_finding_is_not_waved_through() -> None:
    result = gate([scan(finding("GHSA-x", Severity.UNKNOWN))], fail_at=Severity.HIGH, today=TODAY)
    assert overall(result.outcomes) is Status.FAIL


def test_nothing_found_but_unchecked_is_unknown() -> None:
    report = scan(unchecked=(Unchecked("numpy==2.0", "advisory service unreachable"),))
    result = gate([report], fail_at=Severity.HIGH, today=TODAY)
    assert overall(result.outcomes) is Status.UNKNOWN
    assert "1 target(s) not checked" in result.outcomes[0].detail


def test_allow_list_covers_alias_and_expired_entry_fails() -> None:
    vulnerability = Vulnerability("PYSEC-1", Severity.CRITICAL, "jinja2", "3.0", aliases=("CVE-9",))
    live = AllowListEntry("CVE-9", "not reachable from our code", date(2027, 1, 1))
    result = gate([scan(vulnerability)], fail_at=Severity.HIGH, allow_list=[live], today=TODAY)
    assert overall(result.outcomes) is Status.PASS
    assert result.allowed == (vulnerability,)
    stale = AllowListEntry("CVE-9", "not reachable", date(2026, 11, 1))
    result = gate([scan(vulnerability)], fail_at=Severity.HIGH, allow_list=[stale], today=TODAY)
    assert overall(result.outcomes) is Status.FAIL
    assert any("expired on 2026-11-01" in o.detail for o in result.outcomes)


def test_allow_list_entry_limited_to_a_package() -> None:
    entry = AllowListEntry("CVE-1", "x", date(2027, 1, 1), package="numpy")
    assert not entry.covers(finding("CVE-1", Severity.HIGH, "openssl"))
    assert entry.covers(finding("CVE-1", Severity.HIGH, "numpy"))


@settings(max_examples=200)
@given(st.lists(findings, max_size=12), severities)
def test_gate_fails_exactly_when_a_finding_reaches_the_threshold(
    found: list[Vulnerability], fail_at: Severity
) -> None:
    result = gate([scan(*found)], fail_at=fail_at, today=TODAY)
    expected_fail = any(v.severity.rank >= fail_at.rank for v in found)
    assert (overall(result.outcomes) is Status.FAIL) == expected_fail
    assert len(result.blocking) + len(result.listed) == len(found)


@settings(max_examples=200)
@given(st.lists(findings, max_size=12))
def test_summary_counts_every_finding_once(found: list[Vulnerability]) -> None:
    document = report_json(VulnerabilityReportDocument.of(scan(*found)))
    assert sum(document["summary"].values()) == len(found)
    assert set(document) >= {
        "scan_timestamp",
        "scanner",
        "scanner_version",
        "target",
        "vulnerabilities",
        "summary",
    }
    for level in ("critical", "high", "medium", "low"):
        assert document["summary"][level] == sum(
            1 for v in found if v.severity.value.lower() == level
        )
    read_back = validate_report(document, VulnerabilityReportDocument, "report")
    assert read_back == VulnerabilityReportDocument.of(scan(*found))


def test_a_report_document_says_everything_the_report_holds() -> None:
    unchecked = (Unchecked("numpy==2.0", "advisory service unreachable"),)
    found = Vulnerability("CVE-2026-1", Severity.HIGH, "jinja2", "3.1", "", "", ("GHSA-x",))
    document = report_json(VulnerabilityReportDocument.of(scan(found, unchecked=unchecked)))
    assert document == {
        "scan_timestamp": "2026-11-30T12:00:00Z",
        "scanner": "pip-audit",
        "scanner_version": "2.9.0",
        "target": "tts",
        "vulnerabilities": [
            {
                "id": "CVE-2026-1",
                "severity": "HIGH",
                "package": "jinja2",
                "installed_version": "3.1",
                "fixed_version": "",
                "description": "",
                "aliases": ["GHSA-x"],
            }
        ],
        "summary": {"critical": 0, "high": 1, "medium": 0, "low": 0, "unknown": 0},
        "checked": 10,
        "unchecked": [{"target": "numpy==2.0", "reason": "advisory service unreachable"}],
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"checked": "10"}, "report: checked: Input should be a valid integer"),
        ({"checked": True}, "report: checked: Input should be a valid integer"),
        ({"summary": {"critical": 0}}, "report: summary.high: Field required"),
        ({"scan_timestamp": "yesterday"}, "report: scan_timestamp: String should match pattern"),
        ({"extra": 1}, "report: extra: Extra inputs are not permitted"),
    ],
)
def test_a_report_document_of_another_shape_is_one_line(
    change: dict[str, object], message: str
) -> None:
    document = {**report_json(VulnerabilityReportDocument.of(scan())), **change}
    with pytest.raises(UsageError, match=message):
        validate_report(document, VulnerabilityReportDocument, "report")


def test_an_outcome_document_is_the_outcome() -> None:
    outcome = Outcome("pip-audit: tts", Status.UNKNOWN, "2 not checked")
    assert report_json(OutcomeDocument.of(outcome)) == {
        "name": "pip-audit: tts",
        "status": "unknown",
        "detail": "2 not checked",
    }


@settings(max_examples=200)
@given(st.lists(findings, max_size=12), severities)
def test_sarif_holds_exactly_the_findings_at_or_above_its_floor(
    found: list[Vulnerability], floor: Severity
) -> None:
    log = to_sarif([scan(*found)], min_severity=floor, artifact_uri="uv.lock")
    assert log["version"] == "2.1.0"
    results = log["runs"][0]["results"]
    assert len(results) == sum(1 for v in found if v.severity.rank >= floor.rank)
    rule_ids = {rule["id"] for rule in log["runs"][0]["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in results} <= rule_ids
    assert len(rule_ids) == len(log["runs"][0]["tool"]["driver"]["rules"])


def test_markdown_lists_blocking_first() -> None:
    result = gate(
        [scan(finding("CVE-2", Severity.LOW), finding("CVE-1", Severity.CRITICAL))],
        fail_at=Severity.HIGH,
        today=TODAY,
    )
    text = render_findings_markdown(result)
    assert text.index("Blocking (1)") < text.index("Listed (below the gate) (1)")
    assert "| CVE-1 | CRITICAL | pkg | 1.0 | 1.1 |" in text


# --------------------------------------------------------------------------------------------
# The boundaries and outputs (each test fails if a boundary or an output moves)


@pytest.mark.parametrize(
    ("score", "severity"),
    [
        (10.0, Severity.CRITICAL),
        (9.0, Severity.CRITICAL),
        (8.9, Severity.HIGH),
        (7.0, Severity.HIGH),
        (6.9, Severity.MEDIUM),
        (4.0, Severity.MEDIUM),
        (3.9, Severity.LOW),
        (0.1, Severity.LOW),
        (0.0, Severity.UNKNOWN),
    ],
)
def test_a_cvss_score_at_each_boundary_takes_the_higher_rating(
    score: float, severity: Severity
) -> None:
    assert Severity.from_cvss_score(score) is severity


@given(st.integers(min_value=0, max_value=100))
def test_the_cvss_rating_follows_the_specification_table(tenths: int) -> None:
    score = tenths / 10
    expected = (
        Severity.CRITICAL
        if tenths >= 90
        else Severity.HIGH
        if tenths >= 70
        else Severity.MEDIUM
        if tenths >= 40
        else Severity.LOW
        if tenths >= 1
        else Severity.UNKNOWN
    )
    assert Severity.from_cvss_score(score) is expected


def test_an_allow_list_entry_holds_on_its_expiry_day_and_fails_the_day_after() -> None:
    vulnerability = finding("CVE-7", Severity.CRITICAL)
    entry = AllowListEntry("CVE-7", "mitigated by the proxy", expires=TODAY)
    on_the_day = gate([scan(vulnerability)], fail_at=Severity.HIGH, allow_list=[entry], today=TODAY)
    assert not entry.expired(TODAY)
    assert overall(on_the_day.outcomes) is Status.PASS
    assert [o.name for o in on_the_day.outcomes] == ["pip-audit: tts"]
    assert on_the_day.allowed == (vulnerability,)

    day_after = date(2026, 12, 1)
    late = gate([scan(vulnerability)], fail_at=Severity.HIGH, allow_list=[entry], today=day_after)
    assert entry.expired(day_after)
    assert overall(late.outcomes) is Status.FAIL
    assert late.outcomes[-1] == Outcome(
        "allow-list: CVE-7",
        Status.FAIL,
        "expired on 2026-11-30 (mitigated by the proxy): "
        "fix the finding or renew the entry with a new reason",
    )


@pytest.mark.parametrize(
    ("severity", "level", "score"),
    [
        (Severity.CRITICAL, "error", "9.5"),
        (Severity.HIGH, "error", "8.0"),
        (Severity.UNKNOWN, "error", "8.0"),
        (Severity.MEDIUM, "warning", "5.5"),
        (Severity.LOW, "warning", "2.0"),
    ],
)
def test_the_sarif_level_and_security_severity_of_each_severity(
    severity: Severity, level: str, score: str
) -> None:
    log = to_sarif([scan(finding("CVE-3", severity))], min_severity=Severity.LOW, artifact_uri="x")
    run = log["runs"][0]
    (rule,) = run["tool"]["driver"]["rules"]
    (result,) = run["results"]
    assert result["level"] == level
    assert rule["defaultConfiguration"] == {"level": level}
    assert rule["properties"]["security-severity"] == score
    assert rule["properties"]["tags"] == ["security", "vulnerability", severity.value]


def test_a_sarif_result_says_where_what_and_the_fix() -> None:
    fixed = finding("CVE-4", Severity.HIGH, "openssl")
    unfixed = Vulnerability("CVE-5", Severity.HIGH, "numpy", "2.0")
    log = to_sarif([scan(fixed, unfixed)], min_severity=Severity.HIGH, artifact_uri="uv.lock")
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    first, second = log["runs"][0]["results"]
    assert first["message"]["text"] == (
        "openssl 1.0 in tts is affected by CVE-4 (HIGH); fixed in 1.1"
    )
    assert (
        second["message"]["text"] == "numpy 2.0 in tts is affected by CVE-5 (HIGH); no fix released"
    )
    assert first["locations"] == [
        {"physicalLocation": {"artifactLocation": {"uri": "uv.lock"}, "region": {"startLine": 1}}}
    ]
    assert first["partialFingerprints"] == {"vulnerability": "CVE-4/openssl/tts"}


def test_a_finding_exactly_at_the_gate_blocks_and_one_just_below_is_listed() -> None:
    at, below = finding("CVE-A", Severity.MEDIUM), finding("CVE-B", Severity.LOW)
    result = gate([scan(at, below)], fail_at=Severity.MEDIUM, today=TODAY)
    assert result.blocking == (at,)
    assert result.listed == (below,)
    assert result.outcomes == (
        Outcome("pip-audit: tts", Status.FAIL, "1 finding(s) at MEDIUM or above: CVE-A"),
    )
    clean = gate([scan(below)], fail_at=Severity.MEDIUM, today=TODAY)
    assert clean.outcomes == (
        Outcome(
            "pip-audit: tts", Status.PASS, "10 checked; nothing at MEDIUM or above (1 low listed)"
        ),
    )
