"""Shared fixtures for integration tests that talk to real local processes on 127.0.0.1.

The suite runs in parallel (pytest-xdist, ``--dist loadgroup``), so every test owns what it
uses: ports chosen by the kernel, compose projects, image tags and namespaces named with
``unique_name``, folders under its own tmp_path. What is costly is paid once: the service
images are built once per run (``service_images``), and each worker starts at most one
Kubernetes control plane (``control_plane``), lent to the helm tests in turn. Tests that share
a module-scoped fixture carry the module's ``xdist_group`` so that they run on one worker.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from isolation import LentPlane, clean_plane, run_lock, unique_name

from capabilities import under_ci
from vibevoice_ci.build import native as build
from vibevoice_ci.core.config import load_config
from vibevoice_ci.core.errors import ToolMissingError
from vibevoice_ci.core.outcome import Outcome, Status
from vibevoice_ci.helm import controlplane
from vibevoice_ci.smoke.local_service import LocalService, running_tts_service
from vibevoice_ci.tools import kubectl
from vibevoice_ci.tools import kubernetes as k8s


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """An HTTP client that never goes through a proxy (traffic stays on 127.0.0.1)."""
    with httpx.Client(timeout=120.0, trust_env=False) as client:
        yield client


@pytest.fixture(scope="module")
def tts_espeak(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalService]:
    """The tts service with the fast espeak engine and default settings, once per module.

    For tests of other services (the agent) that need a real tts service to talk to.
    """
    log_path = tmp_path_factory.mktemp("tts-espeak") / "service.log"
    with running_tts_service("espeak", log_path=log_path) as service:
        yield service


@pytest.fixture(scope="module")
def tts_piper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalService]:
    """The tts service with the default Piper engine and default settings, once per module."""
    log_path = tmp_path_factory.mktemp("tts-piper") / "service.log"
    with running_tts_service("piper", log_path=log_path) as service:
        yield service


@pytest.fixture(scope="session")
def service_images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, build.BuiltImage]:
    """Every service image as `nox -s build` makes it (native platform), by service.

    Built under a lock shared by the run's workers: the first builds, the others wait and
    get Docker's cache, so the images are built once per run; tests (and the sessions they
    start, which build for themselves) reuse them. The build's reports go to a temporary
    folder, never the repository's reports/.
    """
    config = load_config().model_copy(
        update={"reports_dir": tmp_path_factory.mktemp("service-images")}
    )
    with run_lock(tmp_path_factory, "service-images"):
        images = build.build_images(config)
    return {image.service: image for image in images}


# Helm levels 2 and 3 --------------------------------------------------------------------


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[controlplane.ControlPlane]:
    """One Kubernetes control plane per worker (etcd, kube-apiserver, controller manager,
    scheduler on loopback ports), started when a helm test first needs it and stopped at the
    end of the session; its stop must pass."""
    try:
        for name in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"):
            k8s.binary(name)
        kubectl.kubectl()
    except ToolMissingError as exc:
        if under_ci():
            pytest.fail(f"the control plane's tools are required under CI: {exc}")
        pytest.skip(f"control plane tools missing: {exc}")
    folder = tmp_path_factory.mktemp("control-plane")
    teardown: list[Outcome] = []
    with controlplane.running_control_plane(folder / "work", folder / "logs", teardown) as plane:
        yield plane
    failed = [outcome.line() for outcome in teardown if outcome.status is not Status.PASS]
    assert not failed, f"the shared control plane did not stop cleanly: {failed}"


@pytest.fixture
def lent_plane(
    control_plane: controlplane.ControlPlane, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LentPlane]:
    """The worker's control plane, lent to one test's level run.

    ``deploy.run_cluster_level`` and ``run_pods_level`` run unchanged: where they start a
    control plane they get this one, with the work and log folders they asked for (kwok, the
    kubelet and containerd keep their files and logs there, as with a plane of their own),
    and they do not stop it: their ``teardown`` check says it stays up, and the
    ``control_plane`` fixture stops it, and checks the stop, at the end of the session.
    Afterwards everything the test left in it is removed: kwok, its namespace, pods bound to a
    node that is gone, and every Node (kwok's simulated one, a stopped kubelet's), so the next
    test finds the plane as it started.
    """
    server_logs = control_plane.logs_dir

    @contextlib.contextmanager
    def lend(
        workdir: Path, logs_dir: Path, teardown: list[Outcome]
    ) -> Iterator[controlplane.ControlPlane]:
        workdir.mkdir(parents=True, exist_ok=True)
        logs_dir.mkdir(parents=True, exist_ok=True)
        own = control_plane.workdir, control_plane.logs_dir
        control_plane.workdir, control_plane.logs_dir = workdir, logs_dir
        try:
            yield control_plane
        finally:
            control_plane.workdir, control_plane.logs_dir = own
            teardown.append(
                Outcome.of(
                    "teardown", True, "the worker's shared control plane stays up for the next test"
                )
            )

    monkeypatch.setattr(controlplane, "running_control_plane", lend)
    lent = LentPlane(control_plane, server_logs, unique_name("helm-test"))
    try:
        yield lent
    finally:
        clean_plane(control_plane, lent.namespace)
