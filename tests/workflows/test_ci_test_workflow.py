"""ci-test.yml's test job gives the suite what it needs, as GitHub's runner user must.

It runs with ``CI=true`` (GitHub) and ``VIBEVOICE_REQUIRE_DOCKER=1``, under which a test
whose tool is missing fails (tests/capabilities.py). So every tool an integration test needs
is installed by the job through scripts/ci/ (with sudo: the runner's user is not root), comes
with the ubuntu-24.04 image or the session's own virtualenv, or belongs to a capability the
job declares an accepted unknown (``VIBEVOICE_TESTS_ACCEPT_UNKNOWN``, with its reason). The
job asks apt for nothing the runner's Docker conflicts with, and its timeout covers a cold
install plus the slowest test module's own timeout.
"""

from __future__ import annotations

import ast
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest
from workflow_model import Job, Workflow, job_session, parse_workflow

from capabilities import ACCEPT_ENV, CAPABILITIES, accepted_unknowns

FILE = "ci-test.yml"
REPO_ROOT = Path(__file__).resolve().parents[2]
INTEGRATION = REPO_ROOT / "tests" / "integration"
INSTALL_TOOLS = "scripts/ci/install-tools.sh"
INSTALL_KUBERNETES = "scripts/ci/install-kubernetes.sh"
# What the ubuntu-24.04 image carries (its documented software list) that the tests use.
RUNNER_IMAGE = frozenset({"docker", "docker-buildx", "docker-compose", "git", "openssl", "go"})
# Installed into the session's virtualenv from the lock (the ci extra), not by the job.
FROM_THE_LOCK = frozenset({"trivy", "syft"})
# Debian packages the runner cannot take: its Docker is docker-ce with containerd.io, which
# Debian's docker.io, containerd and runc conflict with; Ubuntu's chromium is a snap stub.
RUNNER_CONFLICTS = frozenset({"docker.io", "containerd", "runc", "chromium"})
# Binaries a Debian package provides, where the names differ.
PACKAGE_BINARIES = {"etcd-server": ("etcd",)}
# Tools tests look up other than by a literal require_tool("x") (through their wrappers, or
# require_tool in a loop), by module.
WRAPPED_TOOLS: Mapping[str, frozenset[str]] = {
    "test_helm_chart.py": frozenset({"helm"}),
    "test_helm_cluster.py": frozenset(
        {
            "helm",
            "etcd",
            "kube-apiserver",
            "kube-controller-manager",
            "kube-scheduler",
            "kwok",
            "kubectl",
        }
    ),
    "test_release_multiarch.py": frozenset({"buildkitd", "buildctl", "crane"}),
    "test_helm_pods.py": frozenset(
        {
            "helm",
            "etcd",
            "kube-apiserver",
            "kube-controller-manager",
            "kube-scheduler",
            "containerd",
            "ctr",
            "kubelet",
            "kube-proxy",
            "iptables",
        }
    ),
}
# Modules that only run with a capability (tests/capabilities.py), as each declares it.
MODULE_CAPABILITY = {
    "test_helm_pods.py": "helm-pods",
    "test_release_multiarch.py": "buildkitd",
    "test_workflows_planted.py": "act-runner",
}
# A cold cache builds the Go tools (cosign ~4 min, the control plane ~8) and installs apt
# packages before the first test; measured on 2 cores: about 15 minutes.
COLD_INSTALL_MINUTES = 20


def _literal_calls(tree: ast.AST, function: str) -> set[str]:
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == function
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    }


def tools_by_module(folder: Path = INTEGRATION) -> dict[str, set[str]]:
    """``{module: tools}``: every ``require_tool("x")`` in it, and the wrapped ones above.
    A helper module's tools count for each test module that imports it."""
    direct: dict[str, set[str]] = {}
    imports: dict[str, set[str]] = {}
    for path in sorted(folder.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        direct[path.name] = _literal_calls(tree, "require_tool") | set(
            WRAPPED_TOOLS.get(path.name, ())
        )
        imports[path.name] = {
            f"{node.module}.py"
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
        }
    if "release_support.py" in direct:  # its running_registry() needs docker-registry
        direct["release_support.py"].add("docker-registry")
    found: dict[str, set[str]] = {}
    for name in direct:
        if not name.startswith("test_"):
            continue
        tools = set(direct[name])
        for helper in imports[name] & set(direct):
            tools |= direct[helper]
        found[name] = tools
    return found


def _install_lines(job: Job) -> list[str]:
    return [
        line.strip()
        for step in job.steps
        for line in (step.run or "").splitlines()
        if (INSTALL_TOOLS in line or INSTALL_KUBERNETES in line)
        and "--cache-key" not in line
        and "--plan" not in line
    ]


def _refuse_a_script_without(script: str, option: str) -> None:
    """An older script ignores its arguments and installs for real, as root: never run it."""
    if f"{option})" not in (REPO_ROOT / script).read_text(encoding="utf-8"):
        pytest.fail(f"{script} has no {option} (it would install everything instead)")


def _plan(script: str, *args: str) -> dict[str, list[str]]:
    _refuse_a_script_without(script, "--plan")
    completed = subprocess.run(
        ["bash", str(REPO_ROOT / script), *args, "--plan"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    found: dict[str, list[str]] = {}
    for line in completed.stdout.splitlines():
        what, _, items = line.partition(":")
        found[what.strip()] = items.split()
    return found


def installed_by(job: Job, env: Mapping[str, str]) -> tuple[set[str], set[str], list[str]]:
    """What the job's install steps put on the machine (binaries), the apt packages they
    ask for, and problems with how they run."""
    binaries: set[str] = set()
    packages: set[str] = set()
    problems: list[str] = []
    for line in _install_lines(job):
        if not line.startswith("sudo "):
            problems.append(f"{line!r} runs without sudo (the runner's user is not root)")
        if INSTALL_TOOLS in line:
            match = re.search(r'"\$\{(\w+)\[@\]\}"', line)
            if match is None:
                problems.append(f"{line!r}: expected the tools as an array from the env")
                continue
            tools = env.get(_array_source(job, match[1]), "").split()
            plan = _plan(INSTALL_TOOLS, *tools)
        else:
            levels = re.search(r'--levels "\$(\w+)"', line)
            if levels is None:
                problems.append(f"{line!r} runs without --levels: containerd and all")
                plan = _plan(INSTALL_KUBERNETES)
            else:
                plan = _plan(INSTALL_KUBERNETES, "--levels", env.get(levels[1], ""))
        packages |= set(plan.get("apt", []))
        binaries |= set(plan.get("go", [])) | set(plan.get("build", []))
        for package in plan.get("apt", []):
            binaries |= set(PACKAGE_BINARIES.get(package, (package,)))
    return binaries, packages, problems


def _array_source(job: Job, array: str) -> str:
    """The env variable a ``read -r -a ARRAY <<< "$VAR"`` line of the job fills ARRAY from."""
    for step in job.steps:
        match = re.search(rf'read -r -a {array} <<< "\$(\w+)"', step.run or "")
        if match:
            return match[1]
    return ""


def tools_problems(wf: Workflow, folder: Path = INTEGRATION) -> list[str]:
    """Every tool an integration test needs is installed by the job, on the runner image, in
    the session's virtualenv, or needed only by a module whose capability the job accepts."""
    job = _test_job(wf)
    env = {**wf.env, **job.env}
    binaries, packages, problems = installed_by(job, env)
    accepted = accepted_unknowns({ACCEPT_ENV: env.get(ACCEPT_ENV, ""), "CI": "true"})
    available = binaries | RUNNER_IMAGE | FROM_THE_LOCK
    for module, tools in sorted(tools_by_module(folder).items()):
        if MODULE_CAPABILITY.get(module) in accepted:
            continue
        problems += [
            f"{tool} (needed by {module}) is not installed by the job, not on the runner image "
            "and not an accepted unknown"
            for tool in sorted(tools - available)
        ]
    conflicts = sorted(packages & RUNNER_CONFLICTS)
    if conflicts:
        problems.append(f"the job apt-installs {conflicts}, which the runner cannot take")
    return problems


def _timeout_markers(folder: Path = INTEGRATION) -> dict[str, int]:
    """``{module: seconds}`` from each module's ``pytest.mark.timeout(N)``."""
    found: dict[str, int] = {}
    for path in folder.glob("test_*.py"):
        for seconds in re.findall(r"pytest\.mark\.timeout\((\d+)\)", path.read_text("utf-8")):
            found[path.name] = max(found.get(path.name, 0), int(seconds))
    return found


def timeout_problems(wf: Workflow, folder: Path = INTEGRATION) -> list[str]:
    """The job's timeout covers a cold install plus the slowest module that runs there."""
    job = _test_job(wf)
    env = {**wf.env, **job.env}
    accepted = accepted_unknowns({ACCEPT_ENV: env.get(ACCEPT_ENV, ""), "CI": "true"})
    running = {
        module: seconds
        for module, seconds in _timeout_markers(folder).items()
        if MODULE_CAPABILITY.get(module) not in accepted
    }
    module, seconds = max(running.items(), key=lambda item: item[1])
    needed = COLD_INSTALL_MINUTES + -(-seconds // 60)
    minutes = job.timeout_minutes
    if not isinstance(minutes, int) or minutes < needed:
        return [
            f"timeout-minutes {minutes!r} is below a cold install ({COLD_INSTALL_MINUTES} min) "
            f"plus {module}'s own timeout ({seconds} s): at least {needed}"
        ]
    return []


def _test_job(wf: Workflow) -> Job:
    (job,) = [j for j in wf.jobs.values() if (s := job_session(j)) and s.session == "tests"]
    return job


@pytest.fixture(scope="module")
def ci_test(workflow_by_file: dict[str, Workflow]) -> Workflow:
    return workflow_by_file[FILE]


def test_every_tool_the_tests_need_is_there_or_accepted(ci_test: Workflow) -> None:
    assert tools_problems(ci_test) == []


def test_the_timeout_covers_a_cold_install_and_the_slowest_module(ci_test: Workflow) -> None:
    assert timeout_problems(ci_test) == []


def test_every_accepted_unknown_is_a_capability_with_a_reason(ci_test: Workflow) -> None:
    job = _test_job(ci_test)
    accepted = accepted_unknowns({ACCEPT_ENV: job.env.get(ACCEPT_ENV, ""), "CI": "true"})
    assert set(accepted) <= set(CAPABILITIES)
    assert all(len(reason) > 40 for reason in accepted.values())
    assert set(MODULE_CAPABILITY.values()) <= set(CAPABILITIES)


def test_the_tool_scan_sees_the_release_tools() -> None:
    found = tools_by_module()
    assert {"docker-registry", "crane"} <= found["test_release_registry.py"]
    assert {"trivy-db", "oras", "crane"} <= found["test_trivy_session.py"]
    assert "wrk" in found["test_perf_wrk_bench.py"]


# --------------------------------------------------------------------------------------------
# main's job before the fix, and the defects piece by piece

INSTALL_STEP_START = "      # With sudo, as the runner's user must"
ACCEPT_BLOCK_START = "      VIBEVOICE_TESTS_ACCEPT_UNKNOWN: |\n"


def _without_installs(text: str) -> str:
    start = text.index(INSTALL_STEP_START)
    end = text.index("      # Hashed pins of nox", start)
    return text[:start] + text[end:]


def _without_accepted(text: str) -> str:
    start = text.index(ACCEPT_BLOCK_START)
    end = text.index("      # The tools the integration tests need", start)
    return text[:start] + text[end:]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_without_installs, "docker-registry (needed by test_release_registry.py) is not"),
        (_without_installs, "kube-apiserver (needed by test_helm_cluster.py)"),
        (_without_accepted, "containerd (needed by test_helm_pods.py)"),
        (_without_accepted, "buildkitd (needed by test_release_multiarch.py)"),
        (
            lambda text: text.replace(
                "TEST_TOOLS: docker-registry wrk", "TEST_TOOLS: docker-registry"
            ),
            "wrk (needed by test_perf_wrk_bench.py)",
        ),
        (
            lambda text: text.replace(
                "TEST_TOOLS: docker-registry", "TEST_TOOLS: docker docker-registry"
            ),
            "apt-installs ['docker.io']",
        ),
        (
            lambda text: text.replace(
                "KUBERNETES_LEVELS: static,cluster", "KUBERNETES_LEVELS: pods"
            ),
            "apt-installs ['containerd']",
        ),
        (
            lambda text: text.replace(
                "          sudo --preserve-env=VIBEVOICE_GO_CACHE",
                "          env VIBEVOICE_GO_CACHE=x",
            ),
            "runs without sudo",
        ),
    ],
)
def test_the_tools_rule_catches(change: object, expected: str, ci_test: Workflow) -> None:
    assert callable(change)
    broken = parse_workflow(change(ci_test.text), ci_test.path)
    problems = tools_problems(broken)
    assert any(expected in p for p in problems), problems


def test_the_timeout_rule_catches_mains_thirty_minutes(ci_test: Workflow) -> None:
    text = ci_test.text.replace("    timeout-minutes: 90\n", "    timeout-minutes: 30\n")
    problems = timeout_problems(parse_workflow(text, ci_test.path))
    assert any("below a cold install" in p for p in problems), problems


def test_a_module_that_runs_counts_with_its_own_timeout(ci_test: Workflow) -> None:
    # Not accepted, the release build's module (1,800 s) runs here and sets the bar.
    text = _without_accepted(ci_test.text).replace("timeout-minutes: 90\n", "timeout-minutes: 45\n")
    problems = timeout_problems(parse_workflow(text, ci_test.path))
    assert any("test_release_multiarch.py's own timeout (1800 s)" in p for p in problems), problems


def test_install_tools_without_names_installs_everything_for_ci_run() -> None:
    # .ci/run calls it without names: the same packages and Go tools as before it took any.
    everything = _plan(INSTALL_TOOLS)
    assert set(everything["apt"]) == {
        "docker.io", "cgroupfs-mount", "mmdebstrap", "docker-registry", "git",
        "ca-certificates", "qemu-user-static", "binfmt-support", "arch-test", "wrk", "chromium",
    }  # fmt: skip
    assert everything["go"] == [
        "buildx",
        "buildkitd",
        "buildctl",
        "crane",
        "cosign",
        "trivy-db",
        "oras",
    ]
    assert everything["other"] == ["compose", "nox"]


def test_install_tools_refuses_an_unknown_name() -> None:
    completed = subprocess.run(
        ["bash", str(REPO_ROOT / INSTALL_TOOLS), "--plan", "docker-registy"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 1
    assert "unknown tool docker-registy" in completed.stderr
