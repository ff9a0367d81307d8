"""kubectl against the session's own cluster: get objects as JSON, apply, port-forward."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from vibevoice_ci.core.errors import ToolFailedError
from vibevoice_ci.tools._exec import ToolResult, find_tool, run_tool, start_process
from vibevoice_ci.tools._output import json_object

INSTALL_HINT = (
    "kubectl is built with the Kubernetes binaries by scripts/ci/install-kubernetes.sh "
    "(or point $VIBEVOICE_KUBECTL at one)"
)


def kubectl() -> str:
    return find_tool("kubectl", INSTALL_HINT, env_override="VIBEVOICE_KUBECTL")


def argv(kubeconfig: Path, *args: str, namespace: str | None = None) -> list[str]:
    """``kubectl --kubeconfig K [--namespace N] <args>`` (pure, given the binary)."""
    base = [kubectl(), f"--kubeconfig={kubeconfig}"]
    if namespace:
        base.append(f"--namespace={namespace}")
    return [*base, *args]


def run(
    kubeconfig: Path,
    *args: str,
    namespace: str | None = None,
    stdin_data: str | None = None,
    timeout: float = 60,
) -> ToolResult:
    return run_tool(
        argv(kubeconfig, *args, namespace=namespace),
        check=False,
        stdin_data=stdin_data,
        timeout=timeout,
    )


def get_items(
    kubeconfig: Path, resource: str, *, namespace: str | None = None, selector: str | None = None
) -> list[dict[str, Any]]:
    """``kubectl get <resource> -o json``: the items (a failure is ``ToolFailedError``)."""
    extra = ["--selector", selector] if selector else []
    result = run(kubeconfig, "get", resource, *extra, "--output=json", namespace=namespace)
    if not result.ok:
        raise ToolFailedError(f"kubectl get {resource} failed: {result.stderr.strip()[-300:]}")
    return parse_items(result.stdout)


def parse_items(output: str) -> list[dict[str, Any]]:
    """The ``items`` of ``kubectl get -o json`` (a list) or the object itself (pure)."""
    document = json_object(output, "kubectl")
    items = document.get("items") if document.get("kind", "").endswith("List") else [document]
    return [item for item in items or [] if isinstance(item, dict)]


def apply(kubeconfig: Path, manifest: dict[str, Any]) -> ToolResult:
    return run(kubeconfig, "apply", "--filename=-", stdin_data=json.dumps(manifest))


def port_forward(
    kubeconfig: Path, namespace: str, target: str, ports: Sequence[str], *, output: IO[bytes]
) -> subprocess.Popen[bytes]:
    """``kubectl port-forward --address 127.0.0.1`` in the background (stop it with
    ``stop_process``)."""
    return start_process(
        argv(
            kubeconfig,
            "port-forward",
            "--address=127.0.0.1",
            target,
            *ports,
            namespace=namespace,
        ),
        output=output,
    )
