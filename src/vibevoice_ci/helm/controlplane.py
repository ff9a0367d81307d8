"""A Kubernetes control plane on loopback ports, started by the session and always stopped.

etcd, kube-apiserver (token auth, RBAC, a generated service-account key), the controller
manager and the scheduler, each a background process with its log under ``logs/``; then
either kwok with one simulated Node (level 2) or nothing (level 3 adds a real kubelet, see
``node``). ``running_control_plane`` stops every process it started, in reverse order, on
every path, and records the stop as a ``teardown`` check.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import yaml

from vibevoice_ci.core.errors import CheckFailedError
from vibevoice_ci.core.files import write_text_atomic
from vibevoice_ci.core.outcome import Outcome
from vibevoice_ci.core.progress import progress
from vibevoice_ci.tools import kubectl
from vibevoice_ci.tools import kubernetes as k8s
from vibevoice_ci.tools._exec import run_tool, start_process, stop_process

READY_TIMEOUT = 180.0  # kube-apiserver's /readyz: about 15 s on an idle machine
STOP_TIMEOUT = 15.0


def free_ports(count: int) -> list[int]:
    """``count`` distinct free TCP ports on 127.0.0.1 (the kernel's choice)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class Background:
    name: str
    process: subprocess.Popen[bytes]
    log: IO[bytes]
    log_path: Path


@dataclass
class ControlPlane:
    """A running control plane: how to reach it, and what it started."""

    workdir: Path
    logs_dir: Path
    ports: k8s.Ports
    token: str
    kubeconfig: Path
    processes: list[Background] = field(default_factory=list)
    ready_seconds: float = 0.0

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.ports.apiserver}"

    def start(self, name: str, argv: list[str]) -> Background:
        log_path = self.logs_dir / f"{name}.log"
        log = log_path.open("wb")
        try:
            process = start_process(argv, output=log)
        except BaseException:
            log.close()
            raise
        background = Background(name, process, log, log_path)
        self.processes.append(background)
        return background

    def stop_all(self) -> Outcome:
        """Stop every process, newest first; a process that needed SIGKILL is reported."""
        killed = []
        for background in reversed(self.processes):
            status = stop_process(background.process, timeout=STOP_TIMEOUT)
            background.log.close()
            if status == -9:
                killed.append(background.name)
        names = ", ".join(b.name for b in self.processes)
        alive = [b.name for b in self.processes if b.process.poll() is None]
        self.processes.clear()
        if alive:
            return Outcome.of("teardown", False, f"still running: {', '.join(alive)}")
        detail = f"stopped {names or 'nothing'}"
        if killed:
            detail += f" ({', '.join(killed)} needed SIGKILL)"
        return Outcome.of("teardown", True, detail)


def _wait(what: str, probe: Callable[[], bool], background: Background, timeout: float) -> float:
    started = time.monotonic()
    while True:
        if background.process.poll() is not None:
            raise CheckFailedError(
                f"{background.name} exited {background.process.returncode} while waiting for "
                f"{what}: {_tail(background.log_path)}"
            )
        if probe():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise CheckFailedError(
                f"{what} not ready after {timeout:g} s: {_tail(background.log_path)}"
            )
        time.sleep(0.5)


def _tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    found = [line for line in text.splitlines() if line.strip()][-lines:]
    return " / ".join(found)[-600:] or "(empty log)"


def _http_ok(url: str, token: str | None = None) -> Callable[[], bool]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    def probe() -> bool:
        try:
            with httpx.Client(verify=False, trust_env=False, timeout=5.0) as client:  # noqa: S501
                return client.get(url, headers=headers).status_code == 200
        except httpx.HTTPError:
            return False

    return probe


@contextlib.contextmanager
def running_control_plane(
    workdir: Path, logs_dir: Path, teardown: list[Outcome]
) -> Iterator[ControlPlane]:
    """Start etcd, kube-apiserver, controller manager and scheduler; yield; always stop them
    (the stop's outcome is appended to ``teardown``)."""
    workdir.mkdir(parents=True, exist_ok=True)
    logs_dir.mkdir(parents=True, exist_ok=True)
    ports = k8s.Ports(*free_ports(10))
    token = secrets.token_hex(24)
    plane = ControlPlane(workdir, logs_dir, ports, token, workdir / "kubeconfig")
    try:
        _start(plane)
        yield plane
    finally:
        progress("stopping the control plane")
        teardown.append(plane.stop_all())


def _start(plane: ControlPlane) -> None:
    workdir, ports = plane.workdir, plane.ports
    sa_key, sa_pub = workdir / "sa.key", workdir / "sa.pub"
    run_tool(["openssl", "genrsa", "-out", str(sa_key), "2048"], timeout=60)
    run_tool(["openssl", "rsa", "-in", str(sa_key), "-pubout", "-out", str(sa_pub)], timeout=60)
    tokens = workdir / "tokens.csv"
    write_text_atomic(tokens, f"{plane.token},admin,admin,system:masters\n")
    tokens.chmod(0o600)
    write_text_atomic(plane.kubeconfig, yaml.safe_dump(k8s.kubeconfig(plane.server, plane.token)))
    plane.kubeconfig.chmod(0o600)

    progress(f"starting etcd on 127.0.0.1:{ports.etcd_client}")
    etcd = plane.start("etcd", k8s.etcd_argv(k8s.binary("etcd"), workdir / "etcd", ports))
    _wait("etcd", _http_ok(f"http://127.0.0.1:{ports.etcd_client}/health"), etcd, 60)

    progress(f"starting kube-apiserver on 127.0.0.1:{ports.apiserver}")
    apiserver = plane.start(
        "kube-apiserver",
        k8s.apiserver_argv(
            k8s.binary("kube-apiserver"),
            workdir,
            ports,
            token_file=tokens,
            sa_pub=sa_pub,
            sa_key=sa_key,
        ),
    )
    plane.ready_seconds = _wait(
        "kube-apiserver /readyz",
        _http_ok(f"{plane.server}/readyz", plane.token),
        apiserver,
        READY_TIMEOUT,
    )
    progress(f"kube-apiserver ready in {plane.ready_seconds:.1f} s")
    plane.start(
        "kube-controller-manager",
        k8s.controller_manager_argv(
            k8s.binary("kube-controller-manager"), plane.kubeconfig, ports, sa_key
        ),
    )
    plane.start(
        "kube-scheduler",
        k8s.scheduler_argv(k8s.binary("kube-scheduler"), plane.kubeconfig, ports),
    )


def start_kwok_node(plane: ControlPlane, stages: Path, node: str = "kwok-node-0") -> None:
    """Start kwok and create one simulated Node for it; wait until the Node is Ready."""
    if not stages.is_file():
        raise CheckFailedError(
            f"kwok's stage definitions {stages} are missing: run scripts/ci/install-kubernetes.sh"
        )
    kwok = plane.start(
        "kwok", k8s.kwok_argv(k8s.binary("kwok"), plane.kubeconfig, stages, plane.ports)
    )
    result = kubectl.apply(plane.kubeconfig, k8s.kwok_node(node))
    if not result.ok:
        raise CheckFailedError(f"could not create Node {node}: {result.stderr.strip()[-300:]}")
    _wait(f"Node {node} Ready", lambda: node_ready(plane.kubeconfig, node), kwok, 60)


def node_ready(kubeconfig: Path, node: str) -> bool:
    result = kubectl.run(kubeconfig, "get", "node", node, "--output=json", timeout=30)
    if not result.ok:
        return False
    (item,) = kubectl.parse_items(result.stdout)
    conditions = (item.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
