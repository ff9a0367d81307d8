"""Measure the speech check: word recall per engine, endpoint and sentence over repeated runs.

For each engine the real service is started on 127.0.0.1 (``running_tts_service``), or the
service at ``--tts-url`` is used, and each sentence of ``[tool.vibevoice-ci.smoke]`` is
synthesized ``--runs`` times on each endpoint (``POST /v1/tts`` and ``WS /stream``),
transcribed with the smoke session's recogniser and scored exactly as the smoke check scores
it. Piper's voice draws random phoneme durations, so its audio, and the recall, vary from run
to run: this is how the thresholds in ``[tool.vibevoice-ci.smoke.min_recall]`` were set.

    python scripts/measure_speech.py [--engines piper,espeak] [--runs 20] [--json-out PATH]

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

from vibevoice_ci.config import load_config
from vibevoice_ci.local_service import running_tts_service
from vibevoice_ci.report import write_json_atomic
from vibevoice_ci.smoke_checks import (
    SPEECH_ENDPOINTS,
    AudioFetchError,
    SpokenAudio,
    fetch_http_audio,
    fetch_ws_audio,
)
from vibevoice_ci.speech import Recogniser

EXIT_FAILED = 1


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="piper,espeak", help="comma-separated engines")
    parser.add_argument("--runs", type=int, default=20, help="syntheses per sentence/endpoint")
    parser.add_argument("--tts-url", help="measure this running service instead (one engine)")
    parser.add_argument("--json-out", type=Path, help="also write every score as JSON here")
    args = parser.parse_args(argv)
    if not 1 <= args.runs <= 1000:
        parser.error("--runs must be between 1 and 1000")
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
            with _service(engine, args.tts_url) as url:
                rows += measure(engine, url, args.runs, recogniser)
    except (AudioFetchError, httpx.HTTPError) as exc:
        print(f"measure_speech: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(render(rows))
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
