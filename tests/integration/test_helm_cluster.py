"""Level 2 for real: the chart installed, upgraded, rolled back and uninstalled on a control
plane this test starts (etcd, kube-apiserver, controller manager, scheduler, kwok)."""

from __future__ import annotations

from pathlib import Path

import pytest

from capabilities import under_ci
from vibevoice_ci.core.config import load_config
from vibevoice_ci.core.errors import ToolMissingError
from vibevoice_ci.core.outcome import Status
from vibevoice_ci.helm import deploy, static
from vibevoice_ci.tools import helm
from vibevoice_ci.tools import kubernetes as k8s

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]


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


def test_level_2_installs_upgrades_rolls_back_and_tears_down(tmp_path: Path) -> None:
    config = load_config()
    assert config.helm is not None
    static_result = static.run_static(config, config.helm, tmp_path)
    result = deploy.run_cluster_level(config, config.helm, tmp_path, static_result)
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
    assert (tmp_path / "logs" / "cluster" / "kube-apiserver.log").stat().st_size > 0
