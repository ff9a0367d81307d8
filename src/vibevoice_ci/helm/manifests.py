"""Rendered manifests: ``helm template`` output split into parsed Kubernetes objects (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

_SOURCE = re.compile(r"^# Source: (.+)$", re.MULTILINE)


class ManifestError(ValueError):
    """A rendered document that is not valid YAML or not a Kubernetes object."""


@dataclass(frozen=True)
class Manifest:
    """One rendered Kubernetes object and the template it came from."""

    source: str
    body: Mapping[str, Any]

    @property
    def kind(self) -> str:
        return str(self.body.get("kind", ""))

    @property
    def api_version(self) -> str:
        return str(self.body.get("apiVersion", ""))

    @property
    def name(self) -> str:
        metadata = self.body.get("metadata") or {}
        return str(metadata.get("name", "")) if isinstance(metadata, Mapping) else ""

    @property
    def labels(self) -> Mapping[str, str]:
        metadata = self.body.get("metadata") or {}
        labels = metadata.get("labels") if isinstance(metadata, Mapping) else None
        return labels if isinstance(labels, Mapping) else {}

    @property
    def annotations(self) -> Mapping[str, str]:
        metadata = self.body.get("metadata") or {}
        found = metadata.get("annotations") if isinstance(metadata, Mapping) else None
        return found if isinstance(found, Mapping) else {}

    @property
    def is_test_hook(self) -> bool:
        return "test" in str(self.annotations.get("helm.sh/hook", "")).split(",")

    def ref(self) -> str:
        """``Kind/name`` (from its template)."""
        return f"{self.kind}/{self.name}"


def parse_documents(text: str) -> list[Manifest]:
    """Every non-empty document of a multi-document YAML stream, as a ``Manifest``.

    A document that does not parse, is not a mapping, or lacks apiVersion, kind or
    metadata.name is a ``ManifestError`` naming its template.
    """
    manifests = []
    for index, chunk in enumerate(_split(text)):
        found = _SOURCE.search(chunk)
        source = found.group(1).strip() if found else f"document {index + 1}"
        try:
            body = yaml.safe_load(chunk)
        except yaml.YAMLError as exc:
            raise ManifestError(f"{source}: not valid YAML: {_one_line(exc)}") from None
        if body is None:
            continue
        if not isinstance(body, dict):
            raise ManifestError(
                f"{source}: a document must be a mapping, got {type(body).__name__}"
            )
        manifest = Manifest(source, body)
        missing = [
            field
            for field, value in (
                ("apiVersion", manifest.api_version),
                ("kind", manifest.kind),
                ("metadata.name", manifest.name),
            )
            if not value
        ]
        if missing:
            raise ManifestError(f"{source}: missing {', '.join(missing)}")
        manifests.append(manifest)
    return manifests


def _split(text: str) -> Iterator[str]:
    yield from re.split(r"^---[ \t]*$", text, flags=re.MULTILINE)


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def of_kind(manifests: Sequence[Manifest], kind: str) -> list[Manifest]:
    return [manifest for manifest in manifests if manifest.kind == kind]


def pod_spec(manifest: Manifest) -> Mapping[str, Any] | None:
    """The pod spec of a workload (Deployment, StatefulSet, DaemonSet, Job) or a Pod."""
    spec = manifest.body.get("spec")
    if not isinstance(spec, Mapping):
        return None
    if manifest.kind == "Pod":
        return spec
    if manifest.kind == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    template = spec.get("template") if isinstance(spec, Mapping) else None
    inner = template.get("spec") if isinstance(template, Mapping) else None
    return inner if isinstance(inner, Mapping) else None
