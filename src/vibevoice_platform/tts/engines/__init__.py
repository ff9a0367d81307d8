"""Synthesis engines and the registry that builds one by name."""

from __future__ import annotations

from collections.abc import Callable

from vibevoice_platform.tts.engines.base import Engine, EngineUnavailable, UnknownVoiceError
from vibevoice_platform.tts.settings import ENGINE_NAMES, Settings

__all__ = [
    "ENGINE_NAMES",
    "Engine",
    "EngineUnavailable",
    "UnknownEngineError",
    "UnknownVoiceError",
    "create_engine",
    "load_engine",
]


class UnknownEngineError(ValueError):
    """An engine name that is not in the registry."""


def _piper(settings: Settings) -> Engine:
    from vibevoice_platform.tts.engines.piper import PiperEngine

    return PiperEngine(settings)


def _espeak(settings: Settings) -> Engine:
    from vibevoice_platform.tts.engines.espeak import EspeakEngine

    return EspeakEngine(settings)


def _vibevoice(settings: Settings) -> Engine:
    from vibevoice_platform.tts.engines.vibevoice import VibeVoiceEngine

    return VibeVoiceEngine(settings)


_FACTORIES: dict[str, Callable[[Settings], Engine]] = {
    "piper": _piper,
    "espeak": _espeak,
    "vibevoice": _vibevoice,
}
if tuple(_FACTORIES) != ENGINE_NAMES:  # pragma: no cover - a programming error
    raise RuntimeError("engine registry and settings.ENGINE_NAMES disagree")


def create_engine(name: str, settings: Settings) -> Engine:
    """Build engine ``name`` without loading it (cheap checks only).

    Raises :class:`UnknownEngineError` for a name not in the registry and
    :class:`EngineUnavailable` when a package or file the engine needs is missing.
    """
    factory = _FACTORIES.get(name.strip().lower())
    if factory is None:
        raise UnknownEngineError(
            f"unknown engine {name!r}: choose one of {', '.join(ENGINE_NAMES)}"
        )
    return factory(settings)


def load_engine(name: str, settings: Settings) -> Engine:
    """Build engine ``name`` and load it (the models are in memory when this returns)."""
    engine = create_engine(name, settings)
    engine.load()
    return engine
