"""The mutation session's document: ``mutation.json`` (:class:`MutationReport`), written by
``mutation/session.py``; ``mutation.schema.json`` is generated from it."""

from __future__ import annotations

from pydantic import Field

from vibevoice_ci.core.outcome import Status
from vibevoice_ci.core.reports import ReportModel
from vibevoice_ci.tools.mutmut import MutantStatus


class UndetectedMutant(ReportModel):
    """A mutant the module's tests did not detect, and what it changes."""

    name: str = Field(description="mutmut's name: mutmut show NAME prints it")
    status: MutantStatus
    removed: list[str] = Field(description="the original lines it replaces, stripped")
    added: list[str] = Field(description="the lines it puts there, stripped")


class EquivalentMutant(ReportModel):
    """A listed equivalent mutant left out of the score, and why it is equivalent."""

    name: str
    change: str
    why: str


class ModuleResult(ReportModel):
    """One module's mutants and its verdict."""

    name: str
    path: str = Field(description="the mutated file, relative to the project root")
    functions: list[str] = Field(description="only these functions' mutants; empty: all")
    tests: list[str] = Field(description="the test files run against each mutant")
    status: Status
    detail: str
    score: float | None = Field(
        description="detected / (detected + undetected), equivalents left out; null: none known"
    )
    min_score: float
    total: int = Field(description="every mutant, the equivalents included")
    detected: int = Field(description="killed, timeout, segfault or caught by type check")
    undetected: int = Field(description="survived, no tests or suspicious (not equivalent)")
    undecided: int = Field(description="not checked, interrupted or skipped")
    counts: dict[MutantStatus, int] = Field(description="mutants by status, equivalents left out")
    seconds: float = Field(description="the mutmut run's wall time")
    undetected_mutants: list[UndetectedMutant]
    equivalents: list[EquivalentMutant]
    stale_equivalents: list[str] = Field(description="entries of the list that no longer match")


class MutationReport(ReportModel):
    """``mutation.json``: every module's mutation score against its minimum."""

    status: Status
    mutmut: str = Field(description="the mutmut version that ran")
    modules: list[ModuleResult]


SCHEMAS = {"mutation.schema.json": MutationReport}
