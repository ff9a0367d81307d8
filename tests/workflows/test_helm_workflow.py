"""ci-helm-validate.yml installs only what the levels it runs need, caches the Go builds under
a key that changes only with their versions, and runs when anything the session reads
changes.

* Level 3 (pods) is accepted as unknown there: the job asks install-kubernetes.sh for the
  other levels only, since Debian's containerd conflicts with the runner's Docker
  (containerd.io: apt would remove Docker or refuse);
* the Go build cache is keyed on the pinned versions the script reports (`--cache-key`) and
  the script, never on all of pyproject.toml or uv.lock (every dependency bump wrote a new
  multi-GB entry), has no restore-keys (an old entry would grow and be saved again), and
  keeps the built binaries alone (`$VIBEVOICE_CACHE/bin`, where `--cache-files` lists them),
  not Go's module and build caches (several GB, past what GitHub keeps per repository);
* the ``paths:`` filter names every file the session's outcome depends on: the chart, the
  helm package and what it imports from core/ and tools/, pyproject.toml, the noxfile, the
  lock, the install script and the workflow itself.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest
from workflow_model import Job, Workflow, parse_workflow, uses_of

FILE = "ci-helm-validate.yml"
REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path("scripts/ci/install-kubernetes.sh")
HELM_LEVELS = ("static", "cluster", "pods")
# Debian packages that GitHub's ubuntu-24.04 runner cannot take: its Docker is docker-ce with
# containerd.io, which Debian's containerd and runc conflict with.
RUNNER_CONFLICTS = frozenset({"containerd", "runc", "docker.io"})
LEVELS_ENV = "KUBERNETES_LEVELS"
# Files outside src/vibevoice_ci/helm/ that decide the session's outcome.
SESSION_INPUTS = (
    "infra/k8s/vibevoice/values.yaml",
    "pyproject.toml",
    "noxfile.py",
    "uv.lock",
    str(SCRIPT),
    f".github/workflows/{FILE}",
)
_LEVELS_ARG_RE = re.compile(r"--levels[ =]\"?\$(?:\{)?(?P<var>[A-Z_]+)\}?\"?")


def _install_steps(job: Job) -> list[str]:
    return [step.run or "" for step in job.steps if str(SCRIPT) in (step.run or "")]


def _accepted_unknown(text: str) -> set[str]:
    """The checks ``VIBEVOICE_HELM_ACCEPT_UNKNOWN`` names ("check: reason" per line)."""
    return {line.partition(":")[0].strip() for line in text.splitlines() if ":" in line}


def plan(levels: str | None, root: Path = REPO_ROOT) -> dict[str, list[str]]:
    """What install-kubernetes.sh installs for ``levels`` (``--plan``; needs no root)."""
    _refuse_a_script_without(root, "--plan")
    argv = ["bash", str(root / SCRIPT), *(["--levels", levels] if levels else []), "--plan"]
    completed = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode == 0, completed.stderr
    found: dict[str, list[str]] = {}
    for line in completed.stdout.splitlines():
        what, _, items = line.partition(":")
        found[what.strip()] = items.split()
    return found


def _refuse_a_script_without(root: Path, option: str) -> None:
    """An older script ignores its arguments and installs for real, as root: never run it."""
    if f"{option})" not in (root / SCRIPT).read_text(encoding="utf-8"):
        pytest.fail(f"{SCRIPT} has no {option} (it would install everything instead)")


def install_problems(wf: Workflow) -> list[str]:
    """The job installs the levels it runs, and asks apt for nothing the runner's Docker
    conflicts with; the levels it does not install are exactly those it accepts as unknown."""
    job = wf.jobs["helm"]
    problems: list[str] = []
    installs = [run for run in _install_steps(job) if "--cache-key" not in run]
    if len(installs) != 1:
        return [f"{len(installs)} steps run {SCRIPT} to install (expected one)"]
    match = _LEVELS_ARG_RE.search(installs[0])
    if match is None:
        return [f"{SCRIPT} runs without --levels: it installs every level, containerd included"]
    levels = {**wf.env, **job.env}.get(match["var"], "")
    installed = {level for level in levels.split(",") if level}
    unknown = sorted(installed - set(HELM_LEVELS))
    if unknown:
        problems.append(f"${match['var']} names unknown levels {unknown}")
    session_env = {**wf.env, **job.env}
    for step in job.steps:
        session_env.update(step.env)
    accepted = _accepted_unknown(session_env.get("VIBEVOICE_HELM_ACCEPT_UNKNOWN", ""))
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = pyproject["tool"]["vibevoice-ci"]["helm"].get("job_accepted_unknown", {})
    for name in sorted(accepted - set(listed)):
        problems.append(f"accepts {name} as unknown, which job_accepted_unknown does not list")
    for level in HELM_LEVELS:
        if level not in installed and level not in accepted:
            problems.append(f"level {level} is neither installed nor accepted as unknown")
        if level in installed and level in accepted:
            problems.append(f"level {level} is installed and still accepted as unknown")
    conflicts = sorted(set(plan(levels).get("apt", [])) & RUNNER_CONFLICTS)
    if conflicts:
        problems.append(f"--levels {levels} apt-installs {conflicts} (the runner's Docker)")
    return problems


def tools_cache_problems(wf: Workflow) -> list[str]:
    """The Go build cache's key names the tools' versions (the script's --cache-key output
    with the levels the job installs, which hashes the script too); no whole-file hash of
    pyproject.toml or uv.lock, no restore-keys; its path is ``$VIBEVOICE_CACHE/bin`` alone,
    the folder of the built binaries (``--cache-files``)."""
    job = wf.jobs["helm"]
    caches = [
        s for s in uses_of(job, "actions/cache") if ".cache/vibevoice" in str(s.with_.get("path"))
    ]
    if len(caches) != 1:
        return [f"{len(caches)} caches of the Go builds (expected one)"]
    (cache,) = caches
    key = str(cache.with_.get("key", ""))
    problems = [
        f"the key {key!r} hashes {name}, which changes with every dependency bump"
        for name in ("pyproject.toml", "uv.lock")
        if name in key
    ]
    if "restore-keys" in cache.with_:
        problems.append("restore-keys: an old entry is restored, grown and saved again")
    cache_folder = {**wf.env, **job.env}.get("VIBEVOICE_CACHE", "")
    built = f"{cache_folder}/bin"
    path = str(cache.with_.get("path", "")).strip()
    if path != built:
        problems.append(f"caches {path!r}, not the built binaries alone ({built})")
    named = [s for s in job.steps if s.run and "--cache-key" in s.run and str(SCRIPT) in s.run]
    if len(named) != 1 or named[0].index > cache.index:
        problems.append(f"no step before the cache asks {SCRIPT} --cache-key for the key")
        return problems
    step = named[0]
    if not step.id or f"steps.{step.id}.outputs.key" not in key:
        problems.append(f"the key {key!r} does not use the --cache-key step's output")
    if f'--levels "${LEVELS_ENV}"' not in (step.run or ""):
        problems.append(f'the --cache-key step does not pass --levels "${LEVELS_ENV}"')
    return problems


def helm_imports(package: Path) -> set[str]:
    """The ``vibevoice_ci.core.*`` and ``vibevoice_ci.tools.*`` modules the helm package
    imports (anywhere in a module, lazily or not), as file paths under ``src/``."""
    found: set[str] = set()
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            names: Iterable[str] = ()
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                parts = name.split(".")
                if parts[:2] in (["vibevoice_ci", "core"], ["vibevoice_ci", "tools"]):
                    path = Path("src", *parts).with_suffix(".py")
                    if (package.parents[2] / path).is_file():
                        found.add(path.as_posix())
    return found


def glob_matches(pattern: str, path: str) -> bool:
    """GitHub's ``paths:`` glob: ``**`` any characters, ``*`` and ``?`` none of ``/``."""
    regex = ""
    index = 0
    while index < len(pattern):
        if pattern.startswith("**", index):
            regex += ".*"
            index += 2
        elif pattern[index] == "*":
            regex += "[^/]*"
            index += 1
        elif pattern[index] == "?":
            regex += "[^/]"
            index += 1
        else:
            regex += re.escape(pattern[index])
            index += 1
    return re.fullmatch(regex, path) is not None


def paths_problems(wf: Workflow, root: Path = REPO_ROOT) -> list[str]:
    """Both triggers' ``paths:`` match every file the session's outcome depends on."""
    needed = sorted(
        {
            *SESSION_INPUTS,
            "src/vibevoice_ci/helm/session.py",
            *helm_imports(root / "src" / "vibevoice_ci" / "helm"),
        }
    )
    problems: list[str] = []
    for event in ("push", "pull_request"):
        patterns = [str(p) for p in wf.triggers.get(event, {}).get("paths", []) or []]
        problems += [
            f"on.{event}.paths misses {path}"
            for path in needed
            if not any(glob_matches(pattern, path) for pattern in patterns)
        ]
    return problems


# --------------------------------------------------------------------------------------------
# The repository's workflow


@pytest.fixture(scope="module")
def helm_workflow(workflow_by_file: Mapping[str, Workflow]) -> Workflow:
    return workflow_by_file[FILE]


def test_the_job_installs_only_what_its_levels_need(helm_workflow: Workflow) -> None:
    assert install_problems(helm_workflow) == []


def test_the_tools_cache_is_keyed_on_their_versions(helm_workflow: Workflow) -> None:
    assert tools_cache_problems(helm_workflow) == []


def test_the_paths_filter_names_what_the_session_reads(helm_workflow: Workflow) -> None:
    assert paths_problems(helm_workflow) == []


def test_the_helm_package_imports_the_wrappers_the_issue_names() -> None:
    # Guards the derivation above: these are what the paths filter used to miss.
    found = helm_imports(REPO_ROOT / "src" / "vibevoice_ci" / "helm")
    assert {
        "src/vibevoice_ci/core/config.py",
        "src/vibevoice_ci/tools/helm.py",
        "src/vibevoice_ci/tools/kubectl.py",
        "src/vibevoice_ci/tools/kubernetes.py",
    } <= found


# --------------------------------------------------------------------------------------------
# Broken examples: main's workflow before the fix, piece by piece


def _variant(wf: Workflow, *replacements: tuple[str, str]) -> Workflow:
    text = wf.text
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return parse_workflow(text, wf.path)


INSTALL_LEVELS = 'bash scripts/ci/install-kubernetes.sh --levels "$KUBERNETES_LEVELS"\n'


@pytest.mark.parametrize(
    ("replacements", "expected"),
    [
        ([(INSTALL_LEVELS, "bash scripts/ci/install-kubernetes.sh\n")], "without --levels"),
        ([("KUBERNETES_LEVELS: static,cluster", "KUBERNETES_LEVELS: static")], "level cluster"),
        (
            [("KUBERNETES_LEVELS: static,cluster", "KUBERNETES_LEVELS: static,cluster,pods")],
            "apt-installs ['containerd']",
        ),
    ],
)
def test_install_rule_catches(
    replacements: list[tuple[str, str]], expected: str, helm_workflow: Workflow
) -> None:
    problems = install_problems(_variant(helm_workflow, *replacements))
    assert any(expected in p for p in problems), problems


MAIN_KEY = (
    "key: kubernetes-tools-${{ steps.tools-cache.outputs.key }}\n",
    "key: kubernetes-tools-${{ hashFiles('pyproject.toml', 'scripts/ci/install-kubernetes.sh')"
    " }}\n          restore-keys: |\n            kubernetes-tools-\n",
)


@pytest.mark.parametrize(
    ("replacements", "expected"),
    [
        ([MAIN_KEY], "hashes pyproject.toml"),
        ([MAIN_KEY], "restore-keys"),
        ([MAIN_KEY], "does not use the --cache-key step's output"),
        (
            [('--levels "$KUBERNETES_LEVELS" --cache-key', "--cache-key")],
            "does not pass --levels",
        ),
        (
            [
                (
                    "path: /home/runner/.cache/vibevoice/bin\n",
                    "path: /home/runner/.cache/vibevoice\n",
                )
            ],
            "not the built binaries alone",
        ),
    ],
)
def test_tools_cache_rule_catches(
    replacements: list[tuple[str, str]], expected: str, helm_workflow: Workflow
) -> None:
    problems = tools_cache_problems(_variant(helm_workflow, *replacements))
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("missing", "expected"),
    [
        ('      - "pyproject.toml"\n', "misses pyproject.toml"),
        ('      - "src/vibevoice_ci/core/**"\n', "misses src/vibevoice_ci/core/config.py"),
        (
            '      - "src/vibevoice_ci/tools/kubectl.py"\n',
            "misses src/vibevoice_ci/tools/kubectl.py",
        ),
    ],
)
def test_paths_rule_catches(missing: str, expected: str, helm_workflow: Workflow) -> None:
    problems = paths_problems(_variant(helm_workflow, (missing, "")))
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("infra/k8s/**", "infra/k8s/vibevoice/values.yaml", True),
        ("src/vibevoice_ci/helm/**", "src/vibevoice_ci/helm/session.py", True),
        ("src/*.py", "src/a/b.py", False),
        ("src/*.py", "src/b.py", True),
        ("pyproject.toml", "pyproject.toml", True),
        ("pyproject.toml", "a/pyproject.toml", False),
    ],
)
def test_glob_matches(pattern: str, path: str, matches: bool) -> None:
    assert glob_matches(pattern, path) is matches


# --------------------------------------------------------------------------------------------
# The script's levels and its cache key


def test_each_level_installs_only_what_it_needs() -> None:
    assert plan("static") == {"apt": [], "build": ["helm"]}
    cluster = plan("static,cluster")
    assert cluster["apt"] == ["etcd-server"]
    assert "kubelet" not in cluster["build"]
    assert {"kube-apiserver", "kwok", "kubectl"} <= set(cluster["build"])
    everything = plan(None)
    assert {"containerd", "containernetworking-plugins", "busybox-static"} <= set(everything["apt"])
    assert {"kubelet", "kube-proxy"} <= set(everything["build"])
    assert plan("pods") == everything  # the kubelet joins level 2's control plane


def _cache_key(root: Path, levels: str) -> str:
    _refuse_a_script_without(root, "--cache-key")
    completed = subprocess.run(
        ["bash", str(root / SCRIPT), "--levels", levels, "--cache-key"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip()


def test_the_cache_key_changes_with_the_tools_versions_only(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / SCRIPT.parent).mkdir(parents=True)
    shutil.copy(REPO_ROOT / SCRIPT, root / SCRIPT)
    pyproject = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (root / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    key = _cache_key(root, "static,cluster")
    assert "," not in key  # cache keys may not contain commas
    bumped = pyproject.replace('"httpx', '"httpx>=0', 1)
    assert bumped != pyproject
    (root / "pyproject.toml").write_text(bumped, encoding="utf-8")
    assert _cache_key(root, "static,cluster") == key
    helm = re.search(r'^helm = "([^"]+)"', pyproject, re.M)
    assert helm is not None
    (root / "pyproject.toml").write_text(
        pyproject.replace(helm[0], 'helm = "9.9.9"'), encoding="utf-8"
    )
    assert _cache_key(root, "static,cluster") != key
    assert _cache_key(root, "static,cluster,pods") != _cache_key(root, "static,cluster")
    (root / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    script = (REPO_ROOT / SCRIPT).read_text(encoding="utf-8")
    (root / SCRIPT).write_text(script + "# how the tools are built changed\n", encoding="utf-8")
    assert _cache_key(root, "static,cluster") != key  # the key hashes the script


def _cache_files(levels: str) -> list[str]:
    _refuse_a_script_without(REPO_ROOT, "--cache-files")
    completed = subprocess.run(
        ["bash", str(REPO_ROOT / SCRIPT), "--levels", levels, "--cache-files"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.split()


def test_the_cache_keeps_exactly_the_binaries_the_levels_build() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    versions = pyproject["tool"]["vibevoice-ci"]["tools"]
    for levels in ("static", "static,cluster", "static,cluster,pods"):
        built = plan(levels)["build"]
        version = {"helm": versions["helm"], "kwok": versions["kwok"]}
        expected = [f"bin/{name}-{version.get(name, versions['kubernetes'])}" for name in built]
        assert _cache_files(levels) == expected
