"""The real tts image, pushed to a registry on 127.0.0.1, scanned by the trivy session with a
planted-advisory database against a package the image really ships (starlette, at the version
uv.lock pins): the real vulnerability path finds it, fails the session and writes the SARIF.
The same image carries no secret, and its own configuration passes.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from release_support import running_registry
from trivy_support import (
    PLANTED_CVE,
    REPO_ROOT,
    pinned_version,
    plant_database,
    run_session,
    write_release,
)

from vibevoice_ci.build import native as build
from vibevoice_ci.tools import crane

pytestmark = [pytest.mark.integration, pytest.mark.docker]
STARLETTE = pinned_version("starlette", REPO_ROOT / "infra/docker/requirements/tts.txt")


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_registry(tmp_path_factory.mktemp("registry")) as address:
        yield address


@pytest.fixture(scope="module")
def tts_image(registry: str, service_images: dict[str, build.BuiltImage]) -> str:
    """The tts image as `nox -s build` makes it (native platform), pushed; repository@digest."""
    built = service_images["tts"]
    target = f"{registry}/vibevoice/vibevoice-tts:trivy-test"
    subprocess.run(["docker", "tag", built.reference, target], check=True)
    subprocess.run(["docker", "push", "--quiet", target], check=True, capture_output=True)
    return f"{registry}/vibevoice/vibevoice-tts@{crane.digest(target)}"


def native_platform() -> str:
    arch = subprocess.run(
        ["docker", "version", "--format", "{{.Server.Arch}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return f"linux/{arch}"


def test_the_planted_advisory_in_the_real_image_fails_the_session(
    registry: str, tts_image: str, tmp_path: Path
) -> None:
    db = plant_database(registry, "starlette", tmp_path / "db")
    platform = native_platform()
    release = write_release(tmp_path / "release.json", "tts", tts_image, platform)
    run = run_session(tmp_path, "--release", str(release), "--db-repository", db)
    assert run.returncode == 1, run.stderr
    report = run.report
    assert report["parts"]["vulnerabilities"]["status"] == "fail"
    assert report["parts"]["secrets"]["status"] == "pass", report["parts"]["secrets"]
    assert report["parts"]["misconfigurations"]["status"] == "pass", report["outcomes"]
    [image] = report["images"]
    assert image["error"] == ""
    vulnerabilities = image["vulnerability_report"]
    # Debian's packages and the venv's distributions were all checked against the database.
    assert vulnerabilities["checked"] > 100
    [finding] = vulnerabilities["vulnerabilities"]
    assert (finding["id"], finding["package"]) == (PLANTED_CVE, "starlette")
    assert finding["installed_version"] == STARLETTE
    results = run.sarif["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == [PLANTED_CVE]
    location = results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert location == "infra/docker/tts.Dockerfile"
