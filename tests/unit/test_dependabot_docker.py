"""Dependabot's docker updater sees the Dockerfiles' base image, so its `docker` entry in
.github/dependabot.yml bumps something.

Its file parser (dependabot-core, docker/lib/dependabot/docker/file_parser.rb) reads a
Dockerfile line by line and takes a dependency only from a line its FROM_LINE expression
matches: ``FROM [--platform=X] [registry/]image[:tag][@digest] [AS name]`` with a literal
image name. ``FROM ${BASE_IMAGE}`` does not match (ARG support was added in 2022 and reverted
because the updater could not rewrite such lines), and ARG defaults are never read. The
expression is ported below; the Dockerfiles must give it the configured default base.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from vibevoice_ci.core.config import ServiceConfig, load_config

CONFIG = load_config()
SERVICES = sorted(CONFIG.services.values(), key=lambda service: service.name)

# dependabot-core's expressions (Ruby), written for Python's re.
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})+)"
_REGISTRY = rf"(?P<registry>{_DOMAIN}(?::\d+)?)"
_NAME_COMPONENT = r"(?:[a-z\d]+(?:(?:[._]|__|[-]*)[a-z\d]+)*)"
_IMAGE = rf"(?P<image>{_NAME_COMPONENT}(?:/{_NAME_COMPONENT})*)"
_PLATFORM = r"--platform=(?P<platform>\S+)"
_TAG = r":(?P<tag>\w[\w.-]{0,127})"
_DIGEST = r"@(?P<digest>\S+)"
_NAME = r"\s+AS\s+(?P<name>[\w-]+)"
FROM_LINE = re.compile(
    rf"^FROM\s+(?:{_PLATFORM}\s+)?(?:{_REGISTRY}/)?{_IMAGE}(?:{_TAG})?(?:{_DIGEST})?(?:{_NAME})?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DockerDependency:
    image: str
    tag: str | None
    digest: str | None


def dependabot_dependencies(dockerfile_text: str) -> list[DockerDependency]:
    """The images Dependabot's docker parser takes from a Dockerfile (pure): lines matching
    FROM_LINE that carry a tag or a digest (its ``version_from``)."""
    found: list[DockerDependency] = []
    for line in dockerfile_text.splitlines():
        match = FROM_LINE.match(line)
        if match is None or not (match["tag"] or match["digest"]):
            continue
        registry = None if match["registry"] == "docker.io" else match["registry"]
        image = f"{registry}/{match['image']}" if registry else match["image"]
        found.append(DockerDependency(image, match["tag"], match["digest"]))
    return found


def _reference(dependency: DockerDependency) -> str:
    text = dependency.image
    if dependency.tag:
        text += f":{dependency.tag}"
    if dependency.digest:
        text += f"@{dependency.digest}"
    return text


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
def test_dependabot_sees_the_default_base_image(service: ServiceConfig) -> None:
    text = service.dockerfile.read_text(encoding="utf-8")
    seen = [_reference(d) for d in dependabot_dependencies(text)]
    assert CONFIG.base_image.default in seen, (
        f"Dependabot's docker parser finds {seen or 'no image'} in {service.dockerfile.name}: "
        f"the default base {CONFIG.base_image.default} must be a literal FROM line"
    )


def test_dependabot_watches_the_dockerfiles_folder() -> None:
    root = CONFIG.root
    config = yaml.safe_load((root / ".github" / "dependabot.yml").read_text(encoding="utf-8"))
    docker = [u for u in config["updates"] if u["package-ecosystem"] == "docker"]
    folders = {Path(u["directory"].lstrip("/")) for u in docker}
    for service in SERVICES:
        assert service.dockerfile.relative_to(root).parent in folders
        assert re.search("dockerfile", service.dockerfile.name, re.IGNORECASE)  # its fetcher


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("FROM python:3.11.14-slim-bookworm AS python-base", "python:3.11.14-slim-bookworm"),
        ("FROM --platform=linux/amd64 python:3.12 AS x", "python:3.12"),
        ("from ghcr.io/owner/img:1.2.3", "ghcr.io/owner/img:1.2.3"),
        ("FROM docker.io/library/python:3.11", "library/python:3.11"),
        ("FROM python@sha256:abc", "python@sha256:abc"),
    ],
)
def test_the_port_reads_what_dependabot_reads(line: str, expected: str) -> None:
    assert [_reference(d) for d in dependabot_dependencies(line)] == [expected]


@pytest.mark.parametrize(
    "line",
    [
        "FROM ${BASE_IMAGE} AS deps",
        "FROM $BASE_IMAGE",
        "ARG BASE_IMAGE=python:3.11.14-slim-bookworm",
        "FROM python",  # no tag, no digest: no version to bump
        "FROM python-base AS runtime",
    ],
)
def test_the_port_skips_what_dependabot_skips(line: str) -> None:
    assert dependabot_dependencies(line) == []
