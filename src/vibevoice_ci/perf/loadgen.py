"""Load on the tts service: a closed loop at a concurrency, or an open loop at an arrival rate.

- **Closed loop**: ``concurrency`` streams, each sending its next request when the previous
  one ends (one keep-alive connection per stream). It measures what a fixed number of users
  see, but a slow server also slows the arrivals, so it under-reports queueing.
  With ``listen`` each stream is a listener: it plays the audio in real time from its first
  byte and sends the next request when it has heard the last (or at the last byte, if the
  audio came slower than it plays); the listeners start spread over a few seconds. That is
  what one realtime stream asks of the service, so ``concurrency`` listeners are
  ``concurrency`` realtime streams; without it a stream asks for audio as fast as the service
  makes it, and any two keep the engine saturated.
- **Open loop**: requests arrive on a seeded Poisson schedule at ``rate`` per second whatever
  the server does, with at most ``concurrency`` in flight. Each request's clock starts at its
  *scheduled* time, so a request that had to wait for a free slot (the generator's or the
  server's) carries that wait in its TTFA: coordinated omission cannot hide the queue.

Both stop after ``requests`` measured requests or ``duration`` seconds, whichever comes first,
and never run longer than ``max_seconds``; ``warmup`` requests go first, one at a time, and are
not counted. Only 127.0.0.1 is ever a target.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TextIO

from vibevoice_ci.core.errors import UsageError
from vibevoice_ci.perf.client import CLIENTS, HttpTtsClient, Result, WsTtsClient

LATE_SECONDS = 0.010  # an open-loop request that starts this late behind schedule is "late"
# Listeners start spread evenly over this many seconds (about one utterance of the built-in
# prompts), as independent users do: started at one instant, they would stay in step, and
# every round would be a burst of first clauses that no user sees.
LISTENER_SPREAD_SECONDS = 3.0


@dataclass(frozen=True)
class LoadPlan:
    """What to send: endpoint, prompts, loop shape and bounds."""

    endpoint: str  # "http" (POST /v1/tts) or "ws" (WS /stream)
    prompts: tuple[str, ...]
    concurrency: int = 2  # closed loop: streams; open loop: most requests in flight
    rate: float | None = None  # open loop: arrivals per second (None: closed loop)
    requests: int | None = 60  # measured requests (None: until ``duration``)
    duration: float | None = None  # seconds of measured load (None: until ``requests``)
    warmup: int = 5
    max_seconds: float = 600.0  # the hard bound on the measured phase
    timeout: float = 30.0  # per request
    seed: int = 0  # the open loop's schedule
    listen: bool = False  # closed loop: each stream plays its audio before the next request

    def __post_init__(self) -> None:
        if self.endpoint not in CLIENTS:
            raise UsageError(f"unknown endpoint {self.endpoint!r}: choose {', '.join(CLIENTS)}")
        if not self.prompts or not all(p.strip() for p in self.prompts):
            raise UsageError("the prompt set is empty or has a blank prompt")
        if self.concurrency < 1:
            raise UsageError(f"concurrency must be at least 1, got {self.concurrency}")
        if self.rate is not None and not self.rate > 0:
            raise UsageError(f"the arrival rate must be above 0, got {self.rate}")
        if self.requests is None and self.duration is None:
            raise UsageError("give a number of requests, a duration, or both")
        if self.requests is not None and self.requests < 1:
            raise UsageError(f"requests must be at least 1, got {self.requests}")
        if self.duration is not None and not self.duration > 0:
            raise UsageError(f"the duration must be above 0 s, got {self.duration}")
        if self.warmup < 0 or not self.max_seconds > 0 or not self.timeout > 0:
            raise UsageError("warmup must be >= 0; max_seconds and timeout above 0")
        if self.listen and self.rate is not None:
            raise UsageError("listeners pace a closed loop: give no arrival rate with them")

    @property
    def mode(self) -> str:
        if self.rate is not None:
            return "open"
        return "listeners" if self.listen else "closed"


def heard_by(started: float, result: Result) -> float:
    """When a listener that sent its request at ``started`` has heard all of ``result``
    (pure): playback starts at the first audio byte and lasts the audio's duration, and never
    ends before the last byte arrived. A request with no audio is over at once."""
    if result.ttfa is None or result.e2e is None:
        return started + (result.e2e or 0.0)
    return started + max(result.e2e, result.ttfa + result.audio_seconds)


@dataclass(frozen=True)
class LoadRun:
    """The measured requests of one plan and how long the measured phase took."""

    plan: LoadPlan
    results: tuple[Result, ...]
    wall_seconds: float
    late_starts: int = 0  # open loop: requests that started more than 10 ms behind schedule


class Progress:
    """A progress bar on a terminal, a plain line every 10% elsewhere (CI logs)."""

    def __init__(self, label: str, total: int | None, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty()
        self.done = 0
        self.lock = threading.Lock()
        self.next_line = 0.1

    def step(self) -> None:
        with self.lock:
            self.done += 1
            if self.total is None:
                if self.done % 25 == 0:
                    self._line(f"{self.done} requests")
                return
            fraction = self.done / self.total
            if self.tty:
                filled = int(fraction * 30)
                bar = "#" * filled + "." * (30 - filled)
                end = "\n" if self.done >= self.total else ""
                print(
                    f"\r[perf] {self.label} [{bar}] {self.done}/{self.total}",
                    end=end,
                    file=self.stream,
                    flush=True,
                )
            elif fraction + 1e-9 >= self.next_line:
                self._line(f"{self.done}/{self.total} requests")
                while self.next_line <= fraction + 1e-9:
                    self.next_line += 0.1

    def _line(self, text: str) -> None:
        print(f"[perf] {self.label}: {text}", file=self.stream, flush=True)


def run_load(port: int, plan: LoadPlan, *, progress: Progress | None = None) -> LoadRun:
    """Warm up, then run ``plan`` against the service on 127.0.0.1:``port``."""
    _warm_up(port, plan)
    if plan.rate is None:
        return _closed_loop(port, plan, progress)
    return _open_loop(port, plan, progress)


def _client(port: int, plan: LoadPlan) -> HttpTtsClient | WsTtsClient:
    return CLIENTS[plan.endpoint](port, plan.timeout)


def _warm_up(port: int, plan: LoadPlan) -> None:
    client = _client(port, plan)
    try:
        for index in range(plan.warmup):
            client.synthesize(plan.prompts[index % len(plan.prompts)], index % len(plan.prompts))
    finally:
        client.close()


class _Tickets:
    """Hands out request numbers until the count, the duration or the hard bound is reached."""

    def __init__(self, plan: LoadPlan, started: float) -> None:
        self.limit = plan.requests
        end = plan.max_seconds if plan.duration is None else min(plan.duration, plan.max_seconds)
        self.deadline = started + end
        self.issued = 0
        self.lock = threading.Lock()

    def take(self) -> int | None:
        with self.lock:
            if self.limit is not None and self.issued >= self.limit:
                return None
            if time.perf_counter() >= self.deadline:
                return None
            self.issued += 1
            return self.issued - 1


def _closed_loop(port: int, plan: LoadPlan, progress: Progress | None) -> LoadRun:
    results: list[Result] = []
    lock = threading.Lock()
    started = time.perf_counter()
    tickets = _Tickets(plan, started)

    def stream(index: int) -> None:
        client = _client(port, plan)
        try:
            if plan.listen:
                time.sleep(index * LISTENER_SPREAD_SECONDS / plan.concurrency)
            while (ticket := tickets.take()) is not None:
                prompt = ticket % len(plan.prompts)
                sent = time.perf_counter()
                result = client.synthesize(plan.prompts[prompt], prompt, started=sent)
                with lock:
                    results.append(result)
                if progress is not None:
                    progress.step()
                if plan.listen:
                    # Idle for seconds: the service may drop a kept-alive connection (uvicorn
                    # after 5 s), so the next utterance opens its own.
                    client.close()
                    time.sleep(max(0.0, heard_by(sent, result) - time.perf_counter()))
        finally:
            client.close()

    threads = [
        threading.Thread(target=stream, args=(index,), daemon=True)
        for index in range(plan.concurrency)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        # Each request is bounded by the client's timeout, so this ends; the extra time is a
        # last guard against a request stuck past it.
        thread.join(timeout=plan.max_seconds + 2 * plan.timeout)
    return LoadRun(plan, tuple(results), time.perf_counter() - started)


def arrival_schedule(plan: LoadPlan) -> list[float]:
    """Seconds from the start at which each open-loop request is due (seeded Poisson
    arrivals), bounded by the request count, the duration and ``max_seconds``."""
    if plan.rate is None:
        return []
    rng = random.Random(plan.seed)  # noqa: S311 (a reproducible schedule, not a secret)
    horizon = plan.max_seconds if plan.duration is None else min(plan.duration, plan.max_seconds)
    times: list[float] = []
    now = 0.0
    while plan.requests is None or len(times) < plan.requests:
        now += rng.expovariate(plan.rate)
        if now >= horizon:
            break
        times.append(now)
    return times


def _open_loop(port: int, plan: LoadPlan, progress: Progress | None) -> LoadRun:
    schedule = arrival_schedule(plan)
    local = threading.local()
    clients: list[HttpTtsClient | WsTtsClient] = []
    lock = threading.Lock()
    late = 0

    def send(index: int, due: float) -> Result:
        nonlocal late
        if not hasattr(local, "client"):
            local.client = _client(port, plan)
            with lock:
                clients.append(local.client)
        if time.perf_counter() - due > LATE_SECONDS:
            with lock:
                late += 1
        prompt = index % len(plan.prompts)
        result: Result = local.client.synthesize(plan.prompts[prompt], prompt, started=due)
        if progress is not None:
            progress.step()
        return result

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=plan.concurrency) as pool:
        futures = []
        for index, offset in enumerate(schedule):
            due = started + offset
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(send, index, due))
        results = [future.result() for future in futures]
    wall = time.perf_counter() - started
    for client in clients:
        client.close()
    return LoadRun(plan, tuple(results), wall, late)


def read_prompts(text: str) -> tuple[str, ...]:
    """Prompts from a file's text: one per line; blank lines and ``#`` comments skipped."""
    return tuple(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def prompt_lengths(prompts: Sequence[str]) -> list[int]:
    return [len(prompt) for prompt in prompts]
