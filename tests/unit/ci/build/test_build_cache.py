"""$VIBEVOICE_BUILD_CACHE: BuildKit layers through the GitHub Actions cache, restored only when
asked (``gha``), saved without restoring (``gha-write``) for builds that publish."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.build import release as multiarch
from vibevoice_ci.build.release import layer_cache_args
from vibevoice_ci.core.config import load_config, with_environment
from vibevoice_ci.core.environment import BUILD_CACHE_MODES, run_environment
from vibevoice_ci.core.errors import EXIT_BAD_INPUT, ConfigError, UsageError
from vibevoice_ci.tools import buildx

SERVICE = {"ACTIONS_RUNTIME_TOKEN": "t", "ACTIONS_RESULTS_URL": "https://results.example/"}
scopes = st.text(alphabet=string.ascii_letters + string.digits + "-_.", min_size=1, max_size=40)


def test_off_adds_nothing() -> None:
    assert buildx.cache_argv("off", "vibevoice-tts") == []


def test_gha_restores_and_saves_one_scope() -> None:
    assert buildx.cache_argv("gha", "vibevoice-tts") == [
        "--cache-from",
        "type=gha,scope=vibevoice-tts",
        "--cache-to",
        "type=gha,scope=vibevoice-tts,mode=max,ignore-error=true",
    ]


def test_gha_write_saves_without_restoring() -> None:
    assert buildx.cache_argv("gha-write", "vibevoice-tts") == [
        "--cache-to",
        "type=gha,scope=vibevoice-tts,mode=max,ignore-error=true",
    ]


@settings(max_examples=200, deadline=None)
@given(mode=st.sampled_from(BUILD_CACHE_MODES), scope=scopes)
def test_only_gha_ever_restores(mode: str, scope: str) -> None:
    argv = buildx.cache_argv(mode, scope)
    assert ("--cache-from" in argv) is (mode == "gha")
    assert ("--cache-to" in argv) is (mode != "off")
    # every value names the one scope it was given, so two services never share an entry
    values = argv[1::2]
    assert all(f"scope={scope}," in value + "," for value in values)


@pytest.mark.parametrize("scope", ["", "a,b", "a=b", "a b"])
def test_a_scope_that_would_split_the_option_is_refused(scope: str) -> None:
    with pytest.raises(ValueError, match="scope"):
        buildx.cache_argv("gha", scope)


def test_the_flags_go_before_the_context() -> None:
    argv = buildx.build_argv(
        "docker",
        builder="b",
        context=Path("/ctx"),
        dockerfile=Path("/ctx/x.Dockerfile"),
        platforms=["linux/amd64"],
        tags=["r/img:abc"],
        build_args={},
        labels={},
        index_annotations={},
        metadata_file=Path("/m.json"),
        push=True,
        cache=buildx.cache_argv("gha", "vibevoice-x"),
    )
    assert argv[-1] == "/ctx"
    assert argv[argv.index("--cache-from") + 1] == "type=gha,scope=vibevoice-x"


@pytest.mark.parametrize(
    ("environ", "mode", "service"),
    [
        ({}, "off", False),
        ({"VIBEVOICE_BUILD_CACHE": "gha", **SERVICE}, "gha", True),
        ({"VIBEVOICE_BUILD_CACHE": "gha-write", "ACTIONS_RUNTIME_TOKEN": "t"}, "gha-write", False),
        ({"ACTIONS_RUNTIME_TOKEN": "t", "ACTIONS_CACHE_URL": "https://c.example/"}, "off", True),
        ({"ACTIONS_CACHE_URL": "https://c.example/"}, "off", False),
    ],
)
def test_run_environment_reads_the_mode_and_the_cache_service(
    environ: dict[str, str], mode: str, service: bool
) -> None:
    env = run_environment(environ)
    assert (env.build_cache, env.actions_cache_service) == (mode, service)


def test_an_unknown_mode_is_bad_input() -> None:
    with pytest.raises(ConfigError, match="VIBEVOICE_BUILD_CACHE='local'"):
        run_environment({"VIBEVOICE_BUILD_CACHE": "local"})


def test_a_gha_mode_without_the_cache_service_is_a_usage_error() -> None:
    for mode in ("gha", "gha-write"):
        with pytest.raises(UsageError, match="ACTIONS_RUNTIME_TOKEN"):
            layer_cache_args(mode, "tts", service_reachable=False)
    assert layer_cache_args("off", "tts", service_reachable=False) == []
    assert layer_cache_args("gha-write", "tts", service_reachable=True) == [
        "--cache-to",
        "type=gha,scope=vibevoice-tts,mode=max,ignore-error=true",
    ]


def test_the_release_build_refuses_a_gha_cache_it_cannot_reach(tmp_path: Path) -> None:
    # Before any tool runs: the run fails with exit 2 and still leaves its report.
    config = with_environment(
        load_config(),
        {"VIBEVOICE_BUILD_CACHE": "gha", "VIBEVOICE_REPORTS_DIR": str(tmp_path)},
    )
    with pytest.raises(UsageError, match="VIBEVOICE_BUILD_CACHE=gha needs") as caught:
        multiarch.build_release(config)
    assert caught.value.exit_code == EXIT_BAD_INPUT
    summary = (tmp_path / "build" / "summary.md").read_text(encoding="utf-8")
    assert "VIBEVOICE_BUILD_CACHE=gha needs" in summary
