"""The conversation of one connection stays bounded and well-formed for the Messages API."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_platform.agent.history import History, Message, bounded

PAIRS = st.lists(st.tuples(st.text(max_size=40), st.text(max_size=40)), max_size=30)


@settings(max_examples=300)
@given(pairs=PAIRS, max_turns=st.integers(1, 10), max_chars=st.integers(1, 200))
def test_history_is_the_newest_exchanges_that_fit(
    pairs: list[tuple[str, str]], max_turns: int, max_chars: int
) -> None:
    history = History(max_turns, max_chars)
    for turn, reply in pairs:
        history = history.add(turn, reply)
        exchanges = history.exchanges
        assert len(exchanges) <= max_turns
        assert sum(len(u.content) + len(a.content) for u, a in exchanges) <= max_chars
        # the newest exchange is kept whenever it fits on its own
        if len(turn) + len(reply) <= max_chars:
            assert exchanges[-1] == (Message("user", turn), Message("assistant", reply))
    messages = history.messages_for("next")
    roles = [message.role for message in messages]
    assert roles == ["user", "assistant"] * ((len(roles) - 1) // 2) + ["user"]
    assert messages[-1].content == "next"


@settings(max_examples=200)
@given(pairs=PAIRS, max_turns=st.integers(0, 10), max_chars=st.integers(0, 200))
def test_bounded_keeps_a_suffix(
    pairs: list[tuple[str, str]], max_turns: int, max_chars: int
) -> None:
    exchanges = tuple((Message("user", u), Message("assistant", a)) for u, a in pairs)
    kept = bounded(exchanges, max_turns, max_chars)
    assert kept == exchanges[len(exchanges) - len(kept) :]
