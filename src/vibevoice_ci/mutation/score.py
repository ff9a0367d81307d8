"""A module's mutation score and verdict (pure).

Each mutant ends in one of mutmut's statuses. Detected: killed (a test failed), timeout (the
tests hung or ran past mutmut's limit), segfault, caught by type check. Undetected: survived
(every test passed), no tests (no selected test reaches the mutated function), suspicious.
Undecided: not checked, interrupted, skipped: the run did not finish, so no score is known.

A listed equivalent mutant (``equivalents``) is left out of the count when it survived with
the change its entry names; an entry that no longer matches (no such mutant, killed after
all, or a different change: mutmut numbers a function's mutants anew when it changes) makes
the list out of date, and the module fails until the entry is fixed or removed.

The score is detected / (detected + undetected), exact (a fraction), and passes when it is at
least the module's minimum.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from vibevoice_ci.core.outcome import Outcome, Status
from vibevoice_ci.mutation.equivalents import Equivalent
from vibevoice_ci.tools.mutmut import MutantDiff, MutantStatus

DETECTED: frozenset[MutantStatus] = frozenset(
    {"killed", "timeout", "segfault", "caught by type check"}
)
UNDETECTED: frozenset[MutantStatus] = frozenset({"survived", "no tests", "suspicious"})
UNDECIDED: frozenset[MutantStatus] = frozenset({"not checked", "interrupted", "skipped"})


@dataclass(frozen=True)
class Tally:
    """A module's mutants counted: by status (the listed equivalents left out), the
    equivalents left out, and the problems with the list of equivalents."""

    counts: Mapping[MutantStatus, int]
    equivalent: tuple[str, ...]
    stale: tuple[str, ...]

    @property
    def total(self) -> int:
        """Every mutant, the equivalents included."""
        return sum(self.counts.values()) + len(self.equivalent)

    @property
    def detected(self) -> int:
        return sum(n for status, n in self.counts.items() if status in DETECTED)

    @property
    def undetected(self) -> int:
        return sum(n for status, n in self.counts.items() if status in UNDETECTED)

    @property
    def undecided(self) -> int:
        return sum(n for status, n in self.counts.items() if status in UNDECIDED)

    @property
    def score(self) -> Fraction | None:
        """detected / (detected + undetected); None when no mutant counts."""
        counted = self.detected + self.undetected
        return Fraction(self.detected, counted) if counted else None


def needs_diff(status: MutantStatus) -> bool:
    """Whether a mutant's change is shown (and checked against the equivalents): the ones
    the tests did not detect."""
    return status in UNDETECTED


def tally(
    statuses: Mapping[str, MutantStatus],
    equivalents: Sequence[Equivalent],
    diffs: Mapping[str, MutantDiff],
) -> Tally:
    """Count ``statuses`` (mutant name to status), leaving out each listed equivalent that
    survived with the change its entry names; ``diffs`` holds the change of every undetected
    mutant."""
    left_out: list[str] = []
    stale: list[str] = []
    for entry in equivalents:
        status = statuses.get(entry.mutant)
        if status is None:
            stale.append(f"{entry.mutant}: no such mutant")
        elif status in DETECTED:
            stale.append(f"{entry.mutant}: {status}, so not equivalent")
        elif status in UNDECIDED:
            continue  # not run: counted as undecided below, the entry kept
        elif status != "survived":
            stale.append(f"{entry.mutant}: {status}, only a survivor can be equivalent")
        elif entry.mutant not in diffs:
            stale.append(f"{entry.mutant}: its change is unknown")
        elif change_of(diffs[entry.mutant]) != entry.change:
            stale.append(
                f"{entry.mutant}: the mutant now changes to {change_of(diffs[entry.mutant])!r}, "
                f"the entry says {entry.change!r}"
            )
        else:
            left_out.append(entry.mutant)
    excluded = set(left_out)
    counts = Counter(status for name, status in statuses.items() if name not in excluded)
    return Tally(dict(counts), tuple(sorted(left_out)), tuple(stale))


def change_of(diff: MutantDiff) -> str:
    """What an equivalent's ``change`` names: the mutant's new lines, stripped, one per line
    ("" when it only deletes)."""
    return "\n".join(diff.added)


def reaches(score: Fraction, min_score: float) -> bool:
    """Whether ``score`` is at least ``min_score``, exactly: 9 of 10 reaches 0.9."""
    return score >= Fraction(repr(min_score))


def percent(score: Fraction) -> str:
    """``score`` as a percentage rounded down to one decimal, so a score below the minimum
    never reads as the minimum (899/1000: 89.9%, never 90.0%)."""
    tenths = math.floor(score * 1000)
    return f"{tenths // 10}.{tenths % 10}%"


def judge(name: str, counted: Tally, min_score: float, *, run_exit: int) -> Outcome:
    """A module's verdict: the run failed or the equivalents are out of date: fail; a mutant
    not run, or none at all: unknown; else pass when the score reaches ``min_score``."""
    if run_exit != 0:
        return Outcome(name, Status.FAIL, f"mutmut run exited {run_exit}: see {name}.log")
    if counted.stale:
        return Outcome(
            name, Status.FAIL, "the equivalents list is out of date: " + "; ".join(counted.stale)
        )
    score = counted.score
    if counted.undecided or score is None:
        why = f"{counted.undecided} mutants not run" if counted.undecided else "no mutant"
        return Outcome(name, Status.UNKNOWN, f"{why}: no score")
    minimum = percent(Fraction(repr(min_score)))
    detail = (
        f"{percent(score)} ({counted.detected} of {counted.detected + counted.undetected} "
        f"detected, {len(counted.equivalent)} equivalent), minimum {minimum}"
    )
    return Outcome.of(name, reaches(score, min_score), detail)
