"""espeak-ng through ctypes: robotic, but first audio in well under a millisecond.

The library and its data come from the ``espeakng-loader`` wheel. espeak-ng keeps one global
state per process, so the library is initialised once (:class:`_Runtime`) and syntheses are
serialised with a lock. Audio streams for real: ``espeak_Synth`` runs in a producer thread and
its callback hands each buffer to a queue, so the first chunk reaches the caller before the
rest of the text is synthesized.
"""

from __future__ import annotations

import ctypes
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from vibevoice_platform.tts.engines.base import (
    NO_OPTIONS,
    Engine,
    EngineUnavailable,
    SynthesisOptions,
)
from vibevoice_platform.tts.settings import Settings
from vibevoice_platform.tts.text import clean_text

DEFAULT_VOICE = "en-us"

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_ESPEAK_CHARS_UTF8 = 1
_BUFFER_MS = 20
"""espeak hands audio to the callback in buffers of about this length."""
_COALESCE_BYTES = 16384
"""Later chunks already waiting in the queue are joined up to this size (fewer hand-offs)."""


class _Event(ctypes.Structure):
    _fields_ = (
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_int * 2),
    )


class _Voice(ctypes.Structure):
    _fields_ = (
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_char_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    )


_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


class _Job:
    """One synthesis: where its audio goes and whether its consumer has gone away."""

    __slots__ = ("cancelled", "chunks")

    def __init__(self) -> None:
        self.chunks: queue.SimpleQueue[bytes | BaseException | None] = queue.SimpleQueue()
        self.cancelled = threading.Event()


class _Runtime:
    """The process-wide espeak-ng library state (initialised once, used under ``lock``)."""

    def __init__(self, library_path: str, data_path: str) -> None:
        try:
            lib = ctypes.CDLL(library_path)
        except OSError as exc:
            raise EngineUnavailable(
                f"cannot load espeak-ng from {library_path} ({exc}): "
                "reinstall espeakng-loader (uv sync --extra tts)"
            ) from None
        lib.espeak_Initialize.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int)
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = (_SynthCallback,)
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = (ctypes.c_char_p,)
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_ListVoices.argtypes = (ctypes.c_void_p,)
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        lib.espeak_Synth.argtypes = (
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.POINTER(ctypes.c_uint),
            ctypes.c_void_p,
        )
        lib.espeak_Synth.restype = ctypes.c_int
        rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, _BUFFER_MS, data_path.encode("utf-8"), 0
        )
        if rate <= 0:
            raise EngineUnavailable(
                f"espeak_Initialize failed ({rate}) with data at {data_path}: "
                "reinstall espeakng-loader (uv sync --extra tts)"
            )
        self.lib = lib
        self.sample_rate = int(rate)
        self.lock = threading.Lock()
        self.current: _Job | None = None
        self.current_voice: str | None = None
        # Kept referenced for the life of the process: espeak holds the raw pointer.
        self.callback = _SynthCallback(self._on_audio)
        lib.espeak_SetSynthCallback(self.callback)
        self.voices = self._list_voices()

    def _on_audio(self, wav: Any, samples: int, events: Any) -> int:
        job = self.current
        if job is None or job.cancelled.is_set():
            return 1  # abort the synthesis
        if samples > 0 and wav:
            job.chunks.put(ctypes.string_at(wav, samples * 2))
        return 0

    def _list_voices(self) -> tuple[str, ...]:
        table = self.lib.espeak_ListVoices(None)
        found: set[str] = set()
        index = 0
        while table[index]:
            voice = table[index].contents
            index += 1
            identifier = (voice.identifier or b"").decode("utf-8", "replace")
            name = (voice.name or b"").decode("utf-8", "replace")
            voice_id = identifier.rsplit("/", 1)[-1].lower()
            if voice_id and not name.endswith("-test"):
                found.add(voice_id)
        return tuple(sorted(found))

    def run(self, job: _Job, text: str, voice: str) -> None:
        """Synthesize ``text`` into ``job`` (blocking; call from a producer thread)."""
        try:
            with self.lock:
                if job.cancelled.is_set():
                    return
                if voice != self.current_voice:
                    if self.lib.espeak_SetVoiceByName(voice.encode("utf-8")) != 0:
                        raise RuntimeError(f"espeak-ng could not select voice {voice!r}")
                    self.current_voice = voice
                data = text.encode("utf-8") + b"\0"
                self.current = job
                try:
                    status = self.lib.espeak_Synth(
                        data, len(data), 0, _POS_CHARACTER, 0, _ESPEAK_CHARS_UTF8, None, None
                    )
                finally:
                    self.current = None
                if status != 0 and not job.cancelled.is_set():
                    raise RuntimeError(f"espeak_Synth failed with status {status}")
        except BaseException as exc:  # handed to the consumer, which re-raises it
            job.chunks.put(exc)
        finally:
            job.chunks.put(None)


_RUNTIME: _Runtime | None = None
_RUNTIME_LOCK = threading.Lock()


def _runtime(library_path: str, data_path: str) -> _Runtime:
    global _RUNTIME
    with _RUNTIME_LOCK:
        if _RUNTIME is None:
            _RUNTIME = _Runtime(library_path, data_path)
        return _RUNTIME


class EspeakEngine(Engine):
    """espeak-ng voices (ids like ``en-us``, ``en-gb-x-rp``; default ``en-us``)."""

    name = "espeak"
    computes_in_step: ClassVar[bool] = False  # espeak_Synth runs in a producer thread

    def __init__(self, settings: Settings) -> None:
        try:
            import espeakng_loader
        except ImportError:
            raise EngineUnavailable(
                "espeak engine needs the espeakng-loader package: "
                "install the tts extra (uv sync --extra tts)"
            ) from None
        self._library_path = str(espeakng_loader.get_library_path())
        if not Path(self._library_path).is_file():
            raise EngineUnavailable(
                f"espeak-ng library {self._library_path} is missing: reinstall espeakng-loader"
            )
        try:
            self._data_path = str(espeakng_loader.get_data_path())
        except RuntimeError as exc:
            raise EngineUnavailable(f"espeak-ng data: {exc}: reinstall espeakng-loader") from None
        self._requested_default = settings.default_voice
        self._runtime: _Runtime | None = None
        self._voice_set: frozenset[str] = frozenset()
        self._default = ""

    @property
    def sample_rate(self) -> int:
        return self._loaded_runtime().sample_rate

    @property
    def voices(self) -> tuple[str, ...]:
        return self._loaded_runtime().voices

    @property
    def default_voice(self) -> str:
        self._loaded_runtime()
        return self._default

    @property
    def loaded(self) -> bool:
        return self._runtime is not None

    def load(self) -> None:
        if self._runtime is not None:
            return
        runtime = _runtime(self._library_path, self._data_path)
        default = (self._requested_default or DEFAULT_VOICE).lower()
        if default not in runtime.voices:
            raise EngineUnavailable(
                f"default voice {default!r} is not an espeak-ng voice "
                f"(for example: en-us, en, en-gb-x-rp); fix VIBEVOICE_TTS_DEFAULT_VOICE"
            )
        self._default = default
        self._voice_set = frozenset(runtime.voices)
        self._runtime = runtime

    def resolve_voice(self, voice: str | None) -> str:
        if voice is None:
            return self.default_voice
        # espeak voice names are case-insensitive; accept "en-US" for "en-us".
        lowered = voice.lower()
        if lowered not in self._voice_set:
            return super().resolve_voice(voice)  # raises UnknownVoiceError
        return lowered

    def synthesize(
        self, text: str, voice: str | None = None, options: SynthesisOptions = NO_OPTIONS
    ) -> Iterator[bytes]:
        # espeak-ng has no diffusion: options are ignored (its ``parameters`` are empty).
        runtime = self._loaded_runtime()
        return _stream(runtime, text, self.resolve_voice(voice))

    def _loaded_runtime(self) -> _Runtime:
        if self._runtime is None:
            raise RuntimeError("the espeak engine is not loaded yet: call load() first")
        return self._runtime


def _stream(runtime: _Runtime, text: str, voice: str) -> Iterator[bytes]:
    """The audio of ``text``; nothing (not even cleaning the text) runs before the first
    ``next()``, which the service makes in a worker thread."""
    job = _Job()
    producer = threading.Thread(
        target=runtime.run, args=(job, clean_text(text), voice), name="espeak-synth", daemon=True
    )
    producer.start()
    try:
        finished = False
        while not finished:
            item = job.chunks.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            parts = [item]
            size = len(item)
            while size < _COALESCE_BYTES:
                try:
                    more = job.chunks.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    finished = True
                    break
                if isinstance(more, BaseException):
                    raise more
                parts.append(more)
                size += len(more)
            yield parts[0] if len(parts) == 1 else b"".join(parts)
    finally:
        job.cancelled.set()
        producer.join()
