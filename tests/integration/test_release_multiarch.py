"""The release build for real: buildkitd + buildx (remote driver) + QEMU, pushed to a
throwaway registry on 127.0.0.1; the pushed index is inspected and its arm64 image run."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from release_support import require_tool, running_registry

from capabilities import missing
from vibevoice_ci.build import referrers
from vibevoice_ci.build import release as multiarch
from vibevoice_ci.build.metadata import metadata_problems
from vibevoice_ci.core.config import PipelineConfig, ServiceConfig, load_config
from vibevoice_ci.core.retry import RetryLog
from vibevoice_ci.tools import crane, git

# One worker for the whole module: the one multi-platform build (`released`) serves every test.
pytestmark = [
    pytest.mark.integration,
    pytest.mark.docker,
    pytest.mark.timeout(1800),
    pytest.mark.xdist_group("release-multiarch"),
]
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_registry(tmp_path_factory.mktemp("registry")) as address:
        yield address


@pytest.fixture(scope="module")
def released(
    registry: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[PipelineConfig, multiarch.ReleaseImage]:
    if os.geteuid() != 0:
        missing("buildkitd", "the release build starts buildkitd, which runs as root")
    for tool in ("buildkitd", "buildctl", "crane"):
        require_tool(tool)
    base = load_config()
    probe = ServiceConfig(
        name="probe",
        image="vibevoice-probe",
        dockerfile=DATA / "probe.Dockerfile",
        requirements=base.root / "infra/docker/requirements/tts.txt",
        extra="tts",
        module="probe",
        container_port=8000,
        host_port=18099,
        health_path="/health",
        ready_path="/ready",
        metrics_path="/metrics",
    )
    config = base.model_copy(
        update={"reports_dir": tmp_path_factory.mktemp("reports"), "services": {"probe": probe}}
    )
    [image] = multiarch.build_release(config, registry=f"{registry}/vibevoice")
    return config, image


def test_the_index_lists_every_platform_with_the_right_architecture(
    released: tuple[PipelineConfig, multiarch.ReleaseImage],
) -> None:
    config, image = released
    index = crane.manifest(image.reference)
    entries = {entry.platform: entry for entry in crane.index_entries(index)}
    assert sorted(entries) == sorted(config.platforms) == ["linux/amd64", "linux/arm64"]
    revision = git.state(config.root).sha
    assert index["annotations"]["org.opencontainers.image.revision"] == revision
    for platform, entry in entries.items():
        image_config = crane.config(f"{image.repository}@{entry.digest}")
        assert f"{image_config['os']}/{image_config['architecture']}" == platform
        labels = image_config["config"]["Labels"]
        assert labels["org.opencontainers.image.revision"] == revision
        assert labels["org.opencontainers.image.title"] == "vibevoice-probe"
    # pushed by the SHA tag only: latest waits for promote
    assert crane.digest(f"{image.repository}:{image.tag}") == image.digest
    assert image.tag.startswith(revision[:12])


def test_sboms_and_metadata_are_written_and_attached(
    released: tuple[PipelineConfig, multiarch.ReleaseImage],
) -> None:
    config, image = released
    report_dir = config.report_dir("build")
    registry = image.repository.split("/", 1)[0]
    with referrers.RegistryClient(registry, log=RetryLog()) as client:
        for entry in image.platforms:
            sbom = json.loads((report_dir / entry.sbom).read_text())
            assert sbom["spdxVersion"].startswith("SPDX-")
            assert any(
                p.get("name") == "python3.11" or "python" in p.get("name", "")
                for p in sbom["packages"]
            )
            listed = client.referrers(image.repository.split("/", 1)[1], entry.digest)
            assert [r["digest"] for r in listed] == [entry.sbom_referrer]
            assert listed[0]["artifactType"] == "application/spdx+json"
    records = json.loads((report_dir / "build-metadata.json").read_text())
    assert [r["platform"] for r in records] == ["linux/amd64", "linux/arm64"]
    for record in records:
        assert metadata_problems(record) == []
        assert record["digest"] == image.digest  # the registry's index digest
    release = json.loads((report_dir / "release.json").read_text())
    assert release["status"] == "pass"
    assert release["images"][0]["reference"] == image.reference
    assert (report_dir / image.log).read_text().count("exporting to image") >= 1


@pytest.mark.parametrize(
    ("platform", "machine"), [("linux/arm64", "aarch64"), ("linux/amd64", "x86_64")]
)
def test_each_platform_image_starts(
    released: tuple[PipelineConfig, multiarch.ReleaseImage], platform: str, machine: str
) -> None:
    _, image = released
    entry = next(e for e in image.platforms if e.platform == platform)
    result = subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "--platform",
            platform,
            f"{image.repository}@{entry.digest}",
            "python3",
            "-c",
            "import platform; print(platform.machine())",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == machine
