"""Severities from OSV advisory records: pip-audit reports advisories without one.

:func:`severity_from_record` is pure: GitHub's reviewed rating
(``database_specific.severity``, on GHSA records) first, else a CVSS v3 vector scored
(:mod:`vibevoice_ci.audit.cvss`). :class:`OsvClient` fetches records from
``<base_url>/v1/vulns/<id>`` (the base URL comes from the config, so tests serve recorded
records from 127.0.0.1). :func:`rate` tries the advisory and then its GHSA aliases; when OSV
cannot be reached, or no record rates it, the severity is UNKNOWN with the reason, which the
gate ranks with HIGH: an unrated finding is never waved through.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from vibevoice_ci.audit.cvss import CvssError, base_score
from vibevoice_ci.core.vulnerabilities import Severity


class OsvUnavailableError(Exception):
    """OSV could not be asked (no connection, a timeout, a server error)."""


@dataclass(frozen=True)
class Rating:
    """A finding's severity and where it came from (or why there is none)."""

    severity: Severity
    source: str


def severity_from_record(record: Mapping[str, Any]) -> Rating | None:
    """The severity an OSV record states, or None when it states none we can read (pure)."""
    advisory = str(record.get("id", "?"))
    specific = record.get("database_specific")
    if isinstance(specific, Mapping) and isinstance(specific.get("severity"), str):
        severity = Severity.parse(specific["severity"])
        if severity is not Severity.UNKNOWN:
            return Rating(severity, f"{advisory} database_specific.severity")
    scored: list[tuple[float, str]] = []
    for entry in record.get("severity") or []:
        if not isinstance(entry, Mapping) or entry.get("type") != "CVSS_V3":
            continue
        vector = str(entry.get("score", ""))
        try:
            scored.append((base_score(vector), vector))
        except CvssError:
            continue
    if scored:
        score, vector = max(scored)
        severity = Severity.from_cvss_score(score)
        if severity is not Severity.UNKNOWN:
            return Rating(severity, f"{advisory} {vector} (base score {score:.1f})")
    return None


def rate(
    advisory: str, aliases: Sequence[str], lookup: Callable[[str], Mapping[str, Any] | None]
) -> Rating:
    """Rate one advisory: its own record first, then its GHSA aliases' (pure but for lookup).

    ``lookup`` returns a record, None when OSV has none, or raises OsvUnavailableError.
    """
    candidates = [advisory, *(a for a in aliases if a.startswith("GHSA-") and a != advisory)]
    seen: list[str] = []
    for candidate in candidates:
        try:
            record = lookup(candidate)
        except OsvUnavailableError as exc:
            return Rating(Severity.UNKNOWN, f"OSV could not be reached ({exc})")
        if record is None:
            continue
        seen.append(candidate)
        rating = severity_from_record(record)
        if rating is not None:
            return rating
    if not seen:
        return Rating(Severity.UNKNOWN, f"OSV has no record of {', '.join(candidates)}")
    return Rating(Severity.UNKNOWN, f"no severity in the OSV record(s) of {', '.join(seen)}")


class OsvClient:
    """Fetches OSV records by id, one request per id per run; fails fast once OSV is down."""

    def __init__(self, base_url: str, *, timeout: float) -> None:
        self._base = base_url.rstrip("/")
        self._timeout = timeout
        self._cache: dict[str, Mapping[str, Any] | None] = {}
        self._down: str | None = None

    @property
    def base_url(self) -> str:
        return self._base

    def record(self, advisory: str) -> Mapping[str, Any] | None:
        if advisory in self._cache:
            return self._cache[advisory]
        if self._down is not None:
            raise OsvUnavailableError(self._down)
        url = f"{self._base}/v1/vulns/{quote(advisory, safe='')}"
        try:
            response = httpx.get(url, timeout=self._timeout)
        except httpx.HTTPError as exc:
            self._down = f"{url}: {type(exc).__name__}: {exc}".strip().rstrip(":")
            raise OsvUnavailableError(self._down) from None
        if response.status_code == 404:
            self._cache[advisory] = None
            return None
        if response.status_code != 200:
            self._down = f"{url} answered HTTP {response.status_code}"
            raise OsvUnavailableError(self._down)
        try:
            document = response.json()
        except ValueError:
            raise OsvUnavailableError(f"{url} answered something that is not JSON") from None
        if not isinstance(document, dict):
            raise OsvUnavailableError(f"{url} answered JSON that is not an OSV record")
        self._cache[advisory] = document
        return document
