"""The Kubernetes control plane's processes (etcd, kube-apiserver, controller manager,
scheduler), kwok's simulated nodes, and a kubelet with its containerd: argument builders
(pure) and binary lookup. All of them listen on 127.0.0.1 only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vibevoice_ci.tools._exec import find_tool

INSTALL_HINT = (
    "the Kubernetes binaries, kwok and etcd come from scripts/ci/install-kubernetes.sh "
    "(Go module proxy and Debian packages; run it as root)"
)
SERVICE_CIDR = "10.96.0.0/16"


def binary(name: str) -> str:
    """The path of ``name`` (etcd, kube-apiserver, kwok, kubelet, containerd ...)."""
    return find_tool(name, INSTALL_HINT)


@dataclass(frozen=True)
class Ports:
    """The loopback ports one control plane uses, chosen free by the caller."""

    etcd_client: int
    etcd_peer: int
    apiserver: int
    controller_manager: int
    scheduler: int
    kwok: int
    kubelet: int
    kubelet_healthz: int
    kube_proxy_healthz: int
    kube_proxy_metrics: int


def etcd_argv(etcd: str, data_dir: Path, ports: Ports) -> list[str]:
    client = f"http://127.0.0.1:{ports.etcd_client}"
    return [
        etcd,
        "--name",
        "vibevoice",
        "--data-dir",
        str(data_dir),
        "--listen-client-urls",
        client,
        "--advertise-client-urls",
        client,
        "--listen-peer-urls",
        f"http://127.0.0.1:{ports.etcd_peer}",
        "--initial-advertise-peer-urls",
        f"http://127.0.0.1:{ports.etcd_peer}",
        "--initial-cluster",
        f"vibevoice=http://127.0.0.1:{ports.etcd_peer}",
    ]


def apiserver_argv(
    apiserver: str, workdir: Path, ports: Ports, *, token_file: Path, sa_pub: Path, sa_key: Path
) -> list[str]:
    """kube-apiserver on 127.0.0.1 with token auth and RBAC; it reaches kubelets by hostname
    (the kubelet is named ``localhost``), so port-forward and logs stay on loopback."""
    return [
        apiserver,
        f"--etcd-servers=http://127.0.0.1:{ports.etcd_client}",
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        f"--secure-port={ports.apiserver}",
        f"--cert-dir={workdir / 'apiserver-certs'}",
        f"--token-auth-file={token_file}",
        "--authorization-mode=RBAC",
        "--service-account-issuer=https://kubernetes.default.svc",
        f"--service-account-key-file={sa_pub}",
        f"--service-account-signing-key-file={sa_key}",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--kubelet-preferred-address-types=Hostname",
        "--allow-privileged=false",
        "--profiling=false",
    ]


def controller_manager_argv(
    binary_path: str, kubeconfig: Path, ports: Ports, sa_key: Path
) -> list[str]:
    return [
        binary_path,
        f"--kubeconfig={kubeconfig}",
        "--controllers=*,-nodeipam,-ttl",
        "--leader-elect=false",
        "--bind-address=127.0.0.1",
        f"--secure-port={ports.controller_manager}",
        f"--service-account-private-key-file={sa_key}",
        "--use-service-account-credentials=false",
        "--profiling=false",
    ]


def scheduler_argv(binary_path: str, kubeconfig: Path, ports: Ports) -> list[str]:
    return [
        binary_path,
        f"--kubeconfig={kubeconfig}",
        "--leader-elect=false",
        "--bind-address=127.0.0.1",
        f"--secure-port={ports.scheduler}",
        "--profiling=false",
    ]


KWOK_ANNOTATION = "kwok.x-k8s.io/node"


def kwok_argv(kwok: str, kubeconfig: Path, stages: Path, ports: Ports) -> list[str]:
    """kwok managing only the Nodes annotated ``kwok.x-k8s.io/node: fake``."""
    return [
        kwok,
        f"--kubeconfig={kubeconfig}",
        f"--config={stages}",
        "--manage-all-nodes=false",
        f"--manage-nodes-with-annotation-selector={KWOK_ANNOTATION}=fake",
        f"--server-address=127.0.0.1:{ports.kwok}",
    ]


def kwok_node(name: str) -> dict[str, object]:
    """A Node object for kwok to manage (it makes it Ready and runs its pods' lifecycle)."""
    resources = {"cpu": "16", "memory": "64Gi", "pods": "110"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {KWOK_ANNOTATION: "fake"},
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "type": "kwok",
            },
        },
        "spec": {},
        "status": {"allocatable": resources, "capacity": resources},
    }


def kube_proxy_argv(
    binary_path: str, kubeconfig: Path, ports: Ports, cluster_cidr: str
) -> list[str]:
    """kube-proxy (iptables) for level 3's node: it routes Service IPs to the pods, so the
    chart's test pod reaches the Services. It masquerades all Service traffic (pod to Service
    to a pod on the same bridge needs it) and leaves the conntrack sysctls alone."""
    return [
        binary_path,
        f"--kubeconfig={kubeconfig}",
        "--hostname-override=localhost",
        "--proxy-mode=iptables",
        f"--cluster-cidr={cluster_cidr}",
        "--masquerade-all",
        "--bind-address=127.0.0.1",
        f"--healthz-bind-address=127.0.0.1:{ports.kube_proxy_healthz}",
        f"--metrics-bind-address=127.0.0.1:{ports.kube_proxy_metrics}",
        "--nodeport-addresses=127.0.0.0/8",
        "--conntrack-max-per-core=0",
        "--conntrack-tcp-timeout-established=0s",
        "--conntrack-tcp-timeout-close-wait=0s",
    ]


def kubeconfig(server: str, token: str) -> dict[str, object]:
    """A kubeconfig for the loopback API server (its self-signed serving certificate is not
    verified: the server is this session's own, on 127.0.0.1)."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "local", "cluster": {"server": server, "insecure-skip-tls-verify": True}}
        ],
        "users": [{"name": "admin", "user": {"token": token}}],
        "contexts": [{"name": "local", "context": {"cluster": "local", "user": "admin"}}],
        "current-context": "local",
    }
