"""``nox -s perf -- --image REF``: the load test against a container of the built tts image.

Real Docker: the image is built by the pipeline's own build, started through the compose
file under the perf project, loaded on 127.0.0.1, and always torn down.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from isolation import unique_name

from vibevoice_ci.build import native as build
from vibevoice_ci.core.config import PipelineConfig, load_config
from vibevoice_ci.core.environment import RunEnvironment
from vibevoice_ci.core.errors import UsageError
from vibevoice_ci.core.outcome import Status
from vibevoice_ci.perf.container import ContainerRecord, running_container
from vibevoice_ci.perf.session import PerfOptions, run_perf
from vibevoice_ci.smoke.checks import run_checks

pytestmark = [pytest.mark.integration, pytest.mark.docker]

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def built(service_images: dict[str, build.BuiltImage]) -> build.BuiltImage:
    """The tts image as `nox -s build` makes it, built once for the whole run."""
    return service_images["tts"]


@pytest.fixture
def config(tmp_path: Path) -> PipelineConfig:
    base = load_config(REPO)
    return base.model_copy(
        update={
            # The perf stack is <compose_project>-perf: a project of this test's own.
            "compose_project": unique_name("vibevoice-test"),
            "reports_dir": tmp_path / "reports",
            "perf": base.perf.model_copy(
                update={"state_dir": tmp_path / "state", "requests": 12, "warmup": 1}
            ),
            "env": RunEnvironment(),
        }
    )


def perf_containers(config: PipelineConfig) -> list[str]:
    """Containers (running or not) of the perf compose project."""
    output = subprocess.run(
        [
            "docker",
            "ps",
            "--all",
            "--quiet",
            "--filter",
            f"label=com.docker.compose.project={config.compose_project}-perf",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return output.split()


def test_the_load_test_runs_against_the_built_image_and_tears_it_down(
    config: PipelineConfig, built: build.BuiltImage
) -> None:
    options = PerfOptions(capacity=1, image=built.reference)
    # A fresh state has no baseline: nothing is compared, so the verdict is unknown, never a
    # pass (the run creates the baseline the next one compares with).
    assert run_perf(config, options) is Status.UNKNOWN
    report = config.report_dir("perf")
    metrics = json.loads((report / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["run"]["service"] == {"kind": "container", "image": built.reference}
    assert metrics["run"]["engine"] == config.perf.engine
    assert metrics["metrics"]["total_requests"] == 12
    assert metrics["metrics"]["error_rate"] == 0
    summary = (report / "summary.md").read_text(encoding="utf-8")
    assert "teardown" in summary
    assert "nothing was compared" in summary
    assert f"image {built.reference} (on this machine)" in summary
    assert (report / "logs" / "compose.log").is_file()
    assert perf_containers(config) == []


def test_the_container_is_torn_down_when_the_run_breaks_inside(
    config: PipelineConfig, built: build.BuiltImage, tmp_path: Path
) -> None:
    record = ContainerRecord()
    seen: list[int] = []

    def break_mid_run() -> None:
        with running_container(
            config,
            built.reference,
            engine="espeak",
            max_concurrency=4,
            logs_dir=tmp_path / "logs",
            record=record,
        ) as port:
            seen.append(port)
            assert run_checks(f"http://127.0.0.1:{port}", wait_seconds=30)
            raise RuntimeError("broke mid-run")

    with pytest.raises(RuntimeError, match="broke mid-run"):
        break_mid_run()
    assert seen
    assert record.teardown is not None
    assert record.teardown.status is Status.PASS, record.teardown.detail
    assert perf_containers(config) == []


def test_an_image_that_is_not_here_is_bad_input_and_the_summary_says_so(
    config: PipelineConfig,
) -> None:
    missing = "vibevoice-tts:no-such-tag-for-perf"
    with pytest.raises(UsageError, match="not on this machine"):
        run_perf(config, PerfOptions(capacity=0, image=missing))
    summary = (config.report_dir("perf") / "summary.md").read_text(encoding="utf-8")
    assert "not on this machine" in summary
    assert perf_containers(config) == []
