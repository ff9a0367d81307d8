"""crane (go-containerregistry): read and retag images in a registry without pulling them."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vibevoice_ci.core.errors import ToolFailedError
from vibevoice_ci.core.image_reference import parse_reference
from vibevoice_ci.tools._exec import find_tool, run_tool
from vibevoice_ci.tools._output import json_object

INSTALL_HINT = (
    "build it from the Go module proxy: bash scripts/ci/install-tools.sh "
    "(go install github.com/google/go-containerregistry/cmd/crane@<version>)"
)
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
INDEX_MEDIA_TYPES = frozenset(
    {
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    }
)


@dataclass(frozen=True)
class PlatformEntry:
    """One entry of an image index: the platform and the manifest it points to."""

    platform: str
    digest: str
    size: int
    media_type: str


def crane() -> str:
    return find_tool("crane", INSTALL_HINT, env_override="VIBEVOICE_CRANE")


def plain_http(reference: str) -> bool:
    """Whether ``reference`` is on a loopback registry, which speaks plain HTTP (pure)."""
    host = reference.split("/", 1)[0]
    return host.startswith(("127.", "localhost:", "[::1]")) or host == "localhost"


def argv(binary: str, command: Sequence[str], reference: str) -> list[str]:
    """``crane <command...>`` with ``--insecure`` for loopback registries (pure)."""
    return [binary, *command, *(["--insecure"] if plain_http(reference) else [])]


def digest(reference: str) -> str:
    """The digest the registry reports for ``reference`` (a tag or ``@digest``)."""
    output = run_tool(argv(crane(), ["digest", reference], reference), timeout=120).stdout
    found = output.strip()
    if not _DIGEST.fullmatch(found):
        raise ToolFailedError(f"crane digest {reference} printed {found!r}, not a digest")
    return found


def manifest(reference: str) -> dict[str, Any]:
    """The manifest (or index) ``reference`` names, as the registry serves it."""
    output = run_tool(argv(crane(), ["manifest", reference], reference), timeout=120).stdout
    return json_object(output, f"crane manifest {reference}")


def config(reference: str) -> dict[str, Any]:
    """The image configuration of a single-platform manifest."""
    output = run_tool(argv(crane(), ["config", reference], reference), timeout=120).stdout
    return json_object(output, f"crane config {reference}")


def tag(reference: str, new_tag: str) -> None:
    """Point ``new_tag`` in the repository of ``reference`` at what ``reference`` names."""
    run_tool(argv(crane(), ["tag", reference, new_tag], reference), timeout=300)


def copy(source: str, target: str) -> None:
    """Copy an image (or a whole index) between references, registry to registry."""
    insecure = plain_http(source) or plain_http(target)
    extra = ["--insecure"] if insecure else []
    run_tool([crane(), "copy", source, target, *extra], timeout=1800)


# A crane command's JSON object output (build/base_image.py reads `crane manifest` with it).
parse_json = json_object


def index_entries(document: Mapping[str, Any]) -> list[PlatformEntry]:
    """The platform entries of an image index (pure); attestation entries
    (``unknown/unknown``) are left out. A single manifest is a ``ToolFailedError``."""
    if document.get("mediaType") not in INDEX_MEDIA_TYPES and "manifests" not in document:
        raise ToolFailedError(f"not an image index: mediaType {document.get('mediaType')!r}")
    entries = []
    for item in document.get("manifests") or []:
        platform = item.get("platform") or {}
        os_name, arch = platform.get("os", ""), platform.get("architecture", "")
        if not os_name or os_name == "unknown":
            continue
        variant = platform.get("variant")
        name = f"{os_name}/{arch}" + (f"/{variant}" if variant else "")
        entries.append(
            PlatformEntry(name, str(item["digest"]), int(item["size"]), str(item["mediaType"]))
        )
    return entries


REVISION = "org.opencontainers.image.revision"


def revision_in(document: Mapping[str, Any]) -> str | None:
    """The ``org.opencontainers.image.revision`` a manifest or index carries as an annotation,
    or an image configuration as a label; None where it carries none (pure)."""
    annotations = document.get("annotations")
    image_config = document.get("config")
    labels = image_config.get("Labels") if isinstance(image_config, Mapping) else None
    for source in (annotations, labels):
        if isinstance(source, Mapping) and isinstance(source.get(REVISION), str):
            return str(source[REVISION]) or None
    return None


def revision(reference: str) -> str | None:
    """The commit ``reference`` was built from: the index's annotation (the release build
    writes it), else the image configuration's label (of the first platform of an index)."""
    document = manifest(reference)
    found = revision_in(document)
    if found:
        return found
    if "manifests" in document:
        entries = index_entries(document)
        if not entries:
            return None
        name = parse_reference(reference).name
        return revision_in(config(f"{name}@{entries[0].digest}"))
    return revision_in(config(reference))
