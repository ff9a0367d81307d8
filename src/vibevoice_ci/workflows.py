"""Reading GitHub Actions workflow files: jobs, steps, ``uses:`` pins and the nox sessions run.

Everything here is pure (text in, data out) apart from :func:`load_workflow` and
:func:`load_workflows`, which read files. The workflow tests (``tests/workflows``) and the
lint session share these helpers, so "what does this job run?" has one answer.

Two GitHub behaviours that a plain YAML loader gets wrong are handled here:

* PyYAML follows YAML 1.1, where ``on``/``off``/``yes``/``no`` are booleans, so the
  ``on:`` key of every workflow would load as ``True``. :class:`WorkflowLoader` keeps them as
  strings (only ``true``/``false`` are booleans, as in YAML 1.2 and on GitHub).
* GitHub rejects a mapping with a repeated key; PyYAML silently keeps the last one.
  :class:`WorkflowLoader` raises instead, so a duplicated ``env:`` or step key cannot hide.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from vibevoice_ci.errors import UsageError

WORKFLOWS_DIR = Path(".github") / "workflows"

_SHA_RE = re.compile(r"[0-9a-f]{40}")
_EXPRESSION_OPEN = "${{"
_ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_ASSIGNMENT_RE = re.compile(rf"{_ENV_NAME}=")
_VARIABLE_RE = re.compile(rf"\$(?:\{{(?P<braced>{_ENV_NAME})\}}|(?P<bare>{_ENV_NAME}))")
_SECRET_RE = re.compile(r"\bsecrets\.(?P<name>[A-Za-z_][A-Za-z0-9_-]*)")
# `uses:` as a mapping key on its own line, optionally the first key of a list item.
_USES_LINE_RE = re.compile(
    r"""^(?P<indent>\s*)(?:-\s+)?uses:\s*
        (?P<value>"[^"]*"|'[^']*'|[^\s#]+)
        \s*(?:\#\s*(?P<comment>.*?))?\s*$""",
    re.VERBOSE,
)


class WorkflowFileError(UsageError):
    """A workflow file is not valid YAML or not shaped like a GitHub Actions workflow."""


# --------------------------------------------------------------------------------------------
# YAML loading


class WorkflowLoader(yaml.SafeLoader):
    """A safe loader that reads workflow YAML the way GitHub does (see the module docstring)."""


# Drop YAML 1.1's bool resolver (yes/no/on/off) and add back YAML 1.2's true/false only.
WorkflowLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
WorkflowLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def _construct_mapping_no_duplicates(
    loader: WorkflowLoader, node: yaml.MappingNode, deep: bool = False
) -> dict[object, object]:
    seen: set[object] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            mark = key_node.start_mark
            raise WorkflowFileError(
                f"duplicate key {key!r} at line {mark.line + 1}, column {mark.column + 1}"
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


WorkflowLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping_no_duplicates,
)


def load_yaml(text: str) -> object:
    """Parse workflow YAML text with :class:`WorkflowLoader`."""
    try:
        return yaml.load(text, Loader=WorkflowLoader)  # noqa: S506 - WorkflowLoader is safe
    except yaml.YAMLError as exc:
        raise WorkflowFileError(f"not valid YAML: {exc}") from None


# --------------------------------------------------------------------------------------------
# The workflow model


@dataclass(frozen=True)
class Step:
    """One entry of a job's ``steps:``."""

    index: int
    name: str | None
    uses: str | None
    run: str | None
    with_: Mapping[str, object]
    env: Mapping[str, str]
    if_: str | None
    raw: Mapping[str, object]

    @property
    def label(self) -> str:
        """How to refer to this step in a message."""
        return self.name or self.uses or f"step {self.index}"


@dataclass(frozen=True)
class Job:
    """One entry of a workflow's ``jobs:``."""

    id: str
    name: str | None
    steps: tuple[Step, ...]
    env: Mapping[str, str]
    permissions: object
    timeout_minutes: object
    needs: tuple[str, ...]
    uses: str | None
    raw: Mapping[str, object]


@dataclass(frozen=True)
class Workflow:
    """A parsed workflow file. ``triggers`` is ``on:`` normalised to ``{event: config}``.

    ``permissions`` is ``None`` both when the key is absent and when it is empty;
    ``has_permissions`` tells the two apart (absent means GitHub's default token scopes).
    """

    path: Path
    text: str
    name: str | None
    triggers: Mapping[str, Mapping[str, object]]
    permissions: object
    has_permissions: bool
    env: Mapping[str, str]
    concurrency: object
    jobs: Mapping[str, Job]
    raw: Mapping[str, object]

    def step_env(self, job: Job, step: Step) -> dict[str, str]:
        """The environment a step's ``run:`` sees from ``env:`` blocks (step > job > workflow)."""
        return {**self.env, **job.env, **step.env}


def parse_workflow(text: str, path: Path | str = "<workflow>") -> Workflow:
    """Parse workflow text into a :class:`Workflow`; raise :class:`WorkflowFileError` if bad."""
    where = Path(path)
    document = load_yaml(text)
    if not isinstance(document, dict):
        raise WorkflowFileError(f"{where}: a workflow must be a mapping at the top level")
    raw = _str_keyed(document, f"{where}")
    if "on" not in raw:
        raise WorkflowFileError(f"{where}: no `on:` (triggers)")
    jobs_raw = raw.get("jobs")
    if not isinstance(jobs_raw, dict) or not jobs_raw:
        raise WorkflowFileError(f"{where}: `jobs:` must be a non-empty mapping")
    jobs = {
        job_id: _parse_job(job_id, job_raw, f"{where}: job {job_id}")
        for job_id, job_raw in _str_keyed(jobs_raw, f"{where}: jobs").items()
    }
    name = raw.get("name")
    return Workflow(
        path=where,
        text=text,
        name=name if isinstance(name, str) else None,
        triggers=normalize_triggers(raw["on"]),
        permissions=raw.get("permissions"),
        has_permissions="permissions" in raw,
        env=_env_block(raw.get("env"), f"{where}: env"),
        concurrency=raw.get("concurrency"),
        jobs=jobs,
        raw=raw,
    )


def load_workflow(path: Path) -> Workflow:
    """Read and parse one workflow file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorkflowFileError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_workflow(text, path)


def workflow_paths(directory: Path) -> list[Path]:
    """The workflow files in ``directory`` (``*.yml`` and ``*.yaml``), sorted by name."""
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix in {".yml", ".yaml"})


def load_workflows(directory: Path) -> list[Workflow]:
    """Parse every workflow file in ``directory``."""
    return [load_workflow(p) for p in workflow_paths(directory)]


def normalize_triggers(on: object) -> dict[str, Mapping[str, object]]:
    """``on:`` in any of its three spellings (string, list, mapping) as ``{event: config}``.

    An event given without configuration (``on: push``, ``on: [push]``, ``push:`` with no
    value) maps to an empty mapping.
    """
    if isinstance(on, str):
        return {on: {}}
    if isinstance(on, list):
        if not all(isinstance(event, str) for event in on):
            raise WorkflowFileError(f"`on:` list must hold event names, got {on!r}")
        return {str(event): {} for event in on}
    if isinstance(on, dict):
        triggers: dict[str, Mapping[str, object]] = {}
        for event, config in _str_keyed(on, "on").items():
            if config is None:
                triggers[event] = {}
            elif isinstance(config, dict):
                triggers[event] = _str_keyed(config, f"on.{event}")
            else:
                raise WorkflowFileError(f"`on.{event}` must be a mapping, got {config!r}")
        return triggers
    raise WorkflowFileError(f"`on:` must be an event name, a list or a mapping, got {on!r}")


def _parse_job(job_id: str, job_raw: object, where: str) -> Job:
    if not isinstance(job_raw, dict):
        raise WorkflowFileError(f"{where}: must be a mapping")
    raw = _str_keyed(job_raw, where)
    steps_raw = raw.get("steps", [])
    if not isinstance(steps_raw, list):
        raise WorkflowFileError(f"{where}: `steps:` must be a list")
    needs = raw.get("needs", [])
    if isinstance(needs, str):
        needs = [needs]
    if not isinstance(needs, list) or not all(isinstance(n, str) for n in needs):
        raise WorkflowFileError(f"{where}: `needs:` must be a job id or a list of job ids")
    name = raw.get("name")
    uses = raw.get("uses")
    return Job(
        id=job_id,
        name=name if isinstance(name, str) else None,
        steps=tuple(_parse_step(i, step, f"{where}: step {i}") for i, step in enumerate(steps_raw)),
        env=_env_block(raw.get("env"), f"{where}: env"),
        permissions=raw.get("permissions"),
        timeout_minutes=raw.get("timeout-minutes"),
        needs=tuple(str(n) for n in needs),
        uses=uses if isinstance(uses, str) else None,
        raw=raw,
    )


def _parse_step(index: int, step_raw: object, where: str) -> Step:
    if not isinstance(step_raw, dict):
        raise WorkflowFileError(f"{where}: must be a mapping")
    raw = _str_keyed(step_raw, where)
    with_raw = raw.get("with", {})
    if with_raw is None:
        with_raw = {}
    if not isinstance(with_raw, dict):
        raise WorkflowFileError(f"{where}: `with:` must be a mapping")

    def optional_str(key: str) -> str | None:
        value = raw.get(key)
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if not isinstance(value, str | int | float):
            raise WorkflowFileError(f"{where}: `{key}:` must be a string")
        return str(value)

    return Step(
        index=index,
        name=optional_str("name"),
        uses=optional_str("uses"),
        run=optional_str("run"),
        with_=_str_keyed(with_raw, f"{where}: with"),
        env=_env_block(raw.get("env"), f"{where}: env"),
        if_=optional_str("if"),
        raw=raw,
    )


def _str_keyed(mapping: Mapping[object, object], where: str) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in mapping.items():
        if not isinstance(key, str):
            raise WorkflowFileError(f"{where}: key {key!r} is not a string")
        result[key] = value
    return result


def _env_block(env: object, where: str) -> dict[str, str]:
    """An ``env:`` mapping with its scalar values as the strings the shell will see."""
    if env is None:
        return {}
    if isinstance(env, str) and env.strip().startswith(_EXPRESSION_OPEN):
        return {}  # `env: ${{ fromJSON(...) }}`: unknown until run time
    if not isinstance(env, dict):
        raise WorkflowFileError(f"{where}: must be a mapping")
    result: dict[str, str] = {}
    for key, value in _str_keyed(env, where).items():
        if isinstance(value, bool):
            result[key] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            result[key] = str(value)
        elif value is None:
            result[key] = ""
        else:
            raise WorkflowFileError(f"{where}: {key} must be a scalar")
    return result


# --------------------------------------------------------------------------------------------
# `uses:` references and their pins

UsesKind = Literal["action", "reusable-workflow", "local", "docker"]


@dataclass(frozen=True)
class UsesRef:
    """A parsed ``uses:`` value.

    ``repo`` is ``owner/name`` (empty for local and docker references), ``path`` the
    sub-directory or workflow file inside it, ``ref`` what follows the last ``@``.
    """

    raw: str
    kind: UsesKind
    repo: str
    path: str
    ref: str

    @property
    def is_sha_pinned(self) -> bool:
        """True when the ref is a full 40-character lower-case commit SHA."""
        return is_full_sha(self.ref)

    @property
    def action(self) -> str:
        """``owner/name[/path]``: the reference without its ``@ref``."""
        return f"{self.repo}/{self.path}" if self.path else self.repo


def is_full_sha(ref: str) -> bool:
    """True for a full 40-hex-digit lower-case commit SHA (what GitHub resolves unambiguously)."""
    return _SHA_RE.fullmatch(ref) is not None


def parse_uses(value: str) -> UsesRef:
    """Split a ``uses:`` value into its parts; raise :class:`WorkflowFileError` if malformed."""
    text = value.strip()
    if text.startswith("./"):
        return UsesRef(raw=value, kind="local", repo="", path=text, ref="")
    if text.startswith("docker://"):
        image = text.removeprefix("docker://")
        _, _, digest = image.partition("@")
        return UsesRef(raw=value, kind="docker", repo="", path=image, ref=digest)
    target, at, ref = text.rpartition("@")
    if not at or not target or not ref or any(c.isspace() for c in text):
        raise WorkflowFileError(f"`uses: {value}` is not of the form owner/repo[/path]@ref")
    parts = target.split("/")
    if len(parts) < 2 or not all(parts):
        raise WorkflowFileError(f"`uses: {value}` is not of the form owner/repo[/path]@ref")
    repo = "/".join(parts[:2])
    path = "/".join(parts[2:])
    is_workflow = path.startswith(".github/workflows/") and path.endswith((".yml", ".yaml"))
    return UsesRef(
        raw=value,
        kind="reusable-workflow" if is_workflow else "action",
        repo=repo,
        path=path,
        ref=ref,
    )


@dataclass(frozen=True)
class UsesLine:
    """A ``uses:`` found in the workflow *text*, with the comment that YAML parsing drops."""

    line: int
    value: str
    comment: str | None


def uses_lines(text: str) -> list[UsesLine]:
    """Every block-style ``uses:`` line of a workflow, 1-based, with its trailing comment.

    Compare the count with :func:`iter_uses` to make sure no ``uses:`` hides in flow style.
    """
    found: list[UsesLine] = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _USES_LINE_RE.match(line)
        if match is None:
            continue
        value = match["value"]
        if value[:1] in {'"', "'"}:
            value = value[1:-1]
        comment = match["comment"]
        found.append(UsesLine(line=number, value=value, comment=comment or None))
    return found


def iter_uses(workflow: Workflow) -> Iterator[tuple[Job, Step | None, str]]:
    """Every ``uses:`` of a workflow: steps' actions and jobs' reusable-workflow calls."""
    for job in workflow.jobs.values():
        if job.uses is not None:
            yield job, None, job.uses
        for step in job.steps:
            if step.uses is not None:
                yield job, step, step.uses


def version_from_comment(comment: str | None) -> str | None:
    """The version a pin comment names: ``v6.1.0`` from ``# v6.1.0`` or ``# tag=v6.1.0``."""
    if not comment:
        return None
    first = comment.split()[0].removeprefix("tag=").rstrip(":,;")
    if re.fullmatch(r"v?\d+(?:\.\d+)*(?:[-+.][0-9A-Za-z.-]+)?", first) is None:
        return None
    return first


# --------------------------------------------------------------------------------------------
# Run scripts and the nox sessions they run

_SEPARATORS = frozenset({";", "&&", "||", "|", "&", "(", ")", ";;", "|&"})
_SESSION_FLAGS = frozenset({"-s", "-e", "--session", "--sessions"})
_SELECTOR_FLAGS = frozenset({"-k", "--keywords", "-t", "--tags"})
# Options that take exactly one value, and options that take a list of values (argparse nargs).
_ONE_VALUE_FLAGS = frozenset(
    {
        "-k",
        "--keywords",
        "-f",
        "--noxfile",
        "--envdir",
        "--reuse-venv",
        "-db",
        "--default-venv-backend",
        "-fb",
        "--force-venv-backend",
        "--report",
        "--script-mode",
        "--script-venv-backend",
        "--usage",
        "-j",
    }
)
_MANY_VALUE_FLAGS = frozenset(
    {
        "-t",
        "--tags",
        "-p",
        "--python",
        "--pythons",
        "--extra-pythons",
        "--extra-python",
        "-P",
        "--force-python",
        "--force-pythons",
    }
)
_PYTHON_RE = re.compile(r"python(?:\d+(?:\.\d+)?)?")


@dataclass(frozen=True)
class NoxInvocation:
    """One ``nox`` command found in a run script.

    ``sessions`` are the words given to ``-s``/``--session`` as written (possibly
    ``$NOX_SESSION``); ``selectors`` are ``-k``/``-t`` filters, which make the sessions run
    depend on the noxfile rather than on the command; ``posargs`` follow ``--``.
    """

    argv: tuple[str, ...]
    sessions: tuple[str, ...]
    selectors: tuple[str, ...]
    posargs: tuple[str, ...]


def shell_commands(script: str) -> list[list[str]]:
    """Split a POSIX shell script into simple commands (lists of words), roughly as bash would.

    Handles comments, quoting, backslash-newline continuations and the separators
    ``; && || | &`` and parentheses. Variables are not expanded (``"$X"`` stays ``$X``).
    """
    joined = re.sub(r"\\\r?\n", " ", script)
    commands: list[list[str]] = []
    pending = ""
    for line in joined.splitlines():
        pending = f"{pending}\n{line}" if pending else line
        try:
            words = _split_words(pending)
        except ValueError:
            continue  # an open quote: the command continues on the next line
        pending = ""
        commands.extend(_split_on_separators(words))
    if pending:
        raise WorkflowFileError(f"unterminated quote in run script: {pending.strip()[:80]!r}")
    return [command for command in commands if command]


def _split_words(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    return list(lexer)


def _split_on_separators(words: Iterable[str]) -> list[list[str]]:
    commands: list[list[str]] = [[]]
    for word in words:
        if word in _SEPARATORS:
            commands.append([])
        else:
            commands[-1].append(word)
    return commands


def nox_argv(command: Sequence[str]) -> list[str] | None:
    """The arguments given to nox if ``command`` runs nox, else ``None``.

    Recognises ``nox``, ``python -m nox`` (any ``pythonX.Y``), ``uvx nox`` and
    ``pipx run nox``, after leading ``VAR=value`` assignments and ``exec``.
    """
    words = list(command)
    while words and _ASSIGNMENT_RE.match(words[0]):
        words.pop(0)
    if words[:1] == ["exec"]:
        words.pop(0)
    if not words:
        return None
    program = Path(words[0]).name
    if program == "nox":
        return words[1:]
    if _PYTHON_RE.fullmatch(program) and words[1:3] == ["-m", "nox"]:
        return words[3:]
    if program == "uvx" and words[1:2] == ["nox"]:
        return words[2:]
    if program == "pipx" and words[1:3] == ["run", "nox"]:
        return words[3:]
    return None


def parse_nox_args(args: Sequence[str]) -> NoxInvocation:
    """Pick the sessions, selectors and posargs out of nox's command-line arguments."""
    sessions: list[str] = []
    selectors: list[str] = []
    posargs: tuple[str, ...] = ()
    i = 0
    while i < len(args):
        word = args[i]
        i += 1
        if word == "--":
            posargs = tuple(args[i:])
            break
        flag, eq, inline = word.partition("=")
        if flag.startswith("--") and eq:
            if flag in _SESSION_FLAGS:
                sessions.append(inline)
            elif flag in _SELECTOR_FLAGS:
                selectors.append(word)
            continue
        if word in _SESSION_FLAGS or word in _MANY_VALUE_FLAGS:
            values: list[str] = []
            while i < len(args) and not args[i].startswith("-"):
                values.append(args[i])
                i += 1
            if word in _SESSION_FLAGS:
                sessions.extend(values)
            elif word in _SELECTOR_FLAGS:
                selectors.append(" ".join([word, *values]))
        elif word in _ONE_VALUE_FLAGS:
            value = args[i] if i < len(args) else ""
            i += 1
            if word in _SELECTOR_FLAGS:
                selectors.append(f"{word} {value}")
        elif word.startswith("-s") and len(word) > 2 and not word.startswith("--"):
            sessions.append(word[2:])  # argparse's attached form: -slint
    return NoxInvocation(
        argv=tuple(args),
        sessions=tuple(sessions),
        selectors=tuple(selectors),
        posargs=posargs,
    )


def nox_invocations(script: str) -> list[NoxInvocation]:
    """Every nox command in a run script, in order."""
    found: list[NoxInvocation] = []
    for command in shell_commands(script):
        args = nox_argv(command)
        if args is not None:
            found.append(parse_nox_args(args))
    return found


def expand_variables(word: str, env: Mapping[str, str]) -> str | None:
    """Expand ``$NAME`` and ``${NAME}`` in ``word`` from ``env``; ``None`` if one is unset."""
    missing = False

    def substitute(match: re.Match[str]) -> str:
        nonlocal missing
        name = match["braced"] or match["bare"]
        if name not in env:
            missing = True
            return ""
        return env[name]

    expanded = _VARIABLE_RE.sub(substitute, word)
    return None if missing else expanded


@dataclass(frozen=True)
class JobSession:
    """A nox session a job runs: the word as written and its value after ``env:`` expansion."""

    step: Step
    invocation: NoxInvocation
    written: str
    resolved: str | None


def job_nox_invocations(workflow: Workflow, job: Job) -> list[tuple[Step, NoxInvocation]]:
    """Every nox command in every ``run:`` step of a job."""
    return [
        (step, invocation)
        for step in job.steps
        if step.run is not None
        for invocation in nox_invocations(step.run)
    ]


def job_sessions(workflow: Workflow, job: Job) -> list[JobSession]:
    """The nox sessions a job runs, with ``$VARS`` resolved from the ``env:`` blocks."""
    return [
        JobSession(
            step=step,
            invocation=invocation,
            written=word,
            resolved=expand_variables(word, workflow.step_env(job, step)),
        )
        for step, invocation in job_nox_invocations(workflow, job)
        for word in invocation.sessions
    ]


# --------------------------------------------------------------------------------------------
# Smaller questions


def has_expression(text: str) -> bool:
    """True if ``text`` contains a ``${{ ... }}`` expression."""
    return _EXPRESSION_OPEN in text


def secrets_referenced(text: str) -> set[str]:
    """Names of the secrets (``secrets.NAME``) a workflow's text refers to."""
    return {match["name"] for match in _SECRET_RE.finditer(text)}


def uses_of(job: Job, repo: str) -> list[Step]:
    """The steps of ``job`` that use an action from ``repo`` (``owner/name``)."""
    return [
        step
        for step in job.steps
        if step.uses is not None
        and not step.uses.startswith(("./", "docker://"))
        and parse_uses(step.uses).repo == repo
    ]


@dataclass(frozen=True)
class NoxSession:
    """One entry of ``nox -l --json``."""

    session: str
    name: str
    description: str
    tags: tuple[str, ...]


def parse_nox_listing(text: str) -> list[NoxSession]:
    """Parse the output of ``nox --list --json``."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"`nox -l --json` printed something that is not JSON: {exc}") from None
    if not isinstance(data, list):
        raise UsageError("`nox -l --json` must print a JSON list")
    sessions: list[NoxSession] = []
    for entry in data:
        if not isinstance(entry, dict) or not isinstance(entry.get("session"), str):
            raise UsageError(f"unexpected entry in `nox -l --json`: {entry!r}")
        tags = entry.get("tags") or []
        sessions.append(
            NoxSession(
                session=entry["session"],
                name=str(entry.get("name") or entry["session"]),
                description=str(entry.get("description") or ""),
                tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
            )
        )
    return sessions
