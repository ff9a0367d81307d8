"""The tts service's request parsing, tried as an attacker would: no input gives a 5xx, a
traceback in the log, a hung connection or a malformed frame, and every error has the
documented shape (``tts/errors.schema.json``).

The real app, in-process (tests/asgi_exchange.py), with the real espeak engine: valid
requests are synthesised for real, so a body that passes parsing is spoken, not stubbed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

import vibevoice_platform.tts
from asgi_exchange import HTTPExchange, Served, WebSocketSession, served
from json_documents import bodies, split
from request_parts import HEADERS, METHODS, RAW_QUERIES, paths
from vibevoice_platform.tts.app import create_app
from vibevoice_platform.tts.engines import Engine
from vibevoice_platform.tts.settings import Settings

MAX_CHARS = 300
SETTINGS = Settings(engine="espeak", max_text_chars=MAX_CHARS, max_concurrency=2)
MAX_BODY_BYTES = MAX_CHARS * 12 + 4096  # the service's own limit: beyond it, 413 unread
SPOKEN = st.one_of(
    st.sampled_from(["Hello there.", "Hi", "A 1", "Ünïcödé, ça va?"]),
    st.text(max_size=40),
    st.text(min_size=MAX_CHARS - 1, max_size=MAX_CHARS + 2),  # around the limit
)
GOOD = {
    "text": SPOKEN,
    "voice": st.sampled_from(["en-us", "EN-US", "de", "en-gb-x-rp"]),
    "format": st.sampled_from(["pcm", "wav"]),
}
SCHEMA = json.loads(
    (Path(vibevoice_platform.tts.__file__).parent / "errors.schema.json").read_text()
)
ENDPOINTS = ["/v1/tts", "/stream", "/config", "/health", "/ready", "/metrics"]


def _validator(definition: str) -> Draft202012Validator:
    return Draft202012Validator({"$defs": SCHEMA["$defs"], "$ref": f"#/$defs/{definition}"})


HTTP_ERROR = _validator("http_error")
STREAM_ERROR = _validator("stream_error")

JSON = b"application/json"
JSON_TYPES = st.sampled_from(
    [
        JSON,
        b"application/json; charset=utf-8",
        b"application/json; charset=latin-1",
        b"Application/JSON",
        b"application/problem+json",
    ]
)
CONTENT_TYPES = st.one_of(JSON_TYPES, JSON_TYPES, JSON_TYPES, st.binary(max_size=40))


class _Errors(logging.Handler):
    """Every record at WARNING or above, or with a traceback, from any logger."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING or record.exc_info:
            self.records.append(record)


@pytest.fixture(scope="module")
def logged() -> Iterator[_Errors]:
    handler = _Errors()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


@pytest.fixture(scope="module")
def tts(espeak_engine: Engine) -> Iterator[Served]:
    with served(create_app(SETTINGS, espeak_engine)) as app:
        yield app


def _assert_well_answered(exchange: HTTPExchange, logged: _Errors) -> None:
    assert not exchange.hung, "the request hung"
    assert exchange.raised is None, f"the app raised {exchange.raised!r}"
    assert exchange.violations == []
    assert exchange.complete
    assert exchange.status is not None
    assert exchange.status < 500, exchange.body[:300]
    if exchange.status >= 400:
        assert exchange.header("content-type") == "application/json"
        HTTP_ERROR.validate(exchange.json())
    lines = [record.getMessage()[:200] for record in logged.records]
    logged.records.clear()
    assert lines == []


def _assert_well_streamed(session: WebSocketSession, logged: _Errors) -> None:
    assert not session.hung, "the stream hung"
    assert session.raised is None, f"the app raised {session.raised!r}"
    assert session.violations == []
    assert session.accepted
    assert session.close_code in (1000, 1008), session.events
    events = session.events
    if session.close_code == 1000:
        assert [event["event"] for event in events] == ["started", "first_audio", "finished"]
        assert any(isinstance(frame, bytes) for frame in session.frames)
    else:
        assert len(events) == 1
        STREAM_ERROR.validate(events[0])
    lines = [record.getMessage()[:200] for record in logged.records]
    logged.records.clear()
    assert lines == []


# What gave a 5xx or a malformed error before this test existed: nesting past the parser's
# recursion (500), a field named by a lone surrogate, escaped or as raw bytes (500: the
# message naming it could not be encoded), a content type with a line break (a 415 whose
# message was two lines).
@example(body=[b"[" * 5000], content_type=JSON, disconnect_early=False)
@example(body=[b'{"text": "Hi", "\xed\xa0\x80": 1}'], content_type=JSON, disconnect_early=False)
@example(body=[b'{"\\ud800": 1}'], content_type=JSON, disconnect_early=False)
@example(body=[b"{}"], content_type=b"text/plain\r\n", disconnect_early=False)
@given(
    body=bodies(GOOD, MAX_BODY_BYTES).flatmap(split),
    content_type=CONTENT_TYPES,
    disconnect_early=st.booleans(),
)
def test_no_body_gets_a_5xx_and_every_refusal_is_documented(
    tts: Served, logged: _Errors, body: list[bytes], content_type: bytes, disconnect_early: bool
) -> None:
    exchange = tts.http(
        "POST",
        "/v1/tts",
        headers=[(b"content-type", content_type)],
        body=body,
        disconnect_early=disconnect_early and len(body) > 1,
    )
    _assert_well_answered(exchange, logged)


def _query(pairs: list[tuple[str, str]], safe: str) -> bytes:
    def escaped(text: str) -> str:
        return quote(text, safe=safe, errors="surrogatepass")

    return "&".join(f"{escaped(key)}={escaped(value)}" for key, value in pairs).encode()


PARAMETER_VALUES = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["Hello there.", "en-us", "1.5", "5", "nan", "inf", "-1", "0", "1e400"]),
    st.integers().map(str),
    st.floats().map(repr),
    st.text("%0123456789abcdefABCDEFxX+", max_size=12),  # broken percent-escapes
    st.text(st.characters(min_codepoint=0x80), min_size=20, max_size=60),  # wide in UTF-8
)
QUERIES = st.one_of(
    st.binary(max_size=400),
    st.builds(
        _query,
        st.lists(
            st.tuples(
                st.sampled_from(["text", "voice", "cfg", "steps", "text", "x"]), PARAMETER_VALUES
            ),
            max_size=6,
        ),
        st.sampled_from(["", "/", "%=&"]),
    ),
)


# Before: a close reason cut at 120 characters, up to 480 bytes of UTF-8; websockets refuses
# a close frame over 125 bytes (ProtocolError), so the 1008 never reached the client.
@example(query=b"text=Hi&cfg=" + quote("\u00e9" * 100).encode(), messages=[])
@given(query=QUERIES, messages=st.lists(st.one_of(st.text(max_size=20), st.binary(max_size=20))))
def test_no_query_string_breaks_the_stream(
    tts: Served, logged: _Errors, query: bytes, messages: list[str | bytes]
) -> None:
    session = tts.websocket("/stream", query=query, messages=messages, hold_open=True)
    _assert_well_streamed(session, logged)


@given(
    method=METHODS,
    path=paths(ENDPOINTS),
    query=RAW_QUERIES,
    headers=HEADERS,
)
def test_no_method_path_query_or_header_gets_a_5xx(
    tts: Served,
    logged: _Errors,
    method: str,
    path: str,
    query: bytes,
    headers: list[tuple[bytes, bytes]],
) -> None:
    exchange = tts.http(method, path, query=query, headers=headers, body=[b"{}"])
    _assert_well_answered(exchange, logged)


@given(
    path=paths(ENDPOINTS),
    query=RAW_QUERIES,
    headers=HEADERS,
)
def test_no_websocket_path_query_or_header_breaks_the_server(
    tts: Served, logged: _Errors, path: str, query: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    session = tts.websocket(path, query=query, headers=headers, hold_open=True)
    if path == "/stream":
        _assert_well_streamed(session, logged)
        return
    assert not session.hung, "the handshake hung"
    assert session.raised is None, f"the app raised {session.raised!r}"
    assert session.violations == []
    assert not session.accepted  # no such endpoint: closed at the handshake
    assert logged.records == []


def test_the_schema_is_a_valid_json_schema_matching_real_errors(tts: Served) -> None:
    Draft202012Validator.check_schema(SCHEMA)
    refused = tts.http("POST", "/v1/tts", headers=[(b"content-type", b"text/plain")])
    Draft202012Validator(SCHEMA).validate(refused.json())
    closed = tts.websocket("/stream", query=b"text=", hold_open=True)
    Draft202012Validator(SCHEMA).validate(closed.events[0])
    with pytest.raises(Exception, match="is not valid"):
        Draft202012Validator(SCHEMA).validate({"error": "two\nlines"})
