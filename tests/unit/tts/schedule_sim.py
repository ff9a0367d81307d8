"""A deterministic discrete-event run of the scheduler's pure core over a fake engine.

Each stream is ``(arrival, [(cost, audio_seconds), ...])``: the fake engine's steps take
exactly ``cost`` seconds and make ``audio_seconds`` of audio, which goes out the moment the
step ends. The simulation drives :class:`SlotQueue` and :class:`StreamClock` as
``scheduler.py`` does (a finished step gives its slot back first, then its stream asks for
its next step), and records every dispatch and every missed deadline.

:func:`reference_edf` is an independent, deliberately naive earliest-deadline-first schedule
of the same streams (no heap, no queue class: at every free moment, scan everything ready),
the yardstick of the property tests.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field

from vibevoice_platform.tts.deadlines import SlotQueue, StreamClock

Stream = tuple[float, list[tuple[float, float]]]
EPSILON = 1e-9


@dataclass(frozen=True)
class Dispatch:
    """A step started: when, which stream, its deadline, and the deadlines still waiting."""

    time: float
    stream: int
    deadline: float
    others_waiting: tuple[float, ...]


@dataclass
class Outcome:
    """What happened to every stream."""

    first_audio: dict[int, float] = field(default_factory=dict)
    misses: dict[int, list[int]] = field(default_factory=dict)
    """Per stream, the steps that ended after their deadline."""
    dispatches: list[Dispatch] = field(default_factory=list)
    max_running: int = 0
    idle_while_ready: int = 0
    """Times a slot was free while a step was waiting (never, for a work-conserving queue)."""

    def missed(self, stream: int) -> bool:
        return bool(self.misses.get(stream))


def simulate(slots: int, objective: float, streams: list[Stream]) -> Outcome:
    """Run ``streams`` through a :class:`SlotQueue` of ``slots``; see the module."""
    outcome = Outcome()
    queue: SlotQueue[int] = SlotQueue(slots)
    clocks = {i: StreamClock(arrived, objective) for i, (arrived, _) in enumerate(streams)}
    step = dict.fromkeys(clocks, 0)
    order = itertools.count()
    events: list[tuple[float, int, str, int]] = []  # (time, order, kind, stream)
    for index, (arrived, _) in enumerate(streams):
        heapq.heappush(events, (arrived, next(order), "ready", index))
    running = 0

    def start(now: float, index: int) -> None:
        nonlocal running
        running += 1
        outcome.max_running = max(outcome.max_running, running)
        waiting = tuple(w.deadline for w in queue.waiting())
        outcome.dispatches.append(Dispatch(now, index, clocks[index].deadline, waiting))
        cost, _ = streams[index][1][step[index]]
        heapq.heappush(events, (now + cost, next(order), "done", index))

    while events:
        now, _, kind, index = heapq.heappop(events)
        clock = clocks[index]
        if kind == "ready":
            if step[index] < len(streams[index][1]):
                if queue.request(index, clock.deadline, first=not clock.started):
                    start(now, index)
                elif queue.busy < slots:
                    outcome.idle_while_ready += 1
            continue
        running -= 1
        _, audio = streams[index][1][step[index]]
        if now > clock.deadline + EPSILON:
            outcome.misses.setdefault(index, []).append(step[index])
        if not clock.started:
            outcome.first_audio[index] = now
        clock.sent(now, audio)
        step[index] += 1
        following = queue.release()
        if following is not None:
            start(now, following)
        heapq.heappush(events, (now, next(order), "ready", index))
    return outcome


class Tie(Exception):
    """Two steps ended at once, or two waiting steps were due at once: the order between them
    is a convention, not a rule of EDF, so the example says nothing about EDF."""


def reference_edf(slots: int, objective: float, streams: list[Stream]) -> dict[int, list[int]]:
    """The misses of a plain earliest-deadline-first schedule of ``streams``, written naively.

    Non-preemptive and work-conserving: whenever a slot is free, the waiting step due soonest
    starts. Arrivals at a moment come before a step ending then; a stream's next step is ready
    just after its previous one ends (its audio must go out first). Raises :class:`Tie`.
    """
    step = [0] * len(streams)
    first_audio: list[float | None] = [None] * len(streams)
    sent = [0.0] * len(streams)
    waiting: list[int] = []
    running: list[tuple[float, int]] = []  # (end, stream)
    misses: dict[int, list[int]] = {}

    def deadline(i: int) -> float:
        start = first_audio[i]
        return streams[i][0] + objective if start is None else start + sent[i]

    def start(now: float, i: int) -> None:
        running.append((now + streams[i][1][step[i]][0], i))

    def ready(now: float, i: int) -> None:
        if len(running) < slots and not waiting:
            start(now, i)
        else:
            waiting.append(i)

    arrivals = sorted((arrived, i) for i, (arrived, _) in enumerate(streams))
    while arrivals or running:
        next_end = min((end for end, _ in running), default=None)
        if arrivals and (next_end is None or arrivals[0][0] <= next_end):
            now, i = arrivals.pop(0)
            ready(now, i)
            continue
        assert next_end is not None
        ending = [r for r in running if r[0] == next_end]
        if len(ending) > 1:
            raise Tie
        now, i = ending[0]
        running.remove(ending[0])
        if now > deadline(i) + EPSILON:
            misses.setdefault(i, []).append(step[i])
        if first_audio[i] is None:
            first_audio[i] = now
        sent[i] += streams[i][1][step[i]][1]
        step[i] += 1
        if waiting:
            due = sorted(deadline(j) for j in waiting)
            if len(due) > 1 and due[1] - due[0] <= EPSILON:
                raise Tie
            chosen = min(waiting, key=deadline)
            waiting.remove(chosen)
            start(now, chosen)
        if step[i] < len(streams[i][1]):
            ready(now, i)
    return misses
