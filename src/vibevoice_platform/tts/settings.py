"""Service settings, read once from environment variables.

Every variable has a default; a malformed value raises :class:`SettingsError` with a message
that fits on one line and names the variable, so the entry point can print it and exit 2.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

ENGINE_NAMES: tuple[str, ...] = ("piper", "espeak", "vibevoice")
SCHEDULERS: tuple[str, ...] = ("deadline", "off")

ENV_ENGINE = "VIBEVOICE_TTS_ENGINE"
ENV_HOST = "VIBEVOICE_TTS_HOST"
ENV_PORT = "VIBEVOICE_TTS_PORT"
ENV_MAX_TEXT_CHARS = "VIBEVOICE_TTS_MAX_TEXT_CHARS"
ENV_MAX_CONCURRENCY = "VIBEVOICE_TTS_MAX_CONCURRENCY"
ENV_DRAIN_SECONDS = "VIBEVOICE_TTS_DRAIN_SECONDS"
ENV_DEFAULT_VOICE = "VIBEVOICE_TTS_DEFAULT_VOICE"
ENV_THREADS = "VIBEVOICE_TTS_THREADS"
ENV_LOG_REQUESTS = "VIBEVOICE_TTS_LOG_REQUESTS"
ENV_SCHEDULER = "VIBEVOICE_TTS_SCHEDULER"
ENV_INFERENCE_SLOTS = "VIBEVOICE_TTS_INFERENCE_SLOTS"
ENV_TTFA_OBJECTIVE_MS = "VIBEVOICE_TTS_TTFA_OBJECTIVE_MS"
ENV_ADMISSION_UTILIZATION = "VIBEVOICE_TTS_ADMISSION_UTILIZATION"
ENV_PIPER_VOICES_DIR = "VIBEVOICE_PIPER_VOICES_DIR"
ENV_MODEL_PATH = "VIBEVOICE_MODEL_PATH"
ENV_VIBEVOICE_VOICES_DIR = "VIBEVOICE_VOICES_DIR"
ENV_VIBEVOICE_DEVICE = "VIBEVOICE_DEVICE"

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class SettingsError(ValueError):
    """A setting is malformed; the message names the variable and what it accepts."""


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment."""

    engine: str = "piper"
    host: str = "127.0.0.1"
    port: int = 8000
    max_text_chars: int = 2000
    max_concurrency: int = 2
    drain_seconds: float = 30.0
    default_voice: str | None = None
    threads: int = 1
    log_requests: bool = True
    piper_voices_dir: Path | None = None
    vibevoice_model_path: Path | None = None
    vibevoice_voices_dir: Path | None = None
    vibevoice_device: str = "cpu"
    scheduler: str = "deadline"
    """``deadline``: engine steps run by deadline, at most :attr:`slots` at once, and admission
    follows the same model; ``off``: every stream's next step runs at once in its own thread."""
    inference_slots: int | None = None
    """Engine steps that run at once; None: one per core (:attr:`slots`)."""
    ttfa_objective_ms: float = 250.0
    """The time-to-first-audio objective: a new stream's first step is due this long after
    its arrival."""
    admission_utilization: float = 0.9
    """The share of the slots the admitted streams' real-time demand may fill."""

    def __post_init__(self) -> None:
        if self.engine not in ENGINE_NAMES:
            raise SettingsError(
                f"unknown engine {self.engine!r}: choose one of {', '.join(ENGINE_NAMES)}"
            )
        if not self.host.strip():
            raise SettingsError("host must not be empty")
        if not 1 <= self.port <= 65535:
            raise SettingsError(f"port must be between 1 and 65535, got {self.port}")
        if self.max_text_chars < 1:
            raise SettingsError(f"max_text_chars must be at least 1, got {self.max_text_chars}")
        if self.max_concurrency < 1:
            raise SettingsError(f"max_concurrency must be at least 1, got {self.max_concurrency}")
        if not (math.isfinite(self.drain_seconds) and self.drain_seconds >= 0):
            raise SettingsError(
                f"drain_seconds must be a finite number >= 0, got {self.drain_seconds}"
            )
        if self.threads < 1:
            raise SettingsError(f"threads must be at least 1, got {self.threads}")
        if self.scheduler not in SCHEDULERS:
            raise SettingsError(
                f"unknown scheduler {self.scheduler!r}: choose one of {', '.join(SCHEDULERS)}"
            )
        if self.inference_slots is not None and self.inference_slots < 1:
            raise SettingsError(f"inference_slots must be at least 1, got {self.inference_slots}")
        if not (math.isfinite(self.ttfa_objective_ms) and self.ttfa_objective_ms > 0):
            raise SettingsError(
                f"ttfa_objective_ms must be a finite number > 0, got {self.ttfa_objective_ms}"
            )
        if not (0 < self.admission_utilization <= 1):
            raise SettingsError(
                f"admission_utilization must be in (0, 1], got {self.admission_utilization}"
            )

    @property
    def slots(self) -> int:
        """Engine steps that run at once: :attr:`inference_slots`, or the cores this process
        may use divided by the engine's threads per step (at least 1)."""
        if self.inference_slots is not None:
            return self.inference_slots
        return max(1, usable_cores() // self.threads)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``environ`` (default: ``os.environ``)."""
        env = os.environ if environ is None else environ
        defaults = cls()
        engine = _text(env, ENV_ENGINE, defaults.engine).lower()
        if engine not in ENGINE_NAMES:
            raise SettingsError(
                f"{ENV_ENGINE}={engine!r} is not an engine: choose one of {', '.join(ENGINE_NAMES)}"
            )
        return cls(
            engine=engine,
            host=_text(env, ENV_HOST, defaults.host),
            port=_int(env, ENV_PORT, defaults.port, minimum=1, maximum=65535),
            max_text_chars=_int(env, ENV_MAX_TEXT_CHARS, defaults.max_text_chars, minimum=1),
            max_concurrency=_int(env, ENV_MAX_CONCURRENCY, defaults.max_concurrency, minimum=1),
            drain_seconds=_float(env, ENV_DRAIN_SECONDS, defaults.drain_seconds, minimum=0.0),
            default_voice=_optional_text(env, ENV_DEFAULT_VOICE),
            threads=_int(env, ENV_THREADS, defaults.threads, minimum=1, maximum=256),
            log_requests=_bool(env, ENV_LOG_REQUESTS, defaults.log_requests),
            piper_voices_dir=_optional_path(env, ENV_PIPER_VOICES_DIR),
            vibevoice_model_path=_optional_path(env, ENV_MODEL_PATH),
            vibevoice_voices_dir=_optional_path(env, ENV_VIBEVOICE_VOICES_DIR),
            vibevoice_device=_text(env, ENV_VIBEVOICE_DEVICE, defaults.vibevoice_device),
            scheduler=_choice(env, ENV_SCHEDULER, defaults.scheduler, SCHEDULERS),
            inference_slots=_optional_int(env, ENV_INFERENCE_SLOTS, minimum=1, maximum=1024),
            ttfa_objective_ms=_float(
                env, ENV_TTFA_OBJECTIVE_MS, defaults.ttfa_objective_ms, minimum=1.0
            ),
            admission_utilization=_fraction(
                env, ENV_ADMISSION_UTILIZATION, defaults.admission_utilization
            ),
        )

    def with_overrides(
        self, *, host: str | None = None, port: int | None = None, engine: str | None = None
    ) -> Settings:
        """Return a copy with command-line overrides applied (``None`` keeps the value)."""
        try:
            return replace(
                self,
                host=self.host if host is None else host,
                port=self.port if port is None else port,
                engine=self.engine if engine is None else engine.lower(),
            )
        except SettingsError as exc:
            raise SettingsError(f"command line: {exc}") from None


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity where the platform has one)."""
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        return max(1, len(affinity(0)))
    return max(1, os.cpu_count() or 1)


def _raw(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None or not value.strip():
        return None
    return value.strip()


def _text(env: Mapping[str, str], name: str, default: str) -> str:
    value = _raw(env, name)
    return default if value is None else value


def _optional_text(env: Mapping[str, str], name: str) -> str | None:
    return _raw(env, name)


def _optional_path(env: Mapping[str, str], name: str) -> Path | None:
    value = _raw(env, name)
    return None if value is None else Path(value).expanduser()


def _int(
    env: Mapping[str, str], name: str, default: int, *, minimum: int, maximum: int | None = None
) -> int:
    value = _raw(env, name)
    if value is None:
        return default
    try:
        number = int(value, 10)
    except ValueError:
        raise SettingsError(f"{name}={value!r} is not an integer") from None
    if number < minimum or (maximum is not None and number > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise SettingsError(f"{name}={value!r} must be {bound}")
    return number


def _optional_int(env: Mapping[str, str], name: str, *, minimum: int, maximum: int) -> int | None:
    if _raw(env, name) is None:
        return None
    return _int(env, name, minimum, minimum=minimum, maximum=maximum)


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _text(env, name, default).lower()
    if value not in choices:
        raise SettingsError(f"{name}={value!r} must be one of {', '.join(choices)}")
    return value


def _fraction(env: Mapping[str, str], name: str, default: float) -> float:
    number = _float(env, name, default, minimum=0.0)
    if not 0 < number <= 1:
        raise SettingsError(f"{name}={number:g} must be greater than 0 and at most 1")
    return number


def _float(env: Mapping[str, str], name: str, default: float, *, minimum: float) -> float:
    value = _raw(env, name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise SettingsError(f"{name}={value!r} is not a number") from None
    if not math.isfinite(number) or number < minimum:
        raise SettingsError(f"{name}={value!r} must be a finite number >= {minimum:g}")
    return number


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = _raw(env, name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise SettingsError(f"{name}={value!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")
