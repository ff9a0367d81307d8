"""What each milestone-one workflow must do, as the seed design describes it.

Triggers (seed "Trigger Strategy"), the tool versions the jobs install (one source of truth:
``[tool.vibevoice-ci.tools]``, compiled into the hashed ``.github/requirements/ci-tools.txt``
that every job installs from), the build job's registry login and push, the smoke job's
checkout of the built commit, and the Dependabot configuration.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml
from workflow_model import (
    NOX_RUN,
    NOX_RUN_WITH_POSARG,
    Workflow,
    WorkflowFileError,
    WorkflowLoader,
    job_session,
    load_yaml,
    parse_uses,
    secrets_referenced,
    uses_of,
)

from vibevoice_ci.lint import ci_tools
from vibevoice_ci.lint.ci_tools import parse_requirements

CI_TEST = "ci-test.yml"
CI_BUILD = "ci-build-push.yml"
CI_SMOKE = "ci-smoke-test.yml"
_SHA256_RE = re.compile(r"sha256:[0-9a-f]{64}")


def test_milestone_workflows_exist(workflow_by_file: dict[str, Workflow]) -> None:
    assert {CI_TEST, CI_BUILD, CI_SMOKE} <= set(workflow_by_file)


def test_every_workflow_parses_with_on_as_a_string(workflows: list[Workflow]) -> None:
    for wf in workflows:
        assert "on" in wf.raw, wf.path
        assert all(isinstance(key, str) for key in wf.raw), wf.path
        assert wf.name, f"{wf.path.name}: no `name:`"
        # The reason WorkflowLoader exists: YAML 1.1 (PyYAML's default) reads `on` as True.
        assert True in yaml.safe_load(wf.text), wf.path


def test_workflow_names_are_unique(workflows: list[Workflow]) -> None:
    names = [wf.name for wf in workflows]
    assert len(names) == len(set(names)), names  # workflow_run finds workflows by name


def test_ci_test_triggers(workflow_by_file: dict[str, Workflow]) -> None:
    wf = workflow_by_file[CI_TEST]
    assert set(wf.triggers) == {"push", "pull_request"}
    push_branches = wf.triggers["push"].get("branches")
    assert isinstance(push_branches, list)
    assert "main" in push_branches
    assert any(b != "main" for b in push_branches), "feature branches are pushed too"
    assert wf.triggers["pull_request"].get("branches") == ["main"]
    assert set(wf.jobs) == {"lint", "test", "notify"}


def test_ci_build_triggers(workflow_by_file: dict[str, Workflow]) -> None:
    wf = workflow_by_file[CI_BUILD]
    assert set(wf.triggers) == {"push"}, "release builds run on tags and main only"
    assert wf.triggers["push"].get("tags") == ["v*.*.*"]
    assert wf.triggers["push"].get("branches") == ["main"]


def test_ci_smoke_follows_a_successful_build(workflow_by_file: dict[str, Workflow]) -> None:
    wf = workflow_by_file[CI_SMOKE]
    build = workflow_by_file[CI_BUILD]
    assert set(wf.triggers) == {"workflow_run"}
    run = wf.triggers["workflow_run"]
    assert run.get("workflows") == [build.name], "workflow_run matches the build's `name:`"
    assert run.get("types") == ["completed"]
    assert run.get("branches") == ["main", "v*.*.*"]
    condition = str(wf.jobs["smoke"].raw.get("if", ""))
    assert "github.event.workflow_run.conclusion == 'success'" in condition
    assert "github.event.workflow_run.event == 'push'" in condition


def test_smoke_tests_the_pushed_digests_and_holds_no_write_scope(
    workflow_by_file: dict[str, Workflow],
) -> None:
    wf = workflow_by_file[CI_SMOKE]
    job = wf.jobs["smoke"]
    (checkout,) = uses_of(job, "actions/checkout")
    assert "github.event.workflow_run.head_sha" in str(checkout.with_.get("ref"))
    assert job.permissions == {"contents": "read", "actions": "read", "packages": "read"}
    assert secrets_referenced(wf.text) == set()
    # the one thing taken from the build run: its release record, as data
    (download,) = uses_of(job, "actions/download-artifact")
    assert download.with_.get("name") == "reports-build"
    assert download.with_.get("run-id") == "${{ github.event.workflow_run.id }}"
    found = job_session(job)
    assert found is not None
    assert (found.session, found.posarg) == ("smoke", "--release=reports/build/release.json")
    assert download.index < found.step.index


def test_promote_runs_only_after_smoke_and_alone_may_move_tags(
    workflow_by_file: dict[str, Workflow],
) -> None:
    wf = workflow_by_file[CI_SMOKE]
    promote = wf.jobs["promote"]
    assert list(promote.needs) == ["smoke"]
    assert promote.permissions == {"contents": "read", "actions": "read", "packages": "write"}
    found = job_session(promote)
    assert found is not None
    assert (found.session, found.posarg) == ("promote", None)  # never --allow-rollback
    # the built commit with its whole history: promote moves a tag only to a descendant of
    # the commit it holds, which a shallow clone does not have
    (checkout,) = uses_of(promote, "actions/checkout")
    assert "github.event.workflow_run.head_sha" in str(checkout.with_.get("ref"))
    assert checkout.with_.get("fetch-depth") == 0
    downloads = {step.with_.get("name") for step in uses_of(promote, "actions/download-artifact")}
    assert downloads == {"reports-build", "reports-smoke"}
    (login,) = uses_of(promote, "docker/login-action")
    assert login.index < found.step.index
    # the build never moves latest itself: it pushes the SHA tag only
    build = workflow_by_file[CI_BUILD].jobs["build"]
    build_session = job_session(build)
    assert build_session is not None
    assert build_session.posarg == "--push"


def ci_tools_pin_problems(text: str, expected: Mapping[str, str]) -> list[str]:
    """The CI tools file holds only exact pins, each hashed, with nox and uv as configured."""
    problems: list[str] = []
    pins: dict[str, list[str]] = {}
    lines = parse_requirements(text)
    if not lines:
        return ["no requirements"]
    for req in lines:
        where = f"line {req.line}"
        if req.name is None:
            problems.append(f"{where}: {req.text!r} is an option, not a hashed pin")
            continue
        if req.version is None:
            problems.append(f"{where}: {req.name} is not pinned with ==")
        else:
            pins.setdefault(req.name, []).append(req.version)
        if not req.hashes:
            problems.append(f"{where}: {req.name} has no --hash=sha256:")
        problems += [
            f"{where}: {req.name} hash {digest!r} is not sha256:<64 hex digits>"
            for digest in req.hashes
            if not _SHA256_RE.fullmatch(digest)
        ]
    for tool, version in expected.items():
        found = pins.get(tool, [])
        if found != [version]:
            problems.append(
                f"{tool} is pinned at {found or 'nothing'}; {ci_tools.TOOLS_TABLE} says {version}"
            )
    return problems


def test_tool_versions_come_from_pyproject(repo_root: Path, pyproject: dict[str, object]) -> None:
    tools = pyproject["tool"]["vibevoice-ci"]["tools"]  # type: ignore[index]
    expected = {"nox": tools["nox"], "uv": tools["uv"]}
    path = repo_root / ci_tools.REQUIREMENTS_PATH
    assert path.is_file(), f"{path} is missing: run `python -m vibevoice_ci export-requirements`"
    problems = ci_tools_pin_problems(path.read_text(encoding="utf-8"), expected)
    assert problems == [], (
        f"{ci_tools.REQUIREMENTS_PATH}:\n" + "\n".join(problems) + "\nrun `python -m "
        "vibevoice_ci export-requirements` after changing [tool.vibevoice-ci.tools]"
    )


HASH_A = "sha256:" + "a" * 64
HASH_B = "sha256:" + "b" * 64
EXAMPLE_PINS = {"nox": "2026.10.20", "uv": "0.13.9"}
# A CI tools file in uv's shape; the broken examples below change one thing in it.
GOOD_CI_TOOLS = f"""\
# Generated; do not edit.
colorama==0.4.6 ; sys_platform == 'win32' \\
    --hash={HASH_A}
    # via colorlog
nox==2026.10.20 \\
    --hash={HASH_A} \\
    --hash={HASH_B}
uv==0.13.9 \\
    --hash={HASH_B}
"""


def test_example_ci_tools_file_passes() -> None:
    assert ci_tools_pin_problems(GOOD_CI_TOOLS, EXAMPLE_PINS) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("nox==2026.10.20", "nox==2025.2.9", "nox is pinned at ['2025.2.9']"),
        ("uv==0.13.9 \\\n    --hash=" + HASH_B + "\n", "", "uv is pinned at nothing"),
        ("nox==2026.10.20", "nox>=2026.10.20", "nox is not pinned with =="),
        ("nox==2026.10.20", "nox===2026.10.20", "nox is not pinned with =="),
        (f"0.4.6 ; sys_platform == 'win32' \\\n    --hash={HASH_A}", "0.4.6", "has no --hash"),
        (HASH_B + "\n", "md5:" + "0" * 32 + "\n", "is not sha256"),
        ("# Generated; do not edit.\n", "-e .\n", "is an option, not a hashed pin"),
        ("# Generated; do not edit.\n", "--index-url https://example.org\n", "an option"),
        (
            "# Generated; do not edit.\n",
            f"nox==2026.10.20 --hash={HASH_A}\n",
            "at ['2026.10.20', '2026.10.20']",
        ),
    ],
)
def test_ci_tools_pin_rule_catches(old: str, new: str, expected: str) -> None:
    assert old in GOOD_CI_TOOLS, old
    problems = ci_tools_pin_problems(GOOD_CI_TOOLS.replace(old, new), EXAMPLE_PINS)
    assert any(expected in problem for problem in problems), problems


def test_ci_tools_pin_rule_rejects_an_empty_file() -> None:
    assert ci_tools_pin_problems("# nothing\n", EXAMPLE_PINS) == ["no requirements"]


def test_build_logs_in_and_pushes_to_ghcr(workflow_by_file: dict[str, Workflow]) -> None:
    wf = workflow_by_file[CI_BUILD]
    assert set(wf.jobs) == {"build", "notify"}
    job = wf.jobs["build"]
    assert job.permissions == {"contents": "read", "packages": "write"}
    (login,) = uses_of(job, "docker/login-action")
    assert login.with_.get("registry") == REGISTRY_HOST
    assert login.with_.get("password") == "${{ secrets.GITHUB_TOKEN }}"
    found = job_session(job)
    assert found is not None
    assert (found.session, found.posarg) == ("build", "--push")
    assert (found.step.run or "").strip() == NOX_RUN_WITH_POSARG
    assert login.index < found.step.index, "log in before pushing"
    (registry,) = [s for s in job.steps if "VIBEVOICE_REGISTRY=" in (s.run or "")]
    assert registry.index < found.step.index, "name the registry before the session runs"
    assert registry.env == {
        "REGISTRY_HOST": REGISTRY_HOST,
        "REGISTRY_OWNER": "${{ github.repository_owner }}",
    }
    assert '${REGISTRY_HOST}/${REGISTRY_OWNER,,}" >> "$GITHUB_ENV"' in (registry.run or "")


# ghcr.io on GitHub; the repository variable names another host where the chain runs
# elsewhere (here, by act, against a token-auth registry on 127.0.0.1).
REGISTRY_HOST = "${{ vars.VIBEVOICE_REGISTRY_HOST || 'ghcr.io' }}"


def test_every_registry_login_and_name_reads_one_variable(
    workflow_by_file: dict[str, Workflow],
) -> None:
    logins = [
        (wf.path.name, step)
        for wf in workflow_by_file.values()
        for job in wf.jobs.values()
        for step in uses_of(job, "docker/login-action")
    ]
    assert len(logins) >= 5
    for name, step in logins:
        assert step.with_.get("registry") == REGISTRY_HOST, f"{name}: {step.name}"
    for wf in workflow_by_file.values():
        text = wf.path.read_text(encoding="utf-8")
        code = "\n".join(
            line.split(" #", 1)[0]
            for line in text.splitlines()
            if not line.lstrip().startswith("#") and "name:" not in line
        )
        assert "ghcr.io" not in code.replace(REGISTRY_HOST, ""), wf.path.name


def _session_env(wf: Workflow, job_id: str) -> dict[str, str]:
    job = wf.jobs[job_id]
    found = job_session(job)
    assert found is not None, f"{wf.path.name}: job {job_id} runs no nox session"
    return wf.step_env(job, found.step)


def test_smoke_job_never_falls_back_to_a_local_process(
    workflow_by_file: dict[str, Workflow],
) -> None:
    # With mode docker, a runner whose Docker is broken fails the job instead of passing
    # it with a local process and the container reported as UNKNOWN.
    env = _session_env(workflow_by_file[CI_SMOKE], "smoke")
    assert env.get("VIBEVOICE_SMOKE_MODE") == "docker"


def test_test_job_fails_instead_of_skipping_docker_tests(
    workflow_by_file: dict[str, Workflow],
) -> None:
    env = _session_env(workflow_by_file[CI_TEST], "test")
    assert env.get("VIBEVOICE_REQUIRE_DOCKER") == "1"


def test_jobs_that_need_docker_run_where_docker_is_preinstalled(
    workflow_by_file: dict[str, Workflow],
) -> None:
    # GitHub's ubuntu-24.04 image ships Docker Engine and the Compose v2 plugin.
    for file, job_id in ((CI_TEST, "test"), (CI_SMOKE, "smoke"), (CI_BUILD, "build")):
        assert workflow_by_file[file].jobs[job_id].raw.get("runs-on") == "ubuntu-24.04"


def test_test_job_covers_the_lowest_and_highest_python(
    workflow_by_file: dict[str, Workflow], supported_pythons_list: list[str]
) -> None:
    job = workflow_by_file[CI_TEST].jobs["test"]
    edges = list(dict.fromkeys([supported_pythons_list[0], supported_pythons_list[-1]]))
    assert job.matrix == {"python-version": edges}, (
        f"pyproject.toml's classifiers support {supported_pythons_list}: the test job's matrix "
        f"must be exactly python-version: {edges}"
    )
    assert job.raw.get("strategy", {}).get("fail-fast") is False, "one failing leg hides none"
    found = job_session(job)
    assert found is not None
    assert (found.session, (found.step.run or "").strip()) == ("tests", NOX_RUN)
    (upload,) = uses_of(job, "actions/upload-artifact")
    assert upload.with_.get("name") == "reports-tests-${{ matrix.python-version }}"


def test_ci_tools_are_compiled_for_the_lowest_python(supported_pythons_list: list[str]) -> None:
    # The hashed file is resolved for the lowest version; uv's universal resolution then
    # holds for every newer one the test matrix installs it on.
    assert supported_pythons_list[0] == ci_tools.PYTHON_VERSION


def test_jobs_without_a_matrix_use_the_lowest_python(
    workflows: list[Workflow], supported_pythons_list: list[str]
) -> None:
    for wf in workflows:
        for job in wf.jobs.values():
            if "python-version" in job.matrix:
                continue
            versions = [s.with_.get("python-version") for s in uses_of(job, "actions/setup-python")]
            assert versions == [supported_pythons_list[0]], f"{wf.path.name}: job {job.id}"


def test_ci_test_caches_downloads_keyed_on_the_lock(workflow_by_file: dict[str, Workflow]) -> None:
    wf = workflow_by_file[CI_TEST]
    for job in wf.jobs.values():
        downloads = [
            c for c in uses_of(job, "actions/cache") if ".cache/uv" in str(c.with_["path"])
        ]
        (cache,) = downloads
        assert "hashFiles('uv.lock')" in str(cache.with_.get("key")), job.id


def test_actions_in_use_are_known(workflows: list[Workflow]) -> None:
    # A new action is a supply-chain decision: add it here (and to action_pins.toml) on purpose.
    allowed = {
        "actions/checkout",
        "actions/setup-python",
        "actions/cache",
        "actions/upload-artifact",
        "actions/download-artifact",
        "docker/login-action",
        "docker/setup-buildx-action",
        "docker/setup-qemu-action",
        "docker/metadata-action",
        "docker/build-push-action",
        "Azure/setup-helm",
        "helm/kind-action",
        "sigstore/cosign-installer",
        "github/codeql-action",
        "actions/attest-build-provenance",
        "slsa-framework/slsa-github-generator",
    }
    used = {
        parse_uses(step.uses).repo
        for wf in workflows
        for job in wf.jobs.values()
        for step in job.steps
        if step.uses and not step.uses.startswith("./")
    }
    assert used <= allowed, used - allowed


def test_dependabot_config(repo_root: Path) -> None:
    config = load_yaml((repo_root / ".github" / "dependabot.yml").read_text(encoding="utf-8"))
    assert isinstance(config, dict)
    assert config["version"] == 2
    updates = {(u["package-ecosystem"], u["directory"]): u for u in config["updates"]}
    assert set(updates) == {
        ("github-actions", "/"),
        ("uv", "/"),
        ("docker", "/infra/docker"),
    }
    for key, update in updates.items():
        assert update["schedule"]["interval"] == "weekly", key
        assert update.get("cooldown", {}).get("default-days", 0) >= 1, key
    assert (repo_root / "infra" / "docker").is_dir()


def test_loader_keeps_on_and_rejects_duplicate_keys() -> None:
    assert yaml.load("on: push\nyes: 1\noff: 2\n", Loader=WorkflowLoader) == {  # noqa: S506
        "on": "push",
        "yes": 1,
        "off": 2,
    }
    with pytest.raises(WorkflowFileError, match="duplicate key 'a' at line 3"):
        load_yaml("jobs:\n  a: {}\n  a: {}\n")
