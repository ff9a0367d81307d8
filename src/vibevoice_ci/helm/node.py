"""Level 3's real node: a second containerd (CRI), the bridge CNI plugin and a kubelet named
``localhost`` that joins the session's control plane, all private to the session.

The containerd has its own socket, root, state and CNI folders under the session's work
folder (never the host's ``/run/containerd`` or ``/etc/cni``), ``restrict_oom_score_adj`` set
(root here may not lower a process's oom_score_adj) and no imports. The pause image is built
from Debian's static busybox; it and the service images are loaded with ``ctr images
import``. ``running_node`` removes everything it made on every path: the kubelet, any
container left, containerd, its mounts, and the bridge, recorded as the ``node-teardown``
check.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from vibevoice_ci.core.errors import CheckFailedError, ToolMissingError
from vibevoice_ci.core.files import write_text_atomic
from vibevoice_ci.core.outcome import Outcome
from vibevoice_ci.core.progress import progress
from vibevoice_ci.helm.controlplane import Background, ControlPlane, _http_ok, _wait, node_ready
from vibevoice_ci.tools import docker
from vibevoice_ci.tools import kubernetes as k8s
from vibevoice_ci.tools._exec import run_tool, stop_process

NODE_NAME = "localhost"
PAUSE_IMAGE = "registry.k8s.io/pause:3.6"  # containerd 1.6's default sandbox_image
CNI_BIN_DIR = Path("/usr/lib/cni")
BUSYBOX = Path("/bin/busybox")
BRIDGE = "vvhelm0"
POD_SUBNET = "10.244.77.0/24"
STOP_TIMEOUT = 20.0


def containerd_config(root: Path, state: Path, socket: Path, cni_conf_dir: Path) -> str:
    """A containerd 1.6 config (version 2) for the kubelet's CRI, private paths only (pure)."""
    return f"""version = 2
root = "{root}"
state = "{state}"
imports = []

[grpc]
  address = "{socket}"

[ttrpc]
  address = ""

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{CNI_BIN_DIR}"
    conf_dir = "{cni_conf_dir}"
"""


def cni_conflist(ipam_dir: Path) -> dict[str, object]:
    """The bridge + portmap network for the node's pods (pure). The bridge plugin gives pods
    addresses and routes; it does not enforce NetworkPolicy."""
    return {
        "cniVersion": "0.4.0",
        "name": "vibevoice-helm",
        "plugins": [
            {
                "type": "bridge",
                "bridge": BRIDGE,
                "isGateway": True,
                "ipMasq": True,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": POD_SUBNET}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(ipam_dir),
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }


def kubelet_config(socket: Path, ports: k8s.Ports) -> dict[str, object]:
    """KubeletConfiguration for a loopback-only test node (pure): anonymous, always-allow
    auth on 127.0.0.1 so the API server's port-forward and logs reach it."""
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": "127.0.0.1",
        "port": ports.kubelet,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": ports.kubelet_healthz,
        "cgroupDriver": "cgroupfs",
        "failCgroupV1": False,
        "failSwapOn": False,
        "containerRuntimeEndpoint": f"unix://{socket}",
        "evictionHard": {},
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "authentication": {
            "anonymous": {"enabled": True},
            "webhook": {"enabled": False},
        },
        "authorization": {"mode": "AlwaysAllow"},
        "registerNode": True,
        "serializeImagePulls": False,
        "localStorageCapacityIsolation": False,
    }


def preconditions() -> str | None:
    """Why level 3 cannot run on this machine, or None (it needs root and these tools)."""
    if os.geteuid() != 0:
        return "level 3 runs containerd and a kubelet, which need root"
    for name in ("containerd", "ctr", "kubelet", "kube-proxy", "iptables"):
        if shutil.which(name) is None:
            return f"{name} is not installed (scripts/ci/install-kubernetes.sh)"
    for path in (CNI_BIN_DIR / "bridge", CNI_BIN_DIR / "host-local", BUSYBOX):
        if not path.exists():
            return f"{path} is missing (scripts/ci/install-kubernetes.sh)"
    if not docker.engine_status().available:
        return "no Docker engine to export the images from"
    return None


@dataclass
class Node:
    plane: ControlPlane
    socket: Path
    workdir: Path

    def ctr(self, *args: str, timeout: float = 600) -> None:
        run_tool(
            [k8s.binary("ctr"), "--address", str(self.socket), "--namespace", "k8s.io", *args],
            timeout=timeout,
        )

    def import_image(self, reference: str) -> None:
        """``docker save`` the image and ``ctr images import`` it into the node's containerd."""
        tarball = self.workdir / "image.tar"
        try:
            run_tool([docker.docker(), "save", "--output", str(tarball), reference], timeout=600)
            self.ctr("images", "import", str(tarball))
        finally:
            tarball.unlink(missing_ok=True)


def build_pause_image(workdir: Path) -> None:
    """The sandbox image from Debian's static busybox (busybox picks its applet from argv[0],
    so it keeps its name)."""
    context = workdir / "pause"
    context.mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, context / "busybox")
    write_text_atomic(
        context / "Dockerfile",
        'FROM scratch\nCOPY busybox /busybox\nENTRYPOINT ["/busybox", "sleep", "2147483647"]\n',
    )
    run_tool([docker.docker(), "build", "--tag", PAUSE_IMAGE, str(context)], timeout=300)


RUN_ROOT = Path("/run/vibevoice-helm")
# One node on this machine at a time: two kubelets share the machine's kubepods cgroups (each
# kills the other's pods as orphans within a second), the bridge and the kubelet's iptables
# chains. A second level 3 (the session, a test, another checkout) waits for the first.
NODE_LOCK = RUN_ROOT / "node.lock"


@contextlib.contextmanager
def machine_node_lock() -> Iterator[None]:
    """Hold the machine-wide level 3 node lock (waiting, and saying so, while another holds it)."""
    NODE_LOCK.parent.mkdir(parents=True, exist_ok=True)
    with NODE_LOCK.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress("another level 3 node runs on this machine; waiting for it to finish")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def running_node(
    plane: ControlPlane, images: Sequence[str], teardown: list[Outcome]
) -> Iterator[Node]:
    """containerd + kubelet joined to ``plane`` with ``images`` loaded; always torn down. Only
    one such node runs on a machine at a time (``machine_node_lock``)."""
    with machine_node_lock(), _running_node(plane, images, teardown) as node:
        yield node


@contextlib.contextmanager
def _running_node(
    plane: ControlPlane, images: Sequence[str], teardown: list[Outcome]
) -> Iterator[Node]:
    # Socket paths must stay short (108 bytes): a private folder under /run.
    run_dir = RUN_ROOT / secrets.token_hex(4)
    workdir = plane.workdir / "node"
    cni_conf = workdir / "cni" / "net.d"
    node = Node(plane, run_dir / "containerd.sock", workdir)
    started: list[Background] = []
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        cni_conf.mkdir(parents=True, exist_ok=True)
        write_text_atomic(
            cni_conf / "10-vibevoice.conflist", json.dumps(cni_conflist(workdir / "cni" / "ipam"))
        )
        config_path = workdir / "containerd.toml"
        write_text_atomic(
            config_path,
            containerd_config(
                workdir / "containerd-root", run_dir / "state", node.socket, cni_conf
            ),
        )
        progress("starting containerd for the kubelet")
        containerd = plane.start(
            "containerd", [k8s.binary("containerd"), "--config", str(config_path)]
        )
        started.append(containerd)
        _wait("containerd", node.socket.exists, containerd, 60)
        progress("loading the pause image and the service images into containerd")
        build_pause_image(workdir)
        for reference in (PAUSE_IMAGE, *images):
            node.import_image(reference)
        kubelet_cfg = workdir / "kubelet.yaml"
        write_text_atomic(kubelet_cfg, yaml.safe_dump(kubelet_config(node.socket, plane.ports)))
        progress("starting the kubelet (node 'localhost')")
        kubelet = plane.start(
            "kubelet",
            [
                k8s.binary("kubelet"),
                f"--config={kubelet_cfg}",
                f"--kubeconfig={plane.kubeconfig}",
                f"--hostname-override={NODE_NAME}",
                f"--root-dir={run_dir / 'kubelet'}",  # short: it holds unix sockets
            ],
        )
        started.append(kubelet)
        _wait("Node localhost Ready", lambda: node_ready(plane.kubeconfig, NODE_NAME), kubelet, 120)
        progress("starting kube-proxy (Service IPs for the test pod)")
        proxy = plane.start(
            "kube-proxy",
            k8s.kube_proxy_argv(
                k8s.binary("kube-proxy"), plane.kubeconfig, plane.ports, POD_SUBNET
            ),
        )
        started.append(proxy)
        _wait(
            "kube-proxy",
            _http_ok(f"http://127.0.0.1:{plane.ports.kube_proxy_healthz}/healthz"),
            proxy,
            60,
        )
        yield node
    finally:
        teardown.append(_tear_down(node, started, run_dir))


def _tear_down(node: Node, started: list[Background], run_dir: Path) -> Outcome:
    """Stop the kubelet, kill and remove every container it left, stop containerd, unmount
    what is left under the node's folders, delete the bridge."""
    problems: list[str] = []
    for background in reversed(started):
        if background.name == "containerd":
            problems += _remove_containers(node)
        stop_process(background.process, timeout=STOP_TIMEOUT)
        background.log.close()
        node.plane.processes = [p for p in node.plane.processes if p is not background]
        if background.name == "kube-proxy":
            cleanup = run_tool([k8s.binary("kube-proxy"), "--cleanup"], check=False, timeout=60)
            if not cleanup.ok:
                problems.append("kube-proxy --cleanup failed: its iptables rules may remain")
    problems += remove_kubelet_iptables()
    for mount in _mounts_under((node.workdir, run_dir)):
        result = run_tool(["umount", "--lazy", mount], check=False, timeout=30)
        if not result.ok:
            problems.append(f"could not unmount {mount}")
    if Path(f"/sys/class/net/{BRIDGE}").exists():
        result = run_tool(["ip", "link", "delete", BRIDGE], check=False, timeout=30)
        if not result.ok:
            problems.append(f"could not delete the bridge {BRIDGE}")
    shutil.rmtree(run_dir, ignore_errors=True)
    return Outcome.of(
        "node-teardown",
        not problems,
        "; ".join(problems)
        or "kube-proxy (rules cleaned), kubelet and containerd stopped, containers removed, "
        "mounts and bridge gone",
    )


# Chains the kubelet adds to the host's iptables and never removes (kube-proxy --cleanup
# removes its own).
KUBELET_CHAINS = ("KUBE-FIREWALL", "KUBE-KUBELET-CANARY", "KUBE-IPTABLES-HINT")


def kubelet_iptables_commands(table: str, rules: str) -> list[list[str]]:
    """The iptables arguments that delete the kubelet's rules and chains from ``table``,
    given ``iptables -t <table> -S`` output (pure)."""
    commands: list[list[str]] = []
    chains = []
    for line in rules.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "-N" and parts[1] in KUBELET_CHAINS:
            chains.append(parts[1])
        elif (
            parts[:1] == ["-A"]
            and parts[1] not in KUBELET_CHAINS
            and any(chain in parts for chain in KUBELET_CHAINS)
        ):
            commands.append(["-t", table, "-D", *parts[1:]])
    for chain in chains:
        commands += [["-t", table, "-F", chain], ["-t", table, "-X", chain]]
    return commands


def remove_kubelet_iptables() -> list[str]:
    problems = []
    for table in ("filter", "nat", "mangle"):
        listing = run_tool(["iptables", "-t", table, "-S"], check=False, timeout=30)
        for args in kubelet_iptables_commands(table, listing.stdout):
            if not run_tool(["iptables", *args], check=False, timeout=30).ok:
                problems.append(f"iptables {' '.join(args)} failed")
    return problems


def _remove_containers(node: Node) -> list[str]:
    if not node.socket.exists():
        return []
    ctr = [k8s.binary("ctr"), "--address", str(node.socket), "--namespace", "k8s.io"]
    listing = run_tool([*ctr, "tasks", "list", "--quiet"], check=False, timeout=60)
    for task in listing.stdout.split():
        run_tool([*ctr, "tasks", "kill", "--signal", "SIGKILL", task], check=False, timeout=30)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        left = run_tool([*ctr, "tasks", "list", "--quiet"], check=False, timeout=60).stdout.split()
        for task in left:
            run_tool([*ctr, "tasks", "delete", task], check=False, timeout=30)
        if not left:
            break
        time.sleep(1)
    containers = run_tool([*ctr, "containers", "list", "--quiet"], check=False, timeout=60)
    for container in containers.stdout.split():
        run_tool([*ctr, "containers", "delete", container], check=False, timeout=30)
    remaining = run_tool([*ctr, "tasks", "list", "--quiet"], check=False, timeout=60)
    return [f"container task left running: {t}" for t in remaining.stdout.split()]


def _mounts_under(folders: Sequence[Path]) -> list[str]:
    """Mount points below ``folders``, deepest first (from /proc/self/mounts)."""
    prefixes = [str(folder.resolve()) + "/" for folder in folders]
    found = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mounts").read_text(encoding="utf-8").splitlines():
            point = line.split()[1].replace("\\040", " ")
            if any(point.startswith(prefix) for prefix in prefixes):
                found.append(point)
    return sorted(found, key=len, reverse=True)


def require() -> None:
    """Raise ``ToolMissingError`` with the reason when level 3 cannot run here."""
    reason = preconditions()
    if reason is not None:
        raise ToolMissingError(reason)


__all__ = ["CheckFailedError", "Node", "require", "running_node"]
