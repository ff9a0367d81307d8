"""Image references: parse, format and check them (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from vibevoice_ci.core.errors import UsageError

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_HOST = re.compile(r"(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9a-fA-F:]+\])(?::\d{1,5})?")


@dataclass(frozen=True)
class ImageReference:
    """``registry/repository[:tag][@digest]``; ``registry`` is empty for Docker Hub names."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """``registry/repository`` (what a tag or digest is appended to)."""
        return f"{self.registry}/{self.repository}" if self.registry else self.repository

    def with_tag(self, tag: str) -> ImageReference:
        return ImageReference(self.registry, self.repository, tag, None)

    def with_digest(self, digest: str) -> ImageReference:
        return ImageReference(self.registry, self.repository, None, digest)

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def parse_reference(text: str) -> ImageReference:
    """Parse an image reference as the distribution spec defines it; a bad one is exit 2."""
    rest, _, digest = text.partition("@")
    if digest and not _DIGEST.fullmatch(digest):
        raise UsageError(f"image reference {text!r}: {digest!r} is not sha256:<64 hex>")
    name, tag = rest, None
    last = rest.rsplit("/", 1)[-1]
    if ":" in last:
        name, _, tag = rest.rpartition(":")
        if not _TAG.fullmatch(tag):
            raise UsageError(f"image reference {text!r}: {tag!r} is not a valid tag")
    parts = name.split("/")
    registry = ""
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        registry = parts.pop(0)
        if not _HOST.fullmatch(registry):
            raise UsageError(f"image reference {text!r}: {registry!r} is not a registry host")
    if not parts or not all(_COMPONENT.fullmatch(part) for part in parts):
        raise UsageError(f"image reference {text!r}: {'/'.join(parts)!r} is not a repository")
    return ImageReference(registry, "/".join(parts), tag, digest or None)


def is_digest(text: str) -> bool:
    return bool(_DIGEST.fullmatch(text))
