"""``vibevoice_ci.smoke.choose_mode``: which stack the smoke session checks, and why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vibevoice_ci import smoke as smoke_module
from vibevoice_ci.errors import ToolMissingError, UsageError
from vibevoice_ci.smoke import MODES, choose_mode
from vibevoice_ci.smoke_checks import CheckResult

REASON = "no Docker engine reachable: Cannot connect to the Docker daemon"


def test_modes() -> None:
    assert set(MODES) == {"auto", "docker", "local"}


def test_auto_with_engine_checks_the_real_container() -> None:
    mode, note = choose_mode("auto", True, "")

    assert mode == "docker"
    assert "real container" in note


def test_auto_without_engine_falls_back_loudly() -> None:
    mode, note = choose_mode("auto", False, REASON)

    assert mode == "local"
    assert "NO DOCKER ENGINE" in note
    assert REASON in note
    assert "container itself was NOT tested" in note
    assert "local process" in note


def test_docker_with_engine() -> None:
    assert choose_mode("docker", True, "") == ("docker", "mode docker requested")


def test_docker_without_engine_refuses_instead_of_falling_back() -> None:
    with pytest.raises(ToolMissingError) as caught:
        choose_mode("docker", False, REASON)

    assert str(caught.value) == f"smoke --mode docker: {REASON}"
    assert caught.value.exit_code == 3


@pytest.mark.parametrize("engine_available", [True, False])
def test_local_is_local_whatever_the_engine(engine_available: bool) -> None:
    mode, note = choose_mode("local", engine_available, REASON)

    assert mode == "local"
    assert note == "mode local requested"
    assert "NOT tested" not in note


@pytest.mark.parametrize("requested", ["", "nope", "Docker", "AUTO", " local", "k8s"])
@pytest.mark.parametrize("engine_available", [True, False])
def test_unknown_mode_is_a_usage_error(requested: str, engine_available: bool) -> None:
    with pytest.raises(UsageError, match="unknown smoke mode") as caught:
        choose_mode(requested, engine_available, REASON)

    assert repr(requested) in str(caught.value)
    assert "auto, docker, local" in str(caught.value)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize("requested", MODES)
@pytest.mark.parametrize("engine_available", [True, False])
def test_every_combination_answers_a_known_mode_or_refuses(
    requested: str, engine_available: bool
) -> None:
    try:
        mode, note = choose_mode(requested, engine_available, REASON)
    except ToolMissingError:
        assert (requested, engine_available) == ("docker", False)
        return
    assert mode in {"docker", "local"}
    assert note
    # docker is only chosen when an engine answers
    assert mode != "docker" or engine_available
    # a fallback to local is never silent
    if requested == "auto" and mode == "local":
        assert "NOT tested" in note


def test_local_fallback_reports_the_container_as_unknown_not_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    run = smoke_module.SmokeRun(
        mode="local",
        target="http://127.0.0.1:1",
        results=[CheckResult("health", True, "HTTP 200")],
        notes=["fell back"],
        container_untested="NO DOCKER ENGINE: the container itself was NOT tested",
    )
    smoke_module._write_report(tmp_path, run)
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "**UNKNOWN**" in summary
    assert "| container | UNKNOWN |" in summary
    document = json.loads((tmp_path / "smoke.json").read_text(encoding="utf-8"))
    assert document["container_tested"] is False
