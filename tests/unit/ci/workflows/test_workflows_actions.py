"""The pinned actions' stand-ins (actions.py): the input check before act starts, each
stand-in's ``action.yml``, and the directory layout act's ``--local-repository`` reads."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.core.errors import UsageError
from vibevoice_ci.workflows.actions import (
    ActionStep,
    Interface,
    action_steps,
    input_problems,
    load_interfaces,
    stand_in_action,
    write_stand_ins,
)

ROOT = Path(__file__).resolve().parents[4]
INTERFACES = load_interfaces(ROOT / "tests" / "workflows" / "action_interfaces.toml")
SCRIPT = ROOT / "tests" / "workflows" / "standins" / "standin.py"
PYTHON = "actions/setup-python@ece7cb06caefa5fff74198d8649806c4678c61a1"
CACHE = "actions/cache@27d5ce7f107fe9357f9df03efb73ab90386fccae"


def _step(uses: str, *inputs: str) -> ActionStep:
    return ActionStep("ci-test.yml", "lint", "Set up Python", uses, frozenset(inputs))


def test_a_step_passing_declared_inputs_is_fine() -> None:
    assert input_problems([_step(PYTHON, "python-version")], INTERFACES) == []


def test_an_undeclared_input_names_the_file_job_step_and_input() -> None:
    assert input_problems([_step(PYTHON, "python-version", "typo")], INTERFACES) == [
        "ci-test.yml: job lint, step 'Set up Python': actions/setup-python declares no input 'typo'"
    ]


def test_a_missing_required_input() -> None:
    assert input_problems([_step(CACHE, "path")], INTERFACES) == [
        "ci-test.yml: job lint, step 'Set up Python': actions/cache requires the input 'key'"
    ]


def test_an_action_without_an_interface_record() -> None:
    uses = "actions/setup-python@" + "0" * 40
    assert input_problems([_step(uses)], INTERFACES) == [
        f"ci-test.yml: job lint, step 'Set up Python': {uses} has no interface record (no stand-in)"
    ]


def test_the_repository_workflows_have_no_input_problem() -> None:
    steps = [
        step
        for path in sorted((ROOT / ".github" / "workflows").glob("*.yml"))
        for step in action_steps(path.name, yaml.safe_load(path.read_text(encoding="utf-8")))
    ]
    assert steps
    assert input_problems(steps, INTERFACES) == []


def test_action_steps_skip_local_and_docker_actions_and_name_unnamed_steps() -> None:
    workflow = {
        "jobs": {
            "j": {
                "steps": [
                    {"uses": "./local"},
                    {"uses": "docker://alpine"},
                    {"run": "true"},
                    {"uses": PYTHON, "with": {"python-version": "3.11"}},
                ]
            }
        }
    }
    (step,) = action_steps("w.yml", workflow)
    assert (step.job, step.step, step.inputs) == ("j", "step 4", frozenset({"python-version"}))


def test_a_malformed_interface_record_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "interfaces.toml"
    path.write_text('[[action]]\nuses = "a/b"\n', encoding="utf-8")
    with pytest.raises(UsageError, match="not an action interface record"):
        load_interfaces(path)


input_names = st.from_regex(r"[a-z][a-z0-9-]{0,15}", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(declared=st.sets(input_names, max_size=8), data=st.data())
def test_a_stand_in_declares_exactly_the_recorded_inputs(
    declared: set[str], data: st.DataObject
) -> None:
    required = (
        data.draw(st.sets(st.sampled_from(sorted(declared)), max_size=len(declared)))
        if declared
        else set()
    )
    interface = Interface("owner/action", "1" * 40, frozenset(declared), frozenset(required))
    document = stand_in_action(interface)
    assert set(document["inputs"]) == declared
    assert {name for name, spec in document["inputs"].items() if spec["required"]} == required
    passed = data.draw(st.sets(input_names, max_size=8))
    problems = input_problems(
        [ActionStep("w.yml", "j", "s", f"owner/action@{'1' * 40}", frozenset(passed))],
        {f"owner/action@{'1' * 40}": interface},
    )
    assert len(problems) == len(passed - declared) + len(required - passed)


@pytest.mark.parametrize("key", sorted(INTERFACES))
def test_only_cache_login_and_buildx_have_a_post_step(key: str) -> None:
    interface = INTERFACES[key]
    runs = stand_in_action(interface)["runs"]
    with_post = {"actions/cache", "docker/login-action", "docker/setup-buildx-action"}
    assert runs["main"] == "main.js"
    assert ("post" in runs) == (interface.uses in with_post)
    assert runs["using"] == "node24"


def test_the_layout_puts_each_action_under_its_pinned_repository(tmp_path: Path) -> None:
    repositories = write_stand_ins(INTERFACES, SCRIPT, tmp_path)
    assert set(repositories) == {f"{i.repository}@{i.sha}" for i in INTERFACES.values()}
    for interface in INTERFACES.values():
        root = repositories[f"{interface.repository}@{interface.sha}"]
        action_dir = root / interface.subpath
        document = yaml.safe_load((action_dir / "action.yml").read_text(encoding="utf-8"))
        assert set(document["inputs"]) == set(interface.inputs)
        assert (root / "standin.py").read_bytes() == SCRIPT.read_bytes()


@pytest.mark.parametrize(
    "uses", ["actions/cache/restore", "github/codeql-action/upload-sarif", "actions/checkout"]
)
def test_main_js_finds_the_stand_in_script(tmp_path: Path, uses: str) -> None:
    """Run the generated main.js with node: it reaches standin.py (a missing required input,
    or no runner variables, is the stand-in's own one-line error, not python's 'can't open')."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    write_stand_ins(INTERFACES, SCRIPT, tmp_path)
    (interface,) = [i for i in INTERFACES.values() if i.uses == uses]
    action_dir = (
        tmp_path / interface.repository.replace("/", "__") / interface.sha / interface.subpath
    )
    environ = {"PATH": os.environ["PATH"]}
    result = subprocess.run(
        [node, str(action_dir / "main.js")],
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert f"::error::{uses} (stand-in):" in result.stdout


def test_a_missing_stand_in_script_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="the stand-in script is missing"):
        write_stand_ins(INTERFACES, tmp_path / "nope.py", tmp_path / "out")
