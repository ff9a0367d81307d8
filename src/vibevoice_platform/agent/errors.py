"""How a turn fails: :class:`AgentError` (a kind, an HTTP status, one line) and its JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Error kinds (the ``kind`` of an error event and the label of ``agent_errors_total``).
BAD_INPUT = "bad_input"  # 400, 413, 415, 422: the request itself is wrong
NOT_FOUND = "not_found"  # 404: no such endpoint
METHOD_NOT_ALLOWED = "method_not_allowed"  # 405
BUSY = "busy"
DRAINING = "draining"
TTS_UNAVAILABLE = "tts_unavailable"  # tts refused (429/503) or cannot be reached
TTS_TIMEOUT = "tts_timeout"
TTS_FAILED = "tts_failed"  # tts broke off mid-stream, answered 5xx or an unexpected 4xx
LLM_RATE_LIMITED = "llm_rate_limited"
LLM_TIMEOUT = "llm_timeout"
LLM_UNAVAILABLE = "llm_unavailable"  # the LLM API cannot be reached or dropped the stream
LLM_FAILED = "llm_failed"  # the LLM API answered an error (status or error event)
UNAUTHORIZED = "unauthorized"
INTERNAL = "internal"  # 500: a bug of the agent, never bad input


@dataclass
class AgentError(Exception):
    """A turn that cannot be answered. ``status`` is the HTTP status ``/v1/reply`` answers
    with (502, 503, 504 for upstream faults); ``upstream_status`` is what tts or the LLM API
    said, when it said anything."""

    kind: str
    status: int
    message: str
    upstream_status: int | None = None
    retry_after: str | None = None

    def __str__(self) -> str:
        return self.message

    def to_event(self, turn: int | None = None) -> dict[str, Any]:
        event: dict[str, Any] = {"type": "error", "kind": self.kind, "status": self.status}
        if turn is not None:
            event["turn"] = turn
        if self.upstream_status is not None:
            event["upstream_status"] = self.upstream_status
        if self.retry_after is not None:
            event["retry_after"] = self.retry_after
        event["error"] = self.message
        return event


def one_line(text: str, limit: int = 300) -> str:
    """The first line of ``text``, at most ``limit`` characters."""
    first = (text.strip().splitlines() or [""])[0]
    return first if len(first) <= limit else first[: limit - 1] + "…"
