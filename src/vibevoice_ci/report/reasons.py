"""Why a session has its outcome, in one line a person reads at a glance (pure).

A session's checks that did not pass are grouped by the reason they give, so seven audit
targets that all found the advisory service unreachable read as one reason with a count
(``advisory service unreachable (...) (7 checks: ...)``), not seven copies of it. A check's
leading count of its own (``25 target(s) not checked: <reason>``) is set aside when grouping
and kept beside its name.

The *decisive* reason is the one that decided the outcome: the first failing reason, else the
first unknown one, else a short pass line. It is the line the page shows without unfolding;
everything else is folded below it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from vibevoice_ci.core.outcome import Outcome, Status
from vibevoice_ci.report.model import SessionReport

# "25 target(s) not checked: advisory service unreachable (...)": a count of the check's own,
# then the reason it may share with other checks.
_OWN_COUNT_RE = re.compile(r"^(?P<own>\d+ [^:;\n]{1,40}?): (?P<reason>\S.*)$", re.DOTALL)
_TRAILING_PARENTHESIS_RE = re.compile(r"\s+\([^()]*\)$")
_DIGEST_RE = re.compile(r"\b([0-9a-f]{12})[0-9a-f]{20,}\b")
# How long the decisive reason and the names after it may be on the one line.
REASON_LIMIT = 200
NAMES_LIMIT = 90
NO_DETAIL = "no detail given"


def split_detail(detail: str) -> tuple[str, str]:
    """``(own count, shared reason)`` of a check's detail: ``("25 target(s) not checked",
    "advisory service unreachable ...")``; ``("", detail)`` when it starts with no count."""
    match = _OWN_COUNT_RE.match(detail.strip())
    if match is None:
        return "", detail.strip()
    return match["own"], match["reason"].strip()


@dataclass(frozen=True)
class ReasonGroup:
    """Checks of one status that give the same reason (their own counts set aside)."""

    status: Status
    reason: str
    checks: tuple[Outcome, ...]

    @property
    def count(self) -> int:
        return len(self.checks)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(check.name for check in self.checks)

    def text(self) -> str:
        """The reason as a person reads it: one check's ``name: detail``; several checks'
        detail when they all say the same, else the reason they share."""
        if len(self.checks) == 1:
            check = self.checks[0]
            return f"{check.name}: {check.detail.strip()}" if check.detail.strip() else check.name
        details = {check.detail.strip() for check in self.checks}
        shared = details.pop() if len(details) == 1 else self.reason
        return shared or NO_DETAIL

    def own_counts(self) -> tuple[str, ...]:
        """Each check's own count (``""`` for none), when the checks' details differ by it."""
        if len({check.detail.strip() for check in self.checks}) <= 1:
            return tuple("" for _ in self.checks)
        return tuple(split_detail(check.detail)[0] for check in self.checks)


def group_reasons(checks: Iterable[Outcome]) -> tuple[ReasonGroup, ...]:
    """The checks that did not pass, grouped by status and reason: failing reasons first,
    then unknown ones, each in the order its first check comes; every such check in exactly
    one group, in its original order."""
    grouped: dict[tuple[Status, str], list[Outcome]] = {}
    for check in checks:
        if check.status is not Status.PASS:
            grouped.setdefault((check.status, split_detail(check.detail)[1]), []).append(check)
    order = {Status.FAIL: 0, Status.UNKNOWN: 1}
    keys = sorted(grouped, key=lambda key: order[key[0]])  # stable: first appearance within
    return tuple(
        ReasonGroup(status, reason, tuple(grouped[status, reason])) for status, reason in keys
    )


@dataclass(frozen=True)
class Decisive:
    """The reason that decided a session's outcome, and how much more there is to unfold."""

    text: str
    names: tuple[str, ...] = ()  # the checks that give it, when more than one does
    others: int = 0  # other reasons (that did not pass) in the folded details

    def line(self) -> str:
        """The one line the page and the summary's table show: the reason, then what it
        covers (:meth:`tail`)."""
        return self.text + self.tail()

    def tail(self) -> str:
        """`` (7 checks: a, b, … 5 more); and 1 other reason``, or ``""``."""
        tail = f" ({len(self.names)} checks: {names_line(self.names)})" if self.names else ""
        if self.others:
            tail += f"; and {self.others} other reason{'s' if self.others > 1 else ''}"
        return tail


def decisive(session: SessionReport) -> Decisive:
    """The reason that decided ``session``'s outcome (the rule in the module's docstring)."""
    checks = session.verdict.checks
    groups = group_reasons(checks)
    if session.status is Status.PASS:
        passed = sum(1 for check in checks if check.status is Status.PASS)
        if not checks:
            return Decisive(shorten(_without_status(session.verdict.reason, session.status)))
        text = f"{len(checks)} check{'s' if len(checks) > 1 else ''} passed"
        if passed < len(checks):  # the session's own rule let the others through
            rest = ", ".join(
                f"{n} {status.value}"
                for status in (Status.FAIL, Status.UNKNOWN)
                if (n := sum(1 for check in checks if check.status is status))
            )
            text = f"{passed} of {len(checks)} checks passed ({rest})"
        return Decisive(text)
    first = next((g for g in groups if g.status is session.status), groups[0] if groups else None)
    if first is None:
        return Decisive(shorten(_without_status(session.verdict.reason, session.status)))
    names = first.names if first.count > 1 else ()
    return Decisive(shorten(first.text()), names, len(groups) - 1)


def names_line(names: Sequence[str], limit: int = NAMES_LIMIT) -> str:
    """``pip-audit: image agent, image tts, … 5 more``: the names as far as ``limit`` allows
    (at least one), a prefix they all share (``pip-audit: ``) said once, a trailing
    parenthesis (``image agent (infra/docker/requirements/agent.txt)``) left to the details
    while the names stay distinct without it, and a digest cut to its first 12 digits."""
    prefix = _shared_prefix(names)
    owns = [_DIGEST_RE.sub(r"\1…", name[len(prefix) :]) for name in names]
    bare = [_TRAILING_PARENTHESIS_RE.sub("", own) or own for own in owns]
    if len(set(bare)) == len(set(owns)):
        owns = bare
    shown: list[str] = []
    used = len(prefix)
    for own in owns:
        short = shorten(own, limit)
        if shown and used + len(short) + 2 > limit:
            break
        shown.append(short)
        used += len(short) + 2
    rest = len(names) - len(shown)
    return prefix + ", ".join(shown) + (f", … {rest} more" if rest else "")


def shorten(text: str, limit: int = REASON_LIMIT) -> str:
    """``text`` on one line, cut at ``limit`` characters with an ellipsis (the folded details
    show it whole)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _shared_prefix(names: Sequence[str]) -> str:
    """``"pip-audit: "`` when every one of several names starts with it, else ``""``."""
    if len(names) < 2 or ": " not in names[0]:
        return ""
    prefix = names[0].split(": ", 1)[0] + ": "
    return prefix if all(n.startswith(prefix) and len(n) > len(prefix) for n in names) else ""


def _without_status(reason: str, status: Status) -> str:
    """``"unknown: x"`` -> ``"x"``: the outcome is shown beside the reason already."""
    prefix = f"{status.value}: "
    return reason[len(prefix) :] if reason.startswith(prefix) else reason
