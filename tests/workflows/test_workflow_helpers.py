"""Unit and property tests for the pure helpers in ``vibevoice_ci.workflows``."""

from __future__ import annotations

import shlex
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.errors import UsageError
from vibevoice_ci.workflows import (
    WorkflowFileError,
    expand_variables,
    has_expression,
    is_full_sha,
    load_yaml,
    normalize_triggers,
    nox_argv,
    nox_invocations,
    parse_nox_listing,
    parse_uses,
    parse_workflow,
    secrets_referenced,
    shell_commands,
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
session_names = st.from_regex(r"[a-z][a-z0-9_]{0,10}(-[a-z0-9]{1,5})?", fullmatch=True)
env_names = st.from_regex(r"[A-Z_][A-Z0-9_]{0,12}", fullmatch=True)
# Words a shell script might hold; a word that is only a separator cannot be told from one
# once shlex has removed its quotes, so those are left out.
words = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=12
).filter(lambda w: w not in {";", "&&", "||", "|", "&", "(", ")", ";;", "|&"})
noise_commands = st.lists(
    st.sampled_from(
        [
            "python -m pip install --require-hashes --no-deps -r .github/requirements/ci-tools.txt",
            "echo building",
            "ls -la reports/",
            "# a comment that mentions nox -s lint",
            'export VIBEVOICE_REGISTRY="ghcr.io/${OWNER,,}"',
            "test -f uv.lock",
        ]
    ),
    max_size=4,
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
# Shell scripts and nox sessions


def _nox_command(prefix: str, flag: str, session: str, posargs: list[str]) -> str:
    program = {"nox": ["nox"], "py": ["python", "-m", "nox"], "uvx": ["uvx", "nox"]}[prefix]
    selection = [f"{flag}{session}"] if flag.endswith("=") else [flag, session]
    tail = ["--", *posargs] if posargs else []
    return shlex.join([*program, *selection, *tail])


@PROPERTY
@given(
    before=noise_commands,
    after=noise_commands,
    prefix=st.sampled_from(["nox", "py", "uvx"]),
    flag=st.sampled_from(["-s", "-e", "--session", "--sessions", "--session="]),
    session=session_names,
    posargs=st.lists(words, max_size=3),
    separator=st.sampled_from(["\n", " && ", "; ", "\n\n"]),
)
def test_the_session_comes_back_out_of_any_script(
    before: list[str],
    after: list[str],
    prefix: str,
    flag: str,
    session: str,
    posargs: list[str],
    separator: str,
) -> None:
    command = _nox_command(prefix, flag, session, posargs)
    # A comment swallows the rest of its line, so comments get lines of their own.
    lines: list[str] = []
    chain: list[str] = []
    for part in [*before, command, *after]:
        if part.startswith("#"):
            lines += [separator.join(chain), part] if chain else [part]
            chain = []
        else:
            chain.append(part)
    script = "\n".join([*lines, separator.join(chain)])
    (invocation,) = nox_invocations(script)
    assert invocation.sessions == (session,)
    assert invocation.posargs == tuple(posargs)
    assert invocation.selectors == ()


@PROPERTY
@given(st.lists(st.lists(words, min_size=1, max_size=5), min_size=1, max_size=4))
def test_shell_commands_splits_what_shlex_join_built(commands: list[list[str]]) -> None:
    script = "\n".join(shlex.join(command) for command in commands)
    assert shell_commands(script) == commands


def test_shell_commands_handles_continuations_quotes_and_comments() -> None:
    script = 'nox -s "$NOX_SESSION" \\\n  -- --push  # trailing\necho "a\nb" && true'
    assert shell_commands(script) == [
        ["nox", "-s", "$NOX_SESSION", "--", "--push"],
        ["echo", "a\nb"],
        ["true"],
    ]


def test_unterminated_quote_is_an_error() -> None:
    with pytest.raises(WorkflowFileError, match="unterminated quote"):
        shell_commands('echo "never closed')


@pytest.mark.parametrize(
    ("command", "args"),
    [
        (["nox", "-s", "x"], ["-s", "x"]),
        (["/usr/bin/nox"], []),
        (["python3.11", "-m", "nox", "-l"], ["-l"]),
        (["FOO=1", "exec", "nox"], []),
        (["pipx", "run", "nox", "-s", "y"], ["-s", "y"]),
        (["python", "-m", "pip", "install", "nox==1"], None),
        (["noxious", "-s", "x"], None),
        (["echo", "nox", "-s", "x"], None),
    ],
)
def test_nox_argv(command: list[str], args: list[str] | None) -> None:
    assert nox_argv(command) == args


def test_nox_options_with_values_are_not_sessions() -> None:
    (inv,) = nox_invocations("nox -f other.py --reuse-venv yes -p 3.11 3.12 -s lint -k 'not x'")
    assert inv.sessions == ("lint",)
    assert inv.selectors == ("-k not x",)
    (inv,) = nox_invocations("nox -slint --tags check")
    assert (inv.sessions, inv.selectors) == (("lint",), ("--tags check",))


@PROPERTY
@given(
    env=st.dictionaries(env_names, st.text(alphabet=string.printable, max_size=10), max_size=5),
    name=env_names,
    braced=st.booleans(),
    prefix=st.text(alphabet=string.ascii_lowercase, max_size=5),
)
def test_expand_variables(env: dict[str, str], name: str, braced: bool, prefix: str) -> None:
    reference = f"${{{name}}}" if braced else f"${name}"
    expanded = expand_variables(f"{prefix}{reference}", env)
    if name in env:
        assert expanded == prefix + env[name]
    else:
        assert expanded is None
    assert expand_variables(prefix, env) == prefix


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
    assert (session.session, session.name, session.tags) == ("tests-3.11", "tests", ("check",))
    for bad in ("nope", "{}", "[1]"):
        with pytest.raises(UsageError):
            parse_nox_listing(bad)
