"""The slot for Microsoft's VibeVoice-Realtime model (``vibevoice`` package + weights).

The engine is available only when the ``vibevoice`` package (and torch) import AND
``VIBEVOICE_MODEL_PATH`` names a directory holding the model's weights; otherwise it raises
:class:`EngineUnavailable` saying which is missing and how to provide it. Voices are the
``*.pt`` prompt presets the model ships in its repository (``demo/voices/streaming_model``),
found in ``VIBEVOICE_VOICES_DIR`` (default: ``<model path>/voices``).

The loading and streaming calls follow Microsoft's own realtime demo server
(``demo/web/app.py`` in github.com/microsoft/VibeVoice): ``VibeVoiceStreamingProcessor`` and
``VibeVoiceStreamingForConditionalGenerationInference.from_pretrained``, generation in a thread
feeding an ``AudioStreamer``. Like that server it honours the ``cfg`` (``cfg_scale``) and
``steps`` (diffusion inference steps) of ``WS /stream``.

EXPERIMENTAL: this project's CI cannot run the real model (no torch, no hub weights). The
streaming adapter is exercised in the unit tests against stand-ins with the upstream
interface (passed as :class:`Upstream`), not against the model; see docs/tts-service.md.
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

from vibevoice_platform.tts.engines.base import (
    NO_OPTIONS,
    Engine,
    EngineUnavailable,
    SynthesisOptions,
)
from vibevoice_platform.tts.settings import (
    ENV_MODEL_PATH,
    ENV_VIBEVOICE_DEVICE,
    ENV_VIBEVOICE_VOICES_DIR,
    Settings,
)

SAMPLE_RATE = 24_000
INFERENCE_STEPS = 5
CFG_SCALE = 1.5
_PROCESSOR_MODULE = "vibevoice.processor.vibevoice_streaming_processor"
_MODEL_MODULE = "vibevoice.modular.modeling_vibevoice_streaming_inference"
_STREAMER_MODULE = "vibevoice.modular.streamer"


@dataclass(frozen=True)
class Upstream:
    """The upstream objects the engine drives: torch and three vibevoice classes.

    :func:`import_upstream` gives the real ones; tests pass stand-ins with the same interface.
    """

    torch: Any
    """The ``torch`` module (``load``, ``float32``, ``bfloat16``)."""
    processor_class: Any
    """``VibeVoiceStreamingProcessor``."""
    model_class: Any
    """``VibeVoiceStreamingForConditionalGenerationInference``."""
    streamer_class: Any
    """``vibevoice.modular.streamer.AudioStreamer``."""


def import_upstream() -> Upstream:
    """The real torch and vibevoice classes; :class:`EngineUnavailable` when they are missing."""
    try:
        torch = importlib.import_module("torch")
        processor_module = importlib.import_module(_PROCESSOR_MODULE)
        model_module = importlib.import_module(_MODEL_MODULE)
        streamer_module = importlib.import_module(_STREAMER_MODULE)
    except ImportError as exc:
        raise EngineUnavailable(
            f"this vibevoice package lacks the realtime streaming model ({exc}): "
            "install a version that has VibeVoiceStreamingProcessor"
        ) from None
    return Upstream(
        torch=torch,
        processor_class=processor_module.VibeVoiceStreamingProcessor,
        model_class=model_module.VibeVoiceStreamingForConditionalGenerationInference,
        streamer_class=streamer_module.AudioStreamer,
    )


def availability_problems(settings: Settings, *, check_packages: bool = True) -> list[str]:
    """Why the VibeVoice engine cannot run with ``settings`` (empty when it can).

    ``check_packages=False`` skips looking for the vibevoice package and torch (for an engine
    given its :class:`Upstream` objects).
    """
    problems: list[str] = []
    if check_packages and importlib.util.find_spec("vibevoice") is None:
        problems.append(
            "the vibevoice package is not installed (pip install it from "
            "github.com/microsoft/VibeVoice; it needs torch)"
        )
    elif check_packages and importlib.util.find_spec("torch") is None:
        problems.append("the vibevoice package is installed but torch is not (pip install torch)")
    model_path = settings.vibevoice_model_path
    if model_path is None:
        problems.append(
            f"{ENV_MODEL_PATH} is not set (download microsoft/VibeVoice-Realtime-0.5B and "
            "point it at that directory)"
        )
    elif not model_path.is_dir():
        problems.append(f"{ENV_MODEL_PATH}={str(model_path)!r} is not a directory")
    return problems


class VibeVoiceEngine(Engine):
    """VibeVoice-Realtime-0.5B, streaming 24 kHz audio as the model generates it (experimental).

    ``upstream`` replaces the real torch and vibevoice imports (tests pass stand-ins).
    """

    name = "vibevoice"
    experimental: ClassVar[bool] = True
    parameters: ClassVar[Mapping[str, float | int]] = MappingProxyType(
        {"cfg": CFG_SCALE, "steps": INFERENCE_STEPS}
    )
    schedulable: ClassVar[bool] = False  # its lock spans a whole synthesis, every step of it
    computes_in_step: ClassVar[bool] = False  # generation runs in a thread of its own

    def __init__(self, settings: Settings, *, upstream: Upstream | None = None) -> None:
        problems = availability_problems(settings, check_packages=upstream is None)
        model_path = settings.vibevoice_model_path
        if problems or model_path is None:
            raise EngineUnavailable("vibevoice engine unavailable: " + "; ".join(problems))
        self._model_path = model_path
        self._voices_dir = settings.vibevoice_voices_dir or self._model_path / "voices"
        self._device = settings.vibevoice_device
        self._requested_default = settings.default_voice
        self._lock = threading.Lock()
        self._presets: dict[str, Path] = {}
        self._prompts: dict[str, Any] = {}
        self._voice_ids: tuple[str, ...] = ()
        self._default = ""
        self._upstream = upstream
        self._torch: Any = None
        self._processor: Any = None
        self._model: Any = None
        self._streamer_class: Any = None

    @property
    def sample_rate(self) -> int:
        return SAMPLE_RATE

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
        return self._model is not None

    def load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            presets = {path.stem: path for path in sorted(self._voices_dir.glob("*.pt"))}
            if not presets:
                raise EngineUnavailable(
                    f"no voice presets (*.pt) in {self._voices_dir}: copy the model's "
                    f"demo/voices/streaming_model files there or set {ENV_VIBEVOICE_VOICES_DIR}"
                )
            default = self._requested_default or next(iter(presets))
            if default not in presets:
                raise EngineUnavailable(
                    f"default voice {default!r} is not among the presets in {self._voices_dir}"
                )
            upstream = self._upstream or import_upstream()
            torch = upstream.torch
            if self._device not in {"cpu", "cuda", "mps"}:
                raise EngineUnavailable(
                    f"{ENV_VIBEVOICE_DEVICE}={self._device!r}: use cpu, cuda or mps"
                )
            dtype = torch.bfloat16 if self._device == "cuda" else torch.float32
            processor = upstream.processor_class.from_pretrained(str(self._model_path))
            model = upstream.model_class.from_pretrained(
                str(self._model_path),
                torch_dtype=dtype,
                device_map=None if self._device == "mps" else self._device,
                attn_implementation="sdpa",
            )
            if self._device == "mps":
                model.to("mps")
            model.eval()
            scheduler = model.model.noise_scheduler
            model.model.noise_scheduler = scheduler.from_config(
                scheduler.config,
                algorithm_type="sde-dpmsolver++",
                beta_schedule="squaredcos_cap_v2",
            )
            model.set_ddpm_inference_steps(num_steps=INFERENCE_STEPS)
            self._torch = torch
            self._processor = processor
            self._streamer_class = upstream.streamer_class
            self._presets = presets
            self._voice_ids = tuple(presets)
            self._default = default
            self._prompt(default)
            self._model = model

    def synthesize(
        self, text: str, voice: str | None = None, options: SynthesisOptions = NO_OPTIONS
    ) -> Iterator[bytes]:
        self._require_loaded()
        voice_id = self.resolve_voice(voice)
        cfg_scale = options.cfg_scale if options.cfg_scale is not None else CFG_SCALE
        steps = options.inference_steps if options.inference_steps is not None else INFERENCE_STEPS
        return self._generate(text.replace("\u2019", "'").strip(), voice_id, cfg_scale, steps)

    def _prompt(self, voice: str) -> Any:
        if voice not in self._prompts:
            self._prompts[voice] = self._torch.load(
                self._presets[voice], map_location=self._device, weights_only=False
            )
        return self._prompts[voice]

    def _generate(
        self, text: str, voice: str, cfg_scale: float, inference_steps: int
    ) -> Iterator[bytes]:
        import numpy as np

        with self._lock:
            # Per request, as the upstream demo server does; the lock keeps it to this one.
            self._model.set_ddpm_inference_steps(num_steps=inference_steps)
            prompt = self._prompt(voice)
            processed = self._processor.process_input_with_cached_prompt(
                text=text,
                cached_prompt=prompt,
                padding=True,
                return_tensors="pt",
                return_attention_mask=True,
            )
            inputs = {
                key: value.to(self._device) if hasattr(value, "to") else value
                for key, value in processed.items()
            }
            streamer = self._streamer_class(batch_size=1, stop_signal=None, timeout=None)
            stop = threading.Event()
            errors: list[BaseException] = []

            def run() -> None:
                try:
                    self._model.generate(
                        **inputs,
                        max_new_tokens=None,
                        cfg_scale=cfg_scale,
                        tokenizer=self._processor.tokenizer,
                        generation_config={"do_sample": False},
                        audio_streamer=streamer,
                        stop_check_fn=stop.is_set,
                        verbose=False,
                        refresh_negative=True,
                        all_prefilled_outputs=copy.deepcopy(prompt),
                    )
                except BaseException as exc:  # re-raised in the consumer below
                    errors.append(exc)
                finally:
                    streamer.end()

            worker = threading.Thread(target=run, name="vibevoice-generate", daemon=True)
            worker.start()
            try:
                for chunk in streamer.get_stream(0):
                    samples = chunk.detach().cpu().to(self._torch.float32).numpy().reshape(-1)
                    pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
                    if pcm:
                        yield pcm
            finally:
                stop.set()
                worker.join()
            if errors:
                raise RuntimeError(f"vibevoice generation failed: {errors[0]}") from errors[0]

    def _require_loaded(self) -> None:
        if self._model is None:
            raise RuntimeError("the vibevoice engine is not loaded yet: call load() first")
