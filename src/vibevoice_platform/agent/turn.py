"""One turn: the reply streams from the responder; each complete sentence goes to tts at once.

Two tasks run side by side: the *text* task reads the responder, passes every piece on as a
:class:`Text` event and cuts the text into sentences; the *speech* task sends each sentence
to tts (in order, one at a time) and passes its audio on as :class:`Audio` events. So the
first audio starts after the first sentence, while the LLM is still writing the rest. The
first failure of either ends the turn with :class:`Failed` (the other task is cancelled); a
clean turn ends with :class:`Finished`. Leaving the iterator early (a client that went away)
cancels both tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass

from vibevoice_platform.agent.errors import INTERNAL, AgentError
from vibevoice_platform.agent.history import Message
from vibevoice_platform.agent.responders import Responder
from vibevoice_platform.agent.sentences import SentenceSplitter, is_speakable
from vibevoice_platform.agent.tts_client import AudioStart, TTSClient

log = logging.getLogger("vibevoice_platform.agent")


@dataclass(frozen=True)
class Text:
    delta: str


@dataclass(frozen=True)
class AudioFormat:
    sample_rate: int


@dataclass(frozen=True)
class Audio:
    pcm: bytes


@dataclass(frozen=True)
class Finished:
    text: str
    responder: str
    sentences: int
    audio_bytes: int
    sample_rate: int | None
    ttft_ms: float | None
    first_sentence_ms: float | None
    ttfa_ms: float | None

    @property
    def audio_seconds(self) -> float:
        return self.audio_bytes / 2 / self.sample_rate if self.sample_rate else 0.0


@dataclass(frozen=True)
class Failed:
    error: AgentError


Event = Text | AudioFormat | Audio | Finished | Failed


@dataclass(frozen=True)
class _Done:
    task: str


class _Turn:
    def __init__(
        self, responder: Responder, tts: TTSClient, max_sentence_chars: int, started: float
    ) -> None:
        self.responder = responder
        self.tts = tts
        self.started = started
        self.splitter = SentenceSplitter(max_sentence_chars)
        self.out: asyncio.Queue[Text | AudioFormat | Audio | Failed | _Done] = asyncio.Queue()
        self.sentences: asyncio.Queue[str | None] = asyncio.Queue()
        self.text: list[str] = []
        self.spoken = 0
        self.audio_bytes = 0
        self.sample_rate: int | None = None
        self.ttft: float | None = None
        self.first_sentence: float | None = None
        self.ttfa: float | None = None

    def _ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000

    def _sentence(self, sentence: str) -> None:
        if self.first_sentence is None:
            self.first_sentence = self._ms()
        self.sentences.put_nowait(sentence)

    async def read_text(self, messages: Sequence[Message]) -> None:
        try:
            async for piece in self.responder.stream(messages):
                if self.ttft is None:
                    self.ttft = self._ms()
                self.text.append(piece)
                await self.out.put(Text(piece))
                for sentence in self.splitter.feed(piece):
                    self._sentence(sentence)
            for sentence in self.splitter.flush():
                self._sentence(sentence)
        except AgentError as exc:
            await self.out.put(Failed(exc))
        except Exception as exc:
            await self.out.put(Failed(_internal("reading the reply", exc)))
        finally:
            self.sentences.put_nowait(None)
            await self.out.put(_Done("text"))

    async def speak(self) -> None:
        try:
            while (sentence := await self.sentences.get()) is not None:
                if not is_speakable(sentence):
                    continue
                self.spoken += 1
                async for item in self.tts.synthesize(sentence):
                    if isinstance(item, AudioStart):
                        if self.sample_rate is None:
                            self.sample_rate = item.sample_rate
                            await self.out.put(AudioFormat(item.sample_rate))
                        elif item.sample_rate != self.sample_rate:
                            raise AgentError(
                                INTERNAL, 502, "tts changed its sample rate within a turn"
                            )
                        continue
                    if self.ttfa is None:
                        self.ttfa = self._ms()
                    self.audio_bytes += len(item)
                    await self.out.put(Audio(item))
        except AgentError as exc:
            await self.out.put(Failed(exc))
        except Exception as exc:
            await self.out.put(Failed(_internal("speaking the reply", exc)))
        finally:
            await self.out.put(_Done("speech"))

    def finished(self) -> Finished:
        return Finished(
            text="".join(self.text).strip(),
            responder=self.responder.name,
            sentences=self.spoken,
            audio_bytes=self.audio_bytes,
            sample_rate=self.sample_rate,
            ttft_ms=_round(self.ttft),
            first_sentence_ms=_round(self.first_sentence),
            ttfa_ms=_round(self.ttfa),
        )


def _internal(doing: str, exc: Exception) -> AgentError:
    log.error("unexpected error %s: %r", doing, exc)
    return AgentError(INTERNAL, 500, f"internal error {doing}")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


async def run_turn(
    responder: Responder,
    tts: TTSClient,
    messages: Sequence[Message],
    *,
    max_sentence_chars: int = 300,
    started: float | None = None,
) -> AsyncGenerator[Event, None]:
    """The events of one turn; the last one is :class:`Finished` or :class:`Failed`.

    ``started`` (a ``time.perf_counter()`` value, default now) is when the turn arrived: the
    ``*_ms`` timings of :class:`Finished` count from it.
    """
    turn = _Turn(responder, tts, max_sentence_chars, started or time.perf_counter())
    tasks = [
        asyncio.create_task(turn.read_text(messages), name="agent-text"),
        asyncio.create_task(turn.speak(), name="agent-speech"),
    ]
    try:
        running = len(tasks)
        while running:
            event = await turn.out.get()
            if isinstance(event, _Done):
                running -= 1
            elif isinstance(event, Failed):
                yield event
                return
            else:
                yield event
        yield turn.finished()
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
