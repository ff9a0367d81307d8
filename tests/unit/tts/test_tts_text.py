"""Properties of the text segmentation that decides what the engine synthesizes first."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from vibevoice_platform.tts.text import (
    FIRST_FALLBACK_WORDS,
    FIRST_MAX_WORDS,
    FIRST_MIN_WORDS,
    MAX_WORDS,
    clean_text,
    first_segment,
    has_lone_surrogate,
    has_speakable_text,
    segment,
    split_sentences,
)

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ\u00e9\u00fc"
plain_words = st.text(alphabet=LETTERS, min_size=1, max_size=9)
suffixes = st.sampled_from(["", "", "", "", ",", ";", ":", ".", "!", "?", "...", "\u2014", '."'])
prefixes = st.sampled_from(["", "", "", "(", '"', "\u201c"])
separators = st.sampled_from([" ", " ", " ", "  ", "\n", "\n\n", "\t", " - ", " \u2014 "])
decorated_words = st.builds(lambda p, w, s: p + w + s, prefixes, plain_words, suffixes)


@st.composite
def prose(draw: st.DrawFn) -> str:
    words = draw(st.lists(decorated_words, min_size=0, max_size=80))
    text = ""
    for word in words:
        text += word + draw(separators)
    return draw(st.sampled_from(["", " ", "\n"])) + text


any_text = st.one_of(prose(), st.text(max_size=300))


@st.composite
def sentences(draw: st.DrawFn, max_words: int = MAX_WORDS) -> list[str]:
    """Sentences of plain words, each ending in "now." and within the length limit."""
    count = draw(st.integers(min_value=2, max_value=6))
    result = []
    for _ in range(count):
        words = draw(st.lists(plain_words, min_size=0, max_size=max_words - 1))
        # "now." always ends a sentence (unlike an initial such as "A." or "Dr.").
        result.append(" ".join([*words, "now."]))
    return result


@settings(max_examples=300)
@given(any_text)
@example("Hello there, welcome to the realtime voice agent. How can I help you today?")
@example("   \n\t  ")
def test_joining_segments_gives_back_the_words_in_order(text: str) -> None:
    assert " ".join(segment(text)).split() == text.split()


@settings(max_examples=300)
@given(any_text)
def test_no_segment_is_empty_or_padded(text: str) -> None:
    for part in segment(text):
        assert part.strip()
        assert part == part.strip()
        assert "  " not in part


@settings(max_examples=300)
@given(any_text)
def test_blank_text_has_no_segments_and_other_text_has_some(text: str) -> None:
    assert (segment(text) == []) == (text.split() == [])


@settings(max_examples=300)
@given(any_text)
def test_first_segment_is_bounded(text: str) -> None:
    parts = segment(text)
    if parts:
        assert len(parts[0].split()) <= FIRST_MAX_WORDS
        assert first_segment(text) == parts[0]
    else:
        assert first_segment(text) == ""


@settings(max_examples=300)
@given(any_text)
def test_every_segment_is_bounded(text: str) -> None:
    assert all(len(part.split()) <= MAX_WORDS for part in segment(text))


@settings(max_examples=300)
@given(any_text)
def test_segmenting_is_idempotent(text: str) -> None:
    parts = segment(text)
    assert segment("\n\n".join(parts)) == parts


@settings(max_examples=200)
@given(sentences())
def test_later_sentences_stay_whole(parts: list[str]) -> None:
    text = " ".join(parts)
    result = segment(text)
    later = parts[1:]
    assert result[-len(later) :] == later
    head = result[: -len(later)]
    assert " ".join(head) == parts[0]
    assert len(head) in (1, 2)


@settings(max_examples=200)
@given(
    st.lists(plain_words, min_size=FIRST_MAX_WORDS + 1, max_size=25),
    st.integers(min_value=FIRST_MIN_WORDS, max_value=FIRST_MAX_WORDS),
)
def test_long_first_sentence_is_cut_at_its_first_clause(words: list[str], comma: int) -> None:
    words = list(words)
    words[comma - 1] += ","
    text = " ".join(words) + ". And then some more words follow here."
    assert segment(text)[0] == " ".join(words[:comma])


@settings(max_examples=200)
@given(st.lists(plain_words, min_size=FIRST_MAX_WORDS + 1, max_size=25))
def test_long_first_sentence_without_clauses_is_cut_after_a_few_words(words: list[str]) -> None:
    text = " ".join(words) + "."
    parts = segment(text)
    assert parts[0] == " ".join(words[:FIRST_FALLBACK_WORDS])
    assert " ".join(parts[1:]).split() == [*words[FIRST_FALLBACK_WORDS:-1], words[-1] + "."]


@settings(max_examples=200)
@given(st.lists(plain_words, min_size=1, max_size=FIRST_MAX_WORDS), st.booleans())
def test_short_first_sentence_stays_whole(words: list[str], comma: bool) -> None:
    if comma and len(words) > 1:
        words = [words[0] + ",", *words[1:]]
    text = " ".join(words) + "! Second sentence here."
    assert segment(text)[0] == " ".join(words) + "!"


@settings(max_examples=200)
@given(st.lists(plain_words, min_size=MAX_WORDS + 1, max_size=120))
def test_overlong_later_sentence_is_split_at_clauses(words: list[str]) -> None:
    words = list(words)
    for index in range(9, len(words) - 1, 10):
        words[index] += ";"
    text = "Hi there. " + " ".join(words) + "."
    later = segment(text)[1:]
    assert all(len(part.split()) <= MAX_WORDS for part in later)
    for part in later[:-1]:
        assert part.endswith(";")


def test_examples_read_naturally() -> None:
    greeting = "Hello there, welcome to the realtime voice agent. How can I help you today?"
    assert segment(greeting) == [
        "Hello there,",
        "welcome to the realtime voice agent.",
        "How can I help you today?",
    ]
    assert segment("Dr. Smith met J. R. Tolkien. Bye!") == ["Dr. Smith met J. R. Tolkien.", "Bye!"]
    assert segment("First paragraph\n\nsecond one") == ["First paragraph", "second one"]


def test_sentences_split_at_end_marks_and_closing_quotes() -> None:
    text = 'He said "stop." Then \u201cwhy?\u201d she asked\u2026 Fine!'
    assert split_sentences(text) == [
        ["He", "said", '"stop."'],
        ["Then", "\u201cwhy?\u201d"],
        ["she", "asked\u2026"],
        ["Fine!"],
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"first_min_words": 0}, "first_min_words"),
        ({"first_fallback_words": 9}, "first_fallback_words"),
        ({"max_words": 3}, "max_words"),
    ],
)
def test_bad_limits_are_rejected(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        segment("some text", **kwargs)


@pytest.mark.parametrize(
    ("text", "speakable"),
    [("hello", True), ("42", True), ("...", False), ("  ?! ", False), ("\u00e9t\u00e9", True)],
)
def test_speakable_text_needs_a_letter_or_digit(text: str, speakable: bool) -> None:
    assert has_speakable_text(text) is speakable


@settings(max_examples=200)
@given(st.text(alphabet=st.characters(codec=None), max_size=80))
def test_clean_text_leaves_only_encodable_non_control_text(text: str) -> None:
    cleaned = clean_text(text)
    cleaned.encode("utf-8")  # never raises
    assert "\0" not in cleaned
    assert len(cleaned) == len(text)
    assert not any(0x80 <= ord(c) <= 0x9F or (ord(c) < 0x20 and c not in "\t\n\r") for c in cleaned)


def test_clean_text_examples() -> None:
    assert clean_text("a\0b\x1bc\td\n") == "a b c\td\n"
    assert clean_text("x\ud800y") == "x\ufffdy"
    assert has_lone_surrogate("x\udfffy")
    assert not has_lone_surrogate("emoji \U0001f600")
