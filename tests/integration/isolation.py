"""What lets the integration tests run in parallel: names no other test uses, a lock the run's
workers share, and the worker's Kubernetes control plane lent to one test at a time."""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from vibevoice_ci.helm import controlplane
from vibevoice_ci.tools import kubectl
from vibevoice_ci.tools._exec import stop_process


def unique_name(prefix: str) -> str:
    """``prefix`` and a random suffix: a compose project, tag or namespace no other test (or
    other run on this machine) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@contextlib.contextmanager
def run_lock(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[None]:
    """An exclusive lock shared by every worker of this run (a file in the run's base
    temporary folder, which the workers' own folders sit in)."""
    base = tmp_path_factory.getbasetemp()
    folder = base.parent if base.name.startswith("popen-gw") else base
    with (folder / f"{name}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclasses.dataclass(frozen=True)
class LentPlane:
    """The worker's control plane lent to one test: where its own servers log, and the
    namespace the test deploys to."""

    plane: controlplane.ControlPlane
    server_logs: Path
    namespace: str


def clean_plane(plane: controlplane.ControlPlane, namespace: str) -> None:
    kubeconfig = plane.kubeconfig
    for background in [p for p in plane.processes if p.name == "kwok"]:
        stop_process(background.process, timeout=controlplane.STOP_TIMEOUT)
        background.log.close()
        plane.processes.remove(background)
    # A terminating namespace admits nothing new, so its pods are not recreated while they
    # are force-deleted (their node's kubelet, if any, is gone and can't confirm a stop).
    kubectl.run(kubeconfig, "delete", "namespace", namespace, "--wait=false", timeout=60)
    kubectl.run(
        kubeconfig,
        "delete",
        "pods",
        "--all",
        "--force",
        "--grace-period=0",
        namespace=namespace,
        timeout=60,
    )
    kubectl.run(kubeconfig, "delete", "nodes", "--all", "--wait=true", timeout=60)
