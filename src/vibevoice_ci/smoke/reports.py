"""The smoke session's document: ``smoke.json`` (:class:`SmokeReport`).

Written on every path by ``smoke/session.py``; read by ``promote`` (was the container tested,
and at which digests) and, generically, by ``report`` and ``notify``. ``logs/compose-ps.json``
beside it is docker compose's own output, kept as it is.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from vibevoice_ci.core.outcome import Status
from vibevoice_ci.core.reports import Check, ReportModel

# The mode a run used; empty when it stopped before choosing one.
RunMode = Literal["docker", "local", ""]


class SentenceScore(ReportModel):
    """What the recogniser heard of one sentence spoken alone, and its word recall."""

    text: str
    transcript: str
    recall: float
    audio_seconds: float


class SentenceRecall(ReportModel):
    """One sentence of the agent's reply: the stretch of the transcript aligned to it."""

    text: str
    heard: str = Field(description="the transcript's words aligned to this sentence")
    recall: float


class SpeechCheckResult(ReportModel):
    """One tts endpoint's speech check: its verdict (also among the checks) and the scores."""

    endpoint: str = Field(description="POST /v1/tts or WS /stream")
    check: str = Field(description="the check's name among the report's checks")
    status: Status
    engine: str
    min_recall: float | None = Field(description="null: the engine has no measured threshold")
    seconds: float
    sentences: list[SentenceScore]


class ReplySpeechCheckResult(ReportModel):
    """The agent's speech check: its reply transcribed once, each sentence scored against it."""

    endpoint: str = Field(description="agent POST /v1/reply")
    check: str = Field(description="the check's name among the report's checks")
    status: Status
    engine: str
    min_recall: float | None = Field(description="null: the engine has no measured threshold")
    seconds: float
    transcript: str
    audio_seconds: float
    sentences: list[SentenceRecall]


class SmokeReport(ReportModel):
    """``smoke.json``: what one smoke run did and found."""

    status: Status = Field(description="every check's verdict; unknown for a fallback run")
    mode_requested: str
    mode: RunMode = Field(description="empty: no mode was chosen")
    target: str = Field(description="the tts service's URL; empty when it never started")
    container: Status = Field(description="the checks' verdict in docker mode, else unknown")
    checks: list[Check]
    notes: list[str]
    images: dict[str, str] = Field(description="service -> the image reference that ran")
    speech: list[SpeechCheckResult | ReplySpeechCheckResult]


SCHEMAS = {"smoke.schema.json": SmokeReport}
