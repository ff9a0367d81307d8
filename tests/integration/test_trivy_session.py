"""The trivy session end to end with the real trivy, on images in a registry on 127.0.0.1.

No Docker engine: the images are made and pushed by crane, the registry is Debian's
docker-registry, and the vulnerability database is a real one built by trivy-db from a planted
advisory and served by oras (docs/ci-cd.md, "trivy"). The tts image itself, scanned with the
same database, is in test_trivy_image.py (Docker).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from release_support import free_port, running_registry
from trivy_support import (
    PLANTED_CVE,
    PLANTED_GHSA,
    REPO_ROOT,
    expect,
    pinned_version,
    plant_database,
    push_image,
    python_image_files,
    run_session,
    write_release,
)

# One worker for the whole module: its registry, images and planted database serve every test.
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("trivy-session")]
STARLETTE = pinned_version("starlette", REPO_ROOT / "infra/docker/requirements/tts.txt")


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_registry(tmp_path_factory.mktemp("registry")) as address:
        yield address


@pytest.fixture(scope="module")
def clean_image(registry: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    files = python_image_files("starlette", STARLETTE, secret=False)
    return push_image(registry, "vibevoice/clean", files, tmp_path_factory.mktemp("clean"))


@pytest.fixture(scope="module")
def leaky_image(registry: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    files = python_image_files("starlette", STARLETTE, secret=True)
    return push_image(registry, "vibevoice/leaky", files, tmp_path_factory.mktemp("leaky"))


@pytest.fixture(scope="module")
def planted_db(registry: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    return plant_database(registry, "starlette", tmp_path_factory.mktemp("db"))


def unreachable_db() -> str:
    """A database repository on a loopback port nothing listens on: the download fails the
    way it does on a machine without internet, deterministically and without leaving it."""
    return f"127.0.0.1:{free_port()}/trivy-db:2"


def test_offline_the_vulnerability_part_is_unknown_not_clean(
    clean_image: str, tmp_path: Path
) -> None:
    release = write_release(tmp_path / "release.json", "tts", clean_image)
    run = run_session(
        tmp_path, "--release", str(release), "--db-repository", unreachable_db(), "--no-strict"
    )
    assert run.returncode == 0, run.stderr  # --no-strict: unknown is not a failure
    report = run.report
    assert report["status"] == "unknown"
    assert report["parts"]["vulnerabilities"]["status"] == "unknown"
    assert report["parts"]["secrets"]["status"] == "pass"  # secrets need no database
    assert report["parts"]["misconfigurations"]["status"] == "pass"
    assert report["database"]["available"] is False
    [image] = report["images"]
    assert image["vulnerability_report"]["checked"] == 0
    assert image["vulnerability_report"]["unchecked"]
    assert "UNKNOWN" in (run.report_dir / "summary.md").read_text()
    assert expect(tmp_path, "vulnerabilities", "unknown").returncode == 0
    assert expect(tmp_path, "vulnerabilities", "pass").returncode == 1
    strict = run_session(
        tmp_path, "--release", str(release), "--db-repository", unreachable_db(), "--strict"
    )
    assert strict.returncode == 1
    assert "unknown fails under --strict" in strict.stderr
    # Under CI no flag is needed: the one rule makes unknown a failure there by default.
    under_ci = run_session(
        tmp_path, "--release", str(release), "--db-repository", unreachable_db(), ci=True
    )
    assert under_ci.returncode == 1, under_ci.stderr
    assert "unknown fails" in under_ci.stderr


def test_a_secret_planted_in_an_image_fails_the_session(leaky_image: str, tmp_path: Path) -> None:
    release = write_release(tmp_path / "release.json", "tts", leaky_image)
    run = run_session(tmp_path, "--release", str(release), "--db-repository", unreachable_db())
    assert run.returncode == 1
    report = run.report
    assert report["status"] == "fail"
    assert report["parts"]["secrets"]["status"] == "fail"
    [image] = report["images"]
    [secret] = image["secrets"]
    assert secret["rule_id"] == "aws-access-key-id"
    assert secret["target"].endswith("etc/vibevoice/settings.ini")
    # The secret itself never lands in the reports (trivy's masked match only).
    for name in ("trivy.json", "trivy.sarif", "summary.md"):
        assert "VIBEVOICEPLANTED" not in (run.report_dir / name).read_text(), name
    rules = {r["ruleId"] for run_ in run.sarif["runs"] for r in run_["results"]}
    assert "secret/aws-access-key-id" in rules


def test_the_planted_advisory_is_found_through_the_real_database_path(
    clean_image: str, planted_db: str, tmp_path: Path
) -> None:
    release = write_release(tmp_path / "release.json", "tts", clean_image)
    run = run_session(tmp_path, "--release", str(release), "--db-repository", planted_db)
    assert run.returncode == 1, run.stderr
    report = run.report
    assert report["database"]["available"] is True
    assert report["parts"]["vulnerabilities"]["status"] == "fail"
    assert report["parts"]["secrets"]["status"] == "pass"
    [image] = report["images"]
    [finding] = image["vulnerability_report"]["vulnerabilities"]
    assert finding["id"] == PLANTED_CVE
    assert PLANTED_GHSA in finding["aliases"]
    assert (finding["package"], finding["installed_version"]) == ("starlette", STARLETTE)
    assert finding["severity"] == "CRITICAL"
    assert image["vulnerability_report"]["summary"]["critical"] == 1
    schema = (run.report_dir / "vulnerabilities" / "tts-linux-amd64.json").read_text()
    assert PLANTED_CVE in schema
    sarif_ids = [r["ruleId"] for r in run.sarif["runs"][0]["results"]]
    assert sarif_ids == [PLANTED_CVE]
    assert expect(tmp_path, "vulnerabilities", "fail").returncode == 0
