"""Levels 2 and 3: deploy the chart into the session's own control plane.

Level 2 (``cluster``): kwok simulates the node, so every object goes through the real API
server (validation, defaulting, admission), the controller manager rolls the Deployment out and
the scheduler places its pods; no container starts. Checks: install, every rendered object
present, rollout, upgrade to a changed value, rollback, uninstall, teardown.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from vibevoice_ci.core.config import HelmConfig, PipelineConfig, SpeechCheckConfig
from vibevoice_ci.core.errors import PipelineError
from vibevoice_ci.core.outcome import Outcome, Status
from vibevoice_ci.core.progress import progress
from vibevoice_ci.helm import controlplane
from vibevoice_ci.helm.manifests import Manifest
from vibevoice_ci.helm.result import LevelResult
from vibevoice_ci.helm.static import StaticResult
from vibevoice_ci.tools import helm, kubectl
from vibevoice_ci.tools._exec import ToolResult, stop_process

INSTALL_TIMEOUT = 180  # seconds for helm --wait
SETTLE_TIMEOUT = 90.0  # seconds for old pods to go after a rollout or an uninstall
# The upgrade changes one setting (so the ConfigMap and the pods' config checksum change).
UPGRADE_KEY = "limits.maxConcurrency"


def upgrade_setting(service: str, current: int) -> tuple[str, int]:
    """The ``--set`` key and the new value the upgrade check applies (pure)."""
    return f"services.{service}.{UPGRADE_KEY}", current + 1


def concurrency_variable(service: str) -> str:
    """The ConfigMap key ``limits.maxConcurrency`` lands in (pure)."""
    return f"VIBEVOICE_{service.upper().replace('-', '_')}_MAX_CONCURRENCY"


def token_reference(deployment: Mapping[str, Any], pointer: str) -> tuple[str, str] | None:
    """The Secret name and key a Deployment's container takes its bearer tokens from,
    following the agent's own lookup (pure): the ``pointer`` variable names the variable
    that holds the tokens, which must come from a ``secretKeyRef``."""
    template = ((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}
    for container in template.get("containers") or []:
        env = {str(item.get("name")): item for item in container.get("env") or []}
        variable = (env.get(pointer) or {}).get("value")
        ref = ((env.get(str(variable)) or {}).get("valueFrom") or {}).get("secretKeyRef")
        if isinstance(ref, Mapping) and ref.get("name") and ref.get("key"):
            return str(ref["name"]), str(ref["key"])
    return None


def first_token(secret: Mapping[str, Any], key: str) -> str | None:
    """The first bearer token in a Secret's ``key`` (base64 ``data``), parsed the way the
    agent parses it; None when absent or malformed (pure)."""
    from vibevoice_platform.agent.tokens import TokenError, parse_tokens

    encoded = (secret.get("data") or {}).get(key)
    if not isinstance(encoded, str):
        return None
    try:
        tokens = parse_tokens(base64.b64decode(encoded).decode("utf-8"), source=key)
    except (ValueError, TokenError):
        return None
    return tokens[0]


def secret_data(secrets: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Each Secret's name and data (pure)."""
    return {
        str((item.get("metadata") or {}).get("name")): dict(item.get("data") or {})
        for item in secrets
    }


def missing_objects(rendered: Sequence[Manifest], present: Mapping[str, set[str]]) -> list[str]:
    """Rendered objects (test hooks aside) absent from the cluster's listing (pure);
    ``present`` maps a kind to the names found."""
    return [
        m.ref() for m in rendered if not m.is_test_hook and m.name not in present.get(m.kind, set())
    ]


def rollout_problems(deployments: Sequence[Mapping[str, Any]]) -> list[str]:
    """Deployments whose newest generation is not fully rolled out and available (pure)."""
    problems = []
    for item in deployments:
        name = (item.get("metadata") or {}).get("name", "?")
        spec, status = item.get("spec") or {}, item.get("status") or {}
        wanted = int(spec.get("replicas", 1))
        if status.get("observedGeneration", 0) < (item.get("metadata") or {}).get("generation", 1):
            problems.append(f"{name}: generation not yet observed")
        for key in ("updatedReplicas", "readyReplicas", "availableReplicas"):
            if int(status.get(key, 0)) < wanted:
                problems.append(f"{name}: {key} {status.get(key, 0)}/{wanted}")
    if not deployments:
        problems.append("no Deployment found")
    return problems


def pod_problems(pods: Sequence[Mapping[str, Any]]) -> list[str]:
    """Pods not Running and Ready on a node (pure)."""
    problems = []
    for pod in pods:
        name = (pod.get("metadata") or {}).get("name", "?")
        if (pod.get("metadata") or {}).get("deletionTimestamp"):
            continue
        status = pod.get("status") or {}
        ready = any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in status.get("conditions") or []
        )
        node = (pod.get("spec") or {}).get("nodeName")
        if status.get("phase") != "Running" or not ready or not node:
            problems.append(f"{name}: phase {status.get('phase')}, ready {ready}, node {node}")
    if not pods:
        problems.append("no pod found")
    return problems


class Deployer:
    """helm and kubectl against one control plane, for one release."""

    def __init__(
        self, helm_config: HelmConfig, kubeconfig: Path, speech: SpeechCheckConfig
    ) -> None:
        self.config = helm_config
        self.speech = speech
        self.kubeconfig = kubeconfig
        self.release = helm.Release(helm_config.release, helm_config.namespace, kubeconfig)
        self.selector = f"app.kubernetes.io/instance={helm_config.release}"

    def run(self, argv: list[str], timeout: float = INSTALL_TIMEOUT + 60) -> ToolResult:
        return helm.run(argv, timeout=timeout)

    def install(self, settings: Mapping[str, str]) -> Outcome:
        return self._upgrade_install("install", settings, install=True)

    def upgrade(self, settings: Mapping[str, str]) -> Outcome:
        return self._upgrade_install("upgrade", settings, install=False)

    def _upgrade_install(self, name: str, settings: Mapping[str, str], *, install: bool) -> Outcome:
        """``helm upgrade [--install] --wait`` with the CI values and ``settings``."""
        started = time.monotonic()
        result = self.run(
            helm.upgrade_install_argv(
                helm.helm(),
                self.release,
                self.config.chart,
                values=[self.config.ci_values],
                settings=settings,
                timeout_seconds=INSTALL_TIMEOUT,
                install=install,
            )
        )
        return _tool_outcome(name, result, started, f"helm {name} --wait")

    def rollback(self, revision: int) -> Outcome:
        started = time.monotonic()
        result = self.run(
            helm.rollback_argv(helm.helm(), self.release, revision, timeout_seconds=INSTALL_TIMEOUT)
        )
        return _tool_outcome("rollback", result, started, f"helm rollback to {revision}")

    def uninstall(self) -> Outcome:
        started = time.monotonic()
        result = self.run(
            helm.uninstall_argv(helm.helm(), self.release, timeout_seconds=INSTALL_TIMEOUT)
        )
        outcome = _tool_outcome("uninstall", result, started, "helm uninstall --wait")
        if not outcome.passed:
            return outcome
        return _until(self._nothing_left, SETTLE_TIMEOUT)

    def _nothing_left(self) -> Outcome:
        left = [
            f"{item.get('kind')}/{(item.get('metadata') or {}).get('name')}"
            for item in self.items("deployments,services,configmaps,pods")
        ]
        return Outcome.of(
            "uninstall",
            not left,
            f"left behind: {', '.join(left)}" if left else "helm uninstall: every object gone",
        )

    def items(self, resource: str) -> list[dict[str, Any]]:
        return kubectl.get_items(
            self.kubeconfig, resource, namespace=self.config.namespace, selector=self.selector
        )

    def revisions(self) -> list[helm.Revision]:
        result = self.run(helm.history_argv(helm.helm(), self.release), timeout=60)
        if not result.ok:
            return []
        return helm.parse_history(result.stdout)

    def configmap_value(self, service: str, key: str) -> str | None:
        for item in self.items("configmaps"):
            labels = (item.get("metadata") or {}).get("labels") or {}
            if labels.get("app.kubernetes.io/component") == service:
                value = (item.get("data") or {}).get(key)
                return None if value is None else str(value)
        return None

    def objects_present(self, rendered: Sequence[Manifest]) -> Outcome:
        kinds = sorted({m.kind for m in rendered if not m.is_test_hook})
        present: dict[str, set[str]] = {}
        for kind in kinds:
            present[kind] = {
                str((item.get("metadata") or {}).get("name"))
                for item in kubectl.get_items(
                    self.kubeconfig, kind.lower(), namespace=self.config.namespace
                )
            }
        missing = missing_objects(rendered, present)
        count = sum(1 for m in rendered if not m.is_test_hook)
        return Outcome.of(
            "objects",
            not missing,
            f"missing in the cluster: {', '.join(missing)}"
            if missing
            else f"all {count} rendered objects admitted ({', '.join(kinds)})",
        )

    def helm_test(self) -> Outcome:
        """``helm test --logs``: the chart's smoke pod checks every service in-cluster."""
        started = time.monotonic()
        result = self.run(helm.test_argv(helm.helm(), self.release, timeout_seconds=180))
        outcome = _helm_test_outcome(result, started)
        # The test pod stays for its logs; remove it so the release's own pods are judged.
        kubectl.run(
            self.kubeconfig,
            "delete",
            "pods",
            f"--selector={self.selector},app.kubernetes.io/component=helm-test",
            "--wait=true",
            namespace=self.config.namespace,
            timeout=120,
        )
        return outcome

    def port_forward_smoke(self, config: PipelineConfig, logs_dir: Path) -> list[Outcome]:
        """Each service's own smoke checks through ``kubectl port-forward`` on 127.0.0.1:
        tts's (health, ready, metrics, a real synthesis), the agent's (a real turn with the
        token from its Secret, spoken through tts in-cluster). A service without checks here
        is unknown, never passed."""
        from vibevoice_ci.helm.controlplane import free_ports

        outcomes = []
        for service in config.charted_services():
            name = service.name
            checker = self._smoke_checker(name)
            if checker is None:
                outcomes.append(
                    Outcome(f"smoke/{name}", Status.UNKNOWN, f"no smoke checks for {name!r}")
                )
                continue
            found = self.items_of("services", name)
            if not found:
                outcomes.append(Outcome.of(f"smoke/{name}", False, "no Service found"))
                continue
            (port,) = free_ports(1)
            target = f"service/{found[0]['metadata']['name']}"
            log_path = logs_dir / f"port-forward-{name}.log"
            with log_path.open("wb") as log:
                process = kubectl.port_forward(
                    self.kubeconfig,
                    self.config.namespace,
                    target,
                    [f"{port}:{service.container_port}"],
                    output=log,
                )
                try:
                    checks = checker(f"http://127.0.0.1:{port}")
                finally:
                    stop_process(process, timeout=10)
            outcomes += [
                Outcome(f"smoke/{name}/{_check_name(name, check.name)}", check.status, check.detail)
                for check in checks
            ]
        return outcomes

    def _smoke_checker(self, service: str) -> Callable[[str], list[Outcome]] | None:
        """The smoke checks of one service against a base URL, or None when it has none."""
        from vibevoice_ci.smoke.agent_checks import run_agent_checks
        from vibevoice_ci.smoke.checks import ServiceUnreachableError, run_checks

        def tts(base: str) -> list[Outcome]:
            try:
                return run_checks(base, wait_seconds=PORT_FORWARD_WAIT)
            except ServiceUnreachableError as exc:
                return [Outcome.of("reachable", False, str(exc))]

        def agent(base: str) -> list[Outcome]:
            token, detail = self.service_token(service)
            if token is None:
                return [Outcome.of("token", False, detail)]
            try:
                checks = run_agent_checks(
                    base,
                    self.speech,
                    engine=self.tts_engine(),
                    token=token,
                    wait_seconds=PORT_FORWARD_WAIT,
                ).outcomes
            except ServiceUnreachableError as exc:
                checks = [Outcome.of("reachable", False, str(exc))]
            return [Outcome.of("token", True, detail), *checks]

        return {"tts": tts, "agent": agent}.get(service)

    def items_of(self, resource: str, service: str) -> list[dict[str, Any]]:
        """The release's objects of one service (by its component label)."""
        return kubectl.get_items(
            self.kubeconfig,
            resource,
            namespace=self.config.namespace,
            selector=f"{self.selector},app.kubernetes.io/component={service}",
        )

    def tts_engine(self) -> str:
        """The engine the release's tts runs (its ConfigMap's ``VIBEVOICE_TTS_ENGINE``), which
        decides the agent speech check's threshold; ``unknown`` (no threshold: the check is
        unknown, never passed) when the ConfigMap does not say."""
        for configmap in self.items_of("configmaps", "tts"):
            engine = (configmap.get("data") or {}).get("VIBEVOICE_TTS_ENGINE")
            if isinstance(engine, str) and engine:
                return engine
        return "unknown"

    def service_token(self, service: str) -> tuple[str | None, str]:
        """A bearer token of ``service`` read from the Secret its Deployment names, and
        where it came from (the token itself never appears in the detail)."""
        from vibevoice_platform.agent.settings import ENV_TOKENS_ENV

        deployments = self.items_of("deployments", service)
        reference = token_reference(deployments[0], ENV_TOKENS_ENV) if deployments else None
        if reference is None:
            return None, f"{service}'s Deployment takes no tokens from a Secret"
        name, key = reference
        secrets = kubectl.get_items(
            self.kubeconfig, f"secret/{name}", namespace=self.config.namespace
        )
        token = first_token(secrets[0], key) if secrets else None
        where = f"Secret {name}, key {key}"
        return token, f"a token from {where}" if token else f"no valid token in {where}"

    def rollout(self, name: str = "rollout") -> Outcome:
        """Every Deployment rolled out, and exactly its pods Running and Ready (waits for the
        old ReplicaSet's pods to go, up to ``SETTLE_TIMEOUT``)."""
        return _until(lambda: self._rolled_out(name), SETTLE_TIMEOUT)

    def _rolled_out(self, name: str) -> Outcome:
        deployments = self.items("deployments")
        pods = [p for p in self.items("pods") if not _is_test_pod(p)]
        problems = rollout_problems(deployments) + pod_problems(pods)
        wanted = sum(int((d.get("spec") or {}).get("replicas", 1)) for d in deployments)
        if len(pods) != wanted:
            problems.append(f"{len(pods)} pod(s) for {wanted} replica(s)")
        nodes = sorted({str((p.get("spec") or {}).get("nodeName")) for p in pods})
        return Outcome.of(
            name,
            not problems,
            "; ".join(problems) or f"{len(pods)} pod(s) Running and Ready on {', '.join(nodes)}",
        )


def _check_name(service: str, check: str) -> str:
    """``agent turn`` of the agent -> ``turn``; ``synthesis`` stays (pure)."""
    return check.removeprefix(f"{service} ").replace(" ", "-")


def _is_test_pod(pod: Mapping[str, Any]) -> bool:
    labels = (pod.get("metadata") or {}).get("labels") or {}
    return labels.get("app.kubernetes.io/component") == "helm-test"


def _helm_test_outcome(result: ToolResult, started: float) -> Outcome:
    seconds = time.monotonic() - started
    checks = [line for line in result.stdout.splitlines() if line.startswith(("PASS", "FAIL"))]
    detail = f"{len(checks)} in-cluster checks" + (f": {'; '.join(checks)}" if checks else "")
    if result.ok:
        return Outcome.of("helm-test", True, f"helm test passed in {seconds:.1f} s ({detail})")
    tail = [line for line in result.stderr.strip().splitlines() if line.strip()][-2:]
    return Outcome.of("helm-test", False, f"{detail}; {' / '.join(tail)}")


def _until(check: Callable[[], Outcome], timeout: float) -> Outcome:
    """``check()`` until it passes or ``timeout`` seconds pass; its last outcome."""
    deadline = time.monotonic() + timeout
    while True:
        outcome = check()
        if outcome.passed or time.monotonic() > deadline:
            return outcome
        time.sleep(1.0)


def _tool_outcome(name: str, result: ToolResult, started: float, what: str) -> Outcome:
    seconds = time.monotonic() - started
    if result.ok:
        return Outcome.of(name, True, f"{what} succeeded in {seconds:.1f} s")
    tail = [line for line in result.stderr.strip().splitlines() if line.strip()][-3:]
    return Outcome.of(name, False, f"{what} exited {result.returncode}: {' / '.join(tail)}")


def exercise_release(
    deployer: Deployer,
    config: PipelineConfig,
    rendered: Sequence[Manifest],
    *,
    settings: Mapping[str, str],
    after_install: Callable[[], list[Outcome]] | None = None,
) -> list[Outcome]:
    """Install, check, upgrade a value, rollback, uninstall: the checks of one release."""
    outcomes = [deployer.install(settings)]
    if not outcomes[-1].passed:
        return outcomes
    outcomes.append(deployer.objects_present(rendered))
    outcomes.append(deployer.rollout())
    if after_install is not None:
        outcomes += after_install()
    outcomes += _upgrade_and_rollback(deployer, config, settings)
    outcomes.append(deployer.uninstall())
    return outcomes


def _upgrade_and_rollback(
    deployer: Deployer, config: PipelineConfig, settings: Mapping[str, str]
) -> list[Outcome]:
    """One ``helm upgrade`` that raises every charted service's ``limits.maxConcurrency``
    (each ConfigMap changes and each Deployment rolls), then ``helm rollback`` to revision 1
    (every value back); the chart's generated Secrets must keep their data throughout."""
    services = [service.name for service in config.charted_services()]
    before: dict[str, str] = {}
    changes: dict[str, str] = {}
    for service in services:
        variable = concurrency_variable(service)
        value = deployer.configmap_value(service, variable)
        if value is None or not value.isdigit():
            return [Outcome.of("upgrade", False, f"{variable} not in {service}'s ConfigMap")]
        before[service] = value
        key, raised = upgrade_setting(service, int(value))
        changes[key] = str(raised)
    secrets_before = secret_data(deployer.items("secrets"))
    outcomes = [deployer.upgrade({**settings, **changes})]
    if not outcomes[-1].passed:
        return outcomes
    after = {s: deployer.configmap_value(s, concurrency_variable(s)) for s in services}
    rolled = deployer.rollout("upgrade-rollout")
    wanted = {s: str(int(before[s]) + 1) for s in services}
    outcomes.append(
        Outcome(
            "upgrade-rollout",
            rolled.status if after == wanted else Status.FAIL,
            f"{_changes(before, after)}; {rolled.detail}",
        )
    )
    secrets_upgraded = secret_data(deployer.items("secrets"))
    outcomes.append(deployer.rollback(1))
    if not outcomes[-1].passed:
        return outcomes
    restored = {s: deployer.configmap_value(s, concurrency_variable(s)) for s in services}
    history = [(r.revision, r.status) for r in deployer.revisions()]
    rolled = deployer.rollout("rollback-rollout")
    good = restored == before and history[-1:] == [(3, "deployed")]
    outcomes.append(
        Outcome(
            "rollback-rollout",
            rolled.status if good else Status.FAIL,
            f"back to {_changes(before, restored)} (expected the first values); "
            f"history {history}; {rolled.detail}",
        )
    )
    kept = secrets_before == secrets_upgraded == secret_data(deployer.items("secrets"))
    outcomes.append(
        Outcome.of(
            "secrets-kept",
            kept,
            f"{len(secrets_before)} generated Secret(s) ({', '.join(sorted(secrets_before))}) "
            + ("kept their data" if kept else "CHANGED")
            + " through the upgrade and the rollback"
            if secrets_before
            else "the release has no Secret of its own",
        )
    )
    return outcomes


def _changes(before: Mapping[str, str], after: Mapping[str, str | None]) -> str:
    return ", ".join(
        f"{concurrency_variable(s)} {before[s]} -> {after.get(s)}" for s in sorted(before)
    )


def run_cluster_level(
    config: PipelineConfig, helm_config: HelmConfig, report_dir: Path, static: StaticResult
) -> LevelResult:
    """Level 2: the control plane with kwok's simulated node."""
    outcomes: list[Outcome] = []
    teardown: list[Outcome] = []
    notes: list[str] = []
    workdir = report_dir / "work" / "cluster"
    try:
        with controlplane.running_control_plane(
            workdir, report_dir / "logs" / "cluster", teardown
        ) as plane:
            outcomes.append(
                Outcome.of(
                    "control-plane",
                    True,
                    f"etcd, kube-apiserver (ready in {plane.ready_seconds:.1f} s), controller "
                    f"manager, scheduler on 127.0.0.1",
                )
            )
            controlplane.start_kwok_node(plane, helm_config.kwok_stages)
            outcomes.append(Outcome.of("node", True, "kwok's simulated Node is Ready"))
            progress("level 2 (cluster): helm install, upgrade, rollback on kwok's node")
            deployer = Deployer(helm_config, plane.kubeconfig, config.speech)
            outcomes += exercise_release(deployer, config, static.ci_manifests, settings={})
    except PipelineError as exc:
        outcomes.append(Outcome.of("control-plane" if not outcomes else "cluster", False, str(exc)))
    outcomes += teardown
    notes.append(
        "level 2: kwok simulates the node, so no container runs: probes, images and the "
        "network are level 3's"
    )
    return LevelResult("cluster", outcomes, notes)


# Level 3 ---------------------------------------------------------------------------------

# What level 3 cannot decide on this machine (accepted in [tool.vibevoice-ci.helm]
# expected_unknown, with the reason).
UNDECIDED = {
    "ingress-addons": "cert-manager and ingress-nginx were not installed: their images can't be "
    "pulled here; the Ingress object was admitted (level 2) but no controller served it and no "
    "certificate was issued",
    "networkpolicy-enforcement": "the bridge CNI plugin does not enforce NetworkPolicy: the "
    "policy was admitted, but nothing showed that traffic from other pods is refused",
}
PORT_FORWARD_WAIT = 30.0


def image_settings(references: Mapping[str, str]) -> dict[str, str]:
    """``--set`` values that point each service at its built image, never pulled (pure).
    ``references`` maps a service to ``repository:tag``."""
    settings = {}
    for service, reference in sorted(references.items()):
        repository, _, tag = reference.rpartition(":")
        settings[f"services.{service}.image.repository"] = repository
        settings[f"services.{service}.image.tag"] = tag
        settings[f"services.{service}.image.pullPolicy"] = "Never"
    return settings


def run_pods_level(
    config: PipelineConfig, helm_config: HelmConfig, report_dir: Path, static: StaticResult
) -> LevelResult:
    """Level 3: a real kubelet runs the built images; probes, helm test, smoke checks."""
    from vibevoice_ci.build import native as build
    from vibevoice_ci.helm import node

    node.require()
    outcomes: list[Outcome] = []
    teardown: list[Outcome] = []
    try:
        progress("level 3 (pods): building (or reusing) the service images")
        charted = [service.name for service in config.charted_services()]
        images = build.build_images(config, services=charted, report_dir=report_dir / "build")
        references = {image.service: image.reference for image in images}
        settings = image_settings(references)
        with controlplane.running_control_plane(
            report_dir / "work" / "pods", report_dir / "logs" / "pods", teardown
        ) as plane:
            outcomes.append(
                Outcome.of(
                    "control-plane", True, f"kube-apiserver ready in {plane.ready_seconds:.1f} s"
                )
            )
            with node.running_node(plane, list(references.values()), teardown):
                outcomes.append(
                    Outcome.of("node", True, "kubelet 'localhost' Ready (containerd, bridge CNI)")
                )
                deployer = Deployer(helm_config, plane.kubeconfig, config.speech)
                outcomes += exercise_release(
                    deployer,
                    config,
                    static.ci_manifests,
                    settings=settings,
                    after_install=lambda: [
                        deployer.helm_test(),
                        *deployer.port_forward_smoke(config, report_dir / "logs" / "pods"),
                    ],
                )
    except PipelineError as exc:
        outcomes.append(Outcome.of("pods", False, str(exc)))
    outcomes += teardown
    outcomes += [Outcome(name, Status.UNKNOWN, reason) for name, reason in UNDECIDED.items()]
    return LevelResult("pods", outcomes)
