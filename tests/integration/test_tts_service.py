"""The real tts service process, over real HTTP and WebSocket on 127.0.0.1, for each engine."""

from __future__ import annotations

import json
import signal
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any
from urllib.parse import quote

import httpx
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from vibevoice_ci.smoke.local_service import LocalService, running_tts_service

# One worker for the whole module: the module's services (one per engine) serve every test.
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("tts-service")]

GREETING = "Hello there, welcome to the realtime voice agent. How can I help you today?"
MAX_CHARS = 20000
SERVICE_ENV = {
    "VIBEVOICE_TTS_MAX_CONCURRENCY": "2",
    "VIBEVOICE_TTS_MAX_TEXT_CHARS": str(MAX_CHARS),
    "VIBEVOICE_TTS_DRAIN_SECONDS": "60",
}
# About 19,000 characters: minutes of audio, far more than socket buffers hold, and for Piper
# far more than it synthesizes in the time the tests wait.
LONG_TEXT = " ".join(
    [
        "The quick brown fox jumps over the lazy dog, and then it runs back home again.",
    ]
    * 240
)


def rms(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0


def seconds(pcm: bytes, rate: int = 22050) -> float:
    return len(pcm) / 2 / rate


@pytest.fixture(scope="module", params=["espeak", "piper"])
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalService]:
    """One service per engine, shared by the module: for tests that assert no counts."""
    engine: str = request.param
    log_path = tmp_path_factory.mktemp(f"svc-{engine}") / "service.log"
    with running_tts_service(engine, env=SERVICE_ENV, log_path=log_path) as running:
        yield running


@pytest.fixture(params=["espeak", "piper"])
def fresh_service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalService]:
    """A service of its own for one test, so the counts it asserts are that test's alone."""
    engine: str = request.param
    log_path = tmp_path_factory.mktemp(f"fresh-{engine}") / "service.log"
    with running_tts_service(engine, env=SERVICE_ENV, log_path=log_path) as running:
        yield running


def _post(client: httpx.Client, service: LocalService, body: Any) -> httpx.Response:
    return client.post(f"{service.url}/v1/tts", json=body)


def _metric(client: httpx.Client, service: LocalService, name: str, **labels: str) -> float:
    text = client.get(f"{service.url}/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def _eventually(condition: Callable[[], bool], timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


# --- basic endpoints ------------------------------------------------------------------------


def test_health_ready_config(service: LocalService, http: httpx.Client) -> None:
    assert service.url.startswith("http://127.0.0.1:")
    assert http.get(f"{service.url}/health").json() == {"status": "ok"}
    ready = http.get(f"{service.url}/ready")
    assert ready.status_code == 200
    assert ready.json()["engine"] == service.engine
    config = http.get(f"{service.url}/config").json()
    assert config["engine"] == service.engine
    assert config["sample_rate"] == 22050
    assert config["default_voice"] in config["voices"]
    assert config["max_text_chars"] == MAX_CHARS
    assert config["parameters"] == {}  # neither piper nor espeak has diffusion cfg or steps
    assert config["experimental"] is False


def test_pcm_stream_first_body_bytes_are_audio(service: LocalService, http: httpx.Client) -> None:
    with http.stream("POST", f"{service.url}/v1/tts", json={"text": GREETING}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "audio/L16; rate=22050; channels=1"
        assert response.headers["x-sample-rate"] == "22050"
        assert response.headers["x-audio-channels"] == "1"
        assert response.headers["x-audio-sample-width"] == "2"
        assert response.headers["x-engine"] == service.engine
        assert response.headers["transfer-encoding"] == "chunked"
        pieces = response.iter_raw()
        first = next(pieces)
        rest = b"".join(pieces)
    assert first
    assert not first.startswith(b"RIFF")
    audio = first + rest
    assert len(audio) % 2 == 0
    assert 0.3 < seconds(audio) < 20
    assert rms(audio) > 300
    assert rms(first[: len(first) // 2 * 2]) > 0


def test_wav_stream(service: LocalService, http: httpx.Client) -> None:
    response = _post(http, service, {"text": "Good morning, and welcome.", "format": "wav"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    data = response.content
    assert data[:4] == b"RIFF"
    assert data[8:16] == b"WAVEfmt "
    assert struct.unpack_from("<I", data, 24)[0] == 22050
    assert data[36:40] == b"data"
    audio = data[44:]
    assert 0.3 < seconds(audio) < 20
    assert rms(audio) > 300


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("empty", 422),
        ("too long", 413),
        ("unknown voice", 422),
        ("unknown format", 422),
        ("malformed json", 400),
        ("wrong content type", 415),
        ("wrong method", 405),
        ("unknown path", 404),
    ],
)
def test_bad_input_gets_4xx_json(
    service: LocalService, http: httpx.Client, kind: str, status: int
) -> None:
    url = f"{service.url}/v1/tts"
    json_header = {"content-type": "application/json"}
    requests: dict[str, Callable[[], httpx.Response]] = {
        "empty": lambda: http.post(url, json={"text": "   "}),
        "too long": lambda: http.post(url, json={"text": "a" * (MAX_CHARS + 1)}),
        "unknown voice": lambda: http.post(url, json={"text": "Hi.", "voice": "nobody"}),
        "unknown format": lambda: http.post(url, json={"text": "Hi.", "format": "ogg"}),
        "malformed json": lambda: http.post(url, content=b"{oops", headers=json_header),
        "wrong content type": lambda: http.post(url, content=b"text=Hi"),
        "wrong method": lambda: http.get(url),
        "unknown path": lambda: http.get(f"{service.url}/v1/nothing"),
    }
    response = requests[kind]()
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert isinstance(response.json()["error"], str)
    assert "Traceback" not in response.text


# --- WebSocket --------------------------------------------------------------------------------


def _ws_session(url: str) -> tuple[list[Any], int | None]:
    frames: list[Any] = []
    with connect(url, proxy=None, max_size=None, open_timeout=30) as ws:
        try:
            for message in ws:
                frames.append(message if isinstance(message, bytes) else json.loads(message))
        except ConnectionClosed:  # pragma: no cover - iteration ends on a normal close
            pass
        code = ws.close_code
    return frames, code


def test_websocket_stream(service: LocalService) -> None:
    ws_url = service.url.replace("http://", "ws://")
    query = "text=Hello%20there%2C%20how%20are%20you%3F&cfg=1.5&steps=5"
    frames, code = _ws_session(f"{ws_url}/stream?{query}")
    assert code == 1000
    logs = [frame for frame in frames if isinstance(frame, dict)]
    assert [log["event"] for log in logs] == ["started", "first_audio", "finished"]
    assert logs[0]["sample_rate"] == 22050
    assert logs[0]["parameters"] == {}
    assert logs[0]["ignored_parameters"] == ["cfg", "steps"]
    assert logs[0]["engine"] == service.engine
    assert isinstance(frames[1], bytes)  # audio comes right after "started"
    audio = b"".join(frame for frame in frames if isinstance(frame, bytes))
    assert 0.3 < seconds(audio) < 20
    assert rms(audio) > 300
    assert logs[2]["audio_seconds"] == pytest.approx(seconds(audio), abs=0.01)


@pytest.mark.parametrize(
    ("query", "code"), [("text=", 1008), ("text=Hi&voice=nobody", 1008), ("voice=x", 1008)]
)
def test_websocket_bad_input_is_closed_with_a_reason(
    service: LocalService, query: str, code: int
) -> None:
    ws_url = service.url.replace("http://", "ws://")
    frames, close_code = _ws_session(f"{ws_url}/stream?{query}")
    assert close_code == code
    assert len(frames) == 1
    assert frames[0]["type"] == "error"
    assert frames[0]["error"]


# --- metrics ----------------------------------------------------------------------------------


def test_metrics_exposition_counts_exactly_what_this_test_did(
    fresh_service: LocalService, http: httpx.Client
) -> None:
    service = fresh_service
    assert _post(http, service, {"text": "Counting this one."}).status_code == 200
    assert _post(http, service, {"text": "   "}).status_code == 422
    text = http.get(f"{service.url}/metrics").text
    families = {family.name: family for family in text_string_to_metric_families(text)}
    for name in (
        "tts_requests",
        "tts_time_to_first_audio_seconds",
        "tts_synthesis_seconds",
        "tts_engine_first_chunk_seconds",
        "tts_inflight_syntheses",
        "tts_rejected",
    ):
        assert name in families, name
    assert _metric(http, service, "tts_requests_total", endpoint="/v1/tts", status="200") == 1
    assert _metric(http, service, "tts_requests_total", endpoint="/v1/tts", status="422") == 1
    assert _metric(http, service, "tts_time_to_first_audio_seconds_count", endpoint="/v1/tts") == 1
    assert _metric(http, service, "tts_synthesis_seconds_count", endpoint="/v1/tts") == 1
    # Only /v1/tts: the warm-up synthesis at start-up is not a request and is not counted.
    assert _metric(http, service, "tts_engine_first_chunk_seconds_count") == 1
    assert _metric(http, service, "tts_rejected_total", reason="capacity") == 0
    assert _metric(http, service, "tts_inflight_syntheses") == 0
    assert _metric(http, service, "tts_audio_seconds_total") > 0.3


# --- capacity and disconnects ---------------------------------------------------------------


def test_over_capacity_gets_429_and_the_service_stays_healthy(
    fresh_service: LocalService, http: httpx.Client
) -> None:
    service = fresh_service
    with ExitStack() as stack:
        # Hold two long streams open without reading them: both slots are taken.
        for _ in range(2):
            client = stack.enter_context(httpx.Client(timeout=120.0, trust_env=False))
            held = stack.enter_context(
                client.stream("POST", f"{service.url}/v1/tts", json={"text": LONG_TEXT})
            )
            assert held.status_code == 200
        assert _metric(http, service, "tts_inflight_syntheses") == 2
        refused = _post(http, service, {"text": "One more, please."})
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "1"
        assert "over capacity" in refused.json()["error"]
        assert http.get(f"{service.url}/health").status_code == 200
        assert http.get(f"{service.url}/ready").status_code == 200
    # The clients went away mid-stream: their syntheses stop and the slots come back long
    # before the text could have been spoken (minutes of audio).
    assert _eventually(lambda: _metric(http, service, "tts_inflight_syntheses") == 0, 30.0)
    assert _metric(http, service, "tts_rejected_total", reason="capacity") == 1
    assert _metric(http, service, "tts_requests_total", endpoint="/v1/tts", status="429") == 1
    # Both held streams were recorded when they stopped, with far less audio than the text.
    assert _metric(http, service, "tts_synthesis_seconds_count", endpoint="/v1/tts") == 2
    again = _post(http, service, {"text": "Back to normal."})
    assert again.status_code == 200
    assert rms(again.content) > 300


def test_concurrent_requests_within_the_limit_all_succeed(fresh_service: LocalService) -> None:
    service = fresh_service
    results: list[tuple[int, bytes]] = []
    both_sent = threading.Barrier(2)

    def one() -> None:
        with httpx.Client(timeout=120.0, trust_env=False) as client:
            both_sent.wait(timeout=30)
            response = _post(client, service, {"text": "Two at a time is fine."})
            results.append((response.status_code, response.content))

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    # A service of its own with two slots and nothing else in flight: both must fit.
    assert [status for status, _ in results] == [200, 200]
    assert all(rms(body) > 300 for _, body in results)
    with httpx.Client(timeout=30.0, trust_env=False) as http:
        assert _metric(http, service, "tts_rejected_total", reason="capacity") == 0
        assert _metric(http, service, "tts_requests_total", endpoint="/v1/tts", status="200") == 2


# --- SIGTERM drains in-flight streams ---------------------------------------------------------


@pytest.mark.parametrize(
    ("engine", "text"),
    [
        ("espeak", LONG_TEXT),  # tens of MB of audio: still in flight while we wait to read
        ("piper", " ".join([GREETING] * 8)),  # several seconds of synthesis
    ],
)
def test_sigterm_lets_the_in_flight_stream_finish_then_exits_0(
    engine: str, text: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    log_path = tmp_path_factory.mktemp(f"drain-{engine}") / "service.log"
    with (
        running_tts_service(engine, env=SERVICE_ENV, log_path=log_path) as running,
        httpx.Client(timeout=120.0, trust_env=False) as client,
    ):
        with client.stream("POST", f"{running.url}/v1/tts", json={"text": text}) as response:
            assert response.status_code == 200
            pieces = response.iter_raw()
            received = len(next(pieces))
            running.process.send_signal(signal.SIGTERM)
            # New connections are refused (or answered 503) while the stream drains.
            try:
                late = httpx.get(f"{running.url}/ready", timeout=5.0, trust_env=False)
                assert late.status_code == 503
            except httpx.TransportError:
                pass
            for piece in pieces:  # raises if the body were cut short
                received += len(piece)
        status = running.process.wait(timeout=90)
        assert status == 0
    log_lines = [line for line in log_path.read_text().splitlines() if '"path":"/v1/tts"' in line]
    record = json.loads(log_lines[-1])
    assert record["status"] == 200
    assert record["completed"] is True
    assert record["audio_bytes"] == received
    minimum = 20.0 if engine == "piper" else 60.0
    assert received / 2 / 22050 > minimum


def test_sigterm_lets_an_in_flight_websocket_stream_finish(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    log_path = tmp_path_factory.mktemp("drain-ws") / "service.log"
    text = " ".join([GREETING] * 6)
    frames: list[Any] = []
    with running_tts_service("piper", env=SERVICE_ENV, log_path=log_path) as running:
        ws_url = running.url.replace("http://", "ws://")
        query = httpx.QueryParams({"text": text})
        with connect(f"{ws_url}/stream?{query}", proxy=None, max_size=None) as ws:
            for message in ws:
                frames.append(message if isinstance(message, bytes) else json.loads(message))
                audio_frames = sum(isinstance(frame, bytes) for frame in frames)
                if isinstance(message, bytes) and audio_frames == 1:
                    running.process.send_signal(signal.SIGTERM)
            code = ws.close_code
        assert running.process.wait(timeout=90) == 0
    assert code == 1000
    logs = [frame for frame in frames if isinstance(frame, dict)]
    assert [log["event"] for log in logs] == ["started", "first_audio", "finished"]
    audio = b"".join(frame for frame in frames if isinstance(frame, bytes))
    assert logs[-1]["audio_seconds"] == pytest.approx(seconds(audio), abs=0.01)
    assert seconds(audio) > 15


def test_websocket_accepts_the_longest_allowed_text_in_any_script(tts_espeak: LocalService) -> None:
    # 2,000 CJK characters are 18 KB once percent-encoded in the URL, beyond the 8 KiB request
    # line the websockets library allows by default (the handshake used to hang).
    ws_url = tts_espeak.url.replace("http://", "ws://")
    text = "\u4f60\u597d" * 1000
    with connect(f"{ws_url}/stream?text={quote(text)}", proxy=None, open_timeout=30) as ws:
        first = json.loads(ws.recv(timeout=30))
    assert first["event"] == "started"

    frames, code = _ws_session(f"{ws_url}/stream?text={quote(chr(0x4F60) * 2001)}")
    assert code == 1008
    assert not any(isinstance(frame, bytes) for frame in frames)
