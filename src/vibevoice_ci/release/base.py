"""The base image a multi-platform build starts FROM, for every platform.

BuildKit does not see the engine's image store, so the base must come from a registry:
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
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from vibevoice_ci.baseimage import BaseImageChoice, debian_mirror_lines, read_apt_sources
from vibevoice_ci.config import BaseImageConfig
from vibevoice_ci.errors import PipelineError
from vibevoice_ci.release.reference import parse_reference
from vibevoice_ci.report import write_text_atomic
from vibevoice_ci.retry import RetryLog, with_retries
from vibevoice_ci.tools import buildx, crane, docker, mmdebstrap
from vibevoice_ci.tools._exec import progress, run_tool

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


def resolve(
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
    build_offline_base(config, offline, platforms=platforms, builder=builder, cache_dir=cache_dir)
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


def build_offline_base(
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
