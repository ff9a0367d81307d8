"""The install scripts' ``--phase``: .ci/run runs the Go builds (``--phase builds``) in the
background while the Debian packages install (``--phase packages``), then each script whole.

The two phases must split what the whole install does, nothing lost and nothing twice, for
any TOOLs or levels; and the interface the GitHub workflows call (TOOLs, ``--levels``,
``--plan``, ``--cache-key``, no phase) must stay what it was. Checked through ``--plan``,
which needs neither root, go nor the network.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
INSTALL_TOOLS = REPO_ROOT / "scripts/ci/install-tools.sh"
INSTALL_KUBERNETES = REPO_ROOT / "scripts/ci/install-kubernetes.sh"
PHASES = ("packages", "builds")


def _run(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(script), *args], capture_output=True, text=True, timeout=60, check=False
    )


def _plan(script: Path, *args: str) -> dict[str, list[str]]:
    completed = _run(script, *args, "--plan")
    assert completed.returncode == 0, completed.stderr
    found: dict[str, list[str]] = {}
    for line in completed.stdout.splitlines():
        what, _, items = line.partition(":")
        found[what.strip()] = items.split()
    return found


@pytest.mark.parametrize(
    "tools",
    [(), ("docker", "crane"), ("crane", "cosign"), ("docker-registry", "nox"), ("git",)],
    ids=lambda tools: ",".join(tools) or "everything",
)
def test_install_tools_phases_split_the_whole_install(tools: tuple[str, ...]) -> None:
    whole = _plan(INSTALL_TOOLS, *tools)
    assert whole == _plan(INSTALL_TOOLS, "--phase", "all", *tools)
    packages = _plan(INSTALL_TOOLS, "--phase", "packages", *tools)
    builds = _plan(INSTALL_TOOLS, *tools, "--phase=builds")
    assert packages == {"apt": whole["apt"], "go": [], "other": whole["other"]}
    assert builds == {"apt": [], "go": whole["go"], "other": []}


@pytest.mark.parametrize("levels", [None, "static", "static,cluster", "pods"])
def test_install_kubernetes_phases_split_the_whole_install(levels: str | None) -> None:
    chosen = ["--levels", levels] if levels else []
    whole = _plan(INSTALL_KUBERNETES, *chosen)
    assert whole == _plan(INSTALL_KUBERNETES, *chosen, "--phase", "all")
    packages = _plan(INSTALL_KUBERNETES, "--phase", "packages", *chosen)
    builds = _plan(INSTALL_KUBERNETES, *chosen, "--phase=builds")
    assert packages == {"apt": whole["apt"], "build": []}
    assert builds == {"apt": [], "build": whole["build"]}


@pytest.mark.parametrize("phase", PHASES)
def test_the_cache_keys_do_not_depend_on_the_phase(phase: str) -> None:
    # The workflows key their caches without a phase; a key must name the same builds.
    for script, args in (
        (INSTALL_TOOLS, ["crane", "cosign"]),
        (INSTALL_KUBERNETES, ["--levels", "static,cluster"]),
    ):
        whole = _run(script, *args, "--cache-key")
        phased = _run(script, "--phase", phase, *args, "--cache-key")
        assert whole.returncode == phased.returncode == 0, whole.stderr + phased.stderr
        assert phased.stdout == whole.stdout


@pytest.mark.parametrize("script", [INSTALL_TOOLS, INSTALL_KUBERNETES], ids=lambda s: s.name)
@pytest.mark.parametrize("phase", ["bogus", "Builds", ""])
def test_an_unknown_phase_is_refused_before_anything_runs(script: Path, phase: str) -> None:
    completed = _run(script, "--phase", phase, "--plan")
    assert completed.returncode == 1
    assert f"unknown phase '{phase}'" in completed.stderr
    assert completed.stdout == ""


def test_ci_run_installs_in_phases_then_whole() -> None:
    # The background builds and the packages together, then each script whole (idempotent:
    # the check that every tool is in place, with its version) before the full suite, which
    # ci-test's test job runs by act (it installs nothing root has not built by then).
    text = (REPO_ROOT / ".ci/run").read_text(encoding="utf-8")
    for line in (
        "bash scripts/ci/install-tools.sh --phase builds",
        "bash scripts/ci/install-kubernetes.sh --phase builds",
        "bash scripts/ci/install-tools.sh --phase packages\n",
        "bash scripts/ci/install-kubernetes.sh --phase packages\n",
        "wait_for_go_builds\nbash scripts/ci/install-tools.sh\n"
        "bash scripts/ci/install-kubernetes.sh\n",
    ):
        assert line in text, line
    assert text.index("wait_for_go_builds\n") < text.index("--run ci-test\n")
