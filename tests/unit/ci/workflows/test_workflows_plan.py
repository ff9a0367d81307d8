"""The chain of planned runs (plan.py): ``select`` and ``trigger_problems`` (pure)."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.workflows.actions import load_workflow
from vibevoice_ci.workflows.plan import CHAIN, PlannedRun, select, trigger_problems

# A chain with follow-ups: a -> b -> c, a -> d, and e on its own.
TOY = (
    PlannedRun("a", "a.yml", "push"),
    PlannedRun("b", "b.yml", "workflow_run", after="a"),
    PlannedRun("c", "c.yml", "workflow_run", after="b"),
    PlannedRun("d", "d.yml", "workflow_run", after="a"),
    PlannedRun("e", "e.yml", "schedule"),
)


def _follows(name: str) -> dict[str, Any]:
    return {"on": {"workflow_run": {"workflows": [name], "types": ["completed"]}}}


TOY_FILES: dict[str, dict[str, Any]] = {
    "a.yml": {"name": "A", "on": {"push": {}}},
    "b.yml": {"name": "B", **_follows("A")},
    "c.yml": {"name": "C", **_follows("B")},
    "d.yml": {"name": "D", **_follows("A")},
    "e.yml": {"name": "E", "on": {"schedule": [{"cron": "0 0 * * *"}]}},
}


def test_no_key_selects_the_whole_chain() -> None:
    assert select(TOY, []) == list(TOY)


def test_a_follow_up_brings_every_run_it_follows_in_chain_order() -> None:
    assert [run.key for run in select(TOY, ["c"])] == ["a", "b", "c"]
    assert [run.key for run in select(TOY, ["d", "e"])] == ["a", "d", "e"]


def test_an_unknown_key_names_it_and_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"no run nope in the chain \(known: a, b, c, d, e\)"):
        select(TOY, ["a", "nope"])


@settings(max_examples=200, deadline=None)
@given(keys=st.lists(st.sampled_from([run.key for run in TOY]), max_size=5))
def test_the_selection_is_closed_over_after_and_in_chain_order(keys: list[str]) -> None:
    chosen = select(TOY, keys)
    chosen_keys = [run.key for run in chosen]
    assert set(keys) <= set(chosen_keys)
    assert all(run.after is None or run.after in chosen_keys for run in chosen)
    assert chosen_keys == [run.key for run in TOY if run.key in chosen_keys]
    if keys:  # nothing beyond the closure
        closure = set(keys)
        for key in keys:
            after = next(run for run in TOY if run.key == key).after
            while after:
                closure.add(after)
                after = next(run for run in TOY if run.key == after).after
        assert set(chosen_keys) == closure


def test_the_real_chain_selects_ci_test_lint() -> None:
    assert [run.key for run in select(CHAIN, ["ci-test-lint"])] == ["ci-test-lint"]


def test_a_consistent_chain_has_no_trigger_problem() -> None:
    assert trigger_problems(TOY, TOY_FILES) == []


def test_a_workflow_run_naming_a_workflow_that_does_not_exist() -> None:
    files = {**TOY_FILES, "e.yml": {"name": "E", **_follows("CI tset")}}
    assert trigger_problems(TOY, files) == [
        "e.yml: workflow_run names 'CI tset', which no workflow is called"
    ]


def test_a_planned_follow_up_whose_file_does_not_name_its_parent() -> None:
    files = {**TOY_FILES, "c.yml": {"name": "C", **_follows("A")}}
    assert trigger_problems(TOY, files) == [
        "c.yml: does not run after 'B' (its workflow_run names ['A'])"
    ]


def test_a_planned_follow_up_with_no_workflow_run_trigger() -> None:
    files = {**TOY_FILES, "d.yml": {"name": "D", "on": {"push": {}}}}
    assert trigger_problems(TOY, files) == [
        "d.yml: does not run after 'A' (its workflow_run names nothing)"
    ]


def test_a_renamed_parent_orphans_its_follow_ups() -> None:
    files = {**TOY_FILES, "a.yml": {"name": "A renamed", "on": {"push": {}}}}
    problems = trigger_problems(TOY, files)
    assert "b.yml: workflow_run names 'A', which no workflow is called" in problems
    assert "d.yml: does not run after 'A renamed' (its workflow_run names ['A'])" in problems


WORKFLOWS = Path(__file__).resolve().parents[4] / ".github" / "workflows"


def _real_files() -> dict[str, dict[str, Any]]:
    return {path.name: load_workflow(path) for path in sorted(WORKFLOWS.glob("*.yml"))}


def test_the_release_chain_follows_the_build() -> None:
    assert [run.key for run in select(CHAIN, ["ci-provenance", "ci-smoke-test"])] == [
        "ci-build-push",
        "ci-smoke-test",
        "ci-provenance",
    ]
    follow_ups = [run for run in CHAIN if run.after == "ci-build-push"]
    assert {run.key for run in follow_ups} == {
        "ci-smoke-test",
        "ci-security-images",
        "ci-provenance",
    }
    assert trigger_problems(CHAIN, _real_files()) == []


def test_every_unknown_step_is_a_step_of_its_workflow() -> None:
    files = _real_files()
    for run in CHAIN:
        if run.unknown_step is None:
            continue
        names = {
            step.get("name")
            for job in files[run.workflow]["jobs"].values()
            for step in job.get("steps", [])
        }
        assert run.unknown_step in names, f"{run.key}: no step {run.unknown_step!r}"
        assert run.expect == "failure", f"{run.key}: an unknown step fails its run"


REPO_ROOT = WORKFLOWS.parents[1]


SEEDS = [(run, seed) for run in CHAIN for seed in run.seed_caches]


def test_the_runs_that_build_tools_are_seeded() -> None:
    assert sorted({run.key for run, _ in SEEDS}) == ["ci-helm-validate", "ci-test"]
    assert len(SEEDS) == 3  # helm's Kubernetes entry; ci-test's, the same, and the release tools'


def _expanded(command: str, env: dict[str, str]) -> str:
    """A key step's command with the job's variables in it, as the shell would read it."""
    command = command.replace('"${tools[@]}"', env.get("TEST_TOOLS", ""))
    return re.sub(r'"\$([A-Z_]+)"', lambda m: env.get(m.group(1), m.group(0)), command)


@pytest.mark.parametrize(("run", "seed"), SEEDS, ids=[f"{r.key}-{s.key_prefix}" for r, s in SEEDS])
def test_a_seed_is_exactly_the_entry_its_workflow_restores(run: PlannedRun, seed: Any) -> None:
    """A seed is the entry the job itself would save: the key its key step names (the same
    command, with the job's variables), the folder its cache step keeps, the files the script
    lists for them, from the script's default cache (root's)."""
    assert run.expect == "success"
    (job,) = [
        job
        for job in _real_files()[run.workflow]["jobs"].values()
        if any(
            str(step.get("uses", "")).startswith("actions/cache@")
            and str(step["with"]["key"]).startswith(seed.key_prefix)
            for step in job.get("steps", [])
        )
    ]
    (cache,) = [
        step["with"]
        for step in job["steps"]
        if str(step.get("uses", "")).startswith("actions/cache@")
        and str(step["with"]["key"]).startswith(seed.key_prefix)
    ]
    assert "restore-keys" not in cache  # the seed must match the key exactly
    found = re.fullmatch(
        re.escape(seed.key_prefix) + r"\$\{\{ steps\.([\w-]+)\.outputs\.(\w+) \}\}", cache["key"]
    )
    assert found, cache["key"]
    step_id, output = found.groups()
    (key_step,) = [step for step in job["steps"] if step.get("id") == step_id]
    (line,) = [line for line in key_step["run"].splitlines() if f'echo "{output}=$(' in line]
    command = _expanded(line.split("$(", 1)[1].rsplit(")", 1)[0], job["env"])
    assert command == shlex.join(seed.key_command)
    key_option = seed.key_command.index("--cache-key")
    files_command = list(seed.key_command)
    files_command[key_option] = "--cache-files"
    assert seed.files_command == tuple(files_command)
    assert seed.cache_folder in job["env"].values()
    listed = subprocess.run(
        seed.files_command, cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert listed
    assert {str(Path(seed.cache_folder, name).parent) for name in listed} == {cache["path"]}
    scripts = [path.read_text(encoding="utf-8") for path in (REPO_ROOT / "scripts/ci").glob("*.sh")]
    assert any(f':-{seed.source}}}"' in script for script in scripts)
