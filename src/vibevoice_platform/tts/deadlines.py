"""Deadline scheduling of synthesis steps, as pure logic: no clock, no threads, no event loop.

A stream's audio is made one *step* at a time (one ``next()`` of the engine's iterator: for
Piper one segment). Each step has a deadline, the moment its audio is needed
(:class:`StreamClock`): the first at the stream's arrival plus the time-to-first-audio
objective, every later one when the audio already sent runs out. :class:`SlotQueue` runs at
most ``slots`` steps at once and, whenever a slot frees, gives it to the waiting step with the
earliest deadline (non-preemptive earliest-deadline-first; ties in arrival order). It is
work-conserving: a free slot never waits while a step is ready, so a stream with audio
buffered waits only while steps that are due sooner are waiting.

:func:`admission` is the same model at a stream's start: a stream that the engine cannot
serve in time is refused then (429), never left to run dry in the middle.
:class:`CostModel` keeps the estimates it needs, learned from the steps that ran.

``scheduler.py`` is the thin asynchronous edge that drives these with real time and threads;
the tests drive them with simulated time and a deterministic fake engine.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T", bound=Hashable)


@dataclass
class StreamClock:
    """When one stream's next step is due (seconds on any one monotonic clock)."""

    arrived: float
    """When the request arrived."""
    objective: float
    """The time-to-first-audio objective, in seconds."""
    first_audio: float | None = None
    """When the first audio went out (playback starts then)."""
    audio_seconds: float = 0.0
    """Seconds of audio handed out so far."""

    @property
    def deadline(self) -> float:
        """When the next step's audio is needed: the first step's at arrival plus the
        objective, a later one's when the audio already sent runs out."""
        if self.first_audio is None:
            return self.arrived + self.objective
        return self.first_audio + self.audio_seconds

    @property
    def started(self) -> bool:
        """Whether any audio has gone out (the next step is not the first)."""
        return self.first_audio is not None

    def sent(self, now: float, audio_seconds: float) -> None:
        """Record ``audio_seconds`` of audio handed out at ``now``."""
        if audio_seconds <= 0:
            return
        if self.first_audio is None:
            self.first_audio = now
        self.audio_seconds += audio_seconds


@dataclass(frozen=True)
class Pending:
    """A step not yet started: when it is due and whether it is its stream's first."""

    deadline: float
    first: bool


@dataclass(frozen=True)
class Waiting(Pending, Generic[T]):
    """A step waiting in a :class:`SlotQueue`, with what the queue hands back for it."""

    item: T


class SlotQueue(Generic[T]):
    """At most ``slots`` steps at once; a freed slot goes to the earliest deadline.

    The caller owns a slot after :meth:`request` returned True or after :meth:`release`
    returned its item, and gives it back with :meth:`release` exactly once. An item waits at
    most once at a time (items are told apart by equality).
    """

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError(f"need at least one slot, got {slots}")
        self.slots = slots
        self.busy = 0
        self._heap: list[tuple[float, int, Waiting[T]]] = []
        self._order = itertools.count()
        self._cancelled: set[int] = set()
        self._ids: dict[T, int] = {}

    def __len__(self) -> int:
        """Steps waiting."""
        return len(self._ids)

    def request(self, item: T, deadline: float, *, first: bool = False) -> bool:
        """Take a slot for ``item`` now (True), or queue it by ``deadline`` (False)."""
        if self.busy < self.slots and not self._ids:
            self.busy += 1
            return True
        order = next(self._order)
        heapq.heappush(self._heap, (deadline, order, Waiting(deadline, first, item)))
        self._ids[item] = order
        return False

    def cancel(self, item: T) -> bool:
        """Take a waiting ``item`` out of the queue; False when it is not waiting."""
        order = self._ids.pop(item, None)
        if order is None:
            return False
        self._cancelled.add(order)
        return True

    def release(self) -> T | None:
        """Give a slot back; return the item it passes to (now running), or None."""
        if self.busy < 1:
            raise RuntimeError("release without a slot")
        while self._heap:
            _, order, waiting = heapq.heappop(self._heap)
            if order in self._cancelled:
                self._cancelled.discard(order)
                continue
            del self._ids[waiting.item]
            return waiting.item  # the slot passes on: busy is unchanged
        self.busy -= 1
        return None

    def waiting(self) -> list[Waiting[T]]:
        """The waiting steps, earliest deadline first."""
        return [w for _, order, w in sorted(self._heap) if order not in self._cancelled]


@dataclass
class CostModel:
    """What steps cost, learned from the steps that ran (None until observed).

    The step costs (what the ``deadline`` rule needs) are exponentially weighted means. The
    real-time factor (what the ``load`` rule needs) is made to be robust on a noisy machine,
    where one step can take many times its usual wall-clock time: it is None until
    ``warmup`` steps with audio were seen, and then it is the compute seconds per audio
    second over the last ``window`` such steps with the slowest quarter of them (by their
    own factor) left out, so neither one slow step nor a few can move it far.
    """

    weight: float = 0.2
    """How much one new observation moves a step-cost mean."""
    first_seconds: float | None = None
    """Compute time of a stream's first step."""
    step_seconds: float | None = None
    """Compute time of a later step."""
    warmup: int = 8
    """Steps with audio to see before the real-time factor is known."""
    window: int = 32
    """Steps with audio the real-time factor is computed over (the most recent)."""
    rates: deque[tuple[float, float]] = field(default_factory=deque)
    """The last ``window`` steps with audio: (compute seconds, audio seconds)."""

    def observe(self, *, first: bool, seconds: float, audio_seconds: float) -> None:
        """Learn from one step that took ``seconds`` and made ``audio_seconds`` of audio."""
        if not (math.isfinite(seconds) and seconds >= 0):
            return
        if first:
            self.first_seconds = self._mean(self.first_seconds, seconds)
        else:
            self.step_seconds = self._mean(self.step_seconds, seconds)
        if math.isfinite(audio_seconds) and audio_seconds > 0:
            self.rates.append((seconds, audio_seconds))
            while len(self.rates) > max(1, self.window):
                self.rates.popleft()

    @property
    def real_time_factor(self) -> float | None:
        """Compute seconds per audio second (trimmed, over the window); None in warm-up."""
        if len(self.rates) < max(1, self.warmup):
            return None
        kept = sorted(self.rates, key=lambda rate: rate[0] / rate[1])
        kept = kept[: len(kept) - len(kept) // 4]
        return sum(seconds for seconds, _ in kept) / sum(audio for _, audio in kept)

    def step_cost(self, first: bool) -> float:
        """The expected compute time of a step (0 when nothing is known yet)."""
        known = self.first_seconds if first else self.step_seconds
        other = self.step_seconds if first else self.first_seconds
        if known is not None:
            return known
        return other if other is not None else 0.0

    def _mean(self, old: float | None, new: float) -> float:
        return new if old is None else old + self.weight * (new - old)


@dataclass(frozen=True)
class Running:
    """A step being computed: when it started and whether it is a first step."""

    started: float
    first: bool


@dataclass(frozen=True)
class Load:
    """What the scheduler holds when a new stream arrives."""

    streams: int
    """Streams admitted whose engine has not finished (a stream whose audio is all made and
    is only being closed no longer needs compute, so it is not counted)."""
    running: tuple[Running, ...] = ()
    waiting: tuple[Pending, ...] = ()


@dataclass(frozen=True)
class AdmissionRule:
    """The limits :func:`admission` checks a new stream against."""

    slots: int
    """Steps that run at once."""
    objective: float
    """Time-to-first-audio objective, seconds."""
    utilization: float = 0.9
    """The share of the slots that the streams' real-time demand may fill."""
    retry_after: float = 1.0
    """What a refused client waits before it asks again (the 429's ``Retry-After``)."""


@dataclass(frozen=True)
class Decision:
    """:func:`admission`'s answer: ``reason`` is None when the stream is admitted."""

    reason: str | None = None
    """``load`` (the engine's compute is committed) or ``deadline`` (first audio late)."""
    message: str = ""

    @property
    def admitted(self) -> bool:
        return self.reason is None


ADMIT = Decision()


def admission(rule: AdmissionRule, model: CostModel, load: Load, now: float) -> Decision:
    """Whether a stream arriving at ``now`` can be served in time.

    While fewer streams than slots are active any stream is taken: every one of them, the
    newcomer too, has a slot of its own, so none waits for another (an idle service is the
    case of none). Otherwise a stream is refused when the streams' real-time demand with it
    (streams x real-time factor) would pass ``utilization`` of the slots, which would make
    later steps late for everyone, or when it would have to wait (no slot is left once the
    running steps and those due before it have theirs) and the steps due before it, shared
    by the slots, plus its own first step would miss the objective by more than the client's
    ``retry_after``: a stream only somewhat late is better served than sent away to come
    back later still. What is left of the running steps is not counted: it is at most one
    step, which segmenting keeps short, and a closed loop always finds the slots busy with
    audio made ahead (counting it refused most of its streams). Unknown costs count as zero and the
    real-time factor is unknown until the model's warm-up is over: nothing is refused before
    it is measured.
    """
    if load.streams < rule.slots:
        return ADMIT
    rtf = model.real_time_factor
    capacity = rule.slots * rule.utilization
    if rtf is not None and (load.streams + 1) * rtf > capacity:
        return Decision(
            "load",
            f"over capacity: {load.streams} streams already use the engine's real-time "
            f"capacity ({rtf:.3f} compute seconds per audio second, {rule.slots} slots)",
        )
    due = now + rule.objective
    ahead = [w for w in load.waiting if w.deadline <= due]
    if len(load.running) + len(ahead) < rule.slots:
        return ADMIT  # a slot is left for it: it starts at once
    start = sum(model.step_cost(w.first) for w in ahead) / rule.slots
    if start > 0 and start + model.step_cost(True) > rule.objective + rule.retry_after:
        return Decision(
            "deadline",
            f"over capacity: first audio would miss the {rule.objective * 1000:.0f} ms "
            f"objective by more than a retry ({start * 1000:.0f} ms of work is due first)",
        )
    return ADMIT
