"""The list of equivalent mutants: changes no test can tell from the original, because the
behaviour is the same (``[tool.vibevoice-ci.mutation] equivalents``, a TOML file)::

    [[equivalent]]
    mutant = "vibevoice_ci.perf.regression.x_compare__mutmut_3"
    change = "used_statistics = None"
    why = "read only as a truth value before it is set to True: None and False read alike"

``mutant`` is mutmut's name for it, ``change`` its new line as ``mutmut show`` prints it
(stripped; lines joined by a newline, "" for a deletion), ``why`` the reason it is equivalent.
The change is checked on every run (``score.tally``), so an entry cannot go on excluding a
different mutant after the function changed.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StrictStr, ValidationError

from vibevoice_ci.core.errors import UsageError


@dataclass(frozen=True)
class Equivalent:
    """One listed equivalent mutant, the change it makes, and why no test can see it."""

    mutant: str
    change: str
    why: str

    def belongs_to(self, module: str) -> bool:
        """Whether this is a mutant of the module named ``module`` (dotted)."""
        prefix = module + "."
        rest = self.mutant[len(prefix) :]
        return self.mutant.startswith(prefix) and "." not in rest and "__mutmut_" in rest


def _words(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be blank")
    return text.strip()


_Words = Annotated[StrictStr, AfterValidator(_words)]


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    mutant: _Words
    change: StrictStr
    why: _Words


class _File(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    equivalent: tuple[_Entry, ...] = ()


def _lines(change: str) -> str:
    return "\n".join(line.strip() for line in change.strip().splitlines())


def parse_equivalents(text: str, source: str) -> list[Equivalent]:
    """The entries of an equivalents file (``source`` names it in errors); a malformed file, a
    missing key or a mutant listed twice is one UsageError line (exit 2)."""
    try:
        document = _File.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{source} is not valid TOML: {exc}") from None
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise UsageError(f"{source}: {where}: {problem['msg']}") from None
    entries = [Equivalent(e.mutant, _lines(e.change), e.why) for e in document.equivalent]
    seen: set[str] = set()
    for entry in entries:
        if entry.mutant in seen:
            raise UsageError(f"{source}: {entry.mutant} is listed twice")
        seen.add(entry.mutant)
    return entries


def load_equivalents(path: Path | None, root: Path) -> list[Equivalent]:
    """The equivalents file's entries (None: no file configured, none listed)."""
    if path is None:
        return []
    source = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{source} (the mutation session's equivalents) not found") from None
    return parse_equivalents(text, source)


def unowned(entries: Sequence[Equivalent], modules: Sequence[str]) -> list[str]:
    """The entries that name a mutant of none of ``modules`` (dotted names)."""
    return [e.mutant for e in entries if not any(e.belongs_to(m) for m in modules)]
