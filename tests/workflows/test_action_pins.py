"""Every ``uses:`` is pinned to a verified commit SHA, with a comment naming its tag, of an
action whose runtime is current.

The verified SHAs live in ``action_pins.toml`` next to this file, each with the runtime its
action.yml declares where that was read. The only reference allowed by tag is the
slsa-github-generator reusable workflow listed there as a ``tag_exception`` (its reusable
workflows refuse to be called by SHA).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest
from workflow_model import (
    MakeWorkflow,
    Workflow,
    is_full_sha,
    iter_uses,
    parse_uses,
    uses_lines,
    version_from_comment,
)

# `runs.using` values GitHub's runners run without a deprecation: node20 actions are forced
# onto Node 24 with a warning, and codeql-action v3 (node20) is deprecated in December 2026.
CURRENT_RUNTIMES = frozenset({"node24", "composite", "docker"})


@dataclass(frozen=True)
class Pins:
    by_sha: Mapping[tuple[str, str], str]  # (repo, sha) -> tag
    tag_exceptions: Mapping[tuple[str, str], str]  # (repo, tag) -> workflow path prefix
    runtimes: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (repo, sha) -> using


def load_pins(data: Mapping[str, object]) -> Pins:
    pins = data.get("pin", [])
    exceptions = data.get("tag_exception", [])
    assert isinstance(pins, list)
    assert isinstance(exceptions, list)
    return Pins(
        by_sha={(p["repo"], p["sha"]): p["tag"] for p in pins},
        tag_exceptions={(e["repo"], e["tag"]): e["path_prefix"] for e in exceptions},
        runtimes={(p["repo"], p["sha"]): p["runtime"] for p in pins if "runtime" in p},
    )


def pin_problems(wf: Workflow, pins: Pins) -> list[str]:
    """Every ``uses:`` is a verified SHA (or the one tag exception) with a matching comment."""
    problems: list[str] = []
    structural = list(iter_uses(wf))
    lines = uses_lines(wf.text)
    if sorted(structural) != sorted(line.value for line in lines):
        problems.append("some `uses:` are not one-per-line block style (cannot check comments)")
    for line in lines:
        where = f"line {line.line}: {line.value}"
        ref = parse_uses(line.value)
        if ref.kind == "local":
            continue
        if ref.kind == "docker":
            if not ref.ref.startswith("sha256:"):
                problems.append(f"{where}: docker:// image is not pinned by digest")
            continue
        comment_version = version_from_comment(line.comment)
        if ref.is_sha_pinned:
            tag = pins.by_sha.get((ref.repo, ref.ref))
            if tag is None:
                problems.append(f"{where}: SHA is not in action_pins.toml (verify it, add it)")
            elif comment_version != tag:
                problems.append(f"{where}: comment {line.comment!r} should be `# {tag}`")
            continue
        prefix = pins.tag_exceptions.get((ref.repo, ref.ref))
        if prefix is None or ref.kind != "reusable-workflow" or not ref.path.startswith(prefix):
            problems.append(f"{where}: not pinned to a full commit SHA")
        elif comment_version is None:
            problems.append(f"{where}: tag reference needs a comment saying why")
    return problems


def runtime_problems(wf: Workflow, pins: Pins) -> list[str]:
    """Every SHA-pinned action runs on a current runtime, as read from its action.yml."""
    problems: list[str] = []
    for uses in iter_uses(wf):
        ref = parse_uses(uses)
        if ref.kind != "action" or not ref.is_sha_pinned or (ref.repo, ref.ref) not in pins.by_sha:
            continue  # pin_problems reports what is not a verified pin
        tag = pins.by_sha[(ref.repo, ref.ref)]
        runtime = pins.runtimes.get((ref.repo, ref.ref))
        if runtime is None:
            problems.append(
                f"{ref.action} {tag}: no runtime recorded in action_pins.toml (read its "
                "action.yml at the pinned commit)"
            )
        elif runtime not in CURRENT_RUNTIMES:
            problems.append(
                f"{ref.action} {tag} runs on {runtime}, deprecated on GitHub's runners "
                f"(pin a release on {' or '.join(sorted(CURRENT_RUNTIMES))})"
            )
    return problems


def test_pin_file_is_well_formed(pins: dict[str, object]) -> None:
    entries = pins["pin"]
    assert isinstance(entries, list)
    assert entries
    for entry in entries:
        assert {"repo", "tag", "sha"} <= set(entry) <= {"repo", "tag", "sha", "runtime"}, entry
        assert entry.get("runtime", "node24") in {"node20", *CURRENT_RUNTIMES}, entry
        assert is_full_sha(entry["sha"]), entry
        assert entry["repo"].count("/") == 1, entry
    keys = [(e["repo"], e["tag"]) for e in entries]
    assert len(keys) == len(set(keys)), "one SHA per (repo, tag)"
    exceptions = pins["tag_exception"]
    assert isinstance(exceptions, list)
    assert [(e["repo"], e["tag"]) for e in exceptions] == [
        ("slsa-framework/slsa-github-generator", "v2.1.0")
    ], "the tag exception list holds exactly the SLSA generator"


def test_every_uses_is_pinned_to_a_verified_sha(
    workflows: list[Workflow], pins: dict[str, object]
) -> None:
    verified = load_pins(pins)
    problems = [f"{wf.path.name}: {p}" for wf in workflows for p in pin_problems(wf, verified)]
    assert problems == []


def test_every_pinned_action_runs_on_a_current_runtime(
    workflows: list[Workflow], pins: dict[str, object]
) -> None:
    verified = load_pins(pins)
    problems = [f"{wf.path.name}: {p}" for wf in workflows for p in runtime_problems(wf, verified)]
    assert problems == []


def test_every_workflow_uses_actions(workflows: list[Workflow]) -> None:
    # Guards the test above against passing because it found nothing to check.
    for wf in workflows:
        assert uses_lines(wf.text), wf.path.name


CHECKOUT = "actions/checkout@d23441a48e516b6c34aea4fa41551a30e30af803 # v6.1.0"
SLSA = "slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml"


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        ("actions/checkout@v6.1.0", "not pinned to a full commit SHA"),
        ("actions/checkout@d23441a48e516b6c34aea4fa41551a30e30af803", "should be `# v6.1.0`"),
        ("actions/checkout@d23441a48e516b6c34aea4fa41551a30e30af803 # v4.2.2", "should be"),
        ("actions/checkout@0123456789abcdef0123456789abcdef01234567 # v6.1.0", "not in action"),
        ("actions/checkout@D23441A48E516B6C34AEA4FA41551A30E30AF803 # v6.1.0", "not pinned"),
        ("evil/checkout@d23441a48e516b6c34aea4fa41551a30e30af803 # v6.1.0", "not in action"),
        (f"{SLSA}@v2.0.0 # v2.0.0", "not pinned"),
        ("slsa-framework/slsa-github-generator/actions/x@v2.1.0 # v2.1.0", "not pinned"),
        ("docker://alpine:3.20", "not pinned by digest"),
    ],
)
def test_pin_rule_catches(
    new: str, expected: str, make_workflow: MakeWorkflow, pins: dict[str, object]
) -> None:
    wf = make_workflow((CHECKOUT, new))
    problems = pin_problems(wf, load_pins(pins))
    assert any(expected in p for p in problems), problems


def test_pin_rule_allows_the_slsa_tag_exception(
    make_workflow: MakeWorkflow, pins: dict[str, object]
) -> None:
    call = f"  provenance:\n    uses: {SLSA}@v2.1.0 # v2.1.0: rejects SHA refs\n"
    wf = make_workflow(("jobs:\n  test:\n", f"jobs:\n{call}  test:\n"))
    assert pin_problems(wf, load_pins(pins)) == []
    assert any(uses.endswith("@v2.1.0") for uses in iter_uses(wf))


def test_pin_rule_notices_flow_style_uses(
    make_workflow: MakeWorkflow, pins: dict[str, object]
) -> None:
    flow = '      - { uses: "actions/cache@v4", with: { path: x, key: y } }\n'
    wf = make_workflow(("      - if: always()\n", flow + "      - if: always()\n"))
    assert any("block style" in p for p in pin_problems(wf, load_pins(pins)))


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "actions/checkout@d23441a48e516b6c34aea4fa41551a30e30af803 # v6.1.0",
            "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2",
            "actions/checkout v4.2.2: no runtime recorded",
        ),
        (
            "actions/setup-python@ece7cb06caefa5fff74198d8649806c4678c61a1 # v6.3.0",
            "docker/login-action@c94ce9fb468520275223c153574b00df6fe4bcc9 # v3.7.0",
            "docker/login-action v3.7.0 runs on node20",
        ),
    ],
)
def test_runtime_rule_catches(
    old: str, new: str, expected: str, make_workflow: MakeWorkflow, pins: dict[str, object]
) -> None:
    problems = runtime_problems(make_workflow((old, new)), load_pins(pins))
    assert any(expected in p for p in problems), problems


def test_the_node20_pins_of_the_issue_are_recorded_as_such(pins: dict[str, object]) -> None:
    # ACTION-PINS.md: these ran on node20 and were replaced by their node24 majors.
    runtimes = {(p["repo"], p["tag"]): p.get("runtime") for p in load_entries(pins)}
    node20 = [
        ("actions/cache", "v4.3.0"),
        ("docker/setup-qemu-action", "v3.7.0"),
        ("docker/setup-buildx-action", "v3.12.0"),
        ("docker/login-action", "v3.7.0"),
        ("github/codeql-action", "v3.36.2"),
    ]
    assert {key: runtimes[key] for key in node20} == dict.fromkeys(node20, "node20")


def load_entries(pins: Mapping[str, object]) -> list[dict[str, str]]:
    entries = pins["pin"]
    assert isinstance(entries, list)
    return entries
