"""The workflow files as typed data, for the tests in this folder.

Pure (text in, data out) apart from :func:`load_workflows`, which reads files. Two GitHub
behaviours a plain YAML loader gets wrong are handled by :class:`WorkflowLoader`:

* PyYAML follows YAML 1.1, where ``on``/``off``/``yes``/``no`` are booleans, so every
  workflow's ``on:`` key would load as ``True``; only ``true``/``false`` are booleans here.
* GitHub rejects a mapping with a repeated key; PyYAML silently keeps the last one. Here it
  is an error, so a duplicated ``env:`` or step key cannot hide.

A job runs its nox session with one exact line, so no shell parsing is needed (see
:data:`NOX_RUN` and :data:`NOX_RUN_WITH_POSARG`): a ``run:`` step that mentions ``nox`` and
is not one of those two lines is a problem the session rule reports.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

WORKFLOWS_DIR = Path(".github") / "workflows"
# The only two ways a job runs nox. Values arrive through the step's `env:`, quoted, so no
# text from an event reaches the shell, and the script is the same in every job.
NOX_RUN = 'nox -s "$NOX_SESSION"'
NOX_RUN_WITH_POSARG = 'nox -s "$NOX_SESSION" -- "$NOX_POSARG"'
NOX_RUNS = (NOX_RUN, NOX_RUN_WITH_POSARG)

_SHA_RE = re.compile(r"[0-9a-f]{40}")
_EXPRESSION_OPEN = "${{"
_NOX_WORD_RE = re.compile(r"\bnox\b")
_SECRET_RE = re.compile(r"\bsecrets\.(?P<name>[A-Za-z_][A-Za-z0-9_-]*)")
_PYTHON_CLASSIFIER_RE = re.compile(r"Programming Language :: Python :: (?P<version>3\.\d+)")
# `uses:` as a mapping key on its own line, optionally the first key of a list item.
_USES_LINE_RE = re.compile(
    r"""^\s*(?:-\s+)?uses:\s*
        (?P<value>"[^"]*"|'[^']*'|[^\s#]+)
        \s*(?:\#\s*(?P<comment>.*?))?\s*$""",
    re.VERBOSE,
)


class WorkflowFileError(ValueError):
    """A workflow file is not valid YAML or not shaped like a GitHub Actions workflow."""


# --------------------------------------------------------------------------------------------
# YAML


class WorkflowLoader(yaml.SafeLoader):
    """A safe loader that reads workflow YAML the way GitHub does (see the module docstring)."""


WorkflowLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
WorkflowLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def _mapping_without_duplicates(
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
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)


def load_yaml(text: str) -> object:
    """Parse YAML text with :class:`WorkflowLoader`."""
    try:
        return yaml.load(text, Loader=WorkflowLoader)  # noqa: S506 - WorkflowLoader is safe
    except yaml.YAMLError as exc:
        raise WorkflowFileError(f"not valid YAML: {exc}") from None


# --------------------------------------------------------------------------------------------
# The model


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
    id: str | None = None

    @property
    def label(self) -> str:
        """How to refer to this step in a message."""
        return self.name or self.uses or f"step {self.index}"


@dataclass(frozen=True)
class Job:
    """One entry of a workflow's ``jobs:``. ``matrix`` is ``strategy.matrix`` (or empty)."""

    id: str
    name: str | None
    steps: tuple[Step, ...]
    env: Mapping[str, str]
    permissions: object
    timeout_minutes: object
    needs: tuple[str, ...]
    uses: str | None
    matrix: Mapping[str, object]
    raw: Mapping[str, object]


@dataclass(frozen=True)
class Workflow:
    """A parsed workflow file. ``triggers`` is ``on:`` normalised to ``{event: config}``.

    ``has_permissions`` tells an absent top-level ``permissions:`` (GitHub's default scopes)
    from an empty one.
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
        """The environment a step sees from ``env:`` blocks (step over job over workflow)."""
        return {**self.env, **job.env, **step.env}


# What the `make_workflow` fixture (conftest.py) is: text replacements in, a Workflow out.
MakeWorkflow = Callable[..., Workflow]


def parse_workflow(text: str, path: Path | str = "<workflow>") -> Workflow:
    """Parse workflow text; raise :class:`WorkflowFileError` if it is not a workflow."""
    where = Path(path)
    document = load_yaml(text)
    if not isinstance(document, dict):
        raise WorkflowFileError(f"{where}: a workflow must be a mapping at the top level")
    raw = _str_keyed(document, f"{where}")
    if "on" not in raw:
        raise WorkflowFileError(f"{where}: no `on:` (triggers)")
    jobs = raw.get("jobs")
    if not isinstance(jobs, dict) or not jobs:
        raise WorkflowFileError(f"{where}: `jobs:` must be a non-empty mapping")
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
        jobs={
            job_id: _parse_job(job_id, job, f"{where}: job {job_id}")
            for job_id, job in _str_keyed(jobs, f"{where}: jobs").items()
        },
        raw=raw,
    )


def load_workflows(directory: Path) -> list[Workflow]:
    """Parse every ``*.yml`` and ``*.yaml`` file in ``directory``, sorted by name."""
    paths = sorted(p for p in directory.iterdir() if p.is_file() and p.suffix in {".yml", ".yaml"})
    return [parse_workflow(p.read_text(encoding="utf-8"), p) for p in paths]


def normalize_triggers(on: object) -> dict[str, Mapping[str, object]]:
    """``on:`` in any of its spellings (string, list, mapping) as ``{event: config}``."""
    if isinstance(on, str):
        return {on: {}}
    if isinstance(on, list):
        if not all(isinstance(event, str) for event in on):
            raise WorkflowFileError(f"`on:` list must hold event names, got {on!r}")
        return {str(event): {} for event in on}
    if isinstance(on, dict):
        triggers: dict[str, Mapping[str, object]] = {}
        for event, config in _str_keyed(on, "on").items():
            if event == "schedule" and config is not None:
                triggers[event] = {"crons": _crons(config)}
                continue
            if config is not None and not isinstance(config, dict):
                raise WorkflowFileError(f"`on.{event}` must be a mapping, got {config!r}")
            triggers[event] = _str_keyed(config or {}, f"on.{event}")
        return triggers
    raise WorkflowFileError(f"`on:` must be an event name, a list or a mapping, got {on!r}")


def _crons(schedule: object) -> list[str]:
    """``on.schedule``: a list of ``{cron: "..."}``, the one trigger GitHub spells as a list."""
    if not isinstance(schedule, list) or not schedule:
        raise WorkflowFileError(f"`on.schedule` must be a non-empty list, got {schedule!r}")
    crons = []
    for entry in schedule:
        if not isinstance(entry, dict) or not isinstance(entry.get("cron"), str):
            raise WorkflowFileError(f"`on.schedule` entries must be {{cron: ...}}, got {entry!r}")
        crons.append(entry["cron"])
    return crons


def _parse_job(job_id: str, job: object, where: str) -> Job:
    if not isinstance(job, dict):
        raise WorkflowFileError(f"{where}: must be a mapping")
    raw = _str_keyed(job, where)
    steps = raw.get("steps", [])
    if not isinstance(steps, list):
        raise WorkflowFileError(f"{where}: `steps:` must be a list")
    needs = raw.get("needs", [])
    needs = [needs] if isinstance(needs, str) else needs
    if not isinstance(needs, list) or not all(isinstance(n, str) for n in needs):
        raise WorkflowFileError(f"{where}: `needs:` must be a job id or a list of job ids")
    strategy = raw.get("strategy")
    matrix = strategy.get("matrix") if isinstance(strategy, dict) else None
    return Job(
        id=job_id,
        name=_optional_str(raw, "name", where),
        steps=tuple(_parse_step(i, step, f"{where}: step {i}") for i, step in enumerate(steps)),
        env=_env_block(raw.get("env"), f"{where}: env"),
        permissions=raw.get("permissions"),
        timeout_minutes=raw.get("timeout-minutes"),
        needs=tuple(needs),
        uses=_optional_str(raw, "uses", where),
        matrix=_str_keyed(matrix, f"{where}: matrix") if isinstance(matrix, dict) else {},
        raw=raw,
    )


def _parse_step(index: int, step: object, where: str) -> Step:
    if not isinstance(step, dict):
        raise WorkflowFileError(f"{where}: must be a mapping")
    raw = _str_keyed(step, where)
    with_ = raw.get("with") or {}
    if not isinstance(with_, dict):
        raise WorkflowFileError(f"{where}: `with:` must be a mapping")
    return Step(
        index=index,
        name=_optional_str(raw, "name", where),
        uses=_optional_str(raw, "uses", where),
        run=_optional_str(raw, "run", where),
        with_=_str_keyed(with_, f"{where}: with"),
        env=_env_block(raw.get("env"), f"{where}: env"),
        if_=_optional_str(raw, "if", where),
        id=_optional_str(raw, "id", where),
    )


def _optional_str(raw: Mapping[str, object], key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, str | int | float):
        raise WorkflowFileError(f"{where}: `{key}:` must be a string")
    return str(value)


def _str_keyed(mapping: Mapping[object, object], where: str) -> dict[str, object]:
    if not all(isinstance(key, str) for key in mapping):
        raise WorkflowFileError(f"{where}: every key must be a string")
    return {str(key): value for key, value in mapping.items()}


def _env_block(env: object, where: str) -> dict[str, str]:
    """An ``env:`` mapping with its scalar values as the strings the shell will see."""
    if env is None or (isinstance(env, str) and env.strip().startswith(_EXPRESSION_OPEN)):
        return {}  # none, or `env: ${{ fromJSON(...) }}`: unknown until run time
    if not isinstance(env, dict):
        raise WorkflowFileError(f"{where}: must be a mapping")
    result: dict[str, str] = {}
    for key, value in _str_keyed(env, where).items():
        if isinstance(value, bool):
            result[key] = "true" if value else "false"
        elif isinstance(value, str | int | float) or value is None:
            result[key] = "" if value is None else str(value)
        else:
            raise WorkflowFileError(f"{where}: {key} must be a scalar")
    return result


# --------------------------------------------------------------------------------------------
# `uses:` references and their pins

UsesKind = Literal["action", "reusable-workflow", "local", "docker"]


@dataclass(frozen=True)
class UsesRef:
    """A parsed ``uses:``: ``repo`` is ``owner/name`` (empty for local and docker references),
    ``path`` the folder or workflow file inside it, ``ref`` what follows the last ``@``."""

    kind: UsesKind
    repo: str
    path: str
    ref: str

    @property
    def is_sha_pinned(self) -> bool:
        return is_full_sha(self.ref)

    @property
    def action(self) -> str:
        """``owner/name[/path]``: the reference without its ``@ref``."""
        return f"{self.repo}/{self.path}" if self.path else self.repo


def is_full_sha(ref: str) -> bool:
    """True for a full 40-hex-digit lower-case commit SHA."""
    return _SHA_RE.fullmatch(ref) is not None


def parse_uses(value: str) -> UsesRef:
    """Split a ``uses:`` value into its parts; raise :class:`WorkflowFileError` if malformed."""
    text = value.strip()
    if text.startswith("./"):
        return UsesRef(kind="local", repo="", path=text, ref="")
    if text.startswith("docker://"):
        image = text.removeprefix("docker://")
        return UsesRef(kind="docker", repo="", path=image, ref=image.partition("@")[2])
    target, _, ref = text.rpartition("@")
    parts = target.split("/")
    if not ref or len(parts) < 2 or not all(parts) or any(c.isspace() for c in text):
        raise WorkflowFileError(f"`uses: {value}` is not of the form owner/repo[/path]@ref")
    path = "/".join(parts[2:])
    is_workflow = path.startswith(".github/workflows/") and path.endswith((".yml", ".yaml"))
    kind: UsesKind = "reusable-workflow" if is_workflow else "action"
    return UsesRef(kind=kind, repo="/".join(parts[:2]), path=path, ref=ref)


@dataclass(frozen=True)
class UsesLine:
    """A ``uses:`` found in the workflow *text*, with the comment that YAML parsing drops."""

    line: int
    value: str
    comment: str | None


def uses_lines(text: str) -> list[UsesLine]:
    """Every block-style ``uses:`` line of a workflow (1-based) with its trailing comment.

    Compare with :func:`iter_uses` to make sure no ``uses:`` hides in flow style.
    """
    found: list[UsesLine] = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _USES_LINE_RE.match(line)
        if match is not None:
            value = match["value"].strip("\"'")
            found.append(UsesLine(line=number, value=value, comment=match["comment"] or None))
    return found


def iter_uses(workflow: Workflow) -> Iterator[str]:
    """Every ``uses:`` of a workflow: steps' actions and jobs' reusable-workflow calls."""
    for job in workflow.jobs.values():
        if job.uses is not None:
            yield job.uses
        yield from (step.uses for step in job.steps if step.uses is not None)


def version_from_comment(comment: str | None) -> str | None:
    """The version a pin comment names: ``v6.1.0`` from ``# v6.1.0`` or ``# tag=v6.1.0``."""
    if not comment:
        return None
    first = comment.split()[0].removeprefix("tag=").rstrip(":,;")
    if re.fullmatch(r"v?\d+(?:\.\d+)*(?:[-+.][0-9A-Za-z.-]+)?", first) is None:
        return None
    return first


def uses_of(job: Job, repo: str) -> list[Step]:
    """The steps of ``job`` that use an action from ``repo`` (``owner/name``)."""
    return [
        step
        for step in job.steps
        if step.uses is not None
        and not step.uses.startswith(("./", "docker://"))
        and parse_uses(step.uses).repo == repo
    ]


# --------------------------------------------------------------------------------------------
# The nox session a job runs


def mentions_nox(step: Step) -> bool:
    """True if the step's ``run:`` names nox anywhere (so it must be one of :data:`NOX_RUNS`)."""
    return step.run is not None and _NOX_WORD_RE.search(step.run) is not None


@dataclass(frozen=True)
class JobSession:
    """The step of a job that runs nox, and the session and posarg its ``env:`` gives it.

    ``posarg`` is ``None`` for :data:`NOX_RUN`; ``session`` or ``posarg`` is ``None`` when the
    step's ``env:`` does not set the variable the line needs.
    """

    step: Step
    session: str | None
    posarg: str | None


def job_session(job: Job) -> JobSession | None:
    """The session a job runs, if exactly one step mentions nox and it is an exact nox line."""
    steps = [step for step in job.steps if mentions_nox(step)]
    run = (steps[0].run or "").strip() if len(steps) == 1 else None
    if run not in NOX_RUNS:
        return None
    (step,) = steps
    posarg = step.env.get("NOX_POSARG") if run == NOX_RUN_WITH_POSARG else None
    return JobSession(step=step, session=step.env.get("NOX_SESSION"), posarg=posarg)


# --------------------------------------------------------------------------------------------
# Smaller questions


def has_expression(text: str) -> bool:
    """True if ``text`` contains a ``${{ ... }}`` expression."""
    return _EXPRESSION_OPEN in text


def secrets_referenced(text: str) -> set[str]:
    """Names of the secrets (``secrets.NAME``) a workflow's text refers to."""
    return {match["name"] for match in _SECRET_RE.finditer(text)}


def supported_pythons(classifiers: Iterable[str]) -> list[str]:
    """The ``3.X`` versions named by ``Programming Language :: Python :: 3.X`` classifiers,
    oldest first (compared as numbers: 3.9 before 3.10), each once."""
    found = {
        match["version"]
        for classifier in classifiers
        if (match := _PYTHON_CLASSIFIER_RE.fullmatch(classifier.strip())) is not None
    }
    return sorted(found, key=lambda version: tuple(int(part) for part in version.split(".")))


@dataclass(frozen=True)
class NoxSession:
    """One entry of ``nox -l --json``."""

    session: str
    name: str
    description: str
    # The Python the session pins, or None when it runs on nox's own interpreter.
    python: str | None = None


def parse_nox_listing(text: str) -> list[NoxSession]:
    """Parse the output of ``nox --list --json``; raise ``ValueError`` if it is not that."""
    data = json.loads(text)
    if not isinstance(data, list):
        raise ValueError("`nox -l --json` must print a JSON list")
    sessions: list[NoxSession] = []
    for entry in data:
        if not isinstance(entry, dict) or not isinstance(entry.get("session"), str):
            raise ValueError(f"unexpected entry in `nox -l --json`: {entry!r}")
        sessions.append(
            NoxSession(
                session=entry["session"],
                name=str(entry.get("name") or entry["session"]),
                description=str(entry.get("description") or ""),
                python=None if entry.get("python") is None else str(entry["python"]),
            )
        )
    return sessions
