"""Sentence splitting of streamed reply text: same sentences however the text is cut up."""

from __future__ import annotations

import pytest
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


# --------------------------------------------------------------------------------------------
# The boundaries: max_chars and a sentence that starts with a closer


def test_max_chars_below_one_is_refused_and_one_is_accepted() -> None:
    with pytest.raises(ValueError, match=r"^max_chars must be at least 1$"):
        SentenceSplitter(0)
    with pytest.raises(ValueError, match=r"^max_chars must be at least 1$"):
        SentenceSplitter(-5)
    assert SentenceSplitter(1).max_chars == 1
    assert split_all("ab cd e", 1) == ["ab", "cd", "e"]
    assert SentenceSplitter().max_chars == 300


def test_a_sentence_is_cut_once_it_reaches_max_chars_not_before() -> None:
    assert split_all("abcd efgh", 5) == ["abcd efgh"]  # 4 characters: not yet at the limit
    assert split_all("abcde fgh", 5) == ["abcde", "fgh"]  # exactly 5: cut at the space
    assert split_all("abcdef gh", 5) == ["abcdef", "gh"]


def test_whitespace_before_a_sentence_does_not_count_towards_max_chars() -> None:
    assert split_all("Hi.  abcd efgh", 5) == ["Hi.", "abcd efgh"]
    assert split_all("   abcd efgh", 5) == ["abcd efgh"]
    assert split_all("abcd  efgh ij", 5) == ["abcd  efgh", "ij"]  # nor does whitespace after
    splitter = SentenceSplitter(5)
    assert splitter.feed("Hi. ") == ["Hi."]
    assert splitter.feed(" abcd ") == []
    assert splitter.feed("efgh") == []
    assert splitter.flush() == ["abcd efgh"]


@settings(max_examples=200)
@given(
    words=st.lists(st.text(alphabet="abcdefgh", min_size=1, max_size=12), max_size=60),
    gaps=st.lists(st.sampled_from([" ", "  ", "\t ", "   "]), min_size=60, max_size=60),
    limit=st.integers(1, 40),
)
def test_every_cut_sentence_reached_the_limit(
    words: list[str], gaps: list[str], limit: int
) -> None:
    text = "".join(gap + word for gap, word in zip(gaps, words, strict=False))
    sentences = split_all(text, limit)
    assert " ".join(sentences).split() == words
    # no terminators or line breaks: every sentence but the last was cut by the limit
    for sentence in sentences[:-1]:
        assert len(sentence) >= limit
        assert len(sentence.rsplit(" ", 1)[0].rstrip()) < limit or " " not in sentence


def test_a_sentence_that_starts_with_a_closing_quote_is_not_ended_by_it() -> None:
    assert split_all('Hi. " there') == ["Hi.", '" there']
    assert split_all("Done. \u201d and then\u2026 more") == [
        "Done.",
        "\u201d and then\u2026",
        "more",
    ]
    assert split_all(") ok. Next") == [") ok.", "Next"]


def test_a_closer_after_a_terminator_keeps_the_sentence_ending() -> None:
    assert split_all("He said 'no.' Then (left.) Bye") == ["He said 'no.'", "Then (left.)", "Bye"]
    assert split_all("Is it \u201cfine?\u201d\u00bb Yes") == [
        "Is it \u201cfine?\u201d\u00bb",
        "Yes",
    ]
    assert split_all("A. b") == ["A.", "b"]
    assert split_all("A.b c") == ["A.b c"]  # a terminator then a letter: not an end


def test_split_all_cuts_at_300_characters_unless_told_otherwise() -> None:
    text = "x" * 300 + " end"
    assert split_all(text) == ["x" * 300, "end"]
    assert split_all(text, 301) == [text]
