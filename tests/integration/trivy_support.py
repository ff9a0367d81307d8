"""Real helpers for the trivy tests: images made by crane (no Docker), a planted-advisory
database built by trivy-db and served by oras from a registry on 127.0.0.1, and the session
run as a contributor runs it (``python -m vibevoice_ci trivy``)."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
from release_support import require_tool

from vibevoice_ci.build.reports import Release, ReleaseImage, ReleasePlatform
from vibevoice_ci.core.reports import write_report
from vibevoice_ci.tools import crane
from vibevoice_ci.trivy import planted_db

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = REPO_ROOT / "src" / "vibevoice_ci" / "trivy"
# Built at run time so that no scanner of this repository finds a key in it.
PLANTED_SECRET = "AKIA" + "VIBEVOICEPLANTED"
PLANTED_GHSA = "GHSA-vibe-voic-test"
PLANTED_CVE = "CVE-2099-4242"


def pinned_version(package: str, requirements: Path) -> str:
    """The version ``requirements`` (a hashed export of uv.lock) pins ``package`` at."""
    text = requirements.read_text(encoding="utf-8")
    found = re.search(rf"^{re.escape(package)}==(\S+)", text, re.MULTILINE)
    assert found, f"{package} is not pinned in {requirements}"
    return found.group(1)


def python_image_files(package: str, version: str, *, secret: bool) -> dict[str, bytes]:
    """A Debian-like root filesystem with one installed Python distribution (and a secret)."""
    site = "opt/venv/lib/python3.11/site-packages"
    files = {
        "etc/os-release": b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n'
        b'VERSION_ID="12"\n',
        "etc/debian_version": b"12.12\n",
        f"{site}/{package}-{version}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n".encode()
        ),
    }
    if secret:
        files["etc/vibevoice/settings.ini"] = f"aws_access_key_id = {PLANTED_SECRET}\n".encode()
    return files


def push_image(registry: str, name: str, files: dict[str, bytes], folder: Path) -> str:
    """A one-layer linux/amd64 image made by crane and pushed; returns repository@digest."""
    require_tool("crane")
    layer = folder / f"{name.replace('/', '-')}.tar"
    with tarfile.open(layer, "w") as archive:
        for path, content in sorted(files.items()):
            info = tarfile.TarInfo(path)
            info.size = len(content)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(content))
    repository = f"{registry}/{name}"
    subprocess.run(
        [
            "crane",
            "append",
            "--insecure",
            "--oci-empty-base",
            "-f",
            str(layer),
            "-t",
            f"{repository}:layer",
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            "crane",
            "mutate",
            "--insecure",
            "--set-platform",
            "linux/amd64",
            "-t",
            f"{repository}:test",
            f"{repository}:layer",
        ],
        check=True,
        capture_output=True,
    )
    return f"{repository}@{crane.digest(f'{repository}:test')}"


def write_release(path: Path, service: str, reference: str, platform: str = "linux/amd64") -> Path:
    """A release.json (written through the release build's model) naming one single-platform
    image; its SBOM fields name files and a referrer no trivy run reads."""
    repository, _, digest = reference.partition("@")
    image = ReleaseImage(
        service=service,
        repository=repository,
        tag="test",
        digest=digest,
        reference=reference,
        platforms=[
            ReleasePlatform(
                platform=platform,
                digest=digest,
                sbom=f"sbom/{service}-{platform.replace('/', '-')}.spdx.json",
                sbom_referrer="sha256:" + "0" * 64,
            )
        ],
        promote_tags=[],
        build_seconds=0.0,
        log=f"logs/{service}.log",
    )
    release = Release(
        status="pass",
        registry=repository.rsplit("/", 1)[0],
        platforms=[platform],
        images=[image],
        retries=[],
        notes=[],
    )
    write_report(path, release)
    return path


def plant_database(registry: str, package: str, folder: Path) -> str:
    """Build and push the planted-advisory database; returns the --db-repository value."""
    require_tool("trivy-db")
    require_tool("oras")
    advisory = planted_db.PlantedAdvisory(PLANTED_GHSA, PLANTED_CVE, package, "99.0.0")
    return planted_db.publish(folder, [advisory], f"{registry}/vibevoice-test/trivy-db")


@dataclass(frozen=True)
class SessionRun:
    returncode: int
    stderr: str
    report_dir: Path

    @property
    def report(self) -> dict[str, Any]:
        """trivy.json, checked against its committed schema (and each image's report too)."""
        document: dict[str, Any] = json.loads((self.report_dir / "trivy.json").read_text())
        jsonschema.validate(document, _schema("trivy.schema.json"))
        per_image = _schema("vulnerability-report.schema.json")
        for path in sorted((self.report_dir / "vulnerabilities").glob("*.json")):
            jsonschema.validate(json.loads(path.read_text()), per_image)
        return document

    @property
    def sarif(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads((self.report_dir / "trivy.sarif").read_text())
        return document


def _schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return schema


def run_session(folder: Path, *args: str, ci: bool = False) -> SessionRun:
    """``python -m vibevoice_ci trivy ARGS`` with its reports and caches under ``folder``.

    ``$CI`` is set only when ``ci`` is true, whatever the environment running the tests holds:
    it decides the default of ``--strict``, and a test must not change meaning under CI.
    """
    require_tool("trivy")
    env = {
        **os.environ,
        "VIBEVOICE_REPORTS_DIR": str(folder / "reports"),
        "VIBEVOICE_CACHE_DIR": str(folder / "cache"),
    }
    env.pop("GITHUB_STEP_SUMMARY", None)
    env.pop("CI", None)
    if ci:
        env["CI"] = "true"
    result = subprocess.run(
        [sys.executable, "-m", "vibevoice_ci", "trivy", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    return SessionRun(result.returncode, result.stderr, folder / "reports" / "trivy")


def expect(folder: Path, part: str, status: str) -> subprocess.CompletedProcess[str]:
    """``python -m vibevoice_ci trivy-expect`` on the report under ``folder``."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "vibevoice_ci",
            "trivy-expect",
            "--part",
            part,
            "--status",
            status,
            "--report",
            str(folder / "reports" / "trivy" / "trivy.json"),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
