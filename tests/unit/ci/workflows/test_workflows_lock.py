"""One harness run at a time per state folder (runner.py ``state_lock``), and the act binary
replaced under a running copy (``install_binary``)."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from vibevoice_ci.core.errors import UsageError
from vibevoice_ci.workflows.runner import install_binary, state_lock


def test_a_second_run_without_waiting_is_refused(tmp_path: Path) -> None:
    refused = pytest.raises(UsageError, match=r"\.lock: another workflows run holds it")
    with state_lock(tmp_path / "state"), refused, state_lock(tmp_path / "state", wait=False):
        pass
    with state_lock(tmp_path / "state", wait=False):  # released again
        pass


def test_a_second_run_waits_for_the_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    order: list[str] = []
    entered = threading.Event()

    def first() -> None:
        with state_lock(tmp_path):
            entered.set()
            time.sleep(0.3)
            order.append("first done")

    thread = threading.Thread(target=first)
    thread.start()
    entered.wait(5)
    with state_lock(tmp_path):
        order.append("second in")
    thread.join()
    assert order == ["first done", "second in"]
    assert "waiting for another workflows run to finish" in capsys.readouterr().out


def test_the_binary_is_replaced_while_a_copy_runs(tmp_path: Path) -> None:
    sleep = shutil.which("sleep")
    assert sleep is not None
    source = Path(sleep)  # an ELF binary: writing over a running one is "Text file busy"
    target = tmp_path / "bin" / "tool"
    install_binary(source, target)
    running = subprocess.Popen([str(target), "30"])
    try:
        time.sleep(0.2)
        with pytest.raises(OSError, match="Text file busy"):
            shutil.copyfile(source, target)
        install_binary(source, target)
        assert target.read_bytes() == source.read_bytes()
        assert sorted(p.name for p in target.parent.iterdir()) == ["tool"]
    finally:
        running.kill()
        running.wait()
