"""The agent as a real process, and a real tts process stopped in the middle of a turn."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from agent_helpers import running_agent
from anthropic_replay import ReplayServer, running_replay_server
from test_agent_service import API_KEY, WS_TIMEOUT, receive_turn, ws_url
from websockets.sync.client import connect

from vibevoice_ci.smoke.local_service import (
    LocalService,
    free_port,
    running_agent_service,
    running_tts_service,
)
from vibevoice_platform.agent.settings import Settings

pytestmark = pytest.mark.integration

TTS_TIMEOUT = 2.0


@pytest.fixture(scope="module")
def replay() -> Iterator[ReplayServer]:
    with running_replay_server() as server:
        yield server


def test_stopping_tts_mid_turn_ends_the_turn_with_the_documented_error_within_the_bound(
    replay: ReplayServer,
) -> None:
    with running_tts_service("espeak") as tts:
        settings = Settings(
            tts_url=tts.url,
            tts_timeout=TTS_TIMEOUT,
            api_key=API_KEY,
            anthropic_base_url=replay.url("slow"),
        )
        with running_agent(settings) as url, connect(ws_url(url), open_timeout=WS_TIMEOUT) as ws:
            ws.recv(timeout=WS_TIMEOUT)
            ws.send(json.dumps({"type": "turn", "text": "Tell me about the weather."}))
            while not isinstance(ws.recv(timeout=WS_TIMEOUT), bytes):
                pass  # until the first sentence's audio
            assert tts.terminate() == 0
            # The bound: the tts timeout (connect, or the wait for the next audio) plus slack
            # for the replayed stream's remaining events.
            events, _, _ = receive_turn(ws, timeout=TTS_TIMEOUT + 5.0)
            assert events[-1]["type"] == "error"
            assert events[-1]["kind"] == "tts_unavailable"
            assert events[-1]["status"] == 502


def test_the_agent_process_drains_a_turn_in_progress_on_sigterm(
    tts_espeak: LocalService, replay: ReplayServer, tmp_path: Path
) -> None:
    env = {
        "ANTHROPIC_API_KEY": API_KEY,
        "VIBEVOICE_AGENT_ANTHROPIC_BASE_URL": replay.url("slow"),
        "VIBEVOICE_AGENT_DRAIN_SECONDS": "20",
    }
    with (
        running_agent_service(tts_espeak.url, env=env, log_path=tmp_path / "agent.log") as agent,
        connect(ws_url(agent.url), open_timeout=WS_TIMEOUT) as ws,
    ):
        assert json.loads(ws.recv(timeout=WS_TIMEOUT))["responder"] == "anthropic"
        ws.send(json.dumps({"type": "turn", "text": "Weather?"}))
        assert json.loads(ws.recv(timeout=WS_TIMEOUT))["type"] == "turn_started"
        agent.process.send_signal(signal.SIGTERM)
        events, audio, _ = receive_turn(ws)
        assert events[-1]["type"] == "end_of_turn"
        assert audio
        assert agent.process.wait(timeout=30) == 0
    log = (tmp_path / "agent.log").read_text(encoding="utf-8")
    assert "responder anthropic" in log
    assert API_KEY not in log


def test_the_smoke_script_checks_an_agent_turn_with_its_token(
    tts_piper: LocalService, tmp_path: Path
) -> None:
    token = "smoke-script-token-0123456789"  # noqa: S105 - a test token
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n", encoding="utf-8")
    env = {
        "VIBEVOICE_AGENT_TOKENS_ENV": "AGENT_SMOKE_TOKENS",
        "AGENT_SMOKE_TOKENS": token,
        "ANTHROPIC_API_KEY": "",
    }
    script = Path(__file__).resolve().parents[2] / "scripts" / "smoke_test.py"
    with running_agent_service(tts_piper.url, env=env) as agent:
        argv = [sys.executable, str(script), "--agent-url", agent.url]
        result = subprocess.run(
            [*argv, "--agent-token-file", str(token_file), "--json-out", str(tmp_path / "r.json")],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
        names = [check["name"] for check in report["checks"]]
        assert names == [
            "agent health",
            "agent ready",
            "agent auth",
            "agent turn",
            "agent speech",
            "agent metrics",
        ]
        # the reply's audio says the reply text (the same check as nox -s smoke)
        assert report["status"] == "pass"
        [heard] = report["speech"]
        assert heard["endpoint"] == "agent POST /v1/reply"
        assert heard["engine"] == "piper"
        assert heard["transcript"]
        # held to espeak, which is unscored, the verdict is unknown: exit 1, never a pass
        unscored = subprocess.run(
            [*argv, "--agent-token-file", str(token_file), "--engine", "espeak"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert unscored.returncode == 1, unscored.stdout + unscored.stderr
        assert "UNKNOWN agent speech: espeak: not scored" in unscored.stdout
        # without the token the turn is refused, so the check fails
        refused = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        assert refused.returncode == 1
        assert "FAIL" in refused.stdout


def test_metrics_can_be_served_on_a_port_of_their_own(tts_espeak: LocalService) -> None:
    port = free_port()
    env = {"ANTHROPIC_API_KEY": "", "VIBEVOICE_AGENT_METRICS_PORT": str(port)}
    with running_agent_service(tts_espeak.url, env=env):
        response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10, trust_env=False)
    assert response.status_code == 200
    assert 'agent_responder_info{responder="local"} 1.0' in response.text


def test_a_client_that_leaves_mid_reply_gives_its_turn_slot_back(
    tts_espeak: LocalService, replay: ReplayServer
) -> None:
    settings = Settings(
        tts_url=tts_espeak.url,
        max_concurrency=1,
        api_key=API_KEY,
        anthropic_base_url=replay.url("slow"),
    )
    with running_agent(settings) as url, httpx.Client(timeout=30, trust_env=False) as client:
        with client.stream("POST", f"{url}/v1/reply", json={"text": "Hi"}) as response:
            assert response.status_code == 200
            next(response.iter_raw())  # the first audio, then hang up mid-reply
        for _ in range(200):  # a bounded wait for the server to notice
            metrics = client.get(f"{url}/metrics").text
            if "agent_inflight_turns 0.0" in metrics:
                break
            time.sleep(0.05)
        assert "agent_inflight_turns 0.0" in metrics
        assert 'outcome="error"' in metrics or 'outcome="ok"' in metrics
        assert client.post(f"{url}/v1/reply", json={"text": "Again"}).status_code == 200
