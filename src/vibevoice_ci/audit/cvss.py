"""CVSS v3.0 and v3.1 base scores from a vector string (pure; FIRST's specification, section 7).

OSV records carry a severity as a CVSS vector (``CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H``),
not as a number; the audit turns it into a score here and into a rating with
:meth:`vibevoice_ci.core.vulnerabilities.Severity.from_cvss_score`. Temporal and environmental
metrics may follow the base ones; the base score ignores them. CVSS v4 vectors are not scored
(their score comes from a lookup table of macro vectors): the caller says so.
"""

from __future__ import annotations

import math

BASE_METRICS = ("AV", "AC", "PR", "UI", "S", "C", "I", "A")
_WEIGHTS: dict[str, dict[str, float]] = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
    "I": {"H": 0.56, "L": 0.22, "N": 0.0},
    "A": {"H": 0.56, "L": 0.22, "N": 0.0},
}
# Privileges required weighs more when the scope changes.
_PRIVILEGES = {"U": {"N": 0.85, "L": 0.62, "H": 0.27}, "C": {"N": 0.85, "L": 0.68, "H": 0.5}}
_SCOPES = ("U", "C")
# Temporal and environmental metrics with their allowed values: accepted, not scored.
_OTHER_METRICS: dict[str, frozenset[str]] = {
    "E": frozenset("XUPFH"),
    "RL": frozenset("XOTWU"),
    "RC": frozenset("XURC"),
    "CR": frozenset("XLMH"),
    "IR": frozenset("XLMH"),
    "AR": frozenset("XLMH"),
    "MAV": frozenset("XNALP"),
    "MAC": frozenset("XLH"),
    "MPR": frozenset("XNLH"),
    "MUI": frozenset("XNR"),
    "MS": frozenset("XUC"),
    "MC": frozenset("XNLH"),
    "MI": frozenset("XNLH"),
    "MA": frozenset("XNLH"),
}
VERSIONS = ("3.0", "3.1")


class CvssError(ValueError):
    """The text is not a CVSS v3.0/v3.1 vector (the message says what is wrong)."""


def parse_vector(vector: str) -> tuple[str, dict[str, str]]:
    """``CVSS:3.1/AV:N/...`` -> ``("3.1", {"AV": "N", ...})`` with the eight base metrics."""
    parts = vector.strip().split("/")
    prefix = parts[0]
    if not prefix.startswith("CVSS:") or prefix[5:] not in VERSIONS:
        raise CvssError(f"{vector!r} does not start with CVSS:3.0/ or CVSS:3.1/")
    metrics: dict[str, str] = {}
    for part in parts[1:]:
        name, sep, value = part.partition(":")
        if not sep or name in metrics:
            raise CvssError(f"{vector!r}: {part!r} is malformed or repeated")
        known = _allowed_values(name)
        if known is None or value not in known:
            raise CvssError(f"{vector!r}: {part!r} is not a CVSS v3 metric value")
        metrics[name] = value
    missing = [name for name in BASE_METRICS if name not in metrics]
    if missing:
        raise CvssError(f"{vector!r} lacks base metric(s) {', '.join(missing)}")
    return prefix[5:], {name: metrics[name] for name in BASE_METRICS}


def _allowed_values(name: str) -> frozenset[str] | None:
    if name == "PR":
        return frozenset(_PRIVILEGES["U"])
    if name == "S":
        return frozenset(_SCOPES)
    if name in _WEIGHTS:
        return frozenset(_WEIGHTS[name])
    return _OTHER_METRICS.get(name)


def base_score(vector: str) -> float:
    """The CVSS v3.x base score of ``vector``, 0.0 to 10.0 with one decimal."""
    version, m = parse_vector(vector)
    changed = m["S"] == "C"
    iss = 1 - (
        (1 - _WEIGHTS["C"][m["C"]]) * (1 - _WEIGHTS["I"][m["I"]]) * (1 - _WEIGHTS["A"][m["A"]])
    )
    # Impact: the scope-changed formula dampens the top of the range.
    impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if changed else 6.42 * iss
    exploitability = (
        8.22
        * _WEIGHTS["AV"][m["AV"]]
        * _WEIGHTS["AC"][m["AC"]]
        * _PRIVILEGES[m["S"]][m["PR"]]
        * _WEIGHTS["UI"][m["UI"]]
    )
    if impact <= 0:
        return 0.0
    total = (1.08 if changed else 1.0) * (impact + exploitability)
    return _round_up(min(total, 10.0), version)


def _round_up(value: float, version: str) -> float:
    """The specification's Roundup: the smallest one-decimal number >= value.

    v3.1 defines it on integers so that floating-point noise (4.000000000001) does not round
    a score up a tenth; v3.0's plain ceiling does, and is kept for v3.0 vectors.
    """
    if version == "3.0":
        return math.ceil(value * 10) / 10
    whole = round(value * 100_000)
    if whole % 10_000 == 0:
        return whole / 100_000
    return (math.floor(whole / 10_000) + 1) / 10.0
