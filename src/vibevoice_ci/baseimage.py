"""Which base image the service images build FROM, and building the offline one.

Resolution order, first match wins:
1. ``$VIBEVOICE_BASE_IMAGE`` (an explicit choice, used as given);
2. the configured default (an official Python slim image) when the engine already has it;
3. the offline base when the engine already has it;
4. the default, pulled from its registry;
5. the offline base, built here from Debian packages with mmdebstrap.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vibevoice_ci.config import BaseImageConfig
from vibevoice_ci.errors import PipelineError
from vibevoice_ci.tools import docker, mmdebstrap
from vibevoice_ci.tools._exec import progress

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
