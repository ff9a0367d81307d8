"""Agent settings, read once from ``VIBEVOICE_AGENT_*`` environment variables.

Every variable has a default; a malformed value raises :class:`SettingsError` with a one-line
message naming the variable, so the entry point can print it and exit 2. The API key is read
here and nowhere else, and never appears in a message, a repr or the metrics.
"""

from __future__ import annotations

import ipaddress
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from vibevoice_platform.tts.settings import SettingsError, _bool, _float, _int, _raw, _text

__all__ = ["Settings", "SettingsError", "is_loopback"]

ENV_HOST = "VIBEVOICE_AGENT_HOST"
ENV_PORT = "VIBEVOICE_AGENT_PORT"
ENV_TTS_URL = "VIBEVOICE_AGENT_TTS_URL"
ENV_TTS_VOICE = "VIBEVOICE_AGENT_TTS_VOICE"
ENV_TTS_TIMEOUT = "VIBEVOICE_AGENT_TTS_TIMEOUT"
ENV_MAX_TURN_CHARS = "VIBEVOICE_AGENT_MAX_TURN_CHARS"
ENV_MAX_CONCURRENCY = "VIBEVOICE_AGENT_MAX_CONCURRENCY"
ENV_DRAIN_SECONDS = "VIBEVOICE_AGENT_DRAIN_SECONDS"
ENV_HISTORY_TURNS = "VIBEVOICE_AGENT_HISTORY_TURNS"
ENV_HISTORY_CHARS = "VIBEVOICE_AGENT_HISTORY_CHARS"
ENV_MAX_SENTENCE_CHARS = "VIBEVOICE_AGENT_MAX_SENTENCE_CHARS"
ENV_MODEL = "VIBEVOICE_AGENT_MODEL"
ENV_MAX_TOKENS = "VIBEVOICE_AGENT_MAX_TOKENS"
ENV_SYSTEM_PROMPT = "VIBEVOICE_AGENT_SYSTEM_PROMPT"
ENV_LLM_TIMEOUT = "VIBEVOICE_AGENT_LLM_TIMEOUT"
ENV_LLM_MAX_RETRIES = "VIBEVOICE_AGENT_LLM_MAX_RETRIES"
ENV_ANTHROPIC_BASE_URL = "VIBEVOICE_AGENT_ANTHROPIC_BASE_URL"
ENV_API_KEY = "ANTHROPIC_API_KEY"
ENV_TOKENS_FILE = "VIBEVOICE_AGENT_TOKENS_FILE"
ENV_TOKENS_ENV = "VIBEVOICE_AGENT_TOKENS_ENV"
ENV_ALLOW_UNAUTHENTICATED = "VIBEVOICE_AGENT_ALLOW_UNAUTHENTICATED"
ENV_METRICS_PORT = "VIBEVOICE_AGENT_METRICS_PORT"
ENV_LOG_REQUESTS = "VIBEVOICE_AGENT_LOG_REQUESTS"

DEFAULT_MODEL = "claude-haiku-4-5"
DEFAULT_SYSTEM_PROMPT = (
    "You are a friendly voice assistant. Your replies are spoken aloud: answer in a few short, "
    "plain sentences, without lists, markdown or emoji."
)


@dataclass(frozen=True)
class Settings:
    """Everything the agent reads from its environment."""

    host: str = "127.0.0.1"
    port: int = 8080
    tts_url: str = "http://127.0.0.1:8000"
    tts_voice: str | None = None
    tts_timeout: float = 10.0
    """Seconds to connect to tts, and the longest wait for its next audio bytes."""
    max_turn_chars: int = 2000
    max_concurrency: int = 2
    drain_seconds: float = 30.0
    history_turns: int = 8
    """User/assistant exchanges kept per WebSocket connection."""
    history_chars: int = 8000
    max_sentence_chars: int = 300
    """A sentence longer than this is cut at a space, so tts gets text in bounded pieces."""
    model: str = DEFAULT_MODEL
    max_tokens: int = 300
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    llm_timeout: float = 30.0
    llm_max_retries: int = 2
    anthropic_base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    tokens_file: Path | None = None
    tokens_env: str | None = None
    allow_unauthenticated: bool = False
    metrics_port: int | None = None
    log_requests: bool = True

    def __post_init__(self) -> None:
        if not self.host.strip():
            raise SettingsError("host must not be empty")
        for name, port in (("port", self.port), ("metrics_port", self.metrics_port)):
            if port is not None and not 1 <= port <= 65535:
                raise SettingsError(f"{name} must be between 1 and 65535, got {port}")
        if not self.tts_url.startswith(("http://", "https://")):
            raise SettingsError(f"tts_url must be an http(s) URL, got {self.tts_url!r}")
        for name, value in (
            ("tts_timeout", self.tts_timeout),
            ("llm_timeout", self.llm_timeout),
        ):
            if not (math.isfinite(value) and value > 0):
                raise SettingsError(f"{name} must be a finite number > 0, got {value}")
        for name, number in (
            ("max_turn_chars", self.max_turn_chars),
            ("max_concurrency", self.max_concurrency),
            ("history_turns", self.history_turns),
            ("history_chars", self.history_chars),
            ("max_tokens", self.max_tokens),
        ):
            if number < 1:
                raise SettingsError(f"{name} must be at least 1, got {number}")
        if self.max_sentence_chars < 20:
            raise SettingsError(
                f"max_sentence_chars must be at least 20, got {self.max_sentence_chars}"
            )
        if self.llm_max_retries < 0:
            raise SettingsError(f"llm_max_retries must be >= 0, got {self.llm_max_retries}")

    @property
    def responder(self) -> str:
        """``anthropic`` when an API key is set, else ``local``."""
        return "anthropic" if self.api_key else "local"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``environ`` (default: ``os.environ``)."""
        env = os.environ if environ is None else environ
        d = cls()
        metrics_port = _raw(env, ENV_METRICS_PORT)
        tokens_file = _raw(env, ENV_TOKENS_FILE)
        return cls(
            host=_text(env, ENV_HOST, d.host),
            port=_int(env, ENV_PORT, d.port, minimum=1, maximum=65535),
            tts_url=_text(env, ENV_TTS_URL, d.tts_url).rstrip("/"),
            tts_voice=_raw(env, ENV_TTS_VOICE),
            tts_timeout=_positive(env, ENV_TTS_TIMEOUT, d.tts_timeout),
            max_turn_chars=_int(env, ENV_MAX_TURN_CHARS, d.max_turn_chars, minimum=1),
            max_concurrency=_int(env, ENV_MAX_CONCURRENCY, d.max_concurrency, minimum=1),
            drain_seconds=_float(env, ENV_DRAIN_SECONDS, d.drain_seconds, minimum=0.0),
            history_turns=_int(env, ENV_HISTORY_TURNS, d.history_turns, minimum=1),
            history_chars=_int(env, ENV_HISTORY_CHARS, d.history_chars, minimum=1),
            max_sentence_chars=_int(env, ENV_MAX_SENTENCE_CHARS, d.max_sentence_chars, minimum=20),
            model=_text(env, ENV_MODEL, d.model),
            max_tokens=_int(env, ENV_MAX_TOKENS, d.max_tokens, minimum=1, maximum=64000),
            system_prompt=_text(env, ENV_SYSTEM_PROMPT, d.system_prompt),
            llm_timeout=_positive(env, ENV_LLM_TIMEOUT, d.llm_timeout),
            llm_max_retries=_int(
                env, ENV_LLM_MAX_RETRIES, d.llm_max_retries, minimum=0, maximum=10
            ),
            anthropic_base_url=_raw(env, ENV_ANTHROPIC_BASE_URL),
            api_key=_raw(env, ENV_API_KEY),
            tokens_file=None if tokens_file is None else Path(tokens_file).expanduser(),
            tokens_env=_raw(env, ENV_TOKENS_ENV),
            allow_unauthenticated=_bool(env, ENV_ALLOW_UNAUTHENTICATED, d.allow_unauthenticated),
            metrics_port=(
                None
                if metrics_port is None
                else _int(env, ENV_METRICS_PORT, 0, minimum=1, maximum=65535)
            ),
            log_requests=_bool(env, ENV_LOG_REQUESTS, d.log_requests),
        )

    def with_overrides(
        self,
        *,
        host: str | None = None,
        port: int | None = None,
        tts_url: str | None = None,
        allow_unauthenticated: bool | None = None,
    ) -> Settings:
        """A copy with command-line overrides applied (``None`` keeps the value)."""
        try:
            return replace(
                self,
                host=self.host if host is None else host,
                port=self.port if port is None else port,
                tts_url=self.tts_url if tts_url is None else tts_url.rstrip("/"),
                allow_unauthenticated=(
                    self.allow_unauthenticated
                    if allow_unauthenticated is None
                    else allow_unauthenticated
                ),
            )
        except SettingsError as exc:
            raise SettingsError(f"command line: {exc}") from None


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    value = _float(env, name, default, minimum=0.0)
    if value <= 0:
        raise SettingsError(f"{name}={value!r} must be a number > 0")
    return value


def is_loopback(host: str) -> bool:
    """Whether ``host`` is loopback (or ``localhost``): reachable from this machine only."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
