"""Retrying what fails transiently: registry pushes, pulls and calls (the design's error handling).

The policy is pure: :func:`is_transient` decides from an error's text (or an HTTP status) whether
another attempt can help, :func:`backoff_delays` gives the waits. :func:`with_retries` is the
one runner; every retry it makes is logged and recorded in a :class:`RetryLog`, which the
sessions put in their reports. Connection errors, timeouts, 429 and 5xx are retried; 401, 403,
404, a digest mismatch and anything unrecognised are not (fail fast with the error as it is).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from vibevoice_ci.core.errors import PipelineError, ToolFailedError
from vibevoice_ci.core.progress import progress

T = TypeVar("T")

# Checked first: an error that says any of these is final, whatever else it says.
_PERMANENT = re.compile(
    r"\b(401|403|404)\b|unauthori[sz]ed|forbidden|denied|not found|name unknown|"
    r"manifest unknown|blob unknown|digest mismatch|digest did not match|invalid reference|"
    r"no such host",
    re.IGNORECASE,
)
_TRANSIENT = re.compile(
    r"\b(429|500|502|503|504)\b|too many requests|internal server error|bad gateway|"
    r"service unavailable|gateway timeout|connection refused|connection reset|reset by peer|"
    r"broken pipe|unexpected eof|\beof\b|timed? ?out|timeout|did not finish within|"
    r"temporary failure|server closed|remote end closed|connection aborted",
    re.IGNORECASE,
)
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


def is_transient(message: str) -> bool:
    """Whether an error with this text is worth another attempt (pure)."""
    if _PERMANENT.search(message):
        return False
    return bool(_TRANSIENT.search(message))


def is_transient_status(status_code: int) -> bool:
    """HTTP statuses worth another attempt: 408, 429 and 5xx gateway/availability errors."""
    return status_code in TRANSIENT_STATUS


@dataclass(frozen=True)
class RetryPolicy:
    """At most ``attempts`` tries, waiting ``base_delay`` doubling up to ``max_delay`` between
    them, and no new attempt once ``budget_seconds`` have passed since the first."""

    attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 8.0
    budget_seconds: float = 300.0


def backoff_delays(policy: RetryPolicy) -> Iterator[float]:
    """The waits before attempts 2, 3, ... (pure): exponential, capped, ``attempts - 1`` long."""
    for attempt in range(policy.attempts - 1):
        yield min(policy.max_delay, policy.base_delay * 2**attempt)


@dataclass(frozen=True)
class Retry:
    """One retry that happened: what, which attempt failed, and why."""

    what: str
    attempt: int
    reason: str

    def to_json(self) -> dict[str, object]:
        return {"what": self.what, "failed_attempt": self.attempt, "reason": self.reason}


@dataclass
class RetryLog:
    """Every retry of a session, for its report."""

    retries: list[Retry] = field(default_factory=list)

    def to_json(self) -> list[dict[str, object]]:
        return [retry.to_json() for retry in self.retries]


class RetriesExhaustedError(ToolFailedError):
    """A transient failure that did not go away within the policy's attempts or time."""


def with_retries(
    what: str,
    call: Callable[[], T],
    *,
    log: RetryLog,
    policy: RetryPolicy = RetryPolicy(),
    transient: Callable[[PipelineError], bool] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Run ``call``; retry it on a transient :class:`PipelineError` as ``policy`` allows.

    ``transient`` decides (default: :func:`is_transient` on the error's message). A permanent
    error is raised at once; a transient one that outlasts the attempts or the time budget is
    a :class:`RetriesExhaustedError` naming the count and the last error.
    """
    decide = transient or (lambda exc: is_transient(str(exc)))
    started = clock()
    delays = backoff_delays(policy)
    attempt = 1
    while True:
        try:
            return call()
        except PipelineError as exc:
            if not decide(exc):
                raise
            reason = _first_line(str(exc))
            wait = next(delays, None)
            if wait is None or clock() - started + wait > policy.budget_seconds:
                raise RetriesExhaustedError(
                    f"{what} failed {attempt} times with transient errors; last: {reason}"
                ) from None
            log.retries.append(Retry(what, attempt, reason))
            progress(f"retry {attempt}/{policy.attempts - 1} of {what} in {wait:g} s: {reason}")
            sleep(wait)
            attempt += 1


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " / ".join(lines[:1] + lines[-1:]) if len(lines) > 1 else (lines[0] if lines else "")
