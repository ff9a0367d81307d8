"""The request parsing both services share (``vibevoice_platform.common.requests``) and the
error messages it makes, as properties over what a client can send."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from json_documents import SURROGATES, bodies, documents
from vibevoice_platform.common.requests import (
    MAX_SHOWN_CHARS,
    check_text,
    parse_object,
    refuse_unknown,
    shown,
)
from vibevoice_platform.tts.errors import InputError, printable
from vibevoice_platform.tts.ws_stream import MAX_CLOSE_REASON_BYTES, close_reason

ANY_TEXT = st.text(st.one_of(st.characters(), SURROGATES))
FIELDS = {"text": st.text(max_size=20), "voice": st.text(max_size=5)}


def _outcome(call: Callable[[], object]) -> object:
    """What ``call`` returns, or the :class:`InputError` it raises."""
    try:
        return call()
    except InputError as exc:
        return exc


def _assert_one_printable_line(message: str) -> None:
    assert message
    assert message.splitlines() == [message]
    message.encode("utf-8")  # no lone surrogate


@given(bodies(FIELDS, max_bytes=8192))
def test_parse_object_gives_an_object_or_a_400_in_one_line(raw: bytes) -> None:
    outcome = _outcome(lambda: parse_object(raw))
    if isinstance(outcome, InputError):
        assert outcome.status == 400
        _assert_one_printable_line(outcome.message)
    else:
        assert isinstance(outcome, dict)


@given(documents(sorted(FIELDS)))
def test_parse_object_takes_websocket_text_the_same_way(raw: str) -> None:
    outcome = _outcome(lambda: parse_object(raw))
    if isinstance(outcome, InputError):
        assert outcome.status == 400
        _assert_one_printable_line(outcome.message)
    else:
        assert isinstance(outcome, dict)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"[" * 100_000, "nested too deeply"),
        (b'{"a": NaN}', "NaN is not a JSON value"),
        (b'{"a": -Infinity}', "-Infinity is not a JSON value"),
        (b'{"\xed\xa0\x80": 1}', "not utf-8"),  # a surrogate encoded in UTF-8 is not UTF-8
        (b'{"text": "\xff"}', "not utf-8"),
        (b"\xff\xfe{\x00}", "not utf-16"),  # a byte order mark, then 1.5 characters
    ],
)
def test_what_is_malformed(raw: bytes, reason: str) -> None:
    with pytest.raises(InputError, match=reason) as refused:
        parse_object(raw)
    assert refused.value.status == 400


def test_a_byte_order_mark_and_utf16_are_read() -> None:
    assert parse_object('{"text": "Hi"}'.encode("utf-8-sig")) == {"text": "Hi"}
    assert parse_object('{"text": "Hi"}'.encode("utf-16")) == {"text": "Hi"}


@given(st.dictionaries(ANY_TEXT, st.none(), max_size=12))
def test_unknown_fields_are_named_in_one_short_line(payload: dict[str, Any]) -> None:
    allowed = frozenset({"text"})
    if set(payload) <= allowed:
        refuse_unknown(payload, allowed)
        return
    with pytest.raises(InputError) as refused:
        refuse_unknown(payload, allowed)
    assert refused.value.status == 422
    _assert_one_printable_line(refused.value.message)
    assert len(refused.value.message) < 5 * (12 * MAX_SHOWN_CHARS + 8) + 80


@given(ANY_TEXT)
def test_shown_text_is_quoted_ascii_on_one_line(value: str) -> None:
    quoted = shown(value)
    assert quoted.isascii()
    assert quoted.isprintable()
    start = value[:MAX_SHOWN_CHARS]
    assert json.loads(quoted.removesuffix("...")) == json.loads(json.dumps(start))
    assert quoted.endswith("...") == (len(value) > MAX_SHOWN_CHARS)


@given(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), ANY_TEXT, st.lists(ANY_TEXT))
)
def test_check_text_gives_text_or_a_4xx(value: object) -> None:
    outcome = _outcome(lambda: check_text(value, max_chars=50))
    if isinstance(outcome, InputError):
        assert outcome.status in (413, 422)
        _assert_one_printable_line(outcome.message)
    else:
        assert outcome == value


@given(ANY_TEXT)
def test_printable_makes_one_line_of_utf8(message: str) -> None:
    _assert_one_printable_line(printable(message))


@given(ANY_TEXT)
def test_a_close_reason_fits_a_close_frame(message: str) -> None:
    reason = close_reason(printable(message))
    assert len(reason.encode("utf-8")) <= MAX_CLOSE_REASON_BYTES
    assert printable(message).startswith(reason)
