"""The real tts image and container, built and run through the pipeline's own wrappers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from isolation import unique_name
from release_support import free_port, running_registry

from vibevoice_ci.build import native as build
from vibevoice_ci.core.config import PipelineConfig, load_config
from vibevoice_ci.core.outcome import Status, overall
from vibevoice_ci.smoke.checks import run_checks
from vibevoice_ci.tools import compose, docker, git

pytestmark = [pytest.mark.integration, pytest.mark.docker]


@pytest.fixture(scope="module")
def config() -> PipelineConfig:
    return load_config()


@pytest.fixture(scope="module")
def built(service_images: dict[str, build.BuiltImage]) -> build.BuiltImage:
    """The tts image as `nox -s build` makes it, built once for the whole run."""
    return service_images["tts"]


def _inspect_raw(reference: str) -> dict[str, object]:
    output = subprocess.run(
        ["docker", "image", "inspect", reference], capture_output=True, text=True, check=True
    ).stdout
    document: dict[str, object] = json.loads(output)[0]
    return document


def test_image_runs_as_non_root_with_healthcheck_and_labels(
    config: PipelineConfig, built: build.BuiltImage
) -> None:
    raw = _inspect_raw(built.reference)
    image_config = raw["Config"]
    assert isinstance(image_config, dict)
    assert image_config["User"] not in ("", "0", "root")
    assert image_config["Healthcheck"]["Test"][0] == "CMD"
    assert f"{config.service('tts').container_port}/tcp" in image_config["ExposedPorts"]
    labels = image_config["Labels"]
    assert labels["org.opencontainers.image.revision"] == git.state(config.root).sha
    assert labels["org.opencontainers.image.licenses"] == "GPL-3.0-or-later"
    assert built.metadata.digest == built.image_id


def test_extra_ca_certificates_stay_out_of_the_runtime_image(built: build.BuiltImage) -> None:
    listing = subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "--entrypoint",
            "ls",
            built.reference,
            "/usr/local/share/ca-certificates/",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "extra" not in listing.split()


@pytest.fixture
def stack(config: PipelineConfig, built: build.BuiltImage) -> Iterator[compose.Stack]:
    running = compose.Stack(
        file=config.compose_file,
        project=unique_name("vibevoice-test"),
        env={
            "VIBEVOICE_TTS_IMAGE": built.reference,
            "VIBEVOICE_TTS_ENGINE": "espeak",
            "VIBEVOICE_TTS_HOST_PORT": str(free_port()),
            # The file also declares the agent, whose required variables compose checks even
            # when only tts is started.
            "VIBEVOICE_AGENT_IMAGE": "vibevoice-agent:not-started",
            "VIBEVOICE_AGENT_TOKENS": "not-started-0123456789abcdef",
        },
        services=("tts",),
    )
    try:
        compose.up(running, wait_timeout=180)
        yield running
    finally:
        compose.down(running)


def test_container_passes_smoke_checks_and_stops_cleanly(
    config: PipelineConfig, stack: compose.Stack
) -> None:
    address = compose.published_address(stack, "tts", config.service("tts").container_port)
    assert address.startswith("127.0.0.1:")
    results = run_checks(f"http://{address}", wait_seconds=60)
    assert overall(results) is Status.PASS, [result.line() for result in results]
    subprocess.run(
        compose.compose_argv("docker", stack.file, stack.project, "stop", "--timeout", "30"),
        env={**os.environ, **stack.env},
        check=True,
        capture_output=True,
    )
    [state] = compose.ps(stack)
    assert state.state == "exited"
    assert state.exit_code == 0, compose.logs(stack).text


def test_source_only_change_reuses_the_dependency_layers(
    config: PipelineConfig, built: build.BuiltImage, tmp_path: Path
) -> None:
    context = tmp_path / "context"
    for relative in ("src/vibevoice_platform", "infra/docker/requirements", ".build"):
        shutil.copytree(config.root / relative, context / relative)
    shutil.copy(config.root / ".dockerignore", context / ".dockerignore")
    marker = context / "src/vibevoice_platform/_rebuild_marker.py"
    marker.write_text("CHANGED = True\n", encoding="utf-8")
    dockerfile = config.service("tts").dockerfile
    base = built.metadata.base_image
    tag = f"vibevoice-tts:{unique_name('rebuild-test')}"
    image_id = docker.build(
        context=context,
        dockerfile=dockerfile,
        tags=[tag],
        build_args={"BASE_IMAGE": base},
        iidfile=tmp_path / "iid",
    )
    try:
        before = _inspect_raw(built.image_id)["RootFS"]
        after = _inspect_raw(image_id)["RootFS"]
        assert isinstance(before, dict)
        assert isinstance(after, dict)
        assert image_id != built.image_id
        # Only the source layer differs: every layer before it (base, user, venv) is shared.
        assert before["Layers"][:-1] == after["Layers"][:-1]
        assert before["Layers"][-1] != after["Layers"][-1]
    finally:
        subprocess.run(["docker", "rmi", tag], capture_output=True)


def test_smoke_session_keeps_logs_and_tears_down_when_the_stack_fails(
    config: PipelineConfig, built: build.BuiltImage, tmp_path: Path
) -> None:
    # The vibevoice engine cannot load here (no torch, no weights): the container exits 2
    # before it is healthy, so `compose up --wait` fails, which the session must report.
    project = unique_name("vibevoice-smoke-failure-test")
    env = {
        **os.environ,
        "VIBEVOICE_REPORTS_DIR": str(tmp_path / "reports"),
        "VIBEVOICE_COMPOSE_PROJECT": project,
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "vibevoice_ci",
            "smoke",
            "--mode",
            "docker",
            "--engine",
            "vibevoice",
        ],
        cwd=config.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    assert result.stderr.strip().splitlines()[-1].startswith("error: smoke checks failed (start)")
    assert "Traceback" not in result.stderr
    assert "FAIL start: the stack did not become healthy" in result.stdout
    summary = (tmp_path / "reports" / "smoke" / "summary.md").read_text(encoding="utf-8")
    assert "**FAILED**" in summary
    log = (tmp_path / "reports" / "smoke" / "logs" / "compose.log").read_text(encoding="utf-8")
    assert "vibevoice" in log.lower()
    assert "VIBEVOICE_MODEL_PATH" in log or "vibevoice package" in log.lower(), log[-2000:]
    leftover = subprocess.run(
        [
            "docker",
            "ps",
            "--all",
            "--quiet",
            "--filter",
            f"label=com.docker.compose.project={project}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert leftover.strip() == "", "the failed stack was not torn down"


@pytest.fixture
def local_registry(tmp_path: Path) -> Iterator[str]:
    """A throwaway registry (Debian's docker-registry) on a free 127.0.0.1 port."""
    with running_registry(tmp_path) as address:
        yield address


def test_push_records_the_registry_digest(
    config: PipelineConfig, built: build.BuiltImage, local_registry: str, tmp_path: Path
) -> None:
    [pushed] = build.build_images(
        config,
        services=["tts"],
        push=True,
        registry=f"{local_registry}/ci-test",
        report_dir=tmp_path / "build",
    )
    assert pushed.metadata.digest_kind == "manifest"
    assert pushed.pushed_reference == f"{local_registry}/ci-test/{built.reference}"
    tag = built.reference.rpartition(":")[2]
    with httpx.Client(base_url=f"http://{local_registry}", timeout=30.0) as client:
        tags = client.get("/v2/ci-test/vibevoice-tts/tags/list").json()["tags"]
        manifest = client.head(
            f"/v2/ci-test/vibevoice-tts/manifests/{tag}",
            headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
        )
    assert tag in tags
    assert manifest.headers["Docker-Content-Digest"] == pushed.metadata.digest
