"""``vibevoice_ci.audit.cvss``: CVSS v3.0/v3.1 base scores, checked against the
specification's examples and, for any vector, against an independent implementation (the
`cvss` package, a dev dependency)."""

from __future__ import annotations

import cvss as oracle
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.audit.cvss import BASE_METRICS, CvssError, base_score, parse_vector
from vibevoice_ci.core.vulnerabilities import Severity

VALUES = {
    "AV": "NALP",
    "AC": "LH",
    "PR": "NLH",
    "UI": "NR",
    "S": "UC",
    "C": "HLN",
    "I": "HLN",
    "A": "HLN",
}


@st.composite
def vectors(draw: st.DrawFn) -> str:
    version = draw(st.sampled_from(["3.0", "3.1"]))
    parts = [f"{name}:{draw(st.sampled_from(VALUES[name]))}" for name in BASE_METRICS]
    return f"CVSS:{version}/" + "/".join(parts)


@pytest.mark.parametrize(
    ("vector", "score"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:H", 7.5),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L", 5.3),
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4),
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 5.5),
        ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
        # Temporal and environmental metrics do not change the base score.
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:R/CR:H/MAV:L", 9.8),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
    ],
)
def test_known_vectors(vector: str, score: float) -> None:
    assert base_score(vector) == score


@settings(max_examples=300)
@given(vectors())
def test_every_vector_scores_as_the_independent_implementation_does(vector: str) -> None:
    expected = float(oracle.CVSS3(vector).base_score)
    assert base_score(vector) == expected


@settings(max_examples=200)
@given(vectors())
def test_the_score_is_a_tenth_between_0_and_10_and_rates_like_the_spec(vector: str) -> None:
    score = base_score(vector)
    assert 0.0 <= score <= 10.0
    assert round(score, 1) == score
    severity = Severity.from_cvss_score(score)
    _, metrics = parse_vector(vector)
    if all(metrics[m] == "N" for m in ("C", "I", "A")):
        assert (score, severity) == (0.0, Severity.UNKNOWN)
    else:
        assert score > 0.0
        assert severity is not Severity.UNKNOWN


@settings(max_examples=200)
@given(vectors(), st.sampled_from(["C", "I", "A"]))
def test_more_impact_never_lowers_the_score(vector: str, metric: str) -> None:
    version, metrics = parse_vector(vector)
    ladder = ["N", "L", "H"]
    scores = []
    for value in ladder:
        changed = {**metrics, metric: value}
        scores.append(
            base_score(f"CVSS:{version}/" + "/".join(f"{k}:{v}" for k, v in changed.items()))
        )
    assert scores == sorted(scores)


@pytest.mark.parametrize(
    "vector",
    [
        "",
        "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:2.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
        "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1",
        "CVSS:3.1/AV",
    ],
)
def test_malformed_vectors_are_refused(vector: str) -> None:
    with pytest.raises(CvssError):
        base_score(vector)
