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


# --------------------------------------------------------------------------------------------
# What each outcome says, the SARIF log whole and the findings table whole (nox -s mutation
# showed these could change unseen)


def test_each_outcome_detail_names_every_id_reason_and_count_once() -> None:
    blocked = gate(
        [scan(finding("CVE-2", Severity.HIGH), finding("CVE-1", Severity.CRITICAL, "numpy"))],
        fail_at=Severity.HIGH,
        today=TODAY,
    )
    assert blocked.outcomes[0].detail == "2 finding(s) at HIGH or above: CVE-1, CVE-2"
    unchecked = scan(
        unchecked=(
            Unchecked("numpy==2.0", "service unreachable"),
            Unchecked("jinja2==3.0", "not on PyPI"),
            Unchecked("pyyaml==6.0", "service unreachable"),
        )
    )
    assert gate([unchecked], fail_at=Severity.HIGH, today=TODAY).outcomes == (
        Outcome(
            "pip-audit: tts",
            Status.UNKNOWN,
            "3 target(s) not checked: not on PyPI; service unreachable",
        ),
    )
    listed = gate(
        [scan(finding("CVE-3", Severity.MEDIUM), finding("CVE-4", Severity.LOW))],
        fail_at=Severity.HIGH,
        today=TODAY,
    )
    assert listed.outcomes[0].detail == (
        "10 checked; nothing at HIGH or above (1 medium, 1 low listed)"
    )
    clean = gate([scan()], fail_at=Severity.HIGH, today=TODAY)
    assert clean.outcomes == (
        Outcome("pip-audit: tts", Status.PASS, "10 checked; nothing at HIGH or above"),
    )


def report_of(scanner: str, target: str, *found: Vulnerability) -> VulnerabilityReport:
    return VulnerabilityReport(scanner, f"{scanner}-1", target, "2026-11-30T12:00:00Z", found)


def test_a_sarif_log_has_one_run_per_scanner_and_one_rule_per_advisory() -> None:
    described = Vulnerability("CVE-7", Severity.HIGH, "openssl", "3.0", "3.1", "a buffer overrun")
    bare = Vulnerability("CVE-8", Severity.CRITICAL, "zlib", "1.2")
    log = to_sarif(
        [
            report_of("trivy", "tts", described),
            report_of("pip-audit", "agent", bare),
            report_of("trivy", "agent", described, bare),
        ],
        min_severity=Severity.HIGH,
        artifact_uri="Dockerfile",
    )
    assert [run["tool"]["driver"]["name"] for run in log["runs"]] == ["trivy", "pip-audit"]
    trivy = log["runs"][0]
    assert {k: v for k, v in trivy["tool"]["driver"].items() if k != "rules"} == {
        "name": "trivy",
        "version": "trivy-1",
        "informationUri": "https://github.com/",
    }
    assert trivy["tool"]["driver"]["rules"] == [
        {
            "id": "CVE-7",
            "shortDescription": {"text": "CVE-7 in openssl"},
            "fullDescription": {"text": "a buffer overrun"},
            "defaultConfiguration": {"level": "error"},
            "properties": {
                "security-severity": "8.0",
                "tags": ["security", "vulnerability", "HIGH"],
            },
        },
        {
            "id": "CVE-8",
            "shortDescription": {"text": "CVE-8 in zlib"},
            "fullDescription": {"text": "CVE-8"},  # no description: the id
            "defaultConfiguration": {"level": "error"},
            "properties": {
                "security-severity": "9.5",
                "tags": ["security", "vulnerability", "CRITICAL"],
            },
        },
    ]
    assert [r["partialFingerprints"]["vulnerability"] for r in trivy["results"]] == [
        "CVE-7/openssl/tts",
        "CVE-7/openssl/agent",
        "CVE-8/zlib/agent",
    ]
    assert [rule["id"] for rule in log["runs"][1]["tool"]["driver"]["rules"]] == ["CVE-8"]


def test_the_findings_table_is_ordered_by_severity_package_and_id() -> None:
    result = gate(
        [
            scan(
                finding("CVE-3", Severity.HIGH, "b"),
                finding("CVE-2", Severity.CRITICAL, "z"),
                finding("CVE-1", Severity.HIGH, "b"),
                finding("CVE-0", Severity.HIGH, "a"),
                Vulnerability("CVE-9", Severity.LOW, "c", "2.0"),
            )
        ],
        fail_at=Severity.HIGH,
        allow_list=[AllowListEntry("CVE-3", "not reachable", date(2027, 1, 1))],
        today=TODAY,
    )
    assert render_findings_markdown(result) == "\n".join(
        [
            "### Blocking (3)",
            "",
            "| id | severity | package | installed | fixed |",
            "| --- | --- | --- | --- | --- |",
            "| CVE-2 | CRITICAL | z | 1.0 | 1.1 |",
            "| CVE-0 | HIGH | a | 1.0 | 1.1 |",
            "| CVE-1 | HIGH | b | 1.0 | 1.1 |",
            "",
            "### Allowed by the allow-list (1)",
            "",
            "| id | severity | package | installed | fixed |",
            "| --- | --- | --- | --- | --- |",
            "| CVE-3 | HIGH | b | 1.0 | 1.1 |",
            "",
            "### Listed (below the gate) (1)",
            "",
            "| id | severity | package | installed | fixed |",
            "| --- | --- | --- | --- | --- |",
            "| CVE-9 | LOW | c | 2.0 | - |",
            "",
        ]
    )
    assert render_findings_markdown(gate([scan()], fail_at=Severity.HIGH, today=TODAY)) == ""


@pytest.mark.parametrize(("count", "more"), [(50, None), (51, 1), (53, 3)])
def test_the_table_shows_fifty_findings_then_how_many_more(count: int, more: int | None) -> None:
    found = [finding(f"CVE-{n:03d}", Severity.LOW) for n in range(count)]
    text = render_findings_markdown(gate([scan(*found)], fail_at=Severity.HIGH, today=TODAY))
    rows = [line for line in text.splitlines() if line.startswith("| CVE-")]
    assert rows[0].startswith("| CVE-000 ")
    assert len(rows) == min(count, 50)
    tail = [line for line in text.splitlines() if line.startswith("| ...")]
    assert tail == ([] if more is None else [f"| ... {more} more in the JSON report | | | | |"])


def test_a_smaller_limit_cuts_the_table_there() -> None:
    found = [finding(f"CVE-{n}", Severity.LOW) for n in range(3)]
    result = gate([scan(*found)], fail_at=Severity.HIGH, today=TODAY)
    exactly = render_findings_markdown(result, limit=3)
    assert "more in the JSON report" not in exactly
    cut = render_findings_markdown(result, limit=2).splitlines()
    assert cut[-3:] == [
        "| CVE-0 | LOW | pkg | 1.0 | 1.1 |",
        "| CVE-1 | LOW | pkg | 1.0 | 1.1 |",
        "| ... 1 more in the JSON report | | | | |",
    ]
