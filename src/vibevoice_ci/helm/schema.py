"""Offline validation of rendered manifests against the Kubernetes API schemas.

The schemas are the ones PyPI's ``kubernetes-validate`` bundles (Kubernetes 1.25 onwards,
strict: unknown fields are errors), so nothing is downloaded. An object whose apiVersion and
kind have no schema in a target version (a removed API, a typo) fails too. A target with no
bundled schemas (``kubernetes_versions`` naming 1.20) is a ``ConfigError`` (exit 2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import kubernetes_validate.utils as kv

from vibevoice_ci.core.errors import ConfigError
from vibevoice_ci.helm.manifests import Manifest


@dataclass(frozen=True)
class SchemaProblem:
    manifest: str
    target: str
    message: str

    def line(self) -> str:
        return f"{self.manifest} against Kubernetes {self.target}: {self.message}"


def supported_versions() -> list[str]:
    """The Kubernetes minor versions the bundled schemas cover (``1.25`` ...)."""
    return sorted({kv.major_minor(v) for v in kv.all_versions()}, key=_key)


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def require_targets(targets: Sequence[str]) -> None:
    """Fail with one ``ConfigError`` line unless every target has bundled schemas."""
    missing = [target for target in targets if target not in supported_versions()]
    if missing:
        raise ConfigError(
            f"[tool.vibevoice-ci.helm] kubernetes_versions: no bundled schemas for Kubernetes "
            f"{', '.join(missing)} (kubernetes-validate has {', '.join(supported_versions())})"
        )


def validate(manifests: Sequence[Manifest], target: str) -> list[SchemaProblem]:
    """Every schema violation of ``manifests`` in Kubernetes ``target`` (``"1.35"``)."""
    require_targets([target])
    problems = []
    for manifest in manifests:
        where = f"{manifest.ref()} ({manifest.source})"
        try:
            kv.validate(dict(manifest.body), f"{target}.0", strict=True)
        except kv.SchemaNotFoundError:
            problems.append(
                SchemaProblem(where, target, f"no {manifest.api_version} {manifest.kind} API")
            )
        except kv.ValidationError as exc:
            path = "/".join(str(part) for part in exc.path) or "(root)"
            problems.append(SchemaProblem(where, target, f"{path}: {exc.message}"))
    return problems
