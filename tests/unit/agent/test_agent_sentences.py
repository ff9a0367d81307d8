"""Sentence splitting of streamed reply text: same sentences however the text is cut up."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_platform.agent.sentences import SentenceSplitter, is_speakable, split_all

PROSE = st.text(
    alphabet=st.sampled_from(list("abcXYZ 019.,!?;:'\"\n)…-")), min_size=0, max_size=300
)


def _stream(text: str, cuts: list[int], max_chars: int) -> list[str]:
    splitter = SentenceSplitter(max_chars)
    out: list[str] = []
    previous = 0
    for cut in sorted({c % (len(text) + 1) for c in cuts}):
        out += splitter.feed(text[previous:cut])
        previous = cut
    out += splitter.feed(text[previous:])
    return out + splitter.flush()


@settings(max_examples=300)
@given(
    text=PROSE, cuts=st.lists(st.integers(min_value=0, max_value=400)), limit=st.integers(20, 80)
)
def test_the_sentences_do_not_depend_on_how_the_text_arrives(
    text: str, cuts: list[int], limit: int
) -> None:
    assert _stream(text, cuts, limit) == split_all(text, limit)


@settings(max_examples=300)
@given(text=PROSE, limit=st.integers(20, 80))
def test_nothing_is_dropped_or_changed_but_whitespace(text: str, limit: int) -> None:
    sentences = split_all(text, limit)
    assert all(sentence and sentence == sentence.strip() for sentence in sentences)
    assert "".join(sentences).replace(" ", "") == "".join(text.split()).replace(" ", "")
    assert " ".join(sentences).split() == text.split()


@settings(max_examples=200)
@given(words=st.lists(st.text(alphabet="abcdefgh", min_size=1, max_size=12), max_size=80))
def test_a_sentence_without_an_end_is_cut_near_the_limit(words: list[str]) -> None:
    limit = 40
    for sentence in split_all(" ".join(words), limit):
        # cut at the first whitespace at or after the limit: at most one word over it
        assert len(sentence) <= limit + 12


def test_sentences_end_at_terminators_followed_by_space_and_at_line_breaks() -> None:
    text = 'Hello there. How are you? "Fine!" she said.\nVersion 3.5 is out… Bye'
    assert split_all(text) == [
        "Hello there.",
        "How are you?",
        '"Fine!"',
        "she said.",
        "Version 3.5 is out…",
        "Bye",
    ]


def test_a_sentence_is_released_as_soon_as_the_next_piece_shows_it_ended() -> None:
    splitter = SentenceSplitter()
    assert splitter.feed("Hello there") == []
    assert splitter.feed(".") == []  # "3.5" or "there.com" could still follow
    assert splitter.feed(" How") == ["Hello there."]
    assert splitter.flush() == ["How"]
    assert splitter.flush() == []


def test_only_text_with_letters_or_digits_is_speakable() -> None:
    assert is_speakable("Hi.")
    assert is_speakable("42")
    assert not is_speakable("…")
    assert not is_speakable("-- !")
