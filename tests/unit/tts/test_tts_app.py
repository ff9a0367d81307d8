"""The HTTP and WebSocket API, driven with Starlette's TestClient against real engines."""

from __future__ import annotations

import io
import json
import struct
import time
import warnings
import wave
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 for its test client; httpx is what this project has.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from tts_helpers import rms

from vibevoice_platform.tts.app import create_app, service_state
from vibevoice_platform.tts.engines import Engine, create_engine
from vibevoice_platform.tts.settings import Settings
from vibevoice_platform.tts.state import Refusal

GREETING = "Hello there, welcome to the realtime voice agent. How can I help you today?"
MAX_CHARS = 300
SETTINGS = Settings(engine="espeak", max_text_chars=MAX_CHARS, max_concurrency=2)


@pytest.fixture
def app(espeak_engine: Engine) -> Starlette:
    return create_app(SETTINGS, espeak_engine)


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _metrics(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def _tts(client: TestClient, body: Any) -> Any:
    # json.dumps escapes non-ASCII, so even a lone surrogate travels as valid JSON.
    return client.post(
        "/v1/tts", content=json.dumps(body), headers={"content-type": "application/json"}
    )


# --- health, readiness, config ----------------------------------------------------------


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "engine": "espeak"}


def test_config_describes_the_engine(client: TestClient, espeak_engine: Engine) -> None:
    config = client.get("/config").json()
    assert config["engine"] == "espeak"
    assert config["sample_rate"] == 22050
    assert config["default_voice"] == "en-us"
    assert config["voices"] == list(espeak_engine.voices)
    assert config["max_text_chars"] == MAX_CHARS
    assert config["formats"] == ["pcm", "wav"]
    assert config["parameters"] == {}  # espeak honours neither cfg nor steps
    assert config["experimental"] is False


def test_draining_turns_ready_and_synthesis_away(app: Starlette, client: TestClient) -> None:
    service_state(app).draining = True
    ready = client.get("/ready")
    assert ready.status_code == 503
    assert ready.json() == {"status": "draining"}
    refused = _tts(client, {"text": "Hello."})
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    assert "shutting down" in refused.json()["error"]
    assert client.get("/health").status_code == 200
    assert _metrics(client)[("tts_rejected_total", (("reason", "draining"),))] == 1


def test_an_engine_that_fails_to_load_keeps_the_service_unready() -> None:
    failures: list[str] = []
    engine = create_engine("piper", Settings(default_voice="en_US-nobody-low"))
    app = create_app(Settings(), engine, on_load_failure=failures.append)
    with TestClient(app) as client:
        state = service_state(app)
        # The loader records the error, logs it, then calls on_load_failure: wait for the call
        # too (asserting right after the record raced with it on a loaded machine).
        _wait_for(lambda: state.load_error is not None and bool(failures))
        ready = client.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["status"] == "failed"
        assert "en_US-nobody-low" in ready.json()["error"]
        assert failures == [ready.json()["error"]]
        assert client.get("/config").status_code == 503
        refused = _tts(client, {"text": "Hello."})
        assert refused.status_code == 503
        assert "failed to load" in refused.json()["error"]


def test_the_engine_loads_in_the_background_then_the_service_is_ready() -> None:
    engine = create_engine("espeak", Settings(engine="espeak"))
    app = create_app(Settings(engine="espeak"), engine)
    with TestClient(app) as client:
        state = service_state(app)
        _wait_for(lambda: state.ready)
        assert client.get("/ready").status_code == 200
        assert _tts(client, {"text": "Loaded."}).status_code == 200


# --- POST /v1/tts -----------------------------------------------------------------------


def test_pcm_stream(client: TestClient) -> None:
    response = _tts(client, {"text": GREETING})
    assert response.status_code == 200
    headers = response.headers
    assert headers["content-type"] == "audio/L16; rate=22050; channels=1"
    assert headers["x-sample-rate"] == "22050"
    assert headers["x-audio-channels"] == "1"
    assert headers["x-audio-sample-width"] == "2"
    assert headers["x-engine"] == "espeak"
    assert headers["x-voice"] == "en-us"
    assert "content-length" not in headers
    audio = response.content
    assert not audio.startswith(b"RIFF")
    assert len(audio) % 2 == 0
    assert 1.0 < len(audio) / 2 / 22050 < 20
    assert rms(audio) > 300


def test_wav_stream_starts_with_a_header_then_audio(client: TestClient) -> None:
    response = _tts(client, {"text": GREETING, "format": "wav", "voice": "en-gb-x-rp"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    assert response.headers["x-voice"] == "en-gb-x-rp"
    data = response.content
    assert data[:4] == b"RIFF"
    assert data[8:12] == b"WAVE"
    pcm = data[44:]
    # Patch the unknown lengths so the standard library can read the file back.
    fixed = data[:4] + struct.pack("<I", 36 + len(pcm)) + data[8:40]
    fixed += struct.pack("<I", len(pcm)) + pcm
    with wave.open(io.BytesIO(fixed), "rb") as wav:
        assert wav.getframerate() == 22050
        assert wav.getnchannels() == 1
        assert wav.getsampwidth() == 2
        frames = wav.readframes(wav.getnframes())
    assert rms(frames) > 300


def test_voice_ids_are_case_insensitive_for_espeak(client: TestClient) -> None:
    response = _tts(client, {"text": "Hello.", "voice": "EN-US"})
    assert response.status_code == 200
    assert response.headers["x-voice"] == "en-us"


def test_text_at_the_limit_is_accepted(client: TestClient) -> None:
    text = ("word " * MAX_CHARS)[: MAX_CHARS - 1] + "."
    assert len(text) == MAX_CHARS
    assert _tts(client, {"text": text}).status_code == 200


BAD_BODIES: list[tuple[str, Any, int, str]] = [
    ("empty text", {"text": ""}, 422, "text is empty"),
    ("lone surrogate", {"text": "Hi \ud800 there"}, 422, "not valid Unicode"),
    ("blank text", {"text": " \n\t "}, 422, "text is empty"),
    ("nothing to say", {"text": "?! ..."}, 422, "no letters or digits"),
    ("missing text", {"voice": "en-us"}, 422, "text is required"),
    ("text not a string", {"text": 42}, 422, "text must be a string"),
    ("text too long", {"text": "a" * (MAX_CHARS + 1)}, 413, "the limit is 300"),
    ("unknown voice", {"text": "Hi.", "voice": "nobody"}, 422, "unknown voice 'nobody'"),
    ("voice not a string", {"text": "Hi.", "voice": 7}, 422, "voice must be"),
    ("empty voice", {"text": "Hi.", "voice": ""}, 422, "voice must be"),
    ("unknown format", {"text": "Hi.", "format": "mp3"}, 422, "format must be one of pcm, wav"),
    ("unknown field", {"text": "Hi.", "speed": 2}, 422, 'unknown field(s) "speed"'),
    ("not an object", ["Hi."], 400, "must be an object"),
    ("a bare string", "Hi.", 400, "must be an object"),
]


@pytest.mark.parametrize(
    ("body", "status", "message"), [b[1:] for b in BAD_BODIES], ids=[b[0] for b in BAD_BODIES]
)
def test_bad_requests_get_a_4xx_with_a_json_reason(
    client: TestClient, body: Any, status: int, message: str
) -> None:
    response = _tts(client, body)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert message in response.json()["error"]


def test_malformed_json(client: TestClient) -> None:
    response = client.post(
        "/v1/tts", content=b'{"text": "Hi', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith("malformed JSON")


def test_invalid_utf8(client: TestClient) -> None:
    response = client.post(
        "/v1/tts", content=b'{"text": "\xff\xfe"}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_wrong_content_type(client: TestClient, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/v1/tts", content=json.dumps({"text": "Hi."}), headers=headers)
    assert response.status_code == 415
    assert "application/json" in response.json()["error"]


def test_control_characters_are_spoken_around(client: TestClient) -> None:
    response = _tts(client, {"text": "Hello\u0000 there\u001b, friend."})
    assert response.status_code == 200
    assert rms(response.content) > 300


def test_json_with_charset_is_fine(client: TestClient) -> None:
    response = client.post(
        "/v1/tts",
        content=json.dumps({"text": "Hi."}).encode(),
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200


def test_oversized_body(client: TestClient) -> None:
    body = json.dumps({"text": "Hi.", "padding": "x" * (MAX_CHARS * 12 + 5000)})
    response = client.post("/v1/tts", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_wrong_method_and_unknown_path(client: TestClient) -> None:
    wrong = client.get("/v1/tts")
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "POST"
    assert wrong.json() == {"error": "method not allowed for this endpoint"}
    assert client.post("/health").status_code == 405
    missing = client.get("/v2/speak")
    assert missing.status_code == 404
    assert missing.json() == {"error": "no such endpoint"}


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.one_of(
        st.dictionaries(
            st.sampled_from(["text", "voice", "format", "extra"]),
            st.one_of(
                st.none(),
                st.booleans(),
                st.integers(),
                st.floats(allow_nan=False, allow_infinity=False),
                st.text(max_size=400),
                st.sampled_from(["pcm", "wav", "en-us", "de", "Hello there."]),
                st.lists(st.text(max_size=5), max_size=3),
            ),
        ),
        st.text(max_size=50),
        st.lists(st.integers(), max_size=3),
    )
)
def test_no_body_ever_gets_a_5xx(client: TestClient, body: Any) -> None:
    response = _tts(client, body)
    assert response.status_code < 500
    if response.status_code == 200:
        assert len(response.content) % 2 == 0
    else:
        assert 400 <= response.status_code < 500
        assert isinstance(response.json()["error"], str)


# --- capacity -----------------------------------------------------------------------------


def test_over_capacity_is_refused_at_once_with_retry_after(
    app: Starlette, client: TestClient
) -> None:
    state = service_state(app)
    state.inflight = SETTINGS.max_concurrency  # as if two streams were in progress
    try:
        refused = _tts(client, {"text": "Hello."})
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "1"
        assert "over capacity" in refused.json()["error"]
        with client.websocket_connect("/stream?text=Hello") as ws:
            frame = ws.receive_json()
            assert frame["type"] == "error"
            assert frame["event"] == "backend_busy"
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_bytes()
            assert closed.value.code == 1013
    finally:
        state.inflight = 0
    assert _tts(client, {"text": "Hello."}).status_code == 200
    samples = _metrics(client)
    assert samples[("tts_rejected_total", (("reason", "capacity"),))] == 2
    assert samples[("tts_requests_total", (("endpoint", "/v1/tts"), ("status", "429")))] == 1


def test_admission_refuses_with_a_refusal_and_counts_it(app: Starlette) -> None:
    state = service_state(app)
    refusal = state.admit()
    assert refusal is not None
    assert (refusal.status, refusal.reason) == (503, "not_ready")  # no lifespan ran yet
    state.mark_ready()
    assert state.admit() is None
    assert state.admit() is None
    refusal = state.admit()
    assert refusal == Refusal(429, "capacity", "over capacity: 2 syntheses already in progress")
    state.release()
    state.release()
    state.draining = True
    refusal = state.admit()
    assert refusal is not None
    assert (refusal.status, refusal.reason) == (503, "draining")
    registry = state.metrics.registry
    assert registry.get_sample_value("tts_rejected_total", {"reason": "capacity"}) == 1
    assert registry.get_sample_value("tts_rejected_total", {"reason": "draining"}) == 1
    assert registry.get_sample_value("tts_rejected_total", {"reason": "not_ready"}) == 1
    assert state.inflight == 0


def test_an_unknown_voice_gives_its_slot_back(app: Starlette, client: TestClient) -> None:
    assert _tts(client, {"text": "Hi.", "voice": "nobody"}).status_code == 422
    with client.websocket_connect("/stream?text=Hi&voice=nobody") as ws:
        assert "unknown voice" in ws.receive_json()["error"]
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_bytes()
        assert closed.value.code == 1008
    assert service_state(app).inflight == 0
    assert _metrics(client)[("tts_inflight_syntheses", ())] == 0


def test_slots_are_released_after_each_stream(app: Starlette, client: TestClient) -> None:
    for _ in range(5):
        assert _tts(client, {"text": "One more."}).status_code == 200
    assert service_state(app).inflight == 0
    assert _metrics(client)[("tts_inflight_syntheses", ())] == 0


# --- WS /stream -------------------------------------------------------------------------


def test_websocket_stream(client: TestClient) -> None:
    frames: list[Any] = []
    with client.websocket_connect(f"/stream?text={GREETING}&voice=en-us&cfg=1.5&steps=5") as ws:
        while True:
            try:
                message = ws.receive()
            except WebSocketDisconnect:  # pragma: no cover - the server closes with a frame
                break
            if message["type"] == "websocket.close":
                frames.append(("close", message["code"]))
                break
            frames.append(message.get("bytes") or json.loads(message["text"]))
    started, first_audio = frames[0], frames[1]
    assert started["type"] == "log"
    assert started["event"] == "started"
    assert started["sample_rate"] == 22050
    assert started["voice"] == "en-us"
    assert started["parameters"] == {}
    assert started["ignored_parameters"] == ["cfg", "steps"]
    assert isinstance(first_audio, bytes)
    logs = [frame for frame in frames if isinstance(frame, dict)]
    assert [log["event"] for log in logs] == ["started", "first_audio", "finished"]
    assert logs[1]["ttfa_ms"] >= 0
    audio = b"".join(frame for frame in frames if isinstance(frame, bytes))
    assert rms(audio) > 300
    assert logs[2]["audio_seconds"] == pytest.approx(len(audio) / 2 / 22050, abs=0.01)
    assert logs[2]["synthesis_ms"] >= 0
    assert frames[-1] == ("close", 1000)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "text is required"),
        ("text=%20%20", "text is empty"),
        ("text=" + "a" * (MAX_CHARS + 1), "the limit is 300"),
        ("text=Hello&voice=nobody", "unknown voice"),
        ("text=Hello&cfg=abc", "cfg must be a number"),
        ("text=Hello&steps=-2", "steps must be positive"),
        ("text=Hello&steps=1.5", "steps must be a number"),
        ("text=Hello&steps=500", "steps must be at most 50"),
    ],
)
def test_websocket_bad_input_gets_an_error_frame_and_a_policy_close(
    client: TestClient, query: str, message: str
) -> None:
    with client.websocket_connect(f"/stream?{query}") as ws:
        frame = ws.receive_json()
        assert frame["type"] == "error"
        assert message in frame["error"]
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_bytes()
        assert closed.value.code == 1008


def test_unknown_websocket_path_is_refused(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/nope"):
        pass  # pragma: no cover


# --- metrics ------------------------------------------------------------------------------


def test_metrics_exposition_counts_what_happened(client: TestClient) -> None:
    assert _tts(client, {"text": GREETING}).status_code == 200
    assert _tts(client, {"text": ""}).status_code == 422
    client.get("/health")
    samples = _metrics(client)
    assert samples[("tts_requests_total", (("endpoint", "/v1/tts"), ("status", "200")))] == 1
    assert samples[("tts_requests_total", (("endpoint", "/v1/tts"), ("status", "422")))] == 1
    assert samples[("tts_requests_total", (("endpoint", "/health"), ("status", "200")))] == 1
    ttfa = ("tts_time_to_first_audio_seconds_count", (("endpoint", "/v1/tts"),))
    assert samples[ttfa] == 1
    assert samples[("tts_synthesis_seconds_count", (("endpoint", "/v1/tts"),))] == 1
    assert samples[("tts_engine_first_chunk_seconds_count", ())] == 1
    assert samples[("tts_inflight_syntheses", ())] == 0
    assert samples[("tts_audio_seconds_total", ())] > 1.0
    assert samples[("tts_engine_info", (("engine", "espeak"),))] == 1
    buckets = [key[1] for key in samples if key[0] == "tts_time_to_first_audio_seconds_bucket"]
    bounds = {dict(labels)["le"] for labels in buckets}
    assert {"0.001", "30.0", "+Inf"} <= bounds


def test_each_app_has_its_own_registry(espeak_engine: Engine) -> None:
    first = create_app(SETTINGS, espeak_engine)
    second = create_app(SETTINGS, espeak_engine)
    assert service_state(first).metrics.registry is not service_state(second).metrics.registry
