"""The cluster levels' pure parts: argument builders, kubectl parsing, rollout judgements."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from vibevoice_ci.core.errors import ToolFailedError
from vibevoice_ci.helm import controlplane, deploy
from vibevoice_ci.helm.manifests import parse_documents
from vibevoice_ci.tools import kubectl
from vibevoice_ci.tools import kubernetes as k8s

PORTS = k8s.Ports(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)


def test_every_control_plane_process_listens_on_loopback_only() -> None:
    argvs = [
        k8s.etcd_argv("etcd", Path("d"), PORTS),
        k8s.apiserver_argv(
            "kube-apiserver", Path("w"), PORTS, token_file=Path("t"), sa_pub=Path("p"),
            sa_key=Path("k"),
        ),
        k8s.controller_manager_argv("kcm", Path("kc"), PORTS, Path("k")),
        k8s.scheduler_argv("ks", Path("kc"), PORTS),
        k8s.kwok_argv("kwok", Path("kc"), Path("s"), PORTS),
        k8s.kube_proxy_argv("kube-proxy", Path("kc"), PORTS, "10.244.0.0/24"),
    ]  # fmt: skip
    for argv in argvs:
        addresses = [a for a in argv if "127." in a or "0.0.0.0" in a or "localhost" in a]
        assert addresses, argv
        assert all("0.0.0.0" not in a for a in argv), argv
    apiserver = argvs[1]
    assert "--bind-address=127.0.0.1" in apiserver
    assert "--kubelet-preferred-address-types=Hostname" in apiserver
    assert "--secure-port=3" in apiserver
    assert "--etcd-servers=http://127.0.0.1:1" in apiserver


def test_kwok_manages_only_annotated_nodes() -> None:
    argv = k8s.kwok_argv("kwok", Path("kc"), Path("stages.yaml"), PORTS)
    assert "--manage-all-nodes=false" in argv
    assert "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake" in argv
    node = k8s.kwok_node("n0")
    assert node["metadata"]["annotations"] == {"kwok.x-k8s.io/node": "fake"}  # type: ignore[index]


def test_the_kubeconfig_names_the_loopback_server_and_token() -> None:
    config: dict[str, Any] = k8s.kubeconfig("https://127.0.0.1:3", "tok")
    assert config["clusters"][0]["cluster"]["server"] == "https://127.0.0.1:3"
    assert config["users"][0]["user"]["token"] == "tok"  # noqa: S105


def test_free_ports_are_distinct() -> None:
    ports = controlplane.free_ports(8)
    assert len(set(ports)) == 8
    assert all(1024 <= port <= 65535 for port in ports)


def test_kubectl_items_parse_lists_and_single_objects() -> None:
    listing = '{"kind": "PodList", "items": [{"kind": "Pod"}, {"kind": "Pod"}]}'
    assert len(kubectl.parse_items(listing)) == 2
    assert kubectl.parse_items('{"kind": "Node", "metadata": {}}') == [
        {"kind": "Node", "metadata": {}}
    ]
    with pytest.raises(ToolFailedError):
        kubectl.parse_items("error: not json")


def _deployment(replicas: int, **status: int) -> dict[str, Any]:
    return {
        "metadata": {"name": "d", "generation": 2},
        "spec": {"replicas": replicas},
        "status": {"observedGeneration": 2, **status},
    }


def test_rollout_judgement() -> None:
    done = _deployment(1, updatedReplicas=1, readyReplicas=1, availableReplicas=1)
    assert deploy.rollout_problems([done]) == []
    assert deploy.rollout_problems([_deployment(1, updatedReplicas=1)]) == [
        "d: readyReplicas 0/1",
        "d: availableReplicas 0/1",
    ]
    stale = _deployment(1, updatedReplicas=1, readyReplicas=1, availableReplicas=1)
    stale["status"]["observedGeneration"] = 1
    assert deploy.rollout_problems([stale]) == ["d: generation not yet observed"]
    assert deploy.rollout_problems([]) == ["no Deployment found"]


def _pod(phase: str, ready: str, node: str | None = "n0", deleting: bool = False) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "p"}
    if deleting:
        metadata["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {
        "metadata": metadata,
        "spec": {"nodeName": node},
        "status": {"phase": phase, "conditions": [{"type": "Ready", "status": ready}]},
    }


def test_pod_judgement() -> None:
    assert deploy.pod_problems([_pod("Running", "True")]) == []
    assert deploy.pod_problems([_pod("Running", "False")]) == [
        "p: phase Running, ready False, node n0"
    ]
    assert deploy.pod_problems([_pod("Pending", "False", None)]) != []
    assert (
        deploy.pod_problems([_pod("Running", "True"), _pod("Running", "False", deleting=True)])
        == []
    )
    assert deploy.pod_problems([]) == ["no pod found"]


def test_missing_objects_ignore_test_hooks() -> None:
    rendered = parse_documents(
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: t, annotations: {helm.sh/hook: test}}\n"
    )
    assert deploy.missing_objects(rendered, {"Service": {"s"}}) == []
    assert deploy.missing_objects(rendered, {}) == ["Service/s"]


def test_the_upgrade_changes_one_typed_value() -> None:
    assert deploy.upgrade_setting("tts", 2) == ("services.tts.limits.maxConcurrency", 3)
    assert deploy.concurrency_variable("agent") == "VIBEVOICE_AGENT_MAX_CONCURRENCY"
    assert deploy.concurrency_variable("my-tts") == "VIBEVOICE_MY_TTS_MAX_CONCURRENCY"


def _agent_deployment(env: list[dict[str, Any]]) -> dict[str, Any]:
    return {"spec": {"template": {"spec": {"containers": [{"name": "agent", "env": env}]}}}}


POINTER = {"name": "VIBEVOICE_AGENT_TOKENS_ENV", "value": "VIBEVOICE_AGENT_TOKENS"}


def test_the_agent_token_is_found_the_way_the_agent_finds_it() -> None:
    ref = {"secretKeyRef": {"name": "rel-agent-tokens", "key": "tokens"}}
    found = _agent_deployment([{"name": "VIBEVOICE_AGENT_TOKENS", "valueFrom": ref}, POINTER])
    assert deploy.token_reference(found, POINTER["name"]) == ("rel-agent-tokens", "tokens")
    plain = _agent_deployment([{"name": "VIBEVOICE_AGENT_TOKENS", "value": "x" * 20}, POINTER])
    assert deploy.token_reference(plain, POINTER["name"]) is None
    unpointed = _agent_deployment([{"name": "VIBEVOICE_AGENT_TOKENS", "valueFrom": ref}])
    assert deploy.token_reference(unpointed, POINTER["name"]) is None
    assert deploy.token_reference({}, POINTER["name"]) is None


def test_the_first_valid_token_is_read_from_the_secret() -> None:
    def secret(text: str) -> dict[str, Any]:
        return {"data": {"tokens": base64.b64encode(text.encode()).decode()}}

    token = "a" * 16
    assert deploy.first_token(secret(f"{token}, {'b' * 20}"), "tokens") == token
    assert deploy.first_token(secret("short"), "tokens") is None
    assert deploy.first_token(secret(""), "tokens") is None
    assert deploy.first_token(secret(token), "other") is None
    assert deploy.first_token({"data": {"tokens": "%%%"}}, "tokens") is None
    assert deploy.secret_data([{"metadata": {"name": "s"}, "data": {"k": "dg=="}}]) == {
        "s": {"k": "dg=="}
    }


def test_the_node_config_stays_private_and_on_loopback(tmp_path: Path) -> None:
    from vibevoice_ci.helm import node

    text = node.containerd_config(
        tmp_path / "root", tmp_path / "state", tmp_path / "c.sock", tmp_path / "net.d"
    )
    assert "imports = []" in text
    assert "restrict_oom_score_adj = true" in text
    assert f'address = "{tmp_path / "c.sock"}"' in text
    assert f'conf_dir = "{tmp_path / "net.d"}"' in text
    assert "/run/containerd" not in text
    assert "/etc/cni" not in text
    kubelet: dict[str, Any] = node.kubelet_config(tmp_path / "c.sock", PORTS)
    assert kubelet["address"] == "127.0.0.1"
    assert kubelet["healthzBindAddress"] == "127.0.0.1"
    assert kubelet["readOnlyPort"] == 0
    assert kubelet["containerRuntimeEndpoint"] == f"unix://{tmp_path / 'c.sock'}"
    network: dict[str, Any] = node.cni_conflist(tmp_path / "ipam")
    assert [p["type"] for p in network["plugins"]] == ["bridge", "portmap"]
    assert network["plugins"][0]["ipam"]["dataDir"] == str(tmp_path / "ipam")


def test_the_kubelet_iptables_cleanup_touches_only_its_chains() -> None:
    from vibevoice_ci.helm import node

    rules = "\n".join(
        [
            "-P INPUT ACCEPT",
            "-N DOCKER",
            "-N KUBE-FIREWALL",
            "-A INPUT -j KUBE-FIREWALL",
            "-A FORWARD -j DOCKER",
            "-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -j DROP",
        ]
    )
    assert node.kubelet_iptables_commands("filter", rules) == [
        ["-t", "filter", "-D", "INPUT", "-j", "KUBE-FIREWALL"],
        ["-t", "filter", "-F", "KUBE-FIREWALL"],
        ["-t", "filter", "-X", "KUBE-FIREWALL"],
    ]
    assert node.kubelet_iptables_commands("nat", "-N DOCKER\n-A PREROUTING -j DOCKER") == []


def test_level_3_runs_the_built_images_and_never_pulls() -> None:
    assert deploy.image_settings({"tts": "vibevoice-tts:abc123"}) == {
        "services.tts.image.repository": "vibevoice-tts",
        "services.tts.image.tag": "abc123",
        "services.tts.image.pullPolicy": "Never",
    }
    assert (
        deploy.image_settings({"tts": "127.0.0.1:5000/v/tts:abc"})["services.tts.image.repository"]
        == "127.0.0.1:5000/v/tts"
    )


def test_only_one_level_3_node_runs_on_a_machine_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two kubelets on one machine kill each other's pods (shared kubepods cgroups): a second
    # node waits for the first.
    import threading
    import time

    from vibevoice_ci.helm import node

    monkeypatch.setattr(node, "NODE_LOCK", tmp_path / "node.lock")
    order: list[str] = []
    held = threading.Event()

    def hold(name: str) -> None:
        with node.machine_node_lock():
            order.append(f"{name} in")
            held.set()
            time.sleep(0.2)  # the second is waiting meanwhile
            order.append(f"{name} out")

    first = threading.Thread(target=hold, args=("first",))
    first.start()
    assert held.wait(timeout=30)
    second = threading.Thread(target=hold, args=("second",))
    second.start()
    first.join()
    second.join()
    assert order == ["first in", "first out", "second in", "second out"]
