"""scripts/smoke_test.py against real HTTP servers on 127.0.0.1 that behave well or badly.

The real tts service (Piper) passes every check, the speech checks included. A stand-in
server that answers well but sends a tone instead of speech passes the older checks and fails
only the speech checks; each misbehaving one shows the check that must fail (and with which
exit code). The container is checked by `nox -s smoke`.
"""

from __future__ import annotations

import json
import math
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from vibevoice_ci.smoke.local_service import LocalService

pytestmark = pytest.mark.integration

SPEECH_CHECKS = ["speech POST /v1/tts", "speech WS /stream"]

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "smoke_test.py"
RATE = 16000


@dataclass
class Behaviour:
    ready_status: int = 200
    silent: bool = False
    count_requests: bool = True
    content_type: str = "audio/L16; rate=16000; channels=1"
    synthesized: int = field(default=0)


def _tone(seconds: float, amplitude: int) -> bytes:
    count = int(RATE * seconds)
    return struct.pack(
        f"<{count}h",
        *(int(amplitude * math.sin(2 * math.pi * 220 * i / RATE)) for i in range(count)),
    )


def _handler(behaviour: Behaviour) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Sample-Rate", str(RATE))
            self.send_header("X-Engine", "piper")  # it claims Piper's voice, and sends a tone
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/health":
                self._send(200, b'{"status":"ok"}', "application/json")
            elif self.path == "/ready":
                self._send(behaviour.ready_status, b"{}", "application/json")
            elif self.path == "/metrics":
                text = (
                    "# TYPE tts_requests_total counter\n"
                    f'tts_requests_total{{endpoint="/v1/tts",status="200"}} '
                    f"{behaviour.synthesized}\n"
                )
                self._send(200, text.encode(), "text/plain; version=0.0.4")
            else:
                self._send(404, b"{}", "application/json")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            json.loads(self.rfile.read(length))
            if behaviour.count_requests:
                behaviour.synthesized += 1
            audio = _tone(1.0, 0 if behaviour.silent else 8000)
            self._send(200, audio, behaviour.content_type)

    return Handler


@pytest.fixture
def serve() -> Iterator[Callable[[Behaviour], str]]:
    servers: list[ThreadingHTTPServer] = []

    def start(behaviour: Behaviour) -> str:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(behaviour))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120
    )


def test_the_piper_service_passes_every_check_the_speech_checks_included(
    tts_piper: LocalService, tmp_path: Path
) -> None:
    report = tmp_path / "out" / "smoke.json"
    result = _run("--tts-url", tts_piper.url, "--json-out", str(report))
    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads(report.read_text())
    assert document["status"] == "pass"
    assert [check["name"] for check in document["checks"]] == [
        "health",
        "ready",
        "synthesis",
        "metrics",
        *SPEECH_CHECKS,
    ]
    assert [heard["endpoint"] for heard in document["speech"]] == ["POST /v1/tts", "WS /stream"]
    assert all(heard["engine"] == "piper" for heard in document["speech"])
    assert "6 passed, 0 failed, 0 unknown" in result.stdout


def test_a_tone_instead_of_speech_fails_only_the_speech_checks(
    serve: Callable[[Behaviour], str], tmp_path: Path
) -> None:
    report = tmp_path / "smoke.json"
    result = _run("--tts-url", serve(Behaviour()), "--json-out", str(report))
    assert result.returncode == 1, result.stdout + result.stderr
    statuses = {c["name"]: c["status"] for c in json.loads(report.read_text())["checks"]}
    assert statuses == {
        "health": "pass",
        "ready": "pass",
        "synthesis": "pass",
        "metrics": "pass",
        **dict.fromkeys(SPEECH_CHECKS, "fail"),
    }


@pytest.mark.parametrize(
    ("behaviour", "failing"),
    [
        (Behaviour(ready_status=503), "ready"),
        (Behaviour(silent=True), "synthesis"),
        (Behaviour(content_type="application/json"), "synthesis"),
        (Behaviour(count_requests=False), "metrics"),
    ],
)
def test_misbehaving_service_fails_the_right_check(
    serve: Callable[[Behaviour], str], behaviour: Behaviour, failing: str
) -> None:
    result = _run("--tts-url", serve(behaviour))
    assert result.returncode == 1, result.stdout + result.stderr
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    # The stand-in never speaks, so its speech checks fail too.
    assert [line.split(":")[0].removeprefix("FAIL ") for line in failed] == [
        failing,
        *SPEECH_CHECKS,
    ]
    assert "Traceback" not in result.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_unreachable_url_exits_2_after_a_bounded_wait(tmp_path: Path) -> None:
    report = tmp_path / "smoke.json"
    url = f"http://127.0.0.1:{_free_port()}"
    result = _run("--tts-url", url, "--wait", "1", "--json-out", str(report))
    assert result.returncode == 2
    assert result.stderr.startswith("error:")
    assert result.stderr.count("\n") == 1
    assert "unreachable" in result.stderr
    assert "Traceback" not in result.stderr
    document = json.loads(report.read_text())
    assert document["status"] == "fail"
    (check,) = document["checks"]
    assert (check["name"], check["status"]) == ("tts reachable", "fail")
    assert check["detail"].startswith(url)
    assert "unreachable after 1 s" in check["detail"]


def test_an_unreachable_service_keeps_the_results_of_the_others(
    serve: Callable[[Behaviour], str], tmp_path: Path
) -> None:
    report = tmp_path / "out" / "smoke.json"
    agent = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    result = _run(
        "--tts-url", serve(Behaviour()), "--agent-url", agent, "--wait", "1",
        "--json-out", str(report),
    )  # fmt: skip

    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    (error,) = [
        line for line in result.stderr.splitlines() if not line.startswith("[vibevoice-ci]")
    ]
    assert error.startswith(f"error: agent: {agent}")
    assert "unreachable after 1 s" in error
    document = json.loads(report.read_text())
    assert document["status"] == "fail"
    statuses = {c["name"]: c["status"] for c in document["checks"]}
    assert statuses == {
        "health": "pass",
        "ready": "pass",
        "synthesis": "pass",
        "metrics": "pass",
        **dict.fromkeys(SPEECH_CHECKS, "fail"),  # the stand-in sends a tone
        "agent reachable": "fail",
    }
    assert [heard["endpoint"] for heard in document["speech"]] == ["POST /v1/tts", "WS /stream"]
    assert [path.name for path in report.parent.iterdir()] == ["smoke.json"]  # no temp file


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--tts-url", "not a url"],
        ["--tts-url", "ftp://127.0.0.1"],
        ["--tts-url", "http://127.0.0.1:1", "--wait", "-3"],
    ],
)
def test_bad_usage_exits_2(args: list[str]) -> None:
    result = _run(*args)
    assert result.returncode == 2
    assert "usage:" in result.stderr
    assert "Traceback" not in result.stderr
