"""What one level of the helm session found."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vibevoice_ci.core.outcome import Outcome


@dataclass(frozen=True)
class LevelResult:
    level: str
    outcomes: Sequence[Outcome]
    notes: Sequence[str] = ()
