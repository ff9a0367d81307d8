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
- NetworkPolicies that admit only the configured clients (and the chart's own test pod, and
  the ingress controller's namespace only for the service an Ingress routes to), and admit
  every configured client and that controller;
- no secret-looking environment variable with a plain value (``ANTHROPIC_API_KEY`` and the
  like come from a Secret reference; a ``*_ENV`` or ``*_FILE`` variable may name another
  variable set from a Secret, or a file on a mounted Secret); the variables a service must take
  from a Secret (the agent's bearer tokens) do; every required Secret reference resolves to a
  Secret the chart renders, with that key;
- (across two renders) no Secret the chart generates has the same data twice: nothing secret
  is embedded in the chart.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vibevoice_ci.core.outcome import Outcome
from vibevoice_ci.helm.manifests import Manifest, pod_spec

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
    # Variables its container must take from a Secret (secretKeyRef), never a plain value.
    secret_env: tuple[str, ...] = ()


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
        secret_env(manifests, services),
        secret_refs(manifests),
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
    all capabilities dropped: on every pod and container the chart renders.

    Non-root is judged per container (init containers too) on the effective values: a
    container's ``runAsNonRoot`` and ``runAsUser`` override the pod's, so a container that sets
    ``runAsNonRoot: false`` or ``runAsUser: 0`` fails even under a non-root pod."""
    problems = []
    checked = 0
    for manifest in _workloads(manifests):
        spec = pod_spec(manifest)
        if spec is None:
            continue
        checked += 1
        pod = spec.get("securityContext") or {}
        if (pod.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
            problems.append(f"{manifest.ref()}: pod seccompProfile is not RuntimeDefault")
        volumes = {v.get("name"): v for v in spec.get("volumes") or [] if isinstance(v, Mapping)}
        for container in _containers(manifest):
            where = f"{manifest.ref()} container {container.get('name')!r}"
            ctx = container.get("securityContext") or {}
            problems += [f"{where}: {problem}" for problem in _root_problems(pod, ctx)]
            seccomp = (ctx.get("seccompProfile") or {}).get("type")
            if seccomp is not None and seccomp != "RuntimeDefault":
                problems.append(f"{where}: seccompProfile {seccomp} overrides the pod's")
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


def _root_problems(pod: Mapping[str, Any], container: Mapping[str, Any]) -> list[str]:
    """Why a container may run as root, on its effective ``runAsNonRoot`` and ``runAsUser``
    (the container's own value where it sets one, else the pod's)."""
    problems = []
    for field, bad in (("runAsNonRoot", lambda v: v is not True), ("runAsUser", _is_root)):
        source = "container" if field in container else "pod"
        value = container[field] if field in container else pod.get(field)
        if value is None and bad(value):
            problems.append(f"{field} is set on neither the container nor the pod")
        elif bad(value):
            problems.append(f"{field} is {json.dumps(value)} (the {source}'s securityContext)")
    return problems


def _is_root(user: object) -> bool:
    return user == 0 and not isinstance(user, bool)


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
    routed = ingress_targets(manifests)
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
        # The ingress controller's namespace only where an Ingress routes.
        namespace = ingress_namespace if service.name in routed else None
        admitted: set[str] = set()
        for rule in spec.get("ingress") or []:
            peers = rule.get("from") if isinstance(rule, Mapping) else None
            if not peers:
                problems.append(f"{policy.ref()}: an ingress rule admits every source")
                continue
            for peer in peers:
                problems += _peer_problems(policy, peer, allowed, admitted, namespace)
        wanted = {*service.clients, *([INGRESS_PEER] if namespace else [])}
        unreached = sorted(wanted - admitted)
        if unreached:
            problems.append(f"{policy.ref()}: does not admit {', '.join(unreached)}")
    return Outcome.of(
        "network-policy",
        not problems,
        "; ".join(problems)
        or "; ".join(
            f"{s.name} admits only "
            + ", ".join([*s.clients, TEST_COMPONENT, *([INGRESS_PEER] if s.name in routed else [])])
            for s in services
        ),
    )


def ingress_targets(manifests: Sequence[Manifest]) -> set[str]:
    """The components (services of the chart) an Ingress routes to, through their Services."""
    by_name = {m.name: _component(m) for m in manifests if m.kind == "Service"}
    found = set()
    for ingress in (m for m in manifests if m.kind == "Ingress"):
        spec = ingress.body.get("spec") or {}
        backends = [spec.get("defaultBackend")]
        for rule in spec.get("rules") or []:
            for path in ((rule or {}).get("http") or {}).get("paths") or []:
                backends.append((path or {}).get("backend"))
        for backend in backends:
            name = ((backend or {}).get("service") or {}).get("name")
            if name in by_name:
                found.add(by_name[name])
    return found


INGRESS_PEER = "the ingress controller"


def _peer_problems(
    policy: Manifest,
    peer: Mapping[str, Any],
    allowed: set[str],
    admitted: set[str],
    ingress_namespace: str | None,
) -> list[str]:
    if "ipBlock" in peer:
        return [f"{policy.ref()}: admits an ipBlock"]
    namespaces = peer.get("namespaceSelector")
    if namespaces is not None:
        labels = (namespaces or {}).get("matchLabels") or {}
        if (
            ingress_namespace is None
            or labels != {"kubernetes.io/metadata.name": ingress_namespace}
            or "podSelector" in peer
        ):
            return [f"{policy.ref()}: admits namespaces {labels or 'all'}"]
        admitted.add(INGRESS_PEER)
        return []
    labels = ((peer.get("podSelector") or {}).get("matchLabels")) or {}
    component = labels.get(COMPONENT)
    if component not in allowed or not labels.get(INSTANCE):
        return [f"{policy.ref()}: admits pods {dict(labels) or 'all'}"]
    admitted.add(str(component))
    return []


def secret_env(
    manifests: Sequence[Manifest], services: Sequence[ServiceExpectation] = ()
) -> Outcome:
    """No container sets a secret-looking variable (``*KEY*``, ``*TOKEN*``, ...) to a plain
    value, and no ConfigMap carries one: secrets come from ``secretKeyRef``. A plain value is
    allowed only as a reference: a ``*_ENV`` variable naming another variable of the container
    set from a Secret, or a ``*_FILE`` variable naming a file on a mounted Secret volume. Each
    service's ``secret_env`` variables come from a ``secretKeyRef``."""
    problems = []
    for manifest in manifests:
        if manifest.kind == "ConfigMap":
            data = manifest.body.get("data") or {}
            problems += [f"{manifest.ref()} holds {key}" for key in data if SECRET_NAME.search(key)]
        secret_mounts = _secret_mounts(manifest)
        for container in _containers(manifest):
            env = [item for item in container.get("env") or [] if isinstance(item, Mapping)]
            from_secret = {str(item.get("name")) for item in env if _secret_ref(item)}
            mounts = secret_mounts(container)
            for item in env:
                name = str(item.get("name", ""))
                if not SECRET_NAME.search(name) or "value" not in item:
                    continue
                if _is_reference(name, str(item.get("value", "")), from_secret, mounts):
                    continue
                problems.append(
                    f"{manifest.ref()} container {container.get('name')!r} sets {name} "
                    "to a plain value (use a Secret reference)"
                )
    problems += _required_secret_env(manifests, services)
    required = sum(len(service.secret_env) for service in services)
    return Outcome.of(
        "secrets",
        not problems,
        "; ".join(problems)
        or "no secret in a plain value"
        + (f"; {required} required variable(s) from Secrets" if required else ""),
    )


def _secret_ref(item: Mapping[str, Any]) -> Mapping[str, Any] | None:
    ref = (item.get("valueFrom") or {}).get("secretKeyRef")
    return ref if isinstance(ref, Mapping) else None


def _is_reference(name: str, value: str, from_secret: set[str], mounts: Sequence[str]) -> bool:
    """A plain value that only points at a secret: a variable set from a Secret (``*_ENV``)
    or a path on a mounted Secret volume (``*_FILE``)."""
    if name.endswith("_ENV"):
        return value in from_secret
    if name.endswith("_FILE"):
        return any(value.startswith(mount.rstrip("/") + "/") for mount in mounts)
    return False


def _secret_mounts(manifest: Manifest) -> Callable[[Mapping[str, Any]], list[str]]:
    """A function giving a container's mount paths of the pod's Secret volumes."""
    spec = pod_spec(manifest) or {}
    secret_volumes = {
        v.get("name") for v in spec.get("volumes") or [] if isinstance(v, Mapping) and "secret" in v
    }

    def mounts(container: Mapping[str, Any]) -> list[str]:
        return [
            str(m.get("mountPath"))
            for m in container.get("volumeMounts") or []
            if isinstance(m, Mapping) and m.get("name") in secret_volumes
        ]

    return mounts


def _required_secret_env(
    manifests: Sequence[Manifest], services: Sequence[ServiceExpectation]
) -> list[str]:
    problems = []
    for service in services:
        if not service.secret_env:
            continue
        workloads = [
            m for m in _workloads(manifests) if not m.is_test_hook and _component(m) == service.name
        ]
        if not workloads:
            problems.append(f"{service.name}: no workload to carry {', '.join(service.secret_env)}")
        for manifest in workloads:
            for container in _containers(manifest):
                env = {
                    str(item.get("name")): item
                    for item in container.get("env") or []
                    if isinstance(item, Mapping)
                }
                for name in service.secret_env:
                    if name not in env or _secret_ref(env[name]) is None:
                        problems.append(
                            f"{manifest.ref()} container {container.get('name')!r}: {name} "
                            "does not come from a Secret (secretKeyRef)"
                        )
    return problems


def secret_refs(manifests: Sequence[Manifest]) -> Outcome:
    """Every required ``secretKeyRef`` (not ``optional``) names a Secret the chart renders,
    holding that key: a chart whose Secret and Deployment disagree fails here, not at the
    kubelet (``CreateContainerConfigError``)."""
    rendered: dict[str, set[str]] = {}
    for manifest in manifests:
        if manifest.kind == "Secret":
            keys = {*(manifest.body.get("data") or {}), *(manifest.body.get("stringData") or {})}
            rendered[manifest.name] = {str(key) for key in keys}
    problems = []
    checked = 0
    for manifest in _workloads(manifests):
        for container in _containers(manifest):
            for item in container.get("env") or []:
                ref = _secret_ref(item) if isinstance(item, Mapping) else None
                if ref is None or ref.get("optional") is True:
                    continue
                checked += 1
                name, key = str(ref.get("name", "")), str(ref.get("key", ""))
                if key not in rendered.get(name, set()):
                    problems.append(
                        f"{manifest.ref()} container {container.get('name')!r}: "
                        f"{item.get('name')} needs Secret {name!r} key {key!r}, not rendered"
                    )
    return Outcome.of(
        "secret-refs",
        not problems,
        "; ".join(problems) or f"{checked} Secret reference(s) resolve to rendered Secrets",
    )


def generated_secrets(first: Sequence[Manifest], second: Sequence[Manifest]) -> Outcome:
    """Each Secret the chart renders has other data in a second render of the same values:
    its content is generated at install (or taken from the cluster), never embedded in the
    chart (pure; ``first`` and ``second`` are two renders)."""
    later = {m.name: m for m in second if m.kind == "Secret"}
    problems = []
    secrets = [m for m in first if m.kind == "Secret"]
    for secret in secrets:
        other = later.get(secret.name)
        if other is None:
            problems.append(f"{secret.ref()} is not in the second render")
            continue
        for field in ("data", "stringData"):
            mine, theirs = secret.body.get(field) or {}, other.body.get(field) or {}
            same = sorted(key for key in mine if key in theirs and mine[key] == theirs[key])
            if same:
                problems.append(
                    f"{secret.ref()} {field} {', '.join(same)} is the same in two renders: "
                    "embedded in the chart"
                )
    return Outcome.of(
        "generated-secrets",
        not problems,
        "; ".join(problems)
        or (
            f"{len(secrets)} Secret(s) generated afresh per install, none embedded"
            if secrets
            else "the chart renders no Secret"
        ),
    )
