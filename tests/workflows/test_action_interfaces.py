"""Every ``with:`` gives a pinned action only the inputs its action.yml declares, and every
input it requires.

GitHub runs a step with an undeclared input and only warns ("Unexpected input"), so a typo,
or an input that a new major removed (setup-buildx v4 dropped ``config``, ``config-inline``
and ``install``), passes review and silently does nothing. The interfaces, read from each
action's action.yml at the pinned commit, live in ``action_interfaces.toml``; they are also
what a local stand-in for an action must declare.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
import test_action_pins
from workflow_model import MakeWorkflow, Workflow, parse_uses

INTERFACES_FILE = Path(__file__).with_name("action_interfaces.toml")


@dataclass(frozen=True)
class Interface:
    """What an action's action.yml declares at one commit."""

    runtime: str
    inputs: frozenset[str]
    required: frozenset[str]


Interfaces = Mapping[tuple[str, str], Interface]  # (owner/repo[/path], sha) -> interface


def load_interfaces(data: Mapping[str, object]) -> dict[tuple[str, str], Interface]:
    entries = data.get("action", [])
    assert isinstance(entries, list)
    return {
        (entry["uses"], entry["sha"]): Interface(
            runtime=entry["runtime"],
            inputs=frozenset(entry["inputs"]),
            required=frozenset(entry["required"]),
        )
        for entry in entries
    }


def interface_problems(wf: Workflow, interfaces: Interfaces) -> list[str]:
    """Each SHA-pinned step's ``with:`` keys are inputs of the action at that commit, and it
    gives every required one; an action pinned without a recorded interface is a problem."""
    problems: list[str] = []
    for job in wf.jobs.values():
        for step in job.steps:
            if step.uses is None:
                continue
            ref = parse_uses(step.uses)
            if ref.kind != "action" or not ref.is_sha_pinned:
                continue  # local, docker:// and tag references: test_action_pins.py
            where = f"job {job.id}: {step.label}"
            interface = interfaces.get((ref.action, ref.ref))
            if interface is None:
                problems.append(
                    f"{where}: no interface recorded for {ref.action}@{ref.ref} "
                    "(read its action.yml at that commit into action_interfaces.toml)"
                )
                continue
            unknown = sorted(set(step.with_) - interface.inputs)
            if unknown:
                problems.append(f"{where}: {ref.action} declares no input {unknown}")
            missing = sorted(interface.required - set(step.with_))
            if missing:
                problems.append(f"{where}: {ref.action} requires {missing}")
    return problems


@pytest.fixture(scope="module")
def interfaces() -> dict[tuple[str, str], Interface]:
    with INTERFACES_FILE.open("rb") as handle:
        return load_interfaces(tomllib.load(handle))


def test_every_step_passes_only_declared_inputs(
    workflows: list[Workflow], interfaces: Interfaces
) -> None:
    problems = [
        f"{wf.path.name}: {p}" for wf in workflows for p in interface_problems(wf, interfaces)
    ]
    assert problems == []


def test_interfaces_agree_with_the_pins(interfaces: Interfaces, pins: dict[str, object]) -> None:
    verified = test_action_pins.load_pins(pins)
    for (action, sha), interface in interfaces.items():
        repo = "/".join(action.split("/")[:2])
        assert (repo, sha) in verified.by_sha, f"{action}@{sha} is not a verified pin"
        assert verified.runtimes.get((repo, sha)) == interface.runtime, (action, sha)
        assert interface.required <= interface.inputs, action


CACHE = "actions/cache@27d5ce7f107fe9357f9df03efb73ab90386fccae # v5.0.5"
CACHE_STEP = (
    "      - run: python -m pip install",
    f"      - uses: {CACHE}\n"
    "        with:\n          path: ~/.cache/uv\n"
    "          key: uv-${{ hashFiles('uv.lock') }}\n"
    "      - run: python -m pip install",
)


@pytest.mark.parametrize(
    ("replacements", "expected"),
    [
        # a typo GitHub would only warn about
        ([("retention-days: 30", "retention-day: 30")], "declares no input ['retention-day']"),
        ([("persist-credentials: false", "persist-credential: false")], "declares no input"),
        # a required input left out
        ([("          path: reports/tests/\n", "")], "requires ['path']"),
        ([CACHE_STEP, ("          key: uv-${{ hashFiles('uv.lock') }}\n", "")], "requires ['key']"),
        # an input the pinned major removed (setup-buildx v4 has no `install`)
        (
            [
                (
                    "      - run: python -m pip install",
                    "      - uses: docker/setup-buildx-action@"
                    "37fe631027851001ddb9b187196cc803df7f5f0e # v4.3.0\n"
                    "        with:\n          install: true\n"
                    "      - run: python -m pip install",
                )
            ],
            "docker/setup-buildx-action declares no input ['install']",
        ),
        # a verified pin whose action.yml was never read
        (
            [
                (
                    CACHE_STEP[0],
                    CACHE_STEP[1].replace(
                        CACHE, "actions/cache@0057852bfaa89a56745cba8c7296529d2fc39830 # v4.3.0"
                    ),
                )
            ],
            "no interface recorded for actions/cache@0057852b",
        ),
    ],
)
def test_interface_rule_catches(
    replacements: list[tuple[str, str]],
    expected: str,
    make_workflow: MakeWorkflow,
    interfaces: Interfaces,
) -> None:
    problems = interface_problems(make_workflow(*replacements), interfaces)
    assert any(expected in p for p in problems), problems


def test_the_example_passes(make_workflow: MakeWorkflow, interfaces: Interfaces) -> None:
    assert interface_problems(make_workflow(CACHE_STEP), interfaces) == []
