"""The agent service against the real tts service (espeak), a misbehaving tts and a local
Anthropic-compatible server; every server is real and listens on 127.0.0.1."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from agent_helpers import FaultyTTS, running_agent, running_faulty_tts
from anthropic_replay import ReplayServer, recorded_text, running_replay_server
from prometheus_client.parser import text_string_to_metric_families
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from vibevoice_ci.smoke.checks import rms_int16
from vibevoice_ci.smoke.local_service import LocalService, free_port
from vibevoice_platform.agent.frames import MEDIA_TYPE, decode_reply
from vibevoice_platform.agent.settings import Settings

# One worker for the whole module: the module's agent and replay server serve every test.
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("agent-service")]

API_KEY = "sk-ant-replay-test-key-0123456789"
TOKEN = "agent-test-token-0123456789abcdef"  # noqa: S105 - a test token
NEW_TOKEN = "agent-new-token-0123456789abcdef"  # noqa: S105 - a test token
WS_TIMEOUT = 30.0


@pytest.fixture(scope="module")
def replay() -> Iterator[ReplayServer]:
    with running_replay_server() as server:
        yield server


@pytest.fixture
def faulty() -> Iterator[FaultyTTS]:
    with running_faulty_tts() as server:
        yield server


@pytest.fixture(scope="module")
def agent(tts_espeak: LocalService) -> Iterator[str]:
    with running_agent(Settings(tts_url=tts_espeak.url)) as url:
        yield url


def reply(client: httpx.Client, url: str, text: str, **headers: str) -> httpx.Response:
    return client.post(f"{url}/v1/reply", json={"text": text}, headers=headers)


def ws_url(url: str) -> str:
    return url.replace("http://", "ws://") + "/v1/converse"


def receive_turn(
    ws: ClientConnection, timeout: float = WS_TIMEOUT
) -> tuple[list[dict[str, Any]], bytes, list[str]]:
    """Events, audio and the order of kinds ("text", "audio", event types) until the turn ends."""
    events: list[dict[str, Any]] = []
    audio = bytearray()
    order: list[str] = []
    while True:
        message = ws.recv(timeout=timeout)
        if isinstance(message, bytes):
            audio += message
            order.append("audio")
            continue
        event = json.loads(message)
        events.append(event)
        order.append(event["type"])
        if event["type"] in ("end_of_turn", "error"):
            return events, bytes(audio), order


def metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def server_log(caplog: pytest.LogCaptureFixture) -> str:
    """What the servers of this process logged (the test's own clients log their headers)."""
    clients = ("websockets.client", "httpx", "httpcore")
    return "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith(clients))


# ---- the local responder through the real tts -------------------------------------------


def test_a_reply_is_spoken_audio_then_the_end_of_turn_event(http: httpx.Client, agent: str) -> None:
    response = reply(http, agent, "Hello, can you hear me?")
    assert response.status_code == 200
    assert response.headers["content-type"] == MEDIA_TYPE
    assert response.headers["x-responder"] == "local"
    rate = int(response.headers["x-sample-rate"])
    body = decode_reply(response.content)
    end = body.final
    assert end is not None
    assert end["type"] == "end_of_turn"
    assert end["responder"] == "local"
    assert end["text"].startswith("You said: Hello can you hear me.")
    assert end["sentences"] == 3
    assert end["audio_bytes"] == len(body.audio)
    assert 2.0 < len(body.audio) / 2 / rate < 20.0
    assert rms_int16(body.audio) > 100
    assert end["ttft_ms"] <= end["first_sentence_ms"] <= end["ttfa_ms"]


def test_a_conversation_streams_text_and_audio_and_remembers_its_turns(agent: str) -> None:
    with connect(ws_url(agent), open_timeout=WS_TIMEOUT) as ws:
        session = json.loads(ws.recv(timeout=WS_TIMEOUT))
        assert session["type"] == "session"
        assert session["responder"] == "local"
        ws.send(json.dumps({"type": "turn", "text": "What time is it?"}))
        events, audio, order = receive_turn(ws)
        assert order[0] == "turn_started"
        assert order.index("audio_format") < order.index("audio")
        assert order[-1] == "end_of_turn"
        text = "".join(e["delta"] for e in events if e["type"] == "text")
        assert text.strip() == events[-1]["text"]
        assert "message number 1 of our conversation" in text
        assert events[-1]["audio_bytes"] == len(audio) > 0
        ws.send(json.dumps({"type": "turn", "text": "And tomorrow?"}))
        events, _, _ = receive_turn(ws)
        assert events[-1]["turn"] == 2
        assert "message number 2 of our conversation" in events[-1]["text"]
    # a new connection starts a new conversation
    with connect(ws_url(agent), open_timeout=WS_TIMEOUT) as ws:
        ws.recv(timeout=WS_TIMEOUT)
        ws.send(json.dumps({"type": "turn", "text": "Hi"}))
        events, _, _ = receive_turn(ws)
        assert "message number 1 of our conversation" in events[-1]["text"]


def test_health_ready_and_metrics(http: httpx.Client, agent: str) -> None:
    assert http.get(f"{agent}/health").json()["status"] == "ok"
    assert http.get(f"{agent}/ready").json() == {"status": "ready", "responder": "local"}
    before = http.get(f"{agent}/metrics").text
    assert reply(http, agent, "Count this.").status_code == 200
    after = http.get(f"{agent}/metrics").text
    labels = {"responder": "local", "endpoint": "/v1/reply", "outcome": "ok"}
    assert (
        metric(after, "agent_turns_total", **labels)
        == metric(before, "agent_turns_total", **labels) + 1
    )
    assert metric(after, "agent_time_to_first_audio_seconds_count", responder="local") >= 1
    assert metric(after, "agent_time_to_first_text_seconds_count", responder="local") >= 1


# ---- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"{", "application/json", 400),
        (b'"text"', "application/json", 400),
        (b'{"text": ""}', "application/json", 422),
        (b'{"text": "hi", "voise": "x"}', "application/json", 422),
        (json.dumps({"text": "a" * 2001}).encode(), "application/json", 413),
        (b'{"text": "hi"}', "text/plain", 415),
    ],
)
def test_bad_input_is_4xx_with_a_json_error(
    http: httpx.Client, agent: str, content: bytes, content_type: str, status: int
) -> None:
    response = http.post(
        f"{agent}/v1/reply", content=content, headers={"content-type": content_type}
    )
    assert response.status_code == status
    assert response.json()["error"]


@pytest.mark.parametrize(
    "message",
    ["{", '{"type": "turn"}', '{"type": "turn", "text": "hi", "x": 1}', '{"text": "hi"}', b"\x00"],
)
def test_bad_websocket_messages_get_an_error_event_and_close_1008(
    agent: str, message: str | bytes
) -> None:
    with connect(ws_url(agent), open_timeout=WS_TIMEOUT) as ws:
        ws.recv(timeout=WS_TIMEOUT)
        ws.send(message)
        event = json.loads(ws.recv(timeout=WS_TIMEOUT))
        assert event["type"] == "error"
        assert event["kind"] == "bad_input"
        with pytest.raises(Exception):  # noqa: B017, PT011 - the close, whatever the class
            ws.recv(timeout=WS_TIMEOUT)
        assert ws.close_code == 1008


def test_unknown_paths_and_methods(http: httpx.Client, agent: str) -> None:
    assert http.get(f"{agent}/nope").status_code == 404
    assert http.get(f"{agent}/v1/reply").status_code == 405


# ---- tts faults -----------------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "upstream"), [("429", 429), ("503", 503)])
def test_a_refusing_tts_is_a_503_naming_its_status_and_recovery_needs_no_restart(
    http: httpx.Client, faulty: FaultyTTS, mode: str, upstream: int
) -> None:
    with running_agent(Settings(tts_url=faulty.url, tts_timeout=2.0)) as url:
        faulty.mode = mode
        response = reply(http, url, "Hello there.")
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        body = response.json()
        assert body["kind"] == "tts_unavailable"
        assert body["upstream_status"] == upstream
        assert http.get(f"{url}/ready").status_code == 503
        faulty.mode = "ok"
        assert reply(http, url, "Hello again.").status_code == 200
        assert http.get(f"{url}/ready").status_code == 200


def test_an_unreachable_tts_is_a_502_and_not_ready(http: httpx.Client) -> None:
    with running_agent(Settings(tts_url=f"http://127.0.0.1:{free_port()}", tts_timeout=2.0)) as url:
        response = reply(http, url, "Hello there.")
        assert response.status_code == 502
        assert response.json()["kind"] == "tts_unavailable"
        ready = http.get(f"{url}/ready")
        assert ready.status_code == 503
        assert ready.json()["status"] == "tts_not_ready"
        assert http.get(f"{url}/health").status_code == 200


def test_a_stalled_tts_is_a_504_after_the_tts_timeout(
    http: httpx.Client, faulty: FaultyTTS
) -> None:
    with running_agent(Settings(tts_url=faulty.url, tts_timeout=0.5)) as url:
        faulty.mode = "stall"
        response = reply(http, url, "Hello there.")
        assert response.status_code == 504
        assert response.json()["kind"] == "tts_timeout"


@pytest.mark.parametrize(("mode", "kind"), [("drop", "tts_failed"), ("stall-mid", "tts_timeout")])
def test_a_tts_failing_after_audio_ends_the_stream_with_an_error_frame(
    http: httpx.Client, faulty: FaultyTTS, mode: str, kind: str
) -> None:
    with running_agent(Settings(tts_url=faulty.url, tts_timeout=0.5)) as url:
        faulty.mode = mode
        response = reply(http, url, "Hello there.")
        assert response.status_code == 200
        body = decode_reply(response.content)
        assert len(body.audio) > 0
        assert body.final is not None
        assert body.final["type"] == "error"
        assert body.final["kind"] == kind


def test_a_websocket_turn_with_a_refusing_tts_is_an_error_event_and_the_next_turn_works(
    faulty: FaultyTTS,
) -> None:
    with (
        running_agent(Settings(tts_url=faulty.url, tts_timeout=2.0)) as url,
        connect(ws_url(url), open_timeout=WS_TIMEOUT) as ws,
    ):
        ws.recv(timeout=WS_TIMEOUT)
        faulty.mode = "429"
        ws.send(json.dumps({"type": "turn", "text": "Hi"}))
        events, _, _ = receive_turn(ws)
        assert events[-1]["kind"] == "tts_unavailable"
        assert events[-1]["upstream_status"] == 429
        faulty.mode = "ok"
        ws.send(json.dumps({"type": "turn", "text": "Hi again"}))
        events, audio, _ = receive_turn(ws)
        assert events[-1]["type"] == "end_of_turn"
        assert audio
        # the failed turn is not part of the conversation
        assert "message number 1 of our conversation" in events[-1]["text"]


def test_a_turn_over_capacity_is_refused_at_once(
    http: httpx.Client, tts_espeak: LocalService, replay: ReplayServer
) -> None:
    settings = Settings(
        tts_url=tts_espeak.url,
        max_concurrency=1,
        api_key=API_KEY,
        anthropic_base_url=replay.url("slow"),
    )
    with running_agent(settings) as url, connect(ws_url(url), open_timeout=WS_TIMEOUT) as ws:
        ws.recv(timeout=WS_TIMEOUT)
        ws.send(json.dumps({"type": "turn", "text": "Take your time."}))
        assert json.loads(ws.recv(timeout=WS_TIMEOUT))["type"] == "turn_started"
        response = reply(http, url, "Me too.")
        assert response.status_code == 429
        assert response.json()["kind"] == "busy"
        events, _, _ = receive_turn(ws)
        assert events[-1]["type"] == "end_of_turn"


# ---- the Anthropic SDK path, against the local replay server ----------------------------------


def sdk_settings(tts: LocalService, replay: ReplayServer, scenario: str, **extra: Any) -> Settings:
    return Settings(
        tts_url=tts.url,
        api_key=API_KEY,
        anthropic_base_url=replay.url(scenario),
        model="claude-replay",
        system_prompt="Be brief.",
        **extra,
    )


def test_the_sdk_stream_is_spoken_and_sent_as_the_api_expects(
    http: httpx.Client, tts_espeak: LocalService, replay: ReplayServer
) -> None:
    with running_agent(sdk_settings(tts_espeak, replay, "greeting")) as url:
        response = reply(http, url, "How is the weather?")
    assert response.status_code == 200
    assert response.headers["x-responder"] == "anthropic"
    body = decode_reply(response.content)
    assert body.final is not None
    assert body.final["text"] == recorded_text("greeting")
    assert body.final["responder"] == "anthropic"
    assert body.final["sentences"] == 4
    assert rms_int16(body.audio) > 100
    sent = [r for r in replay.requests if r.path == "/greeting/v1/messages"][-1]
    # the SDK sends the key as x-api-key or (newer releases) as a bearer token
    assert API_KEY in (sent.headers.get("x-api-key"), sent.headers.get("authorization", "")[7:])
    assert sent.headers["anthropic-version"]
    assert sent.body["model"] == "claude-replay"
    assert sent.body["system"] == "Be brief."
    assert sent.body["stream"] is True
    assert sent.body["messages"] == [{"role": "user", "content": "How is the weather?"}]


def test_a_slow_stream_is_spoken_sentence_by_sentence_while_it_streams(
    tts_espeak: LocalService, replay: ReplayServer
) -> None:
    with (
        running_agent(sdk_settings(tts_espeak, replay, "slow")) as url,
        connect(ws_url(url), open_timeout=WS_TIMEOUT) as ws,
    ):
        ws.recv(timeout=WS_TIMEOUT)
        ws.send(json.dumps({"type": "turn", "text": "Weather?"}))
        events, audio, order = receive_turn(ws)
        ws.send(json.dumps({"type": "turn", "text": "Thanks"}))
        receive_turn(ws)
    assert events[-1]["type"] == "end_of_turn"
    assert audio
    # the first sentence's audio went out before the LLM had finished writing the reply
    last_text = len(order) - 1 - order[::-1].index("text")
    assert order.index("audio") < last_text
    # the second turn carried the first exchange
    history = [r for r in replay.requests if r.path == "/slow/v1/messages"][-1].body["messages"]
    assert [m["role"] for m in history] == ["user", "assistant", "user"]
    assert history[1]["content"] == recorded_text("greeting")


@pytest.mark.parametrize(
    ("scenario", "status", "kind", "upstream"),
    [
        ("overloaded", 502, "llm_failed", 529),
        ("drop", 502, "llm_unavailable", None),
        ("rate-limited", 503, "llm_rate_limited", 429),
        ("hang", 504, "llm_timeout", None),
    ],
)
def test_llm_faults_are_clear_errors_without_the_key(
    http: httpx.Client,
    tts_espeak: LocalService,
    replay: ReplayServer,
    caplog: pytest.LogCaptureFixture,
    scenario: str,
    status: int,
    kind: str,
    upstream: int | None,
) -> None:
    settings = sdk_settings(tts_espeak, replay, scenario, llm_max_retries=0, llm_timeout=1.0)
    caplog.set_level(logging.DEBUG)
    with running_agent(settings) as url:
        response = reply(http, url, "Hello?")
        metrics = http.get(f"{url}/metrics").text
    assert response.status_code == status, response.text
    body = response.json()
    assert body["kind"] == kind
    assert body.get("upstream_status") == upstream
    if scenario == "rate-limited":
        assert body["retry_after"] == "1"
    assert metric(metrics, "agent_errors_total", kind=kind) == 1
    for text in (response.text, metrics, server_log(caplog)):
        assert API_KEY not in text


def test_the_sdk_retries_a_429_after_its_retry_after(
    http: httpx.Client, tts_espeak: LocalService, replay: ReplayServer
) -> None:
    settings = sdk_settings(tts_espeak, replay, "rate-limited-once", llm_max_retries=2)
    with running_agent(settings) as url:
        response = reply(http, url, "Hello?")
    assert response.status_code == 200
    assert decode_reply(response.content).final["text"] == recorded_text("greeting")  # type: ignore[index]
    sent = [r for r in replay.requests if r.path == "/rate-limited-once/v1/messages"]
    assert len(sent) == 2
    assert sent[1].headers["x-stainless-retry-count"] == "1"


def test_a_stream_that_failed_after_it_started_is_not_retried(
    http: httpx.Client, tts_espeak: LocalService, replay: ReplayServer
) -> None:
    before = len([r for r in replay.requests if r.path == "/drop/v1/messages"])
    with running_agent(sdk_settings(tts_espeak, replay, "drop", llm_max_retries=2)) as url:
        assert reply(http, url, "Hello?").status_code == 502
    assert len([r for r in replay.requests if r.path == "/drop/v1/messages"]) == before + 1


# ---- tokens -----------------------------------------------------------------------------------


def test_with_tokens_every_endpoint_but_health_and_ready_needs_one(
    http: httpx.Client, tts_espeak: LocalService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with running_agent(Settings(tts_url=tts_espeak.url), tokens=(TOKEN, NEW_TOKEN)) as url:
        assert http.get(f"{url}/health").status_code == 200
        assert http.get(f"{url}/ready").status_code == 200
        missing = reply(http, url, "Hi")
        assert missing.status_code == 401
        assert missing.json() == {"error": "missing bearer token", "kind": "unauthorized"}
        assert missing.headers["www-authenticate"].startswith("Bearer")
        wrong = reply(http, url, "Hi", authorization=f"Bearer {TOKEN}x")
        assert wrong.status_code == 401
        assert http.get(f"{url}/metrics").status_code == 401
        for token in (TOKEN, NEW_TOKEN):  # rotation: the old and the new token both work
            assert reply(http, url, "Hi", authorization=f"Bearer {token}").status_code == 200
        with pytest.raises(InvalidStatus) as refused:
            connect(ws_url(url), open_timeout=WS_TIMEOUT)
        assert refused.value.response.status_code == 401
        with connect(
            ws_url(url),
            subprotocols=["vibevoice-agent.v1", f"bearer.{TOKEN}"],  # type: ignore[list-item]
            open_timeout=WS_TIMEOUT,
        ) as ws:
            assert ws.subprotocol == "vibevoice-agent.v1"
            assert json.loads(ws.recv(timeout=WS_TIMEOUT))["type"] == "session"
        with connect(
            ws_url(url),
            additional_headers={"Authorization": f"Bearer {NEW_TOKEN}"},
            open_timeout=WS_TIMEOUT,
        ) as ws:
            assert json.loads(ws.recv(timeout=WS_TIMEOUT))["type"] == "session"
        metrics = http.get(f"{url}/metrics", headers={"authorization": f"Bearer {TOKEN}"}).text
    assert metric(metrics, "agent_auth_failures_total", reason="missing") == 3
    assert metric(metrics, "agent_auth_failures_total", reason="invalid") == 1
    logged = server_log(caplog)
    assert TOKEN not in logged
    assert NEW_TOKEN not in logged
