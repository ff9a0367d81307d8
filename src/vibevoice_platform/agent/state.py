"""What the agent's endpoints share: settings, responder, tts client, metrics, admissions."""

from __future__ import annotations

from dataclasses import dataclass

from vibevoice_platform.agent.errors import BUSY, DRAINING, AgentError
from vibevoice_platform.agent.metrics import AgentMetrics
from vibevoice_platform.agent.responders import Responder
from vibevoice_platform.agent.settings import Settings
from vibevoice_platform.agent.tokens import TokenChecker
from vibevoice_platform.agent.tts_client import TTSClient


@dataclass
class AgentState:
    """Admission (``admit``/``release``) and draining in one place, as in the tts service."""

    settings: Settings
    responder: Responder
    tts: TTSClient
    metrics: AgentMetrics
    tokens: TokenChecker | None = None
    draining: bool = False
    inflight: int = 0

    def refusal(self) -> AgentError | None:
        """Why a new turn cannot start now, or ``None`` (no side effects)."""
        if self.draining:
            return AgentError(
                DRAINING,
                503,
                "the agent is shutting down; retry on another instance",
                retry_after="1",
            )
        if self.inflight >= self.settings.max_concurrency:
            limit = self.settings.max_concurrency
            return AgentError(
                BUSY, 429, f"over capacity: {limit} turns already in progress", retry_after="1"
            )
        return None

    def admit(self) -> AgentError | None:
        """Take a turn slot (``None``), or count and return the refusal. After ``None`` the
        caller must call :meth:`release` exactly once."""
        refusal = self.refusal()
        if refusal is not None:
            self.metrics.errors.labels(kind=refusal.kind).inc()
            return refusal
        self.inflight += 1
        self.metrics.inflight.inc()
        return None

    def release(self) -> None:
        self.inflight -= 1
        self.metrics.inflight.dec()
