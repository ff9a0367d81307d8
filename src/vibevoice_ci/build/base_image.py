"""The base image the service images build FROM, and building the offline one.

The native build (``nox -s build``), first match wins (:func:`resolve_base_image`):
1. ``$VIBEVOICE_BASE_IMAGE`` (an explicit choice, used as given);
2. the configured default (an official Python slim image) when the engine already has it;
3. the offline base when the engine already has it;
4. the default, pulled from its registry;
5. the offline base, built here from Debian packages with mmdebstrap.

The release build, for every platform (:func:`resolve_for_platforms`): BuildKit does not see
the engine's image store, so the base must come from a registry:
1. ``$VIBEVOICE_BASE_IMAGE``, used as given (it must list every platform);
2. the configured default (the official Python slim image) when its registry answers
   (1 and 2 are pinned to the digest their registry reports, so the build and its SLSA
   provenance name exactly one base);
3. the offline base in the release registry (``<registry>/<offline name>``) when it lists
   every platform;
4. that offline base built now: one Debian root filesystem per platform (mmdebstrap, QEMU
   for foreign ones; the tarballs are cached per suite, architecture and package list, a
   speed-up only), joined into one index by a ``FROM scratch`` build and pushed.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vibevoice_ci.core.config import BaseImageConfig
from vibevoice_ci.core.errors import PipelineError
from vibevoice_ci.core.files import write_text_atomic
from vibevoice_ci.core.image_reference import parse_reference
from vibevoice_ci.core.progress import progress
from vibevoice_ci.core.retry import RetryLog, with_retries
from vibevoice_ci.tools import buildx, crane, docker, mmdebstrap
from vibevoice_ci.tools._exec import run_tool

APT_SOURCES = (Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list"))
DEFAULT_MIRROR = "http://deb.debian.org/debian"


@dataclass(frozen=True)
class BaseImageChoice:
    reference: str
    how: str


def resolve_base_image(config: BaseImageConfig, *, override: str | None) -> BaseImageChoice:
    """The base image to build FROM, in the order above (``override``: $VIBEVOICE_BASE_IMAGE,
    as ``RunEnvironment.base_image`` carries it)."""
    if override:
        return BaseImageChoice(override, "set by $VIBEVOICE_BASE_IMAGE")
    if docker.image_exists(config.default):
        return BaseImageChoice(config.default, "default, already present")
    if docker.image_exists(config.offline):
        return BaseImageChoice(config.offline, "offline base, already present")
    progress(f"pulling base image {config.default}")
    pulled = docker.pull(config.default)
    if pulled.ok:
        return BaseImageChoice(config.default, "default, pulled")
    progress(f"cannot pull {config.default} ({_last_line(pulled.stderr)}); building offline base")
    build_offline_base(config)
    return BaseImageChoice(config.offline, "offline base, built now with mmdebstrap")


def build_offline_base(config: BaseImageConfig, *, architecture: str | None = None) -> str:
    """Build the offline base (Debian + Python + venv) and import it; return its image ID."""
    binary = mmdebstrap.mmdebstrap()
    if os.geteuid() != 0:
        raise PipelineError("building the offline base image needs root (mmdebstrap --mode=root)")
    mirrors = debian_mirror_lines(read_apt_sources(), config.debian_suite)
    with tempfile.TemporaryDirectory(prefix="vibevoice-base-") as scratch:
        tarball = Path(scratch) / "rootfs.tar"
        argv = mmdebstrap.rootfs_argv(
            binary,
            suite=config.debian_suite,
            packages=config.debian_packages,
            mirrors=mirrors,
            output=tarball,
            architecture=architecture,
        )
        progress(f"building {config.offline} from Debian {config.debian_suite} (about 30 s)")
        mmdebstrap.build_rootfs(argv)
        image_id = docker.import_rootfs(tarball, config.offline, changes=['CMD ["python3"]'])
    progress(f"built {config.offline} ({image_id[:19]})")
    return image_id


def read_apt_sources() -> str:
    for path in APT_SOURCES:
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return ""


def debian_mirror_lines(sources: str, suite: str) -> list[str]:
    """``deb URI SUITE COMPONENTS`` lines for ``suite`` and its security suite (pure).

    Reads deb822 (``debian.sources``) or one-line (``sources.list``) format; the main archive
    and the security archive found there are used, else the public default mirror.
    """
    archives: list[tuple[str, str]] = []  # (uri, suite it serves)
    for stanza in re.split(r"\n\s*\n", sources):
        fields = dict(_deb822_fields(stanza))
        if fields.get("enabled", "yes").lower() == "no":
            continue
        if "deb" in fields.get("types", "").split():
            for uri in fields.get("uris", "").split():
                for stanza_suite in fields.get("suites", "").split():
                    archives.append((uri.rstrip("/"), stanza_suite))
    for line in sources.splitlines():
        # One-line format: deb [option=value ...] URI SUITE COMPONENT...
        parts = re.sub(r"\[[^\]]*\]", " ", line.split("#", 1)[0]).split()
        if len(parts) >= 3 and parts[0] == "deb":
            archives.append((parts[1].rstrip("/"), parts[2]))
    main = next((uri for uri, s in archives if s == suite), DEFAULT_MIRROR)
    lines = [f"deb {main} {suite} main"]
    security = next((uri for uri, s in archives if s == f"{suite}-security"), None)
    if security:
        lines.append(f"deb {security} {suite}-security main")
    return lines


def _deb822_fields(stanza: str) -> Sequence[tuple[str, str]]:
    pairs = []
    for line in stanza.splitlines():
        if line.startswith("#") or ":" not in line or line[:1].isspace():
            continue
        key, _, value = line.partition(":")
        pairs.append((key.strip().lower(), value.strip()))
    return pairs


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


# The release build: a base that lists every platform.

BASE_DOCKERFILE = """\
# The offline base for every platform: a Debian root filesystem per architecture.
FROM scratch
ARG TARGETARCH
ADD rootfs-${TARGETARCH}.tar /
CMD ["python3"]
"""


def offline_base_reference(config: BaseImageConfig, registry: str) -> str:
    """``<registry>/<offline name:tag>`` (pure)."""
    return f"{registry.rstrip('/')}/{config.offline}"


def architecture(platform: str) -> str:
    """``linux/arm64`` -> ``arm64`` (Debian's and BuildKit's TARGETARCH agree here) (pure)."""
    parts = platform.split("/")
    if len(parts) < 2 or parts[0] != "linux":
        raise PipelineError(f"cannot build a Debian base for platform {platform!r}")
    return parts[1]


def rootfs_cache_key(suite: str, arch: str, packages: Sequence[str], mirrors: Sequence[str]) -> str:
    """The cache file name of a root filesystem for these inputs (pure)."""
    recipe = "\n".join([suite, arch, *sorted(packages), *mirrors])
    return f"{suite}-{arch}-{hashlib.sha256(recipe.encode()).hexdigest()[:16]}.tar"


def resolve_for_platforms(
    config: BaseImageConfig,
    *,
    override: str | None,
    registry: str,
    platforms: Sequence[str],
    builder: str,
    cache_dir: Path,
    retries: RetryLog,
) -> BaseImageChoice:
    """The multi-platform base to build FROM, in the order of the module docstring."""
    if override:
        return BaseImageChoice(pin_by_digest(override, retries), "set by $VIBEVOICE_BASE_IMAGE")
    if _lists_platforms(config.default, platforms, timeout=30):
        return BaseImageChoice(pin_by_digest(config.default, retries), "default, in its registry")
    offline = offline_base_reference(config, registry)
    if _lists_platforms(offline, platforms, timeout=120):
        digest = with_retries(f"digest of {offline}", lambda: crane.digest(offline), log=retries)
        return BaseImageChoice(
            f"{parse_reference(offline).name}@{digest}", "offline base, already in the registry"
        )
    build_offline_base_index(
        config, offline, platforms=platforms, builder=builder, cache_dir=cache_dir
    )
    digest = with_retries(f"digest of {offline}", lambda: crane.digest(offline), log=retries)
    return BaseImageChoice(
        f"{parse_reference(offline).name}@{digest}", "offline base, built now (mmdebstrap)"
    )


def pin_by_digest(reference: str, retries: RetryLog) -> str:
    """``reference`` by digest: the build uses exactly the base its provenance names (the sign
    session's resolved dependency), even if the tag moves during the build."""
    parsed = parse_reference(reference)
    if parsed.digest:
        return reference
    digest = with_retries(f"digest of {reference}", lambda: crane.digest(reference), log=retries)
    return f"{parsed.name}@{digest}"


def _lists_platforms(reference: str, platforms: Sequence[str], *, timeout: float) -> bool:
    """Whether ``reference`` is an index listing every platform; an unreachable registry or
    a missing image is False (the next choice is tried)."""
    command = crane.argv(crane.crane(), ["manifest", reference], reference)
    result = run_tool(command, check=False, timeout=timeout)
    if not result.ok:
        return False
    try:
        entries = crane.index_entries(crane.parse_json(result.stdout, "crane manifest"))
    except PipelineError:
        return False
    return all(platform in {entry.platform for entry in entries} for platform in platforms)


def build_offline_base_index(
    config: BaseImageConfig,
    reference: str,
    *,
    platforms: Sequence[str],
    builder: str,
    cache_dir: Path,
) -> None:
    """Build the offline base for every platform and push it as one index to ``reference``."""
    binary = mmdebstrap.mmdebstrap()
    mirrors = debian_mirror_lines(read_apt_sources(), config.debian_suite)
    rootfs_cache = cache_dir / "rootfs"
    rootfs_cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="vibevoice-base-") as scratch:
        context = Path(scratch)
        for platform in platforms:
            arch = architecture(platform)
            cached = rootfs_cache / rootfs_cache_key(
                config.debian_suite, arch, config.debian_packages, mirrors
            )
            if not cached.is_file():
                progress(f"building a Debian {config.debian_suite} {arch} root filesystem")
                partial = cached.with_suffix(".partial")
                mmdebstrap.build_rootfs(
                    mmdebstrap.rootfs_argv(
                        binary,
                        suite=config.debian_suite,
                        packages=config.debian_packages,
                        mirrors=mirrors,
                        output=partial,
                        architecture=arch,
                    )
                )
                partial.replace(cached)
            shutil.copyfile(cached, context / f"rootfs-{arch}.tar")
        write_text_atomic(context / "Dockerfile", BASE_DOCKERFILE)
        progress(f"pushing the offline base {reference} for {', '.join(platforms)}")
        argv = buildx.build_argv(
            docker.docker(),
            builder=builder,
            context=context,
            dockerfile=context / "Dockerfile",
            platforms=platforms,
            tags=[reference],
            build_args={},
            labels={},
            index_annotations={},
            metadata_file=context / "metadata.json",
            push=True,
        )
        buildx.build(argv, metadata_file=context / "metadata.json")
