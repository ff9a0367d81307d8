"""The asynchronous edge of deadline scheduling: real time, worker threads, the event loop.

:class:`Scheduler` runs each synthesis step (one engine ``next()``) in a worker thread once
:class:`~vibevoice_platform.tts.deadlines.SlotQueue` gives it a slot, and learns the steps'
costs. Everything it decides is in :mod:`vibevoice_platform.tts.deadlines`; this module only
waits, times and hands slots on. It runs on one event loop, so it needs no lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, TypeVar

import anyio
import anyio.to_thread

from vibevoice_platform.tts.deadlines import (
    AdmissionRule,
    CostModel,
    Decision,
    Load,
    Running,
    SlotQueue,
    StreamClock,
    admission,
)
from vibevoice_platform.tts.errors import RETRY_AFTER_SECONDS

R = TypeVar("R")


class StepObserver(Protocol):
    """Told of every step: its kind, how long it waited for a slot, whether it was late."""

    def __call__(self, *, first: bool, waited: float, late: bool) -> None: ...


class Scheduler:
    """At most ``slots`` engine steps at once, the one due soonest first.

    ``clock`` is the monotonic clock every deadline is read on (``time.perf_counter``, the
    clock the endpoints stamp arrivals with).
    """

    def __init__(
        self,
        slots: int,
        objective: float,
        *,
        utilization: float = 0.9,
        clock: Callable[[], float] = time.perf_counter,
        on_step: StepObserver | None = None,
    ) -> None:
        self.rule = AdmissionRule(
            slots=slots,
            objective=objective,
            utilization=utilization,
            retry_after=RETRY_AFTER_SECONDS,
        )
        self.model = CostModel()
        self.clock = clock
        self.on_step = on_step
        self._queue: SlotQueue[anyio.Event] = SlotQueue(slots)
        self._running: dict[int, Running] = {}
        self._tokens = 0

    def admit(self, arrived: float, streams: int) -> Decision:
        """Whether a stream arriving at ``arrived``, beside ``streams`` admitted ones whose
        engine is still at work, can be served in time (no side effects)."""
        load = Load(
            streams=streams,
            running=tuple(self._running.values()),
            waiting=tuple(self._queue.waiting()),
        )
        return admission(self.rule, self.model, load, max(arrived, self.clock()))

    def stream_clock(self, arrived: float) -> StreamClock:
        """The deadlines of a stream that arrived at ``arrived``."""
        return StreamClock(arrived, self.rule.objective)

    async def run(self, clock: StreamClock, step: Callable[[], R]) -> R:
        """Run ``step`` in a worker thread when its slot comes, by ``clock``'s deadline."""
        first = not clock.started
        deadline = clock.deadline
        asked = self.clock()
        granted = anyio.Event()
        if not self._queue.request(granted, deadline, first=first):
            try:
                await granted.wait()
            except BaseException:
                if not self._queue.cancel(granted):  # the slot was already passed to us
                    self._release()
                raise
        self._tokens += 1
        token = self._tokens
        began = self.clock()
        self._running[token] = Running(began, first)
        try:
            return await anyio.to_thread.run_sync(step)
        finally:
            del self._running[token]
            self._release()
            if self.on_step is not None:
                late = self.clock() > deadline
                self.on_step(first=first, waited=began - asked, late=late)

    def observe(self, *, first: bool, seconds: float, audio_seconds: float) -> None:
        """Learn from one step (its compute time and the audio it made)."""
        self.model.observe(first=first, seconds=seconds, audio_seconds=audio_seconds)

    @property
    def waiting(self) -> int:
        return len(self._queue)

    @property
    def busy(self) -> int:
        return self._queue.busy

    def _release(self) -> None:
        following = self._queue.release()
        if following is not None:
            following.set()
