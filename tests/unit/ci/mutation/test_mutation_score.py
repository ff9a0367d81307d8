"""A module's mutation score and verdict (vibevoice_ci.mutation.score): what counts, what a
listed equivalent leaves out, and the boundary of the minimum."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vibevoice_ci.core.outcome import Status
from vibevoice_ci.mutation.equivalents import Equivalent
from vibevoice_ci.mutation.score import (
    DETECTED,
    UNDECIDED,
    UNDETECTED,
    Tally,
    judge,
    percent,
    reaches,
    tally,
)
from vibevoice_ci.tools.mutmut import MutantDiff, MutantStatus

M = "pkg.rule"


def name(n: int, function: str = "decide") -> str:
    return f"{M}.x_{function}__mutmut_{n}"


def diff(added: str) -> MutantDiff:
    return MutantDiff(removed=("return a > b",), added=(added,) if added else ())


def scored(killed: int, survived: int, **others: int) -> Tally:
    statuses: dict[str, MutantStatus] = {}
    n = 0
    for status, count in [("killed", killed), ("survived", survived), *others.items()]:
        for _ in range(count):
            n += 1
            statuses[name(n)] = status.replace("_", " ")  # type: ignore[assignment]
    return tally(statuses, [], {})


def test_the_score_is_the_detected_share_of_the_counted_mutants() -> None:
    counted = scored(7, 2, timeout=1, no_tests=1)
    assert (counted.detected, counted.undetected, counted.total) == (8, 3, 11)
    assert counted.score == Fraction(8, 11)


def test_exactly_the_minimum_passes_and_one_mutant_less_fails() -> None:
    at = judge("m", scored(9, 1), 0.9, run_exit=0)
    below = judge("m", scored(89, 11), 0.9, run_exit=0)
    assert at.status is Status.PASS
    assert at.detail == "90.0% (9 of 10 detected, 0 equivalent), minimum 90.0%"
    assert below.status is Status.FAIL
    assert below.detail.startswith("89.0% (89 of 100 detected")


def test_a_score_just_below_the_minimum_never_reads_as_the_minimum() -> None:
    verdict = judge("m", scored(8999, 1001), 0.9, run_exit=0)
    assert verdict.status is Status.FAIL
    assert verdict.detail.startswith("89.9% ")


def test_a_failed_run_fails_whatever_the_score() -> None:
    verdict = judge("perf-regression", scored(10, 0), 0.9, run_exit=1)
    assert verdict.status is Status.FAIL
    assert verdict.detail == "mutmut run exited 1: see perf-regression.log"


@pytest.mark.parametrize("status", sorted(UNDECIDED))
def test_a_mutant_not_run_leaves_the_score_unknown(status: str) -> None:
    verdict = judge("m", scored(10, 0, **{status.replace(" ", "_"): 2}), 0.9, run_exit=0)
    assert (verdict.status, verdict.detail) == (Status.UNKNOWN, "2 mutants not run: no score")


def test_no_mutant_at_all_is_unknown_never_a_pass() -> None:
    verdict = judge("m", tally({}, [], {}), 0.9, run_exit=0)
    assert (verdict.status, verdict.detail) == (Status.UNKNOWN, "no mutant: no score")


def test_a_listed_equivalent_that_survived_with_its_change_is_left_out() -> None:
    statuses: dict[str, MutantStatus] = {name(1): "killed", name(2): "survived"}
    entry = Equivalent(name(2), "return a >= b", "a == b never reaches here")
    counted = tally(statuses, [entry], {name(2): diff("return a >= b")})
    assert counted.equivalent == (name(2),)
    assert (counted.detected, counted.undetected, counted.total) == (1, 0, 2)
    verdict = judge("m", counted, 0.9, run_exit=0)
    assert verdict.status is Status.PASS
    assert "1 equivalent" in verdict.detail


@pytest.mark.parametrize(
    ("status", "change", "problem"),
    [
        (None, "return a >= b", "no such mutant"),
        ("killed", "return a >= b", "killed, so not equivalent"),
        ("timeout", "return a >= b", "timeout, so not equivalent"),
        ("no tests", "return a >= b", "no tests, only a survivor can be equivalent"),
        ("survived", "return a < b", "the mutant now changes to 'return a >= b'"),
    ],
)
def test_an_entry_that_no_longer_matches_fails_the_module(
    status: MutantStatus | None, change: str, problem: str
) -> None:
    statuses: dict[str, MutantStatus] = {name(1): "killed"}
    if status is not None:
        statuses[name(2)] = status
    counted = tally(
        statuses, [Equivalent(name(2), change, "why")], {name(2): diff("return a >= b")}
    )
    assert counted.equivalent == ()
    assert len(counted.stale) == 1
    assert counted.stale[0].startswith(f"{name(2)}: {problem}")
    verdict = judge("m", counted, 0.5, run_exit=0)
    assert verdict.status is Status.FAIL
    assert verdict.detail.startswith("the equivalents list is out of date: ")


def test_a_deleting_mutant_is_named_by_an_empty_change() -> None:
    statuses: dict[str, MutantStatus] = {name(1): "survived"}
    counted = tally(statuses, [Equivalent(name(1), "", "why")], {name(1): diff("")})
    assert counted.equivalent == (name(1),)


def test_an_entry_for_a_mutant_not_run_is_kept_and_the_score_unknown() -> None:
    statuses: dict[str, MutantStatus] = {name(1): "killed", name(2): "not checked"}
    counted = tally(statuses, [Equivalent(name(2), "x", "why")], {})
    assert (counted.stale, counted.equivalent, counted.undecided) == ((), (), 1)


@pytest.mark.parametrize(
    ("score", "shown"),
    [
        (Fraction(0), "0.0%"),
        (Fraction(1), "100.0%"),
        (Fraction(899, 1000), "89.9%"),
        (Fraction(8999, 10000), "89.9%"),
        (Fraction(2, 3), "66.6%"),
        (Fraction(9, 10), "90.0%"),
    ],
)
def test_percent_rounds_down_to_a_tenth(score: Fraction, shown: str) -> None:
    assert percent(score) == shown


ALL_STATUSES = sorted(DETECTED | UNDETECTED | UNDECIDED)


@given(
    st.lists(st.sampled_from(ALL_STATUSES), max_size=40),
    st.sets(st.integers(min_value=0, max_value=39)),
)
def test_listing_survivors_as_equivalent_never_lowers_the_score(
    statuses_list: list[MutantStatus], picked: set[int]
) -> None:
    statuses = {name(i): status for i, status in enumerate(statuses_list)}
    survivors = [n for n, s in statuses.items() if s == "survived"]
    listed = [n for i, n in enumerate(survivors) if i in picked]
    diffs = {n: diff(f"line {n}") for n in survivors}
    entries = [Equivalent(n, f"line {n}", "why") for n in listed]
    plain = tally(statuses, [], diffs)
    with_equivalents = tally(statuses, entries, diffs)
    assert with_equivalents.stale == ()
    assert set(with_equivalents.equivalent) == set(listed)
    assert with_equivalents.total == plain.total == len(statuses)
    assert with_equivalents.detected == plain.detected
    assert with_equivalents.undetected == plain.undetected - len(listed)
    if plain.score is not None:
        assert with_equivalents.score is None or with_equivalents.score >= plain.score
        assert 0 <= plain.score <= 1


@given(
    st.integers(min_value=0, max_value=2000),
    st.integers(min_value=0, max_value=2000),
    st.integers(min_value=1, max_value=100),
)
def test_a_module_passes_exactly_when_its_score_reaches_the_minimum(
    detected: int, undetected: int, minimum_percent: int
) -> None:
    minimum = minimum_percent / 100
    verdict = judge("m", scored(detected, undetected), minimum, run_exit=0)
    counted = detected + undetected
    if counted == 0:
        assert verdict.status is Status.UNKNOWN
        return
    # Integer arithmetic, no float: detected / counted >= minimum_percent / 100.
    passes = detected * 100 >= minimum_percent * counted
    assert verdict.status is (Status.PASS if passes else Status.FAIL)
    assert reaches(Fraction(detected, counted), minimum) is passes
    shown = float(verdict.detail.split("%", 1)[0])
    assert shown * counted <= detected * 100 + 1e-9  # never shown above the real score
    assert (shown + 0.1) * counted > detected * 100
