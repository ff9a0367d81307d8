"""``vibevoice_ci.audit.osv``: severities from OSV records, and the client, against recorded
records served from 127.0.0.1 (tests/osv_replay.py)."""

from __future__ import annotations

from typing import Any

import pytest

from loopback import closed_port_url
from osv_replay import load_records, running_osv
from vibevoice_ci.audit.osv import (
    OsvClient,
    OsvUnavailableError,
    Rating,
    rate,
    severity_from_record,
)
from vibevoice_ci.core.vulnerabilities import Severity

RECORDS = load_records()


def test_a_github_reviewed_rating_comes_first() -> None:
    rating = severity_from_record(RECORDS["GHSA-9999-9999-9999"])
    assert rating == Rating(Severity.HIGH, "GHSA-9999-9999-9999 database_specific.severity")


def test_a_cvss_vector_alone_is_scored() -> None:
    rating = severity_from_record(RECORDS["GHSA-9999-9999-8888"])
    assert rating is not None
    assert rating.severity is Severity.MEDIUM
    assert "base score 5.3" in rating.source


@pytest.mark.parametrize(
    "record",
    [
        {"id": "X"},
        {"id": "X", "database_specific": {"severity": "whatever"}},
        {"id": "X", "severity": [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N"}]},
        {"id": "X", "severity": [{"type": "CVSS_V3", "score": "not a vector"}]},
        {
            "id": "X",
            "severity": [
                {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N"}
            ],
        },
    ],
)
def test_records_without_a_readable_severity_give_none(record: dict[str, Any]) -> None:
    assert severity_from_record(record) is None


def test_moderate_is_medium_and_the_worst_vector_wins() -> None:
    record = {
        "id": "X",
        "severity": [
            {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L"},
            {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
        ],
    }
    rated = severity_from_record(record)
    assert rated is not None
    assert rated.severity is Severity.CRITICAL
    moderate = severity_from_record({"id": "Y", "database_specific": {"severity": "MODERATE"}})
    assert moderate is not None
    assert moderate.severity is Severity.MEDIUM


def test_rate_falls_back_to_the_ghsa_alias() -> None:
    rating = rate("PYSEC-2026-9001", ["CVE-2026-99999", "GHSA-9999-9999-9999"], RECORDS.get)
    assert rating.severity is Severity.HIGH
    assert rating.source.startswith("GHSA-9999-9999-9999")


def test_rate_says_why_there_is_no_severity() -> None:
    nothing = rate("CVE-1", ["GHSA-0000-0000-0000"], RECORDS.get)
    assert nothing.severity is Severity.UNKNOWN
    assert "no record of CVE-1, GHSA-0000-0000-0000" in nothing.source
    unrated = rate("X", [], {"X": {"id": "X"}}.get)
    assert (unrated.severity, unrated.source) == (
        Severity.UNKNOWN,
        "no severity in the OSV record(s) of X",
    )


def test_rate_is_unknown_when_osv_is_down() -> None:
    def down(advisory: str) -> None:
        raise OsvUnavailableError("no route")

    rating = rate("PYSEC-2026-9001", ["GHSA-9999-9999-9999"], down)
    assert rating == Rating(Severity.UNKNOWN, "OSV could not be reached (no route)")


def test_client_fetches_records_once_and_knows_a_missing_one() -> None:
    with running_osv() as osv:
        client = OsvClient(osv.url + "/", timeout=5)
        record = client.record("GHSA-9999-9999-9999")
        assert record is not None
        assert record["id"] == "GHSA-9999-9999-9999"
        assert client.record("GHSA-9999-9999-9999") is record
        assert client.record("CVE-2026-99998") is None
        assert client.record("CVE-2026-99998") is None
    assert osv.requests == [
        "GET /v1/vulns/GHSA-9999-9999-9999",
        "GET /v1/vulns/CVE-2026-99998",
    ]


def test_client_unreachable_fails_fast_after_the_first_try() -> None:
    client = OsvClient(closed_port_url(), timeout=5)
    with pytest.raises(OsvUnavailableError, match="ConnectError"):
        client.record("GHSA-9999-9999-9999")
    with pytest.raises(OsvUnavailableError, match="ConnectError"):
        client.record("GHSA-9999-9999-8888")


def test_client_treats_a_server_error_as_unavailable() -> None:
    with running_osv() as osv:
        osv.fail_with = 503
        client = OsvClient(osv.url, timeout=5)
        with pytest.raises(OsvUnavailableError, match="HTTP 503"):
            client.record("GHSA-9999-9999-9999")
        assert rate("GHSA-9999-9999-9999", [], client.record).severity is Severity.UNKNOWN
