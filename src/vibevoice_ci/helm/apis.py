"""Deprecated and removed Kubernetes API versions: a maintained table and its check (pure).

pluto is not installed here, so the table below is the project's own. Sources: the
Kubernetes "Deprecated API Migration Guide"
(https://kubernetes.io/docs/reference/using-api/deprecation-guide/) and the release notes of
each version named; add a row when a Kubernetes release deprecates or removes an API the chart
could use. A manifest using an API removed in a target version fails; one deprecated in a
target version (and not yet removed) is a warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vibevoice_ci.helm.manifests import Manifest


@dataclass(frozen=True)
class ApiLifecycle:
    api_version: str
    kind: str
    deprecated_in: str  # the minor version that deprecated it ("1.14")
    removed_in: str | None  # the minor version that no longer serves it (None: still served)
    replacement: str


def _rows(
    api_version: str, kinds: str, deprecated: str, removed: str | None, use: str
) -> list[ApiLifecycle]:
    return [ApiLifecycle(api_version, kind, deprecated, removed, use) for kind in kinds.split()]


TABLE: tuple[ApiLifecycle, ...] = tuple(
    # Removed in 1.16.
    _rows("extensions/v1beta1", "Deployment DaemonSet ReplicaSet", "1.9", "1.16", "apps/v1")
    + _rows("apps/v1beta1", "Deployment StatefulSet ReplicaSet", "1.9", "1.16", "apps/v1")
    + _rows("apps/v1beta2", "Deployment StatefulSet DaemonSet ReplicaSet", "1.9", "1.16", "apps/v1")
    + _rows("extensions/v1beta1", "NetworkPolicy", "1.9", "1.16", "networking.k8s.io/v1")
    + _rows("extensions/v1beta1", "PodSecurityPolicy", "1.10", "1.16", "policy/v1beta1")
    # Removed in 1.22.
    + _rows("extensions/v1beta1", "Ingress", "1.14", "1.22", "networking.k8s.io/v1")
    + _rows(
        "networking.k8s.io/v1beta1", "Ingress IngressClass", "1.19", "1.22", "networking.k8s.io/v1"
    )
    + _rows(
        "rbac.authorization.k8s.io/v1beta1",
        "ClusterRole ClusterRoleBinding Role RoleBinding",
        "1.17",
        "1.22",
        "rbac.authorization.k8s.io/v1",
    )
    + _rows(
        "admissionregistration.k8s.io/v1beta1",
        "MutatingWebhookConfiguration ValidatingWebhookConfiguration",
        "1.16",
        "1.22",
        "admissionregistration.k8s.io/v1",
    )
    + _rows(
        "apiextensions.k8s.io/v1beta1",
        "CustomResourceDefinition",
        "1.16",
        "1.22",
        "apiextensions.k8s.io/v1",
    )
    + _rows("scheduling.k8s.io/v1beta1", "PriorityClass", "1.14", "1.22", "scheduling.k8s.io/v1")
    + _rows("coordination.k8s.io/v1beta1", "Lease", "1.14", "1.22", "coordination.k8s.io/v1")
    + _rows(
        "storage.k8s.io/v1beta1",
        "CSIDriver CSINode StorageClass VolumeAttachment",
        "1.19",
        "1.22",
        "storage.k8s.io/v1",
    )
    # Removed in 1.25.
    + _rows("policy/v1beta1", "PodDisruptionBudget", "1.21", "1.25", "policy/v1")
    + _rows("policy/v1beta1", "PodSecurityPolicy", "1.21", "1.25", "Pod Security Admission")
    + _rows("batch/v1beta1", "CronJob", "1.21", "1.25", "batch/v1")
    + _rows("autoscaling/v2beta1", "HorizontalPodAutoscaler", "1.22", "1.25", "autoscaling/v2")
    + _rows("discovery.k8s.io/v1beta1", "EndpointSlice", "1.21", "1.25", "discovery.k8s.io/v1")
    + _rows("events.k8s.io/v1beta1", "Event", "1.19", "1.25", "events.k8s.io/v1")
    + _rows("node.k8s.io/v1beta1", "RuntimeClass", "1.20", "1.25", "node.k8s.io/v1")
    # Removed in 1.26, 1.27, 1.29 and 1.32.
    + _rows("autoscaling/v2beta2", "HorizontalPodAutoscaler", "1.23", "1.26", "autoscaling/v2")
    + _rows(
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "FlowSchema PriorityLevelConfiguration",
        "1.23",
        "1.26",
        "flowcontrol.apiserver.k8s.io/v1",
    )
    + _rows("storage.k8s.io/v1beta1", "CSIStorageCapacity", "1.24", "1.27", "storage.k8s.io/v1")
    + _rows(
        "flowcontrol.apiserver.k8s.io/v1beta2",
        "FlowSchema PriorityLevelConfiguration",
        "1.26",
        "1.29",
        "flowcontrol.apiserver.k8s.io/v1",
    )
    + _rows(
        "flowcontrol.apiserver.k8s.io/v1beta3",
        "FlowSchema PriorityLevelConfiguration",
        "1.29",
        "1.32",
        "flowcontrol.apiserver.k8s.io/v1",
    )
    # Deprecated and still served.
    + _rows("v1", "Endpoints", "1.33", None, "discovery.k8s.io/v1 EndpointSlice")
)


@dataclass(frozen=True)
class ApiFinding:
    manifest: str  # Kind/name (template)
    api_version: str
    kind: str
    target: str
    removed: bool  # True: removed in target (a failure); False: deprecated (a warning)
    replacement: str

    def message(self) -> str:
        verb = "is removed in" if self.removed else "is deprecated in"
        return (
            f"{self.manifest}: {self.api_version} {self.kind} {verb} Kubernetes {self.target}; "
            f"use {self.replacement}"
        )


def minor_key(version: str) -> tuple[int, int]:
    """``"1.35"`` or ``"v1.35.4"`` -> ``(1, 35)``."""
    parts = version.lstrip("v").split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        raise ValueError(f"not a Kubernetes version: {version!r}") from None


def check_api_versions(
    manifests: Sequence[Manifest],
    targets: Sequence[str],
    table: Sequence[ApiLifecycle] = TABLE,
) -> list[ApiFinding]:
    """Every use of an API that a target version removed (or deprecated)."""
    index = {(row.api_version, row.kind): row for row in table}
    findings = []
    for manifest in manifests:
        row = index.get((manifest.api_version, manifest.kind))
        if row is None:
            continue
        for target in targets:
            key = minor_key(target)
            removed = row.removed_in is not None and key >= minor_key(row.removed_in)
            if removed or key >= minor_key(row.deprecated_in):
                findings.append(
                    ApiFinding(
                        f"{manifest.ref()} ({manifest.source})",
                        row.api_version,
                        row.kind,
                        target,
                        removed,
                        row.replacement,
                    )
                )
    return findings
