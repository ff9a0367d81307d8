"""Measure the speech check: word recall per engine, endpoint and sentence over repeated runs.

For each engine the real service is started on 127.0.0.1 (``running_tts_service``), or the
service at ``--tts-url`` is used, and each sentence of ``[tool.vibevoice-ci.smoke]`` is
synthesized ``--runs`` times on each endpoint (``POST /v1/tts`` and ``WS /stream``),
transcribed with the smoke session's recogniser and scored exactly as the smoke check scores
it. Piper's voice draws random phoneme durations, so its audio, and the recall, vary from run
to run: this is how the thresholds in ``[tool.vibevoice-ci.smoke.min_recall]`` were set.

    python scripts/measure_speech.py [--engines piper,espeak] [--runs 20] [--json-out PATH]

With ``--agent`` it measures the agent's speech check instead: the agent (local responder)
is started on 127.0.0.1 in front of the engine's tts service, the configured smoke turn
(``[tool.vibevoice-ci.smoke.agent] turn``) is sent ``--runs`` times, and each reply's audio
is scored against the reply's text exactly as the smoke check scores it (each sentence's
recall from one transcript). Every ``--fault-every``-th reply is also scored with planted
faults: the audio cut to its first half and to two thirds, silence, white noise, byte-swapped
samples, 22,050 Hz played as 16,000 Hz, another turn's reply, and another text's audio. This
is how ``[tool.vibevoice-ci.smoke.agent.min_recall]`` was set.

    python scripts/measure_speech.py --agent [--engines piper] [--runs 40] [--fault-every 4]

Prints min / mean / max recall and the transcripts heard. Exit status: 0 after a run, 1
when a request fails, 2 for bad flags.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from vibevoice_ci.core.config import load_config
from vibevoice_ci.core.files import write_json_atomic
from vibevoice_ci.smoke.agent_checks import REPLY_PATH, completed_reply
from vibevoice_ci.smoke.checks import (
    SPEECH_ENDPOINTS,
    AudioFetchError,
    SpokenAudio,
    fetch_http_audio,
    fetch_ws_audio,
)
from vibevoice_ci.smoke.local_service import running_agent_service, running_tts_service
from vibevoice_ci.smoke.speech import Recogniser, sentence_recalls, word_recall
from vibevoice_platform.agent.sentences import split_all

EXIT_FAILED = 1


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="piper,espeak", help="comma-separated engines")
    parser.add_argument("--runs", type=int, default=20, help="syntheses per sentence/endpoint")
    parser.add_argument("--tts-url", help="measure this running service instead (one engine)")
    parser.add_argument("--json-out", type=Path, help="also write every score as JSON here")
    parser.add_argument("--agent", action="store_true", help="measure the agent's reply")
    parser.add_argument("--fault-every", type=int, default=4, help="plant faults every Nth reply")
    args = parser.parse_args(argv)
    if not 1 <= args.runs <= 1000:
        parser.error("--runs must be between 1 and 1000")
    if args.fault_every < 1:
        parser.error("--fault-every must be at least 1")
    if args.agent and args.tts_url:
        parser.error("--agent starts its own tts and agent: leave out --tts-url")
    args.engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    if args.tts_url and len(args.engines) != 1:
        parser.error("--tts-url measures one engine: name it with --engines")
    return args


@contextmanager
def _service(engine: str, url: str | None) -> Iterator[str]:
    if url:
        yield url.rstrip("/")
        return
    with running_tts_service(engine) as service:
        yield service.url


def measure(engine: str, url: str, runs: int, recogniser: Recogniser) -> list[dict[str, Any]]:
    sentences = load_config().speech.sentences
    rows: list[dict[str, Any]] = []
    with httpx.Client(base_url=url, timeout=60.0, trust_env=False) as client:
        fetchers: dict[str, Callable[[str], SpokenAudio]] = {
            SPEECH_ENDPOINTS[0]: lambda text: fetch_http_audio(client, text),
            SPEECH_ENDPOINTS[1]: lambda text: fetch_ws_audio(url, text),
        }
        for endpoint, fetch in fetchers.items():
            for sentence in sentences:
                for _ in range(runs):
                    audio = fetch(sentence)
                    started = time.perf_counter()
                    score = recogniser.score(sentence, audio.pcm, audio.sample_rate)
                    rows.append(
                        {
                            "engine": engine,
                            "served_by": audio.engine,
                            "endpoint": endpoint,
                            **score.to_json(),
                            "decode_seconds": round(time.perf_counter() - started, 3),
                        }
                    )
    return rows


# --- the agent's reply -------------------------------------------------------------------------

Audio = tuple[bytes, int]
OTHER_TURN = "There are 3 books on the table next to the window."


def _samples(pcm: bytes) -> np.ndarray[Any, np.dtype[np.int16]]:
    return np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2")


def cut(share: float) -> Callable[[Audio], Audio]:
    """The reply's audio cut off after ``share`` of it (on a sample boundary)."""

    def fault(audio: Audio) -> Audio:
        pcm, rate = audio
        return pcm[: int(len(pcm) // 2 * share) * 2], rate

    return fault


def silence(audio: Audio) -> Audio:
    return bytes(len(audio[0])), audio[1]


def noise(audio: Audio) -> Audio:
    """White noise as long and as loud as the speech."""
    speech = _samples(audio[0]).astype(np.float64)
    rms = float(np.sqrt(np.mean(speech**2)))
    generated = np.random.default_rng(12).normal(0.0, rms, speech.size)
    return np.clip(generated, -32768, 32767).astype("<i2").tobytes(), audio[1]


def byte_swapped(audio: Audio) -> Audio:
    return _samples(audio[0]).byteswap().tobytes(), audio[1]


def wrong_rate(audio: Audio) -> Audio:
    return audio[0], 16_000


AGENT_FAULTS: dict[str, Callable[[Audio], Audio]] = {
    "cut to the first half": cut(0.5),
    "cut to two thirds": cut(2 / 3),
    "silence": silence,
    "white noise": noise,
    "byte-swapped": byte_swapped,
    "22,050 Hz played as 16,000 Hz": wrong_rate,
}


def _reply(client: httpx.Client, turn: str) -> tuple[str, Audio]:
    response = client.post(REPLY_PATH, json={"text": turn})
    reply = completed_reply(response.status_code, dict(response.headers), response.content)
    if reply is None:
        raise AudioFetchError(f"the turn failed: HTTP {response.status_code}")
    decoded, rate = reply
    return str((decoded.final or {}).get("text", "")), (decoded.audio, rate)


def _agent_row(case: str, text: str, audio: Audio, recogniser: Recogniser) -> dict[str, Any]:
    started = time.perf_counter()
    transcript = recogniser.transcribe(*audio) if audio[0] else ""
    sentences = sentence_recalls(split_all(text), transcript)
    return {
        "case": case,
        "text": text,
        "transcript": transcript,
        "sentence_recalls": [round(sentence.recall, 4) for sentence in sentences],
        "min_sentence_recall": round(min(sentence.recall for sentence in sentences), 4),
        "recall": round(word_recall(text, transcript), 4),
        "audio_seconds": round(len(audio[0]) / 2 / audio[1], 3),
        "decode_seconds": round(time.perf_counter() - started, 3),
    }


def measure_agent(
    engine: str, runs: int, fault_every: int, recogniser: Recogniser
) -> list[dict[str, Any]]:
    config = load_config().speech
    rows: list[dict[str, Any]] = []
    with (
        running_tts_service(engine) as tts,
        running_agent_service(tts.url, env={"ANTHROPIC_API_KEY": ""}) as agent,
        httpx.Client(base_url=agent.url, timeout=60.0, trust_env=False) as client,
        httpx.Client(base_url=tts.url, timeout=60.0, trust_env=False) as tts_client,
    ):
        for run in range(runs):
            text, audio = _reply(client, config.agent_turn)
            rows.append({"engine": engine, **_agent_row("healthy", text, audio, recogniser)})
            if run % fault_every:
                continue
            for case, fault in AGENT_FAULTS.items():
                rows.append({"engine": engine, **_agent_row(case, text, fault(audio), recogniser)})
            _, other = _reply(client, OTHER_TURN)
            rows.append(
                {"engine": engine, **_agent_row("another turn's reply", text, other, recogniser)}
            )
            spoken = fetch_http_audio(tts_client, config.sentences[-1])
            rows.append(
                {
                    "engine": engine,
                    **_agent_row(
                        "another text's audio", text, (spoken.pcm, spoken.sample_rate), recogniser
                    ),
                }
            )
    return rows


def render_agent(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| engine | case | replies | lowest sentence recall: min / mean / max | "
        "whole reply recall: min / mean / max | transcripts heard |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["engine"], row["case"]), []).append(row)
    for (engine, case), group in groups.items():
        lowest = [row["min_sentence_recall"] for row in group]
        whole = [row["recall"] for row in group]
        heard = Counter(row["transcript"] for row in group).most_common(2)
        shown = "; ".join(f"{count}x {transcript!r}" for transcript, count in heard)
        lines.append(
            f"| {engine} | {case} | {len(group)} | {min(lowest):.2f} / "
            f"{statistics.mean(lowest):.2f} / {max(lowest):.2f} | {min(whole):.2f} / "
            f"{statistics.mean(whole):.2f} / {max(whole):.2f} | {shown} |"
        )
    return "\n".join(lines)


def render(rows: list[dict[str, Any]]) -> str:
    lines = ["| engine | endpoint | sentence | runs | min | mean | max | transcripts heard |"]
    lines.append("| --- | --- | --- | --- | --- | --- | --- | --- |")
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["engine"], row["endpoint"], row["text"]), []).append(row)
    for (engine, endpoint, text), group in groups.items():
        recalls = [row["recall"] for row in group]
        heard = Counter(row["transcript"] for row in group).most_common(3)
        shown = "; ".join(f"{count}x {transcript!r}" for transcript, count in heard)
        lines.append(
            f"| {engine} | {endpoint} | {text} | {len(group)} | {min(recalls):.2f} | "
            f"{statistics.mean(recalls):.2f} | {max(recalls):.2f} | {shown} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    recogniser = Recogniser()
    rows: list[dict[str, Any]] = []
    try:
        for engine in args.engines:
            if args.agent:
                rows += measure_agent(engine, args.runs, args.fault_every, recogniser)
                continue
            with _service(engine, args.tts_url) as url:
                rows += measure(engine, url, args.runs, recogniser)
    except (AudioFetchError, httpx.HTTPError) as exc:
        print(f"measure_speech: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(render_agent(rows) if args.agent else render(rows))
    decode = [row["decode_seconds"] for row in rows]
    audio = [row["audio_seconds"] for row in rows]
    print(
        f"\n{len(rows)} transcriptions; decode {statistics.mean(decode):.2f} s mean for "
        f"{statistics.mean(audio):.1f} s of audio"
    )
    if args.json_out is not None:
        write_json_atomic(args.json_out, {"runs": args.runs, "scores": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
