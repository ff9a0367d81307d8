"""Level 3 for real: the built images as pods on a kubelet joined to a real control plane. The
chart as it is passes; a readiness path that never answers fails the level.

The control plane is the worker's shared one (``control_plane`` in conftest.py), lent to each
level run; the node (containerd, the kubelet, the bridge network) is each test's own, started
and torn down by the level run as in the session. Both tests carry one xdist group: the node's
bridge and the kubelet's iptables chains are the machine's, so two nodes must never run at
once.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from isolation import LentPlane

from capabilities import missing
from vibevoice_ci.core.config import PipelineConfig, load_config
from vibevoice_ci.core.errors import ToolMissingError
from vibevoice_ci.core.outcome import Status
from vibevoice_ci.helm import deploy, node, static
from vibevoice_ci.tools import helm
from vibevoice_ci.tools import kubernetes as k8s

pytestmark = [
    pytest.mark.integration,
    pytest.mark.docker,
    pytest.mark.timeout(1500),
    pytest.mark.xdist_group("helm-pods"),
]


@pytest.fixture(scope="module", autouse=True)
def _level_3_possible() -> None:
    try:
        helm.version()
        for name in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"):
            k8s.binary(name)
        node.require()
    except ToolMissingError as exc:
        missing("helm-pods", f"level 3 cannot run here: {exc}")


def _config(tmp_path: Path, namespace: str, ready_path: str | None = None) -> PipelineConfig:
    real = load_config()
    assert real.helm is not None
    chart = tmp_path / "chart"
    shutil.copytree(real.helm.chart, chart)
    values = chart / real.helm.ci_values.relative_to(real.helm.chart)
    if ready_path is not None:
        document = yaml.safe_load(values.read_text(encoding="utf-8"))
        document["services"]["tts"]["paths"] = {
            "health": "/health",
            "ready": ready_path,
            "metrics": "/metrics",
            "synthesis": "/v1/tts",
        }
        values.write_text(yaml.safe_dump(document), encoding="utf-8")
    helm_config = real.helm.model_copy(
        update={"chart": chart, "ci_values": values, "namespace": namespace}
    )
    return real.model_copy(update={"helm": helm_config, "reports_dir": tmp_path / "reports"})


def _run(config: PipelineConfig, tmp_path: Path) -> dict[str, Status]:
    assert config.helm is not None
    result = deploy.run_pods_level(
        config, config.helm, tmp_path, static.run_static(config, config.helm, tmp_path)
    )
    for outcome in result.outcomes:
        print(outcome.line())
    return {outcome.name: outcome.status for outcome in result.outcomes}


def test_level_3_runs_real_pods_and_tears_everything_down(
    tmp_path: Path, lent_plane: LentPlane, service_images: object
) -> None:
    found = _run(_config(tmp_path, lent_plane.namespace), tmp_path)
    undecided = {name for name, status in found.items() if status is Status.UNKNOWN}
    assert undecided == set(deploy.UNDECIDED)
    failed = {name for name, status in found.items() if status is Status.FAIL}
    assert failed == set()
    for name in (
        "install",
        "rollout",
        "helm-test",
        "smoke/tts/synthesis",
        "smoke/agent/token",
        "smoke/agent/auth",
        "smoke/agent/turn",
        "smoke/agent/metrics",
        "secrets-kept",
        "upgrade-rollout",
        "rollback-rollout",
        "uninstall",
        "node-teardown",
        "teardown",
    ):
        assert found[name] is Status.PASS, name
    assert not Path(f"/sys/class/net/{node.BRIDGE}").exists()


def test_a_probe_path_that_never_answers_fails_level_3(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lent_plane: LentPlane,
    service_images: object,
) -> None:
    # The startup probe would give Piper 180 s; a minute is plenty to show it never passes.
    monkeypatch.setattr(deploy, "INSTALL_TIMEOUT", 60)
    config = _config(tmp_path, lent_plane.namespace, ready_path="/never")
    found = _run(config, tmp_path)
    assert found["install"] is Status.FAIL
    assert found["node-teardown"] is Status.PASS
    assert found["teardown"] is Status.PASS
