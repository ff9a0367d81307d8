"""Level 2 for real: the chart installed, upgraded, rolled back and uninstalled on a real control
plane (etcd, kube-apiserver, controller manager, scheduler) with kwok's simulated node.

The control plane is the worker's shared one (``control_plane`` in conftest.py), lent to the
level run, which starts kwok in it as the session does; the plane's own stop is checked when
the worker's session ends.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from isolation import LentPlane

from capabilities import under_ci
from vibevoice_ci.core.config import load_config
from vibevoice_ci.core.errors import ToolMissingError
from vibevoice_ci.core.outcome import Status
from vibevoice_ci.helm import deploy, static
from vibevoice_ci.tools import helm
from vibevoice_ci.tools import kubernetes as k8s

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(900),
    pytest.mark.xdist_group("helm-cluster"),
]


@pytest.fixture(scope="module", autouse=True)
def _tools_installed() -> None:
    try:
        helm.version()
        for name in (
            "etcd",
            "kube-apiserver",
            "kube-controller-manager",
            "kube-scheduler",
            "kwok",
            "kubectl",
        ):
            k8s.binary(name)
    except ToolMissingError as exc:
        if under_ci():
            pytest.fail(f"the control plane's tools are required under CI: {exc}")
        pytest.skip(f"control plane tools missing: {exc}")


def test_level_2_installs_upgrades_rolls_back_and_tears_down(
    tmp_path: Path, lent_plane: LentPlane
) -> None:
    config = load_config()
    assert config.helm is not None
    helm_config = config.helm.model_copy(update={"namespace": lent_plane.namespace})
    static_result = static.run_static(config, helm_config, tmp_path)
    result = deploy.run_cluster_level(config, helm_config, tmp_path, static_result)
    for outcome in result.outcomes:
        print(outcome.line())
    found = {outcome.name: outcome for outcome in result.outcomes}
    failed = [o.line() for o in result.outcomes if o.status is not Status.PASS]
    assert failed == []
    for name in (
        "control-plane",
        "node",
        "install",
        "objects",
        "rollout",
        "upgrade",
        "upgrade-rollout",
        "rollback",
        "rollback-rollout",
        "secrets-kept",
        "uninstall",
        "teardown",
    ):
        assert name in found
    assert (lent_plane.server_logs / "kube-apiserver.log").stat().st_size > 0
    assert (tmp_path / "logs" / "cluster" / "kwok.log").stat().st_size > 0
