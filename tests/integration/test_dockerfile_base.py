"""The Dockerfiles' base-image override, for real: BASE_IMAGE set, the default stage (the literal
FROM line Dependabot bumps) is never built or pulled; unset, the build is FROM that stage.

Each service Dockerfile's own header (the ARG, the default stage and the FROM lines that use
BASE_IMAGE) is built through the pipeline's docker wrapper, with the default's image replaced
by one no machine can pull, so a build that touched the default stage fails everywhere. The
bases are empty images imported here; nothing is pulled.
"""

from __future__ import annotations

import re
import subprocess
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from vibevoice_ci.core.config import ServiceConfig, load_config
from vibevoice_ci.tools import docker

pytestmark = [pytest.mark.integration, pytest.mark.docker]

CONFIG = load_config()
SERVICES = sorted(CONFIG.services.values(), key=lambda service: service.name)
UNPULLABLE = "127.0.0.1:9/nothing/here:0"  # a registry port nobody listens on
_DEFAULT_FROM_RE = re.compile(r"^FROM (?P<image>\S+) AS (?P<stage>\S+)$", re.MULTILINE)


@pytest.fixture(scope="module")
def empty_image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An image with an empty filesystem, imported from an empty tarball."""
    folder = tmp_path_factory.mktemp("empty-image")
    tarball = folder / "empty.tar"
    with tarfile.open(tarball, "w"):
        pass
    reference = f"vibevoice-test-empty:{uuid.uuid4().hex[:12]}"
    subprocess.run(
        [docker.docker(), "import", str(tarball), reference], check=True, capture_output=True
    )
    try:
        yield reference
    finally:
        subprocess.run([docker.docker(), "rmi", "-f", reference], check=False, capture_output=True)


def _header_build(service: ServiceConfig, folder: Path) -> Path:
    """The Dockerfile's lines up to its first ``FROM ${BASE_IMAGE}``, the default image made
    unpullable, then one stage per BASE_IMAGE use that copies a marker file."""
    text = service.dockerfile.read_text(encoding="utf-8")
    default = _DEFAULT_FROM_RE.search(text)
    assert default is not None, f"{service.dockerfile.name} has no `FROM <image> AS <stage>`"
    uses = [line for line in text.splitlines() if line.startswith("FROM ${BASE_IMAGE}")]
    assert uses, f"{service.dockerfile.name} never builds FROM ${{BASE_IMAGE}}"
    header = text[: text.index(uses[0])].replace(default["image"], UNPULLABLE)
    stages = "".join(f"{line}\nCOPY marker /marker\n" for line in uses)
    (folder / "marker").write_text("built\n", encoding="utf-8")
    dockerfile = folder / "Dockerfile"
    dockerfile.write_text(header + stages, encoding="utf-8")
    return dockerfile


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
def test_an_override_never_touches_the_default_stage(
    service: ServiceConfig, empty_image: str, tmp_path: Path
) -> None:
    dockerfile = _header_build(service, tmp_path)
    tag = f"vibevoice-test-base:{uuid.uuid4().hex[:12]}"
    try:
        image_id = docker.build(
            context=tmp_path,
            dockerfile=dockerfile,
            tags=[tag],
            build_args={"BASE_IMAGE": empty_image},
            iidfile=tmp_path / "iid",
        )
        assert image_id.startswith("sha256:")
    finally:
        subprocess.run([docker.docker(), "rmi", "-f", tag], check=False, capture_output=True)


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
def test_without_an_override_the_build_is_from_the_default_stage(
    service: ServiceConfig, empty_image: str, tmp_path: Path
) -> None:
    dockerfile = _header_build(service, tmp_path)
    dockerfile.write_text(
        dockerfile.read_text(encoding="utf-8").replace(UNPULLABLE, empty_image), encoding="utf-8"
    )
    tag = f"vibevoice-test-base:{uuid.uuid4().hex[:12]}"
    try:
        # Without BASE_IMAGE, `FROM ${BASE_IMAGE}` is the stage (a name nothing could pull).
        image_id = docker.build(
            context=tmp_path, dockerfile=dockerfile, tags=[tag], iidfile=tmp_path / "iid"
        )
        assert image_id.startswith("sha256:")
    finally:
        subprocess.run([docker.docker(), "rmi", "-f", tag], check=False, capture_output=True)
