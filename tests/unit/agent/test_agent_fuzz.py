"""The agent's request parsing, tried as an attacker would: no input gives a 5xx, a
traceback in the log, a hung connection or a malformed frame, and every error has the
documented shape (``agent/errors.schema.json``), bad input with ``kind: bad_input``.

The real agent app, in-process (tests/asgi_exchange.py), with the local responder (the
agent's LLM stand-in) and speaking through the real tts app with the espeak engine, also
in-process (an ``httpx.ASGITransport``): a turn that passes parsing is answered for real.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

import vibevoice_platform.agent
from asgi_exchange import HTTPExchange, Served, WebSocketSession, served
from json_documents import bodies, documents, near, split
from request_parts import HEADERS, METHODS, RAW_QUERIES, paths
from vibevoice_platform.agent import errors
from vibevoice_platform.agent.app import create_app
from vibevoice_platform.agent.frames import MEDIA_TYPE, decode_reply
from vibevoice_platform.agent.requests import TURN_FIELDS
from vibevoice_platform.agent.responders import LocalResponder
from vibevoice_platform.agent.settings import Settings
from vibevoice_platform.agent.tokens import SUBPROTOCOL, TokenChecker
from vibevoice_platform.agent.tts_client import TTSClient
from vibevoice_platform.tts.app import create_app as create_tts_app
from vibevoice_platform.tts.engines import Engine, load_engine
from vibevoice_platform.tts.settings import Settings as TTSSettings

MAX_CHARS = 300
SETTINGS = Settings(max_turn_chars=MAX_CHARS, max_concurrency=2)
MAX_BODY_BYTES = MAX_CHARS * 12 + 4096  # the agent's own limit: beyond it, 413 unread
TOKEN = "fuzz-token-0123456789abcdef"  # noqa: S105 - a test token
SCHEMA = json.loads(
    (Path(vibevoice_platform.agent.__file__).parent / "errors.schema.json").read_text()
)
ENDPOINTS = ["/v1/reply", "/v1/converse", "/health", "/ready", "/metrics"]
BAD_INPUT_STATUSES = (400, 413, 415, 422)
SAID = st.one_of(
    st.sampled_from(["Hello there.", "Hi", "…", "Ünïcödé, ça va?"]),
    st.text(max_size=40),
    st.text(min_size=MAX_CHARS - 1, max_size=MAX_CHARS + 2),  # around the limit
)


def _validator(definition: str) -> Draft202012Validator:
    return Draft202012Validator({"$defs": SCHEMA["$defs"], "$ref": f"#/$defs/{definition}"})


HTTP_ERROR = _validator("http_error")
ERROR_EVENT = _validator("error_event")

JSON = b"application/json"
JSON_TYPES = st.sampled_from(
    [
        JSON,
        b"application/json; charset=utf-8",
        b"APPLICATION/JSON",
        b"application/vnd.api+json",
    ]
)
CONTENT_TYPES = st.one_of(JSON_TYPES, JSON_TYPES, JSON_TYPES, st.binary(max_size=40))


class _Errors(logging.Handler):
    """Every record at WARNING or above, or with a traceback, from any logger: an unhandled
    error, and also a failed turn (a warning), which no input may cause with tts working."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING or record.exc_info:
            self.records.append(record)

    def take(self) -> list[str]:
        lines = [record.getMessage()[:200] for record in self.records]
        self.records.clear()
        return lines


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
def espeak_engine() -> Engine:
    return load_engine("espeak", TTSSettings(engine="espeak"))


@pytest.fixture(scope="module")
def tts_app(espeak_engine: Engine) -> Iterator[Served]:
    settings = TTSSettings(engine="espeak", max_concurrency=4, log_requests=False)
    with served(create_tts_app(settings, espeak_engine)) as tts:
        yield tts


def _agent(tts: Served, tokens: TokenChecker | None = None) -> Iterator[Served]:
    client = TTSClient(
        "http://tts.invalid", timeout=10.0, transport=httpx.ASGITransport(app=tts.app)
    )
    with served(create_app(SETTINGS, LocalResponder(), tts=client, tokens=tokens)) as agent:
        yield agent


@pytest.fixture(scope="module")
def agent(tts_app: Served) -> Iterator[Served]:
    yield from _agent(tts_app)


@pytest.fixture(scope="module")
def guarded_agent(tts_app: Served) -> Iterator[Served]:
    yield from _agent(tts_app, TokenChecker((TOKEN,)))


def _assert_well_answered(exchange: HTTPExchange, logged: _Errors) -> None:
    assert not exchange.hung, "the request hung"
    assert exchange.raised is None, f"the app raised {exchange.raised!r}"
    assert exchange.violations == []
    assert exchange.complete
    assert exchange.status is not None
    assert exchange.status < 500, exchange.body[:300]
    if exchange.status >= 400:
        assert exchange.header("content-type") == "application/json"
        body = exchange.json()
        HTTP_ERROR.validate(body)
        if exchange.status in BAD_INPUT_STATUSES:
            assert body["kind"] == errors.BAD_INPUT
    elif exchange.header("content-type") == MEDIA_TYPE:
        reply = decode_reply(exchange.body)
        assert reply.final["type"] == "end_of_turn", reply.final
        assert reply.audio
    assert logged.take() == []


# What gave a 5xx or a malformed error before this test existed: nesting past the parser's
# recursion (500), a field named by a lone surrogate (500), a content type with a line break
# (a two-line message), and every refusal (no kind), a client gone mid-body included.
@example(body=[b"[" * 5000], content_type=JSON, disconnect_early=False)
@example(body=[b'{"\xed\xa0\x80": []}'], content_type=JSON, disconnect_early=False)
@example(body=[b"{}"], content_type=b"text/plain\r\n", disconnect_early=False)
@example(body=[b'{"text": 1}'], content_type=JSON, disconnect_early=False)
@example(body=[b'{"te', b'xt": "Hi"}'], content_type=JSON, disconnect_early=True)
@given(
    body=bodies({"text": SAID}, MAX_BODY_BYTES).flatmap(split),
    content_type=CONTENT_TYPES,
    disconnect_early=st.booleans(),
)
def test_no_reply_body_gets_a_5xx_and_every_refusal_is_bad_input(
    agent: Served, logged: _Errors, body: list[bytes], content_type: bytes, disconnect_early: bool
) -> None:
    exchange = agent.http(
        "POST",
        "/v1/reply",
        headers=[(b"content-type", content_type)],
        body=body,
        disconnect_early=disconnect_early and len(body) > 1,
    )
    _assert_well_answered(exchange, logged)


TURNS = st.one_of(
    documents(sorted(TURN_FIELDS)),
    near({"type": st.just("turn"), "text": SAID}),
    st.sampled_from(['{"type": "turn", "text": "Hello there."}', '{"type":"turn","text":"Hi"}']),
    st.binary(max_size=200),
    st.text(max_size=200),
)


def _assert_well_conversed(session: WebSocketSession, logged: _Errors) -> None:
    assert not session.hung, "the conversation hung"
    assert session.raised is None, f"the app raised {session.raised!r}"
    assert session.violations == []
    assert session.accepted
    events = session.events
    assert events[0]["type"] == "session"
    for event in events[1:]:
        if event["type"] == "error":
            ERROR_EVENT.validate(event)
            assert event["kind"] == errors.BAD_INPUT, event
            assert event["status"] in BAD_INPUT_STATUSES
            assert event is events[-1]
            assert session.close_code == 1008
    if session.close_code is not None:
        assert session.close_code == 1008
        assert events[-1]["type"] == "error"
    assert logged.take() == []


# Before: nesting past the parser's recursion raised out of the app (a 1011 close, no error
# event); a field named by a lone surrogate made an error event that is not UTF-8.
@example(messages=["[" * 5000])
@example(messages=['{"type": "turn", "\\ud800": 1}'])
@given(messages=st.lists(TURNS, min_size=1, max_size=3))
def test_no_turn_message_breaks_the_conversation(
    agent: Served, logged: _Errors, messages: list[str | bytes]
) -> None:
    session = agent.websocket(
        "/v1/converse", subprotocols=[SUBPROTOCOL], messages=messages, hold_open=False
    )
    _assert_well_conversed(session, logged)


AUTHORIZATIONS = st.one_of(
    st.binary(max_size=80),
    st.sampled_from([b"Bearer " + TOKEN.encode(), b"bearer " + TOKEN.encode(), b"Bearer", b""]),
    st.text(max_size=60).map(lambda t: ("Bearer " + t).encode("utf-8", "surrogatepass")),
)
SUBPROTOCOLS = st.lists(
    st.one_of(
        st.sampled_from([SUBPROTOCOL, "bearer." + TOKEN, "bearer.", "bearer"]),
        st.text(max_size=30),
    ),
    max_size=4,
)


@given(
    authorization=st.one_of(st.none(), AUTHORIZATIONS),
    subprotocols=SUBPROTOCOLS,
    path=st.sampled_from(ENDPOINTS),
)
def test_no_credential_gets_a_5xx(
    guarded_agent: Served,
    logged: _Errors,
    authorization: bytes | None,
    subprotocols: list[str],
    path: str,
) -> None:
    headers = [] if authorization is None else [(b"authorization", authorization)]
    if path == "/v1/converse":
        session = guarded_agent.websocket(
            path, headers=headers, subprotocols=subprotocols, messages=["{}"]
        )
        assert not session.hung
        assert session.raised is None
        assert session.violations == []
        if session.denial is not None:
            assert session.denial.status == 401
            HTTP_ERROR.validate(session.denial.json())
        assert logged.take() == []
        return
    exchange = guarded_agent.http(
        "POST" if path == "/v1/reply" else "GET",
        path,
        headers=[*headers, (b"content-type", b"application/json")],
        body=[b'{"text": 1}'],
    )
    _assert_well_answered(exchange, logged)


# Before: 404 and 405 had no kind.
@example(method="GET", path="/v1/reply", query=b"", headers=[])
@example(method="GET", path="/nowhere", query=b"", headers=[])
@given(
    method=METHODS,
    path=paths(ENDPOINTS),
    query=RAW_QUERIES,
    headers=HEADERS,
)
def test_no_method_path_query_or_header_gets_a_5xx(
    agent: Served,
    logged: _Errors,
    method: str,
    path: str,
    query: bytes,
    headers: list[tuple[bytes, bytes]],
) -> None:
    exchange = agent.http(method, path, query=query, headers=headers, body=[b"{}"])
    _assert_well_answered(exchange, logged)


@given(
    path=paths(ENDPOINTS),
    query=RAW_QUERIES,
    headers=HEADERS,
    subprotocols=SUBPROTOCOLS,
    messages=st.lists(TURNS, max_size=2),
)
def test_no_websocket_path_query_or_header_breaks_the_server(
    agent: Served,
    logged: _Errors,
    path: str,
    query: bytes,
    headers: list[tuple[bytes, bytes]],
    subprotocols: list[str],
    messages: list[str | bytes],
) -> None:
    session = agent.websocket(
        path, query=query, headers=headers, subprotocols=subprotocols, messages=messages
    )
    if path == "/v1/converse":
        _assert_well_conversed(session, logged)
        return
    assert not session.hung, "the handshake hung"
    assert session.raised is None, f"the app raised {session.raised!r}"
    assert session.violations == []
    assert not session.accepted  # no such endpoint: closed at the handshake
    assert logged.take() == []


def test_the_schema_is_a_valid_json_schema_naming_every_kind(agent: Served) -> None:
    Draft202012Validator.check_schema(SCHEMA)
    kinds = {value for name, value in vars(errors).items() if name.isupper()}
    assert set(SCHEMA["$defs"]["kind"]["enum"]) == kinds
    refused = agent.http("POST", "/v1/reply", headers=[(b"content-type", b"text/plain")])
    Draft202012Validator(SCHEMA).validate(refused.json())
    closed = agent.websocket("/v1/converse", messages=[b"\x00"])
    Draft202012Validator(SCHEMA).validate(closed.events[-1])
