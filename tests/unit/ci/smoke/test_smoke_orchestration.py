"""``vibevoice_ci.smoke.session``: the mode rule, the exit rule, and every orchestration path.

The orchestration tests replace the Docker engine, compose, the image build, the local service
and the HTTP checks with fakes that record what was called, so each failure path (a build that
fails, a stack that never gets healthy, a port that is not published, ``compose logs`` that
dies, ``compose down`` that fails, an unexpected exception) can be produced on demand. The
real engine path is covered by tests/integration/test_smoke_session.py.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from schema_helpers import assert_matches_schema

from vibevoice_ci.core.config import PipelineConfig, SpeechCheckConfig
from vibevoice_ci.core.errors import (
    EXIT_CHECK_FAILED,
    EXIT_TOOL_MISSING,
    CheckFailedError,
    ToolFailedError,
    ToolMissingError,
    UsageError,
)
from vibevoice_ci.core.outcome import Outcome, Status
from vibevoice_ci.smoke import session as smoke
from vibevoice_ci.smoke.agent_checks import AgentChecks, ReplySpeechCheck
from vibevoice_ci.smoke.checks import ServiceUnreachableError, SpeechCheck
from vibevoice_ci.smoke.session import MODES, SmokeRun, choose_mode, exit_error
from vibevoice_ci.smoke.speech import SentenceRecall, SpeechScore
from vibevoice_ci.tools import compose, docker
from vibevoice_ci.tools._exec import ToolResult

REASON = "no Docker engine reachable: Cannot connect to the Docker daemon"
PASSING = [Outcome.of("health", True, "HTTP 200"), Outcome.of("synthesis", True, "1.2 s")]
HEARD = SpeechCheck(
    "POST /v1/tts",
    "piper",
    0.75,
    (SpeechScore("Meet me at 7.", "meet me at seven", 1.0, 1.5),),
    Outcome.of("speech POST /v1/tts", True, "piper: 1.00 'meet me at seven'"),
    0.8,
)


# --- choose_mode: the rule for a container that cannot be tested ------------------------------


def test_modes() -> None:
    assert set(MODES) == {"auto", "docker", "local"}


@pytest.mark.parametrize("requested", ["auto", "docker"])
@pytest.mark.parametrize("ci", [True, False])
def test_an_engine_means_the_real_container(requested: str, ci: bool) -> None:
    choice = choose_mode(requested, ci=ci, engine_available=True, engine_reason="")

    assert choice.mode == "docker"
    assert not choice.fell_back


def test_auto_without_engine_falls_back_loudly_outside_ci() -> None:
    choice = choose_mode("auto", ci=False, engine_available=False, engine_reason=REASON)

    assert choice.mode == "local"
    assert choice.fell_back
    assert "NO DOCKER ENGINE" in choice.note
    assert REASON in choice.note
    assert "container itself was NOT tested" in choice.note


def test_auto_without_engine_under_ci_is_a_missing_tool() -> None:
    with pytest.raises(ToolMissingError) as caught:
        choose_mode("auto", ci=True, engine_available=False, engine_reason=REASON)

    assert caught.value.exit_code == EXIT_TOOL_MISSING
    assert "$CI is set" in str(caught.value)
    assert REASON in str(caught.value)


@pytest.mark.parametrize("ci", [True, False])
def test_docker_without_engine_refuses_instead_of_falling_back(ci: bool) -> None:
    with pytest.raises(ToolMissingError) as caught:
        choose_mode("docker", ci=ci, engine_available=False, engine_reason=REASON)

    assert str(caught.value) == f"smoke --mode docker needs a Docker engine: {REASON}"
    assert caught.value.exit_code == EXIT_TOOL_MISSING


@pytest.mark.parametrize("engine_available", [True, False])
@pytest.mark.parametrize("ci", [True, False])
def test_local_is_local_whatever_the_engine(engine_available: bool, ci: bool) -> None:
    choice = choose_mode("local", ci=ci, engine_available=engine_available, engine_reason=REASON)

    assert choice.mode == "local"
    assert not choice.fell_back
    assert "not tested" in choice.note


@pytest.mark.parametrize("requested", ["", "nope", "Docker", "AUTO", " local", "k8s"])
def test_unknown_mode_is_a_usage_error(requested: str) -> None:
    with pytest.raises(UsageError, match="unknown smoke mode") as caught:
        choose_mode(requested, ci=False, engine_available=True, engine_reason="")

    assert "auto, docker, local" in str(caught.value)
    assert caught.value.exit_code == 2


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(MODES), st.booleans(), st.booleans())
def test_a_fallback_happens_only_where_the_rule_allows_it(
    requested: str, ci: bool, engine_available: bool
) -> None:
    try:
        choice = choose_mode(
            requested, ci=ci, engine_available=engine_available, engine_reason=REASON
        )
    except ToolMissingError:
        assert not engine_available
        assert requested == "docker" or (requested == "auto" and ci)
        return
    assert choice.mode != "docker" or engine_available
    assert choice.fell_back == (requested == "auto" and not engine_available)
    assert not (choice.fell_back and ci)  # CI never falls back


# --- SmokeRun.status and exit_error -----------------------------------------------------------


def _run(checks: list[Outcome], *, mode: str = "docker", fell_back: bool = False) -> SmokeRun:
    container = Status.PASS if mode == "docker" else Status.UNKNOWN
    return SmokeRun("auto", mode, "http://127.0.0.1:1", checks, [], container, fell_back)


def test_a_fallback_run_is_unknown_even_when_every_check_passed() -> None:
    run = _run(PASSING, mode="local", fell_back=True)

    assert run.status is Status.UNKNOWN
    assert run.report().container is Status.UNKNOWN
    assert exit_error(run, strict=False, logs_dir=Path("logs")) is None
    error = exit_error(run, strict=True, logs_dir=Path("logs"))
    assert isinstance(error, CheckFailedError)


def test_a_requested_local_run_is_unknown_never_a_pass() -> None:
    """--mode local tests no container: unknown, which fails under CI (strict) like any."""
    run = _run(PASSING, mode="local")

    assert run.status is Status.UNKNOWN
    assert run.report().status is Status.UNKNOWN
    assert run.report().container is Status.UNKNOWN
    assert exit_error(run, strict=False, logs_dir=Path("logs")) is None
    assert isinstance(exit_error(run, strict=True, logs_dir=Path("logs")), CheckFailedError)


def test_a_failed_check_fails_naming_it() -> None:
    run = _run([*PASSING, Outcome.of("metrics", False, "not counted")])

    error = exit_error(run, strict=False, logs_dir=Path("logs"))

    assert isinstance(error, CheckFailedError)
    assert "(metrics)" in str(error)


def test_no_checks_at_all_is_never_a_pass() -> None:
    assert _run([]).status is Status.UNKNOWN
    assert exit_error(_run([]), strict=True, logs_dir=Path("logs")) is not None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list(Status)), max_size=6), st.booleans(), st.booleans())
def test_exit_is_zero_only_for_a_pass_or_a_lenient_unknown(
    statuses: list[Status], fell_back: bool, strict: bool
) -> None:
    checks = [Outcome(f"c{i}", status, "") for i, status in enumerate(statuses)]
    run = _run(checks, mode="local" if fell_back else "docker", fell_back=fell_back)

    error = exit_error(run, strict=strict, logs_dir=Path("logs"))

    if Status.FAIL in statuses:
        assert error is not None
    elif run.status is Status.PASS:
        assert error is None
    else:
        assert (error is None) == (not strict)


# --- run_smoke with fakes ---------------------------------------------------------------------


@dataclass
class Fakes:
    """Replacements for the Docker engine, compose, the build, the checks and the local
    service; ``calls`` records what the session did, in order."""

    engine: bool = True
    fail: dict[str, BaseException] = field(default_factory=dict)
    checks: list[Outcome] = field(default_factory=lambda: list(PASSING))
    speech: list[SpeechCheck] = field(default_factory=lambda: [HEARD])
    address: str = "127.0.0.1:18000"
    down_returncode: int = 0
    logs_returncode: int = 0
    calls: list[str] = field(default_factory=list)

    def _step(self, name: str) -> None:
        self.calls.append(name)
        if name in self.fail:
            raise self.fail[name]

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def engine_status() -> docker.EngineStatus:
            self.calls.append("engine_status")
            if self.engine:
                return docker.EngineStatus(True, server_version="28.2.2")
            return docker.EngineStatus(False, reason=REASON)

        def build_images(config: PipelineConfig, **_: Any) -> list[Any]:
            self._step("build")
            return [_Image("vibevoice-tts:0123456789ab", "sha256:" + "a" * 64)]

        def version() -> str:
            self._step("compose_version")
            return "2.40.3"

        def up(stack: compose.Stack, *, wait_timeout: int) -> None:
            self._step("up")

        def published_address(stack: compose.Stack, service: str, port: int) -> str:
            self._step("port")
            return self.address

        def logs(stack: compose.Stack) -> compose.StackLogs:
            self._step("logs")
            if self.logs_returncode:
                return compose.StackLogs("partial", False, f"exited {self.logs_returncode}")
            return compose.StackLogs("tts-1  | ready\n", True)

        def ps(stack: compose.Stack) -> list[compose.ServiceState]:
            self._step("ps")
            return [compose.ServiceState("tts", "vibevoice-ci-tts-1", "running", "healthy", 0)]

        def down(stack: compose.Stack) -> ToolResult:
            self._step("down")
            return ToolResult(("docker",), self.down_returncode, "", "Error: network in use")

        def run_checks(url: str, **_: Any) -> list[Outcome]:
            self._step("checks")
            return list(self.checks)

        def run_speech_checks(url: str, speech: SpeechCheckConfig) -> list[SpeechCheck]:
            self._step("speech")
            return list(self.speech)

        @contextmanager
        def running_tts_service(engine: str, **_: Any) -> Iterator[Any]:
            self._step("local_start")
            try:
                yield _Local("http://127.0.0.1:45678")
            finally:
                self.calls.append("local_stop")

        monkeypatch.setattr(docker, "engine_status", engine_status)
        monkeypatch.setattr(smoke.build, "build_images", build_images)
        monkeypatch.setattr(compose, "version", version)
        monkeypatch.setattr(compose, "up", up)
        monkeypatch.setattr(compose, "published_address", published_address)
        monkeypatch.setattr(compose, "logs", logs)
        monkeypatch.setattr(compose, "ps", ps)
        monkeypatch.setattr(compose, "down", down)
        monkeypatch.setattr(smoke, "run_checks", run_checks)
        monkeypatch.setattr(smoke, "run_speech_checks", run_speech_checks)
        monkeypatch.setattr(smoke, "running_tts_service", running_tts_service)


@dataclass(frozen=True)
class _Image:
    reference: str
    image_id: str


@dataclass(frozen=True)
class _Local:
    url: str


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> Fakes:
    created = Fakes()
    created.install(monkeypatch)
    return created


def _report(config: PipelineConfig) -> dict[str, Any]:
    """smoke.json as the session wrote it, checked against the committed schema."""
    written = config.report_dir("smoke") / "smoke.json"
    document: dict[str, Any] = assert_matches_schema(written, "smoke/smoke.schema.json")
    assert (config.report_dir("smoke") / "summary.md").is_file()
    return document


def _statuses(document: dict[str, Any]) -> dict[str, str]:
    return {check["name"]: check["status"] for check in document["checks"]}


def test_docker_run_that_passes(fakes: Fakes, make_config: Callable[..., PipelineConfig]) -> None:
    config = make_config()

    run = smoke.run_smoke(config, mode="auto", engine="espeak")

    assert run.status is Status.PASS
    assert fakes.calls == [
        "engine_status",
        "compose_version",
        "build",
        "up",
        "port",
        "checks",
        "speech",
        "logs",
        "ps",
        "down",
    ]
    document = _report(config)
    assert document["status"] == "pass"
    assert document["container"] == "pass"
    assert _statuses(document) == {
        "health": "pass",
        "synthesis": "pass",
        "speech POST /v1/tts": "pass",
        "teardown": "pass",
    }
    assert document["speech"] == [
        {
            "endpoint": "POST /v1/tts",
            "check": "speech POST /v1/tts",
            "status": "pass",
            "engine": "piper",
            "min_recall": 0.75,
            "seconds": 0.8,
            "sentences": [
                {
                    "text": "Meet me at 7.",
                    "transcript": "meet me at seven",
                    "recall": 1.0,
                    "audio_seconds": 1.5,
                }
            ],
        }
    ]
    summary = (config.report_dir("smoke") / "summary.md").read_text()
    assert "| speech POST /v1/tts | pass | piper: 1.00 'meet me at seven' |" in summary
    assert (config.report_dir("smoke") / "logs" / "compose.log").read_text() == "tts-1  | ready\n"


@pytest.mark.parametrize(
    ("step", "error"),
    [
        ("up", ToolFailedError("docker compose up exited 1")),
        ("port", ToolFailedError("tts does not publish port 8000")),
        ("checks", ToolFailedError("something broke mid-run")),
    ],
)
def test_a_failure_after_up_is_reported_and_the_stack_still_comes_down(
    fakes: Fakes, make_config: Callable[..., PipelineConfig], step: str, error: Exception
) -> None:
    fakes.fail[step] = error
    config = make_config()

    with pytest.raises(CheckFailedError) as caught:
        smoke.run_smoke(config, mode="docker")

    assert caught.value.exit_code == EXIT_CHECK_FAILED
    assert fakes.calls[-3:] == ["logs", "ps", "down"]
    document = _report(config)
    assert document["status"] == "fail"
    failed = [c for c in document["checks"] if c["status"] == "fail"]
    assert len(failed) == 1
    assert failed[0]["name"] in {"start", "run"}
    assert _statuses(document)["teardown"] == "pass"


def test_a_failed_build_is_reported_and_nothing_is_started(
    fakes: Fakes, make_config: Callable[..., PipelineConfig]
) -> None:
    fakes.fail["build"] = ToolFailedError("docker build exited 1\n  pip: no matching version")
    config = make_config()

    with pytest.raises(CheckFailedError):
        smoke.run_smoke(config, mode="docker")

    assert "up" not in fakes.calls
    assert "down" not in fakes.calls
    document = _report(config)
    assert _statuses(document) == {"start": "fail"}
    assert "pip: no matching version" in document["checks"][0]["detail"]


def test_a_port_published_beyond_loopback_fails(
    fakes: Fakes, make_config: Callable[..., PipelineConfig]
) -> None:
    fakes.address = "0.0.0.0:18000"
    config = make_config()

    with pytest.raises(CheckFailedError):
        smoke.run_smoke(config, mode="docker")

    assert "checks" not in fakes.calls
    assert fakes.calls[-1] == "down"
    assert "not on 127.0.0.1" in _report(config)["checks"][0]["detail"]


@pytest.mark.parametrize(
    "error", [ToolFailedError("docker compose logs did not finish"), OSError(28, "No space")]
)
def test_compose_logs_that_raises_does_not_stop_the_teardown(
    fakes: Fakes, make_config: Callable[..., PipelineConfig], error: Exception
) -> None:
    fakes.fail["logs"] = error
    config = make_config()

    run = smoke.run_smoke(config, mode="docker")

    assert fakes.calls[-2:] == ["ps", "down"]
    assert run.status is Status.PASS  # the logs are diagnostics, not a check
    notes = _report(config)["notes"]
    assert any("could not keep the container logs" in note for note in notes)


def test_compose_logs_killed_leaves_what_it_printed_and_says_so(
    fakes: Fakes, make_config: Callable[..., PipelineConfig]
) -> None:
    fakes.logs_returncode = -9
    config = make_config()

    smoke.run_smoke(config, mode="docker")

    assert (config.report_dir("smoke") / "logs" / "compose.log").read_text() == "partial"
    assert any("may be incomplete" in note for note in _report(config)["notes"])
    assert fakes.calls[-1] == "down"


def test_a_failed_compose_down_is_a_failed_check(
    fakes: Fakes, make_config: Callable[..., PipelineConfig]
) -> None:
    fakes.down_returncode = 1
    config = make_config()

    with pytest.raises(CheckFailedError, match="teardown"):
        smoke.run_smoke(config, mode="docker")

    document = _report(config)
    assert _statuses(document)["teardown"] == "fail"
    teardown = next(c for c in document["checks"] if c["name"] == "teardown")
    assert "network in use" in teardown["detail"]
    assert "docker compose -p example-ci down" in teardown["detail"]


def test_compose_down_that_times_out_is_a_failed_check(
    fakes: Fakes, make_config: Callable[..., PipelineConfig]
) -> None:
    fakes.fail["down"] = ToolFailedError("docker compose down did not finish within 180 s")
    config = make_config()

    with pytest.raises(CheckFailedError):
        smoke.run_smoke(config, mode="docker")

    assert _statuses(_report(config))["teardown"] == "fail"


def test_an_unexpected_exception_still_writes_the_report_and_tears_down(
    fakes: Fakes, make_config: Callable[..., PipelineConfig]
) -> None:
    fakes.fail["checks"] = RuntimeError("a bug")
    config = make_config()

    with pytest.raises(RuntimeError, match="a bug"):
        smoke.run_smoke(config, mode="docker")

    assert fakes.calls[-1] == "down"
    assert _statuses(_report(config)) == {"teardown": "pass"}


def test_an_unreachable_service_is_a_failed_check(
    fakes: Fakes, make_config: Callable[..., PipelineConfig]
) -> None:
    fakes.fail["checks"] = ServiceUnreachableError("http://127.0.0.1:18000/health unreachable")
    config = make_config()

    with pytest.raises(CheckFailedError, match="reachable"):
        smoke.run_smoke(config, mode="docker")

    assert _statuses(_report(config))["reachable"] == "fail"


def test_missing_compose_is_exit_3_with_a_report(
    fakes: Fakes, make_config: Callable[..., PipelineConfig]
) -> None:
    fakes.fail["compose_version"] = ToolMissingError("docker compose v2 not available")
    config = make_config()

    with pytest.raises(ToolMissingError):
        smoke.run_smoke(config, mode="docker")

    document = _report(config)
    assert document["status"] == "unknown"
    assert any("docker compose v2 not available" in note for note in document["notes"])


def test_no_engine_under_ci_exits_3_writes_the_report_and_starts_nothing(
    fakes: Fakes, make_config: Callable[..., PipelineConfig]
) -> None:
    fakes.engine = False
    config = make_config(CI="true")

    with pytest.raises(ToolMissingError) as caught:
        smoke.run_smoke(config)

    assert caught.value.exit_code == EXIT_TOOL_MISSING
    assert fakes.calls == ["engine_status"]
    document = _report(config)
    assert document["status"] == "unknown"
    assert document["container"] == "unknown"
    assert document["checks"] == []


def test_no_engine_locally_falls_back_and_reports_the_container_unknown(
    fakes: Fakes, make_config: Callable[..., PipelineConfig]
) -> None:
    fakes.engine = False
    config = make_config()

    run = smoke.run_smoke(config)  # returns: exit 0, as documented for a local fallback

    assert fakes.calls == ["engine_status", "local_start", "checks", "speech", "local_stop"]
    assert run.status is Status.UNKNOWN
    document = _report(config)
    assert document["container"] == "unknown"
    assert document["status"] == "unknown"
    summary = (config.report_dir("smoke") / "summary.md").read_text(encoding="utf-8")
    assert "**UNKNOWN**" in summary
    assert "| container | UNKNOWN |" in summary


def test_the_mode_comes_from_the_environment_when_not_given(
    fakes: Fakes, make_config: Callable[..., PipelineConfig]
) -> None:
    fakes.engine = False
    config = make_config(VIBEVOICE_SMOKE_MODE="docker")

    with pytest.raises(ToolMissingError, match="--mode docker"):
        smoke.run_smoke(config)

    assert _report(config)["mode_requested"] == "docker"


def test_a_failed_check_fails_the_session_after_the_teardown(
    fakes: Fakes, make_config: Callable[..., PipelineConfig]
) -> None:
    fakes.checks = [Outcome.of("synthesis", False, "silent")]
    config = make_config()

    with pytest.raises(CheckFailedError, match=r"\(synthesis\)"):
        smoke.run_smoke(config, mode="docker")

    assert fakes.calls[-1] == "down"
    assert _report(config)["container"] == "fail"


def test_the_agents_speech_check_is_reported_with_the_tts_ones(
    fakes: Fakes,
    make_config: Callable[..., PipelineConfig],
    valid_table: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    agent = copy.deepcopy(valid_table["services"]["tts"])
    agent.update(image="example-agent", module="example.agent", host_port=18001, extra="agent")
    valid_table["services"]["agent"] = agent
    heard = ReplySpeechCheck(
        "piper",
        0.6,
        "you said hi",
        1.23456,
        (SentenceRecall("You said: hi.", "you said hi", 1.0),),
        Outcome.of("agent speech", True, "ok"),
        0.5,
    )

    @contextmanager
    def running_agent_service(tts_url: str, **_: Any) -> Iterator[Any]:
        yield _Local("http://127.0.0.1:45679")

    def run_agent_checks(url: str, *_: Any, **__: Any) -> AgentChecks:
        return AgentChecks([Outcome.of("agent turn", True, "ok"), heard.outcome], heard)

    monkeypatch.setattr(smoke, "running_agent_service", running_agent_service)
    monkeypatch.setattr(smoke, "run_agent_checks", run_agent_checks)
    config = make_config()

    smoke.run_smoke(config, mode="local")

    document = _report(config)
    assert [check["endpoint"] for check in document["speech"]] == [
        "POST /v1/tts",
        "agent POST /v1/reply",
    ]
    assert document["speech"][1] == heard.to_json()
