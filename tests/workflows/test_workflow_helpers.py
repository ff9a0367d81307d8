"""Unit and property tests for the pure helpers in ``workflow_model``."""

from __future__ import annotations

import string

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from workflow_model import (
    NOX_RUN,
    NOX_RUN_WITH_POSARG,
    NOX_RUNS,
    WorkflowFileError,
    has_expression,
    is_full_sha,
    job_session,
    load_yaml,
    mentions_nox,
    normalize_triggers,
    parse_nox_listing,
    parse_uses,
    parse_workflow,
    secrets_referenced,
    supported_pythons,
    uses_lines,
    version_from_comment,
)

PROPERTY = settings(max_examples=200, deadline=None)

HEX = "0123456789abcdef"
shas = st.text(alphabet=HEX, min_size=40, max_size=40)
segments = st.text(alphabet=string.ascii_letters + string.digits + "-_.", min_size=1, max_size=20)
segments = segments.filter(lambda s: s not in {".", ".."})
versions = st.builds(
    lambda parts, v: ("v" if v else "") + ".".join(str(p) for p in parts),
    st.lists(st.integers(0, 2100), min_size=1, max_size=3),
    st.booleans(),
)


# --------------------------------------------------------------------------------------------
# SHA pins and `uses:`


@PROPERTY
@given(shas)
def test_any_40_lower_hex_is_a_full_sha(sha: str) -> None:
    assert is_full_sha(sha)
    assert not is_full_sha(sha[:-1])
    assert not is_full_sha(sha + "0")


@PROPERTY
@given(st.text(max_size=60))
def test_a_full_sha_is_exactly_40_lower_hex(text: str) -> None:
    expected = len(text) == 40 and all(c in HEX for c in text)
    assert is_full_sha(text) is expected


@PROPERTY
@given(
    owner=segments,
    repo=segments,
    path=st.lists(segments, max_size=3),
    ref=st.one_of(shas, versions, segments),
)
def test_parse_uses_round_trips(owner: str, repo: str, path: list[str], ref: str) -> None:
    action = "/".join([owner, repo, *path])
    parsed = parse_uses(f"{action}@{ref}")
    assert parsed.repo == f"{owner}/{repo}"
    assert parsed.path == "/".join(path)
    assert parsed.action == action
    assert parsed.ref == ref
    assert parsed.is_sha_pinned is is_full_sha(ref)
    assert parsed.kind == "action"


def test_parse_uses_kinds() -> None:
    assert parse_uses("./.github/actions/setup").kind == "local"
    docker = parse_uses("docker://alpine@sha256:abc")
    assert (docker.kind, docker.ref) == ("docker", "sha256:abc")
    workflow = parse_uses("o/r/.github/workflows/w.yml@v1")
    assert (workflow.kind, workflow.repo, workflow.path, workflow.ref) == (
        "reusable-workflow",
        "o/r",
        ".github/workflows/w.yml",
        "v1",
    )


@pytest.mark.parametrize("bad", ["actions/checkout", "checkout@v4", "@v4", "a//b@v1", "a/b@"])
def test_parse_uses_rejects_malformed(bad: str) -> None:
    with pytest.raises(WorkflowFileError):
        parse_uses(bad)


@PROPERTY
@given(
    indent=st.integers(0, 12),
    dash=st.booleans(),
    quote=st.sampled_from(["", '"', "'"]),
    sha=shas,
    version=st.one_of(st.none(), versions),
    spaces=st.integers(1, 3),
)
def test_uses_lines_reads_value_and_version_comment(
    indent: int, dash: bool, quote: str, sha: str, version: str | None, spaces: int
) -> None:
    value = f"actions/checkout@{sha}"
    comment = f"{' ' * spaces}# {version}" if version is not None else ""
    line = f"{' ' * indent}{'- ' if dash else ''}uses: {quote}{value}{quote}{comment}"
    (found,) = uses_lines(f"steps:\n{line}\n")
    assert found.line == 2
    assert found.value == value
    assert version_from_comment(found.comment) == version


def test_uses_lines_ignores_other_keys_and_text() -> None:
    text = "  run: echo uses: x@y\n  # uses: a/b@c\n  reuses: a/b@c\n  with:\n    uses: a/b@c\n"
    assert [u.value for u in uses_lines(text)] == ["a/b@c"]


@pytest.mark.parametrize(
    ("comment", "version"),
    [
        ("v6.1.0", "v6.1.0"),
        ("tag=v4.2.2", "v4.2.2"),
        ("2026.08.17", "2026.08.17"),
        ("v2.1.0: reusable workflows reject SHAs", "v2.1.0"),
        ("pinned", None),
        ("", None),
        (None, None),
    ],
)
def test_version_from_comment(comment: str | None, version: str | None) -> None:
    assert version_from_comment(comment) == version


# --------------------------------------------------------------------------------------------
# The nox line and the supported Pythons


def _job_with_run(run: str, env: dict[str, str]) -> str:
    return yaml.safe_dump({"on": "push", "jobs": {"j": {"steps": [{"env": env, "run": run}]}}})


@PROPERTY
@given(
    run=st.one_of(
        st.sampled_from(NOX_RUNS),
        st.sampled_from(NOX_RUNS).map(lambda line: f"{line} -x"),
        st.sampled_from(NOX_RUNS).map(lambda line: f"echo hi\n{line}"),
        st.sampled_from(NOX_RUNS).map(lambda line: line.replace('"', "")),
        st.text(alphabet=string.ascii_letters + ' -$"', max_size=30),
    ),
    session=st.one_of(st.none(), st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True)),
    posarg=st.one_of(st.none(), st.from_regex(r"--[a-z]{1,8}", fullmatch=True)),
)
def test_only_the_exact_nox_lines_name_a_session(
    run: str, session: str | None, posarg: str | None
) -> None:
    env = {k: v for k, v in (("NOX_SESSION", session), ("NOX_POSARG", posarg)) if v is not None}
    wf = parse_workflow(_job_with_run(run, env))
    job = wf.jobs["j"]
    found = job_session(job)
    if run.strip() not in NOX_RUNS:
        assert found is None
        return
    assert found is not None
    assert mentions_nox(job.steps[0])
    assert found.session == session
    assert found.posarg == (posarg if run.strip() == NOX_RUN_WITH_POSARG else None)


@pytest.mark.parametrize(
    ("run", "mentions"),
    [
        (NOX_RUN, True),
        ("python -m nox -l", True),
        ("uvx nox", True),
        ("cat noxfile.py", False),
        ("echo nothing", False),
    ],
)
def test_mentions_nox(run: str, mentions: bool) -> None:
    (step,) = parse_workflow(_job_with_run(run, {})).jobs["j"].steps
    assert mentions_nox(step) is mentions


minors = st.integers(min_value=0, max_value=40)
other_classifiers = st.sampled_from(
    [
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Programming Language :: Python :: Implementation :: CPython",
        "License :: OSI Approved :: GNU General Public License v3 or later (GPLv3+)",
        "Programming Language :: Python :: 2.7",
    ]
)


@PROPERTY
@given(st.lists(minors, max_size=8), st.lists(other_classifiers, max_size=4), st.randoms())
def test_supported_pythons_are_the_3_x_classifiers_in_numeric_order(
    found: list[int], others: list[str], random: object
) -> None:
    classifiers = [f"Programming Language :: Python :: 3.{minor}" for minor in found] + others
    random.shuffle(classifiers)  # type: ignore[attr-defined]
    versions = supported_pythons(classifiers)
    assert versions == [f"3.{minor}" for minor in sorted(set(found))]
    if len(versions) >= 2:
        assert (versions[0], versions[-1]) == (f"3.{min(found)}", f"3.{max(found)}")


def test_supported_pythons_orders_3_10_after_3_9() -> None:
    names = ["Programming Language :: Python :: 3.10", "Programming Language :: Python :: 3.9"]
    assert supported_pythons(names) == ["3.9", "3.10"]


# --------------------------------------------------------------------------------------------
# YAML, triggers and the rest


@PROPERTY
@given(
    st.lists(
        st.sampled_from(["push", "pull_request", "workflow_dispatch", "schedule"]),
        min_size=1,
        max_size=4,
        unique=True,
    )
)
def test_trigger_spellings_agree(events: list[str]) -> None:
    as_list = normalize_triggers(events)
    as_mapping = normalize_triggers(dict.fromkeys(events))
    assert list(as_list) == events == list(as_mapping)
    assert all(config == {} for config in as_list.values())
    assert normalize_triggers(events[0]) == {events[0]: {}}


@pytest.mark.parametrize("bad", [1, None, [1], {"push": "main"}])
def test_bad_triggers_are_rejected(bad: object) -> None:
    with pytest.raises(WorkflowFileError):
        normalize_triggers(bad)


@PROPERTY
@given(st.sampled_from(["on", "On", "ON", "yes", "no", "off", "y", "n"]), st.integers())
def test_loader_keeps_yaml_1_1_booleans_as_strings(key: str, value: int) -> None:
    assert load_yaml(f"{key}: {value}\n") == {key: value}
    assert load_yaml(f"x: {key}\n") == {"x": key}


def test_loader_still_reads_true_and_false() -> None:
    assert load_yaml("a: true\nb: False\n") == {"a": True, "b": False}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n", "mapping at the top level"),
        ("name: x\njobs: {a: {}}\n", "no `on:`"),
        ("on: push\n", "`jobs:` must be"),
        ("on: push\njobs:\n  a:\n    steps: x\n", "`steps:` must be a list"),
        ("on: push\njobs:\n  a: {needs: 3}\n", "`needs:`"),
        ("on: [push\n", "not valid YAML"),
    ],
)
def test_parse_workflow_rejects_malformed(text: str, message: str) -> None:
    with pytest.raises(WorkflowFileError, match=message):
        parse_workflow(text)


def test_step_env_layers_workflow_job_and_step() -> None:
    wf = parse_workflow(
        "on: push\nenv: {A: w, B: w, C: w}\njobs:\n  j:\n    env: {B: j, C: j}\n"
        "    steps:\n      - run: x\n        env: {C: s, D: true, E: 3}\n"
    )
    job = wf.jobs["j"]
    assert wf.step_env(job, job.steps[0]) == {"A": "w", "B": "j", "C": "s", "D": "true", "E": "3"}


@pytest.mark.parametrize(
    ("text", "found"),
    [("run: echo ${{ github.ref }}", True), ("echo $X ${ Y }", False), ("${{", True)],
)
def test_has_expression(text: str, found: bool) -> None:
    assert has_expression(text) is found


def test_secrets_referenced() -> None:
    text = "a: ${{ secrets.GITHUB_TOKEN }}\nb: ${{secrets.SLACK_WEBHOOK_URL}}\n# secrets.NOTE\n"
    assert secrets_referenced(text) == {"GITHUB_TOKEN", "SLACK_WEBHOOK_URL", "NOTE"}


def test_parse_nox_listing() -> None:
    text = (
        '[{"session": "tests-3.11", "name": "tests", "description": "Tests.", "python": "3.11",'
        ' "tags": ["check"], "call_spec": {}}]'
    )
    (session,) = parse_nox_listing(text)
    assert (session.session, session.name, session.description) == ("tests-3.11", "tests", "Tests.")
    for bad, message in (("nope", "Expecting value"), ("{}", "JSON list"), ("[1]", "entry")):
        with pytest.raises(ValueError, match=message):
            parse_nox_listing(bad)
