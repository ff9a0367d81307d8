"""Cutting streamed reply text into sentences as soon as each one is complete (pure).

The LLM's text arrives in arbitrary pieces ("Hel", "lo there. How", ...). A
:class:`SentenceSplitter` is fed the pieces and returns each sentence the moment it is known
to be complete, so it can go to tts while the rest of the reply is still streaming.

The rule looks only at the text seen so far, character by character, so the sentences do not
depend on how the text was cut into pieces (property-tested):

* a sentence ends at whitespace that follows a terminator (``. ! ? …`` and the CJK ones),
  possibly with closing quotes or brackets in between ("He said 'no.' Then");
* a line break ends a sentence too (replies often use one between thoughts);
* a sentence that reaches ``max_chars`` without ending is cut at the next whitespace, so tts
  never waits for, or receives, an unbounded piece.

Nothing is dropped or changed except whitespace at the edges of a sentence.
"""

from __future__ import annotations

TERMINATORS = frozenset(".!?\u2026\u3002\uff01\uff1f")  # . ! ? … and the CJK full stop, ! and ?
CLOSERS = frozenset("\"')]}\u00bb\u201d\u2019")  # quotes and brackets that close a sentence


class SentenceSplitter:
    """Feed streamed text in; get complete sentences out."""

    def __init__(self, max_chars: int = 300) -> None:
        if max_chars < 1:
            raise ValueError("max_chars must be at least 1")
        self.max_chars = max_chars
        self._current: list[str] = []
        self._after_terminator = False

    def feed(self, text: str) -> list[str]:
        """Add ``text``; return the sentences it completed (stripped, never empty)."""
        done: list[str] = []
        for char in text:
            if char.isspace() and not self._current:
                continue  # whitespace before a sentence is not part of it, nor of its length
            if char.isspace() and self._ends_here(char):
                self._emit(done)
                continue
            self._current.append(char)
            if char.isspace():
                continue
            if char in TERMINATORS:
                self._after_terminator = True
            elif char not in CLOSERS:
                self._after_terminator = False
        return done

    def flush(self) -> list[str]:
        """The rest, once the stream has ended (zero or one sentence)."""
        done: list[str] = []
        self._emit(done)
        return done

    def _ends_here(self, char: str) -> bool:
        if char in "\n\r\u2028\u2029" or self._after_terminator:
            return True
        # at the first whitespace after a word: trailing whitespace would be stripped off
        return len(self._current) >= self.max_chars and not self._current[-1].isspace()

    def _emit(self, done: list[str]) -> None:
        sentence = "".join(self._current).strip()
        self._current = []
        self._after_terminator = False
        if sentence:
            done.append(sentence)


def split_all(text: str, max_chars: int = 300) -> list[str]:
    """Every sentence of a complete text (what streaming it in any pieces gives)."""
    splitter = SentenceSplitter(max_chars)
    return [*splitter.feed(text), *splitter.flush()]


def is_speakable(sentence: str) -> bool:
    """Whether tts can say it: it has a letter or a digit (tts refuses text without one)."""
    return any(char.isalnum() for char in sentence)
