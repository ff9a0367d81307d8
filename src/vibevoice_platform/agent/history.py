"""The conversation of one WebSocket connection, bounded (pure).

Messages alternate user / assistant and start with a user message, as the Messages API
requires. Only whole exchanges (a user turn and its reply) are kept or dropped, oldest first,
so that at most ``max_turns`` exchanges and ``max_chars`` characters remain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str

    def to_api(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


Exchange = tuple[Message, Message]


def bounded(
    exchanges: tuple[Exchange, ...], max_turns: int, max_chars: int
) -> tuple[Exchange, ...]:
    """The newest exchanges that fit both limits (a suffix of ``exchanges``)."""
    kept: list[Exchange] = []
    total = 0
    for exchange in reversed(exchanges[-max_turns:] if max_turns > 0 else ()):
        size = len(exchange[0].content) + len(exchange[1].content)
        if total + size > max_chars:
            break
        kept.append(exchange)
        total += size
    return tuple(reversed(kept))


@dataclass(frozen=True)
class History:
    """The exchanges so far (immutable: ``add`` returns a new history)."""

    max_turns: int
    max_chars: int
    exchanges: tuple[Exchange, ...] = ()

    def messages_for(self, turn: str) -> list[Message]:
        """The messages to send for a new user ``turn``: the history, then the turn."""
        previous = [message for exchange in self.exchanges for message in exchange]
        return [*previous, Message("user", turn)]

    def add(self, turn: str, reply: str) -> History:
        exchange = (Message("user", turn), Message("assistant", reply))
        return History(
            self.max_turns,
            self.max_chars,
            bounded((*self.exchanges, exchange), self.max_turns, self.max_chars),
        )
