"""The command line: bad flags, bad settings and unavailable engines exit 2 with one line."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from vibevoice_ci.smoke.local_service import free_port
from vibevoice_platform.tts.cli import main


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vibevoice_platform.tts", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--port", "eighty"], {}, "argument --port: invalid int value"),
        (["--engine", "festival"], {}, "argument --engine: invalid choice"),
        (["--bogus"], {}, "unrecognized arguments: --bogus"),
        ([], {"VIBEVOICE_TTS_PORT": "eighty"}, "VIBEVOICE_TTS_PORT='eighty' is not an integer"),
        ([], {"VIBEVOICE_TTS_ENGINE": "festival"}, "VIBEVOICE_TTS_ENGINE='festival'"),
        (["--port", "0"], {}, "port must be between 1 and 65535"),
        (
            ["--engine", "vibevoice"],
            {"VIBEVOICE_MODEL_PATH": ""},
            "VIBEVOICE_MODEL_PATH is not set",
        ),
        (
            ["--engine", "piper"],
            {"VIBEVOICE_PIPER_VOICES_DIR": "/nonexistent/voices"},
            "is not a directory",
        ),
    ],
)
def test_bad_usage_exits_2_with_one_line(
    args: list[str], env: dict[str, str], message: str
) -> None:
    result = _run(*args, env=env)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr
    assert message in lines[-1]
    assert len([line for line in lines if "error" in line]) == 1


def test_an_engine_that_fails_while_loading_exits_2() -> None:
    # espeak checks its default voice only when it loads, after the server has started.
    result = _run(
        "--engine",
        "espeak",
        "--port",
        str(free_port()),
        env={"VIBEVOICE_TTS_DEFAULT_VOICE": "nobody"},
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("vibevoice-tts: error: engine espeak failed to load:")
    assert "default voice 'nobody'" in last


def test_help_works_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    assert "--engine" in capsys.readouterr().out
