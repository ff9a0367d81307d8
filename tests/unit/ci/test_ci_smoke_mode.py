"""``vibevoice_ci.smoke.choose_mode``: which stack the smoke session checks, and why."""

from __future__ import annotations

import pytest

from vibevoice_ci.errors import ToolMissingError, UsageError
from vibevoice_ci.smoke import MODES, choose_mode

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
