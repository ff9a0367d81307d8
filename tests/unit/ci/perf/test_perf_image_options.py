"""``nox -s perf -- --image REF | --release FILE``: the parts that need no Docker engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from release_helpers import REGISTRY, released_image, write_release

from vibevoice_ci import cli
from vibevoice_ci.core.config import PipelineConfig, load_config
from vibevoice_ci.core.environment import RunEnvironment
from vibevoice_ci.core.errors import EXIT_BAD_INPUT, UsageError
from vibevoice_ci.perf.check import setting_differences
from vibevoice_ci.perf.container import release_image, stack_environment
from vibevoice_ci.perf.reports import MetricsDocument
from vibevoice_ci.perf.session import PerfOptions, run_perf

REPO = Path(__file__).resolve().parents[4]
DIGEST = "sha256:" + "ab" * 32


def test_the_release_file_names_the_tts_digest(tmp_path: Path) -> None:
    release = write_release(
        tmp_path / "release.json",
        released_image("agent", digest=DIGEST),
        released_image("tts", digest=DIGEST),
    )
    assert release_image(release) == f"{REGISTRY}/vibevoice-tts@{DIGEST}"


@pytest.mark.parametrize("services", [(), ("agent",)])
def test_a_release_file_without_a_tts_image_is_bad_input(
    tmp_path: Path, services: tuple[str, ...]
) -> None:
    images = [released_image(service) for service in services]
    with pytest.raises(UsageError, match="lists no tts image"):
        release_image(write_release(tmp_path / "release.json", *images))


def test_a_release_file_with_an_unpinned_reference_is_bad_input(tmp_path: Path) -> None:
    release = write_release(tmp_path / "release.json", released_image("tts"))
    document = json.loads(release.read_text(encoding="utf-8"))
    document["images"][0]["reference"] = f"{REGISTRY}/vibevoice-tts:abc1234"
    release.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(UsageError, match=r"images\.0: Value error, reference .* is not "):
        release_image(release)


def test_a_missing_release_file_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not found"):
        release_image(tmp_path / "nothing.json")


def test_the_stack_publishes_the_chosen_port_and_the_run_settings() -> None:
    env = stack_environment("img@" + DIGEST, engine="espeak", max_concurrency=8, host_port=4321)
    assert env["VIBEVOICE_TTS_IMAGE"] == "img@" + DIGEST
    assert env["VIBEVOICE_TTS_ENGINE"] == "espeak"
    assert env["VIBEVOICE_TTS_HOST_PORT"] == "4321"
    assert env["VIBEVOICE_TTS_MAX_CONCURRENCY"] == "8"
    # The agent is never started, but compose needs its variables to read the file.
    assert env["VIBEVOICE_AGENT_IMAGE"]
    assert len(env["VIBEVOICE_AGENT_TOKENS"]) >= 16


def test_the_compose_file_takes_the_tts_concurrency_from_the_run() -> None:
    text = (REPO / "infra" / "docker" / "compose.yaml").read_text(encoding="utf-8")
    assert "VIBEVOICE_TTS_MAX_CONCURRENCY: ${VIBEVOICE_TTS_MAX_CONCURRENCY:-2}" in text


def test_image_and_release_are_one_or_the_other() -> None:
    with pytest.raises(SystemExit) as exited:
        cli.parser().parse_args(["perf", "--image", "a:b", "--release", "r.json"])
    assert exited.value.code == EXIT_BAD_INPUT
    args = cli.parser().parse_args(["perf", "--release", "r.json"])
    assert args.release == Path("r.json")
    assert args.image is None


def test_a_bad_release_file_exits_2_after_writing_the_summary(tmp_path: Path) -> None:
    base = load_config(REPO)
    config: PipelineConfig = base.model_copy(
        update={
            "reports_dir": tmp_path / "reports",
            "perf": base.perf.model_copy(update={"state_dir": tmp_path / "state"}),
            "env": RunEnvironment(),
        }
    )
    release = write_release(tmp_path / "release.json")
    with pytest.raises(UsageError, match="lists no tts image"):
        run_perf(config, PerfOptions(release=release, capacity=0))
    summary = (tmp_path / "reports" / "perf" / "summary.md").read_text(encoding="utf-8")
    assert "lists no tts image" in summary
    assert not (tmp_path / "state" / "baseline.json").exists()


def _metrics(service: dict[str, object] | None) -> MetricsDocument:
    """A metrics document of a closed-loop espeak run, with ``run.service`` when given."""
    latency = {"mean": 10.0, "p50": 9.0, "p95": 15.0, "p99": 18.0}
    run: dict[str, object] = {
        "engine": "espeak",
        "endpoint": "http",
        "mode": "closed",
        "concurrency": 2,
        "rate": None,
        "requests": 60,
        "duration_s": None,
        "warmup": 5,
        "wall_seconds": 4.2,
        "late_starts": 0,
        "prompt_set": {"source": "builtin", "count": 1, "lengths": [12], "sha256": "0" * 64},
    }
    if service is not None:
        run["service"] = service
    document = {
        "timestamp": "2026-11-30T02:00:00Z",
        "git_sha": None,
        "workflow_run_id": None,
        "metrics": {
            "ttfa_ms": latency,
            "e2e_latency_ms": latency,
            "throughput_rps": 12.5,
            "error_rate": 0.0,
            "total_requests": 60,
        },
        "run": run,
    }
    return MetricsDocument.model_validate_json(json.dumps(document))


def test_a_container_run_against_a_local_baseline_is_noted_and_the_image_is_not() -> None:
    def run(kind: str, image: str | None) -> MetricsDocument:
        return _metrics({"kind": kind, "image": image})

    assert setting_differences(run("container", "a@1"), run("local process", None)) == [
        "service (local process or container)"
    ]
    assert setting_differences(run("container", "a@1"), run("container", "a@2")) == []
    # A baseline written before the service was recorded is not a difference.
    assert setting_differences(run("container", "a@1"), _metrics(None)) == []
