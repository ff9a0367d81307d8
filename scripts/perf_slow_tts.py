"""Test-only: the tts service with a known slowdown injected into its engine.

The perf gate's A/B evidence (``scripts/perf_gate_evidence.py``) needs a build that is slower
by a known amount. This launcher wraps the engine's ``synthesize`` so that each chunk of
audio leaves ``--slowdown`` later than it would have, relative to the start of the synthesis
(a chunk that took 100 ms now takes 120 ms with 0.2), then runs the normal service:

    python scripts/perf_slow_tts.py --slowdown 0.2 [--tail-fraction 0.1] [--seed 1] \
        --host 127.0.0.1 --port 8001 --engine piper

``--tail-fraction F`` slows only a seeded random fraction F of the syntheses (the tail), and
leaves the others untouched. Never ship this: it exists to prove the gate can see a slowdown.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from vibevoice_platform.tts import cli, engines


def slowed(
    synthesize: Callable[..., Iterator[bytes]], slowdown: float, tail_fraction: float, seed: int
) -> Callable[..., Iterator[bytes]]:
    """``synthesize`` with each chunk delayed to ``(1 + slowdown)`` times its time since the
    start of the synthesis, for a ``tail_fraction`` of the calls (1.0: every call)."""
    rng = random.Random(seed)  # noqa: S311 (which requests to slow, not a secret)
    lock = threading.Lock()

    def wrapper(*args: Any, **kwargs: Any) -> Iterator[bytes]:
        with lock:
            slow = tail_fraction >= 1.0 or rng.random() < tail_fraction
        started = time.monotonic()
        slept = 0.0
        for chunk in synthesize(*args, **kwargs):
            if slow:
                natural = time.monotonic() - started - slept
                delay = started + slept + natural * (1 + slowdown) - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                    slept += delay
            yield chunk

    return wrapper


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="perf_slow_tts", add_help=False)
    parser.add_argument("--slowdown", type=float, required=True)
    parser.add_argument("--tail-fraction", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    ours, service_args = parser.parse_known_args(argv)
    if not 0 <= ours.slowdown <= 10 or not 0 < ours.tail_fraction <= 1:
        print("perf_slow_tts: error: --slowdown 0..10, --tail-fraction (0, 1]", file=sys.stderr)
        return 2
    original = engines.create_engine

    def create_engine(name: str, settings: Any) -> engines.Engine:
        engine = original(name, settings)
        engine.synthesize = slowed(  # type: ignore[method-assign]
            engine.synthesize, ours.slowdown, ours.tail_fraction, ours.seed
        )
        return engine

    engines.create_engine = create_engine  # the service's cli looks it up at start
    return cli.main(service_args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
