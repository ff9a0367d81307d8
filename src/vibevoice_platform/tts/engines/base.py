"""The interface every synthesis engine implements."""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import ClassVar


class EngineUnavailable(RuntimeError):
    """The engine cannot run here; the message says exactly why and how to fix it."""


class UnknownVoiceError(ValueError):
    """A voice id the engine does not have."""


@dataclass(frozen=True)
class SynthesisOptions:
    """Per-request generation parameters (``WS /stream?cfg=&steps=``); ``None``: the default.

    Only engines that list a parameter in :attr:`Engine.parameters` use it; the others ignore
    it (the service tells the client so).
    """

    cfg_scale: float | None = None
    """Classifier-free guidance scale of a diffusion engine (query parameter ``cfg``)."""
    inference_steps: int | None = None
    """Diffusion steps per audio frame (query parameter ``steps``)."""


NO_OPTIONS = SynthesisOptions()


class Engine(abc.ABC):
    """A text-to-speech engine producing little-endian signed 16-bit mono PCM.

    Lifecycle: construct (cheap; raises :class:`EngineUnavailable` when a dependency or a file
    is missing), :meth:`load` once per process (slow), :meth:`warm_up`, then call
    :meth:`synthesize` from worker threads. ``sample_rate``, ``voices`` and ``default_voice``
    are valid after :meth:`load`.
    """

    name: str = ""
    experimental: ClassVar[bool] = False
    """True for an engine that has never run in this project (said in --help and /config)."""
    parameters: ClassVar[Mapping[str, float | int]] = MappingProxyType({})
    """The ``WS /stream`` parameters (``cfg``, ``steps``) this engine honours, with defaults."""
    schedulable: ClassVar[bool] = True
    """Whether the service may hold a stream between its steps (``next()`` calls) while other
    streams' steps run: false for an engine that keeps a lock from one step to the next,
    where that would deadlock; such an engine's steps run unscheduled."""
    computes_in_step: ClassVar[bool] = True
    """Whether the engine computes on the thread that calls ``next()`` (with one intra-op
    thread): then that thread's CPU time is the engine's, and the service counts it
    (``tts_engine_cpu_seconds_total``). False for an engine that synthesizes in threads of
    its own, whose CPU time no step's thread sees."""

    @property
    @abc.abstractmethod
    def sample_rate(self) -> int:
        """Samples per second of every chunk."""

    @property
    @abc.abstractmethod
    def voices(self) -> tuple[str, ...]:
        """The voice ids :meth:`synthesize` accepts, sorted."""

    @property
    @abc.abstractmethod
    def default_voice(self) -> str:
        """The voice used when a request names none."""

    @property
    @abc.abstractmethod
    def loaded(self) -> bool:
        """Whether :meth:`load` has completed."""

    @abc.abstractmethod
    def load(self) -> None:
        """Load models and voices (idempotent). Raises :class:`EngineUnavailable`."""

    @abc.abstractmethod
    def synthesize(
        self, text: str, voice: str | None = None, options: SynthesisOptions = NO_OPTIONS
    ) -> Iterator[bytes]:
        """Yield PCM chunks for ``text`` as soon as each is ready.

        Blocking: the service calls it, and advances the iterator, in worker threads and
        streams chunk by chunk. Closing the iterator early (``close()``) stops the synthesis.
        An unknown voice raises :class:`UnknownVoiceError` before any audio. ``options``
        not named in :attr:`parameters` are ignored.
        """

    def warm_up(self) -> None:
        """Run one short synthesis so the first request does not pay for lazy set-up."""
        for _ in self.synthesize("Hello there.", self.default_voice):
            pass

    def resolve_voice(self, voice: str | None) -> str:
        """The voice id to use for ``voice`` (``None`` means the default)."""
        if voice is None:
            return self.default_voice
        if voice not in self.voices:
            raise UnknownVoiceError(
                f"unknown voice {voice!r} for engine {self.name}; see GET /config for the list"
            )
        return voice
