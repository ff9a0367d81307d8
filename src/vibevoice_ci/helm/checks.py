"""The static checks over rendered manifests (pure): each returns ``Outcome``s.

What the chart must render for every configured service, and what every container must
carry (docs/helm.md, "Level 1"):
- a Deployment, Service, ConfigMap, PodDisruptionBudget, HorizontalPodAutoscaler and
  NetworkPolicy, all labelled ``app.kubernetes.io/component=<service>``;
- on every container: resource requests and limits (cpu and memory); on every service
  container: startup, liveness (``health_path``) and readiness (``ready_path``) probes;
- the security context: non-root, seccomp RuntimeDefault, no privilege escalation, a read-only
  root filesystem with a writable ``/tmp`` volume, every capability dropped;
- the ``app.kubernetes.io/*`` labels on every object;
- NetworkPolicies that admit only the configured clients (and the chart's own test pod);
- no secret-looking environment variable with a plain value (``ANTHROPIC_API_KEY`` and the
  like come from a Secret reference).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vibevoice_ci.helm.manifests import Manifest, pod_spec
from vibevoice_ci.report import Outcome

REQUIRED_KINDS = (
    "Deployment",
    "Service",
    "ConfigMap",
    "PodDisruptionBudget",
    "HorizontalPodAutoscaler",
    "NetworkPolicy",
)
REQUIRED_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/component",
)
COMPONENT = "app.kubernetes.io/component"
INSTANCE = "app.kubernetes.io/instance"
TEST_COMPONENT = "helm-test"
SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD)", re.IGNORECASE)
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod")


@dataclass(frozen=True)
class ServiceExpectation:
    """What one configured service must look like in the rendered chart."""

    name: str
    port: int
    health_path: str
    ready_path: str
    # The chart's services allowed to reach this one through its NetworkPolicy.
    clients: tuple[str, ...] = ()


def run_all(
    manifests: Sequence[Manifest], services: Sequence[ServiceExpectation], *, ingress_namespace: str
) -> list[Outcome]:
    """Every static check, in report order."""
    return [
        *required_resources(manifests, services),
        probes(manifests, services),
        container_resources(manifests),
        security_context(manifests),
        labels(manifests),
        network_policies(manifests, services, ingress_namespace=ingress_namespace),
        secret_env(manifests),
    ]


def _component(manifest: Manifest) -> str:
    return str(manifest.labels.get(COMPONENT, ""))


def required_resources(
    manifests: Sequence[Manifest], services: Sequence[ServiceExpectation]
) -> list[Outcome]:
    """One outcome per service: every kind in ``REQUIRED_KINDS`` rendered for it."""
    outcomes = []
    for service in services:
        present = {m.kind for m in manifests if _component(m) == service.name}
        missing = [kind for kind in REQUIRED_KINDS if kind not in present]
        outcomes.append(
            Outcome.of(
                f"resources/{service.name}",
                not missing,
                f"missing {', '.join(missing)}"
                if missing
                else f"{', '.join(REQUIRED_KINDS)} rendered",
            )
        )
    return outcomes


def _containers(manifest: Manifest) -> list[Mapping[str, Any]]:
    spec = pod_spec(manifest)
    if spec is None:
        return []
    found = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    return [c for c in found if isinstance(c, Mapping)]


def _workloads(manifests: Sequence[Manifest]) -> Iterable[Manifest]:
    return (m for m in manifests if m.kind in WORKLOAD_KINDS)


def _probe_path(container: Mapping[str, Any], probe: str) -> str | None:
    found = container.get(probe)
    if not isinstance(found, Mapping):
        return None
    http = found.get("httpGet")
    if isinstance(http, Mapping):
        return str(http.get("path", ""))
    return "" if ("exec" in found or "tcpSocket" in found or "grpc" in found) else None


def probes(manifests: Sequence[Manifest], services: Sequence[ServiceExpectation]) -> Outcome:
    """Startup, liveness and readiness probes on every service container (not the test pod),
    with the configured health and ready paths."""
    expected = {service.name: service for service in services}
    problems = []
    checked = 0
    for manifest in _workloads(manifests):
        if manifest.is_test_hook:
            continue
        service = expected.get(_component(manifest))
        for container in _containers(manifest):
            checked += 1
            where = f"{manifest.ref()} container {container.get('name')!r}"
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                if _probe_path(container, probe) is None:
                    problems.append(f"{where} has no {probe}")
            if service is not None:
                for probe, path in (
                    ("livenessProbe", service.health_path),
                    ("readinessProbe", service.ready_path),
                ):
                    found = _probe_path(container, probe)
                    if found is not None and found != path:
                        problems.append(f"{where} {probe} checks {found!r}, not {path!r}")
    if not checked:
        problems.append("no service container rendered")
    return Outcome.of(
        "probes", not problems, "; ".join(problems) or f"{checked} container(s) probed"
    )


def container_resources(manifests: Sequence[Manifest]) -> Outcome:
    """cpu and memory requests and limits on every container (the test pod's too)."""
    problems = []
    checked = 0
    for manifest in _workloads(manifests):
        for container in _containers(manifest):
            checked += 1
            resources = container.get("resources") or {}
            for section in ("requests", "limits"):
                values = resources.get(section) or {}
                missing = [key for key in ("cpu", "memory") if key not in values]
                if missing:
                    problems.append(
                        f"{manifest.ref()} container {container.get('name')!r} has no "
                        f"{section} for {', '.join(missing)}"
                    )
    return Outcome.of(
        "container-resources",
        checked > 0 and not problems,
        "; ".join(problems) or f"requests and limits on {checked} container(s)",
    )


def security_context(manifests: Sequence[Manifest]) -> Outcome:
    """Non-root, seccomp RuntimeDefault, read-only root with a writable /tmp, no escalation,
    all capabilities dropped: on every pod and container the chart renders."""
    problems = []
    checked = 0
    for manifest in _workloads(manifests):
        spec = pod_spec(manifest)
        if spec is None:
            continue
        checked += 1
        pod = spec.get("securityContext") or {}
        if pod.get("runAsNonRoot") is not True:
            problems.append(f"{manifest.ref()}: pod securityContext.runAsNonRoot is not true")
        if (pod.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
            problems.append(f"{manifest.ref()}: pod seccompProfile is not RuntimeDefault")
        volumes = {v.get("name"): v for v in spec.get("volumes") or [] if isinstance(v, Mapping)}
        for container in _containers(manifest):
            where = f"{manifest.ref()} container {container.get('name')!r}"
            ctx = container.get("securityContext") or {}
            if ctx.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: allowPrivilegeEscalation is not false")
            if ctx.get("privileged") is True:
                problems.append(f"{where}: privileged")
            if ctx.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: readOnlyRootFilesystem is not true")
            drop = (ctx.get("capabilities") or {}).get("drop") or []
            if "ALL" not in drop:
                problems.append(f"{where}: capabilities.drop lacks ALL")
            if (ctx.get("capabilities") or {}).get("add"):
                problems.append(f"{where}: adds capabilities")
            mounts = {
                m.get("mountPath"): m.get("name")
                for m in container.get("volumeMounts") or []
                if isinstance(m, Mapping)
            }
            tmp = volumes.get(mounts.get("/tmp"))  # noqa: S108 (a mount path, not a file)
            if not (isinstance(tmp, Mapping) and "emptyDir" in tmp):
                problems.append(f"{where}: no writable emptyDir volume on /tmp")
    return Outcome.of(
        "security-context",
        checked > 0 and not problems,
        "; ".join(problems) or f"{checked} pod spec(s) hardened",
    )


def labels(manifests: Sequence[Manifest]) -> Outcome:
    """The ``app.kubernetes.io/*`` labels on every object (and on every pod template)."""
    problems = []
    for manifest in manifests:
        missing = [key for key in REQUIRED_LABELS if not manifest.labels.get(key)]
        if missing:
            problems.append(f"{manifest.ref()} lacks {', '.join(missing)}")
        template = (manifest.body.get("spec") or {}).get("template")
        if manifest.kind != "Pod" and isinstance(template, Mapping):
            pod_labels = (template.get("metadata") or {}).get("labels") or {}
            missing = [key for key in REQUIRED_LABELS if not pod_labels.get(key)]
            if missing:
                problems.append(f"{manifest.ref()} pod template lacks {', '.join(missing)}")
    return Outcome.of(
        "labels", not problems, "; ".join(problems) or f"{len(manifests)} object(s) labelled"
    )


def network_policies(
    manifests: Sequence[Manifest],
    services: Sequence[ServiceExpectation],
    *,
    ingress_namespace: str,
) -> Outcome:
    """Each service's NetworkPolicy selects its pods, restricts ingress, and admits only its
    configured clients of the same release, the chart's test pod and (when an Ingress routes to
    it) the ingress controller's namespace: nothing open-ended."""
    policies = {_component(m): m for m in manifests if m.kind == "NetworkPolicy"}
    problems = []
    for service in services:
        policy = policies.get(service.name)
        if policy is None:
            problems.append(f"{service.name}: no NetworkPolicy")
            continue
        spec = policy.body.get("spec") or {}
        selector = ((spec.get("podSelector") or {}).get("matchLabels")) or {}
        if selector.get(COMPONENT) != service.name:
            problems.append(f"{policy.ref()}: podSelector does not select {service.name}")
        if "Ingress" not in (spec.get("policyTypes") or []):
            problems.append(f"{policy.ref()}: policyTypes lacks Ingress")
        allowed = {*service.clients, TEST_COMPONENT}
        admitted: set[str] = set()
        for rule in spec.get("ingress") or []:
            peers = rule.get("from") if isinstance(rule, Mapping) else None
            if not peers:
                problems.append(f"{policy.ref()}: an ingress rule admits every source")
                continue
            for peer in peers:
                problems += _peer_problems(policy, peer, allowed, admitted, ingress_namespace)
        unreached = sorted(set(service.clients) - admitted)
        if unreached:
            problems.append(f"{policy.ref()}: does not admit {', '.join(unreached)}")
    return Outcome.of(
        "network-policy",
        not problems,
        "; ".join(problems)
        or ", ".join(
            f"{s.name} admits only {', '.join([*s.clients, TEST_COMPONENT])}" for s in services
        ),
    )


def _peer_problems(
    policy: Manifest,
    peer: Mapping[str, Any],
    allowed: set[str],
    admitted: set[str],
    ingress_namespace: str,
) -> list[str]:
    if "ipBlock" in peer:
        return [f"{policy.ref()}: admits an ipBlock"]
    namespaces = peer.get("namespaceSelector")
    if namespaces is not None:
        labels = (namespaces or {}).get("matchLabels") or {}
        if labels != {"kubernetes.io/metadata.name": ingress_namespace} or "podSelector" in peer:
            return [f"{policy.ref()}: admits namespaces {labels or 'all'}"]
        return []
    labels = ((peer.get("podSelector") or {}).get("matchLabels")) or {}
    component = labels.get(COMPONENT)
    if component not in allowed or not labels.get(INSTANCE):
        return [f"{policy.ref()}: admits pods {dict(labels) or 'all'}"]
    admitted.add(str(component))
    return []


def secret_env(manifests: Sequence[Manifest]) -> Outcome:
    """No container sets a secret-looking variable (``*KEY*``, ``*TOKEN*``, ...) to a plain
    value, and no ConfigMap carries one: secrets come from ``secretKeyRef``."""
    problems = []
    for manifest in manifests:
        if manifest.kind == "ConfigMap":
            data = manifest.body.get("data") or {}
            problems += [f"{manifest.ref()} holds {key}" for key in data if SECRET_NAME.search(key)]
        for container in _containers(manifest):
            for item in container.get("env") or []:
                if not isinstance(item, Mapping):
                    continue
                name = str(item.get("name", ""))
                if SECRET_NAME.search(name) and "value" in item:
                    problems.append(
                        f"{manifest.ref()} container {container.get('name')!r} sets {name} "
                        "to a plain value (use a Secret reference)"
                    )
    return Outcome.of("secrets", not problems, "; ".join(problems) or "no secret in a plain value")
