"""The docker CLI: engine status, images (build, inspect, tag, push, import) and containers."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vibevoice_ci.core.errors import ToolFailedError, ToolMissingError
from vibevoice_ci.tools._exec import ToolResult, find_tool, run_tool

INSTALL_HINT = (
    "install the Docker engine (Debian: apt-get install docker.io) "
    "or point $VIBEVOICE_DOCKER at a docker CLI"
)

# A native ``docker build`` of one image: the same bound as a release build (buildx.py).
BUILD_TIMEOUT = 5400  # seconds

_DIGEST_LINE = re.compile(r"digest:\s*(sha256:[0-9a-f]{64})")


@dataclass(frozen=True)
class EngineStatus:
    """Whether a Docker engine answers, and why not when it does not."""

    available: bool
    server_version: str = ""
    reason: str = ""


@dataclass(frozen=True)
class ImageInfo:
    """The parts of ``docker image inspect`` the pipeline records."""

    id: str
    repo_tags: tuple[str, ...]
    repo_digests: tuple[str, ...]
    size_bytes: int
    created: str
    architecture: str
    os: str
    labels: Mapping[str, str] = field(default_factory=dict)


def docker() -> str:
    return find_tool("docker", INSTALL_HINT, env_override="VIBEVOICE_DOCKER")


def engine_status() -> EngineStatus:
    """Ask the engine for its version; a missing CLI or a dead daemon is ``available=False``."""
    try:
        binary = docker()
    except ToolMissingError as exc:
        return EngineStatus(False, reason=str(exc))
    result = run_tool(
        [binary, "version", "--format", "{{.Server.Version}}"], check=False, timeout=30
    )
    return parse_engine_status(result)


def parse_engine_status(result: ToolResult) -> EngineStatus:
    version = result.stdout.strip()
    if result.ok and version:
        return EngineStatus(True, server_version=version)
    lines = [line for line in (result.stderr or result.stdout).splitlines() if line.strip()]
    reason = lines[-1] if lines else f"docker version exited {result.returncode}"
    return EngineStatus(False, reason=f"no Docker engine reachable: {reason}")


# BuildKit, also where the docker CLI would default to the classic builder: the Dockerfiles'
# default base is a stage that BuildKit skips when BASE_IMAGE overrides it, and the classic
# builder would pull anyway (which fails where the default cannot be pulled).
BUILD_ENV = {"DOCKER_BUILDKIT": "1"}


def build_argv(
    binary: str,
    *,
    context: Path,
    dockerfile: Path,
    tags: Sequence[str],
    build_args: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    iidfile: Path | None = None,
    platform: str | None = None,
    pull: bool = False,
) -> list[str]:
    """The argument list for ``docker build`` (pure)."""
    argv = [binary, "build", "--file", str(dockerfile)]
    for tag in tags:
        argv += ["--tag", tag]
    for key, value in sorted((build_args or {}).items()):
        argv += ["--build-arg", f"{key}={value}"]
    for key, value in sorted((labels or {}).items()):
        argv += ["--label", f"{key}={value}"]
    if iidfile is not None:
        argv += ["--iidfile", str(iidfile)]
    if platform is not None:
        argv += ["--platform", platform]
    if pull:
        argv.append("--pull")
    argv.append(str(context))
    return argv


def build(
    *,
    context: Path,
    dockerfile: Path,
    tags: Sequence[str],
    build_args: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    iidfile: Path,
    platform: str | None = None,
) -> str:
    """Build an image, streaming the builder's progress; return the image ID."""
    argv = build_argv(
        docker(),
        context=context,
        dockerfile=dockerfile,
        tags=tags,
        build_args=build_args,
        labels=labels,
        iidfile=iidfile,
        platform=platform,
    )
    run_tool(argv, capture=False, env=BUILD_ENV, timeout=BUILD_TIMEOUT)
    return iidfile.read_text(encoding="utf-8").strip()


def image_exists(reference: str) -> bool:
    result = run_tool([docker(), "image", "inspect", reference], check=False, timeout=60)
    return result.ok


def inspect_image(reference: str) -> ImageInfo:
    result = run_tool([docker(), "image", "inspect", reference], timeout=60)
    return parse_image_inspect(result.stdout)


def parse_image_inspect(output: str) -> ImageInfo:
    """Parse ``docker image inspect`` JSON (a list with one object) into ``ImageInfo``."""
    try:
        document = json.loads(output)
        item = document[0]
        config = item.get("Config") or {}
        return ImageInfo(
            id=str(item["Id"]),
            repo_tags=tuple(item.get("RepoTags") or ()),
            repo_digests=tuple(item.get("RepoDigests") or ()),
            size_bytes=int(item.get("Size", 0)),
            created=str(item.get("Created", "")),
            architecture=str(item.get("Architecture", "")),
            os=str(item.get("Os", "")),
            labels=dict(config.get("Labels") or {}),
        )
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise ToolFailedError(f"docker image inspect printed unexpected output: {exc}") from None


def pull(reference: str) -> ToolResult:
    """``docker pull``; the result says whether it worked (an offline machine cannot)."""
    return run_tool([docker(), "pull", reference], check=False, timeout=900)


def tag(source: str, target: str) -> None:
    run_tool([docker(), "tag", source, target], timeout=60)


def push(reference: str) -> str:
    """Push ``reference`` and return the registry's manifest digest (``sha256:...``)."""
    result = run_tool([docker(), "push", reference], timeout=1800)
    digest = parse_push_digest(result.stdout)
    if digest is None:
        raise ToolFailedError(f"docker push {reference} printed no digest")
    return digest


def parse_push_digest(output: str) -> str | None:
    """The digest from ``docker push`` output (``<tag>: digest: sha256:... size: N``)."""
    matches = _DIGEST_LINE.findall(output)
    return matches[-1] if matches else None


def import_rootfs(tarball: Path, reference: str, *, changes: Sequence[str]) -> str:
    """``docker import`` a root filesystem tarball as ``reference``; return the image ID."""
    argv = [docker(), "import"]
    for change in changes:
        argv += ["--change", change]
    argv += [str(tarball), reference]
    return run_tool(argv, timeout=600).stdout.strip()
