"""The design checks as pure functions of a workflow (and a row of ``workflow_design``):
schema validity against check-jsonschema's vendored schemas, caches, secrets documented in
docs/ci-cd.md, and the design table's triggers, jobs and chains. ``test_workflow_design.py``
applies them to the repository's workflows and feeds each a broken example.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
from workflow_design import (
    BUILD_BRANCHES,
    GO_TOOLS,
    PERF_STATE,
    REPORTING_SESSIONS,
    SESSIONS,
    UV,
    Event,
    JobRow,
    WorkflowRow,
)
from workflow_model import Job, Workflow, job_session, parse_uses, secrets_referenced, uses_of

REPO_ROOT = Path(__file__).resolve().parents[2]
CI_CD_DOC = Path("docs") / "ci-cd.md"
# Write scopes that publish: a job holding one pushes or signs a release.
PUBLISHING_SCOPES = frozenset({"packages", "id-token", "attestations"})
# $VIBEVOICE_BUILD_CACHE values that restore BuildKit layers from the GitHub Actions cache.
RESTORING_BUILD_CACHES = frozenset({"gha"})
_SETUP_ACTION_CACHES = {
    "docker/setup-qemu-action": "cache-image",
    "docker/setup-buildx-action": "cache-binary",
}
_HASH_LOCK = "hashFiles('uv.lock')"
_DEPENDENCY_CACHE_PATHS = (".cache/uv", ".cache/pip")
_CRON_FIELDS = 5

WorkflowRule = Callable[[Workflow], list[str]]

# --------------------------------------------------------------------------------------------
# The vendored schemas (check-jsonschema's wheel: SchemaStore's github-workflows, dependabot)


@functools.cache
def vendored_schema(name: str) -> dict[str, Any]:
    """A schema check-jsonschema ships (``vendor.<name>``), read from the installed package."""
    folder = resources.files("check_jsonschema.builtin_schemas.vendor")
    schema: dict[str, Any] = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    return schema


def schema_errors(document: object, schema_name: str) -> list[str]:
    """Every way ``document`` breaks the vendored schema, as ``path: message`` lines."""
    schema = vendored_schema(schema_name)
    validator = jsonschema.validators.validator_for(schema)(schema)
    return sorted(
        f"{'/'.join(map(str, error.absolute_path)) or '$'}: {_message(error)}"
        for error in validator.iter_errors(document)
    )


def _message(error: jsonschema.ValidationError) -> str:
    """The error's message; for a ``oneOf``/``anyOf`` miss, what each alternative said (the
    error's own message would only repeat the whole instance)."""
    if not error.context:
        return error.message[:200]
    reasons = dict.fromkeys(sub.message[:160] for sub in error.context)
    return "none of the alternatives fits: " + "; ".join(list(reasons)[:4])


def schema_problems(wf: Workflow) -> list[str]:
    """The workflow is valid under SchemaStore's github-workflows schema (as GitHub reads the
    YAML: ``on`` stays a key, see ``WorkflowLoader``)."""
    return [f"schema: {error}" for error in schema_errors(dict(wf.raw), "github-workflows")]


# --------------------------------------------------------------------------------------------
# Caches


def cache_kinds(job: Job) -> set[str]:
    """What the job's ``actions/cache`` steps restore (the kinds ``workflow_design`` names)."""
    kinds: set[str] = set()
    for step in uses_of(job, "actions/cache"):
        if parse_uses(step.uses or "").path == "save":
            continue  # a save restores nothing
        path, key = str(step.with_.get("path", "")), str(step.with_.get("key", ""))
        if any(p in path for p in _DEPENDENCY_CACHE_PATHS) and _HASH_LOCK in key:
            kinds.add(UV)
        if ".cache/vibevoice/bin" in path and key.startswith("kubernetes-tools-"):
            kinds.add(GO_TOOLS)
        if ".perf-state" in path:
            kinds.add(PERF_STATE)
    return kinds


def _restores_a_cache(job: Job, env: Mapping[str, str]) -> list[str]:
    found = [
        f"{step.label} ({parse_uses(step.uses or '').action})"
        for step in uses_of(job, "actions/cache")
        if parse_uses(step.uses or "").path != "save"
    ]
    for step in [*uses_of(job, "actions/setup-python"), *uses_of(job, "astral-sh/setup-uv")]:
        if step.with_.get("cache") or str(step.with_.get("enable-cache", "")).lower() == "true":
            found.append(f"{step.label} (its built-in cache)")
    found += [
        f"{step.label} (cache-from)"
        for step in uses_of(job, "docker/build-push-action")
        if step.with_.get("cache-from")
    ]
    # docker's setup actions cache what they download in the Actions cache unless told not
    # to (both inputs default to true): the binfmt image, the buildx binary.
    for repo, flag in _SETUP_ACTION_CACHES.items():
        found += [
            f"{step.label} ({flag} is not false)"
            for step in uses_of(job, repo)
            if str(step.with_.get(flag, "true")).lower() != "false"
        ]
    for step in job.steps:
        value = {**env, **job.env, **step.env}.get("VIBEVOICE_BUILD_CACHE", "")
        if value in RESTORING_BUILD_CACHES:
            found.append(f"{step.label} (VIBEVOICE_BUILD_CACHE={value}: BuildKit layers)")
    return found


def write_scopes(job: Job) -> set[str]:
    scopes = job.permissions if isinstance(job.permissions, dict) else {}
    return {str(scope) for scope, value in scopes.items() if value == "write"}


def release_job_cache_problems(wf: Workflow) -> list[str]:
    """A job that pushes or signs (a write scope on packages, id-token or attestations)
    restores no cache: another, less trusted run could have written it (cache poisoning)."""
    return [
        f"job {job.id}: writes {sorted(write_scopes(job) & PUBLISHING_SCOPES)} and restores "
        f"a cache: {what}"
        for job in wf.jobs.values()
        if write_scopes(job) & PUBLISHING_SCOPES
        for what in _restores_a_cache(job, wf.env)
    ]


def dependency_cache_key_problems(wf: Workflow) -> list[str]:
    """A pip/uv download cache is keyed on the lock file, so a dependency change misses it."""
    return [
        f"job {job.id}: {step.label}: caches {step.with_.get('path')!r} without {_HASH_LOCK} "
        f"in its key ({step.with_.get('key')!r})"
        for job in wf.jobs.values()
        for step in uses_of(job, "actions/cache")
        if any(p in str(step.with_.get("path", "")) for p in _DEPENDENCY_CACHE_PATHS)
        and _HASH_LOCK not in str(step.with_.get("key", ""))
    ]


# --------------------------------------------------------------------------------------------
# Secrets documented in docs/ci-cd.md


def documented_secrets(markdown: str) -> set[str]:
    """The names in the first column of the table under ``## Secrets`` (pure)."""
    section = re.search(r"^## Secrets\s*$(?P<body>.*?)(?=^## |\Z)", markdown, re.M | re.S)
    if section is None:
        return set()
    return set(re.findall(r"^\|\s*`([A-Za-z_][A-Za-z0-9_]*)`\s*\|", section["body"], re.M))


def secret_doc_problems(wf: Workflow, documented: set[str]) -> list[str]:
    """Every ``secrets.X`` a workflow references has a row in docs/ci-cd.md's Secrets table."""
    return [
        f"secret {name} is not documented in {CI_CD_DOC} (## Secrets)"
        for name in sorted(secrets_referenced(wf.text) - documented)
    ]


@functools.cache
def documented_in_repo() -> frozenset[str]:
    return frozenset(documented_secrets((REPO_ROOT / CI_CD_DOC).read_text(encoding="utf-8")))


def documented_secret_problems(wf: Workflow) -> list[str]:
    """Every ``secrets.X`` has a row in the Secrets table of the repository's docs/ci-cd.md."""
    return secret_doc_problems(wf, set(documented_in_repo()))


# --------------------------------------------------------------------------------------------
# The design table


def is_weekly(cron: str) -> bool:
    fields = cron.split()
    if len(fields) != _CRON_FIELDS:
        return False
    minute, hour, day, month, weekday = fields
    single = re.compile(r"\d+")
    return all(single.fullmatch(f) for f in (minute, hour, weekday)) and day == "*" and month == "*"


def _as_tuple(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(item) for item in value)
    return (repr(value),)


def _event_problems(event: str, got: Mapping[str, object], want: Event, build: str) -> list[str]:
    problems: list[str] = []
    where = f"on.{event}"
    for key, expected in (("branches", want.branches), ("tags", want.tags)):
        actual = _as_tuple(got.get(key))
        if expected is not None and actual != expected:
            problems.append(f"{where}.{key} is {actual}, the design says {expected}")
    paths = _as_tuple(got.get("paths")) or ()
    problems += [
        f"{where}.paths lacks {path!r}" for path in want.paths_include if path not in paths
    ]
    crons = _as_tuple(got.get("crons"))
    if want.crons is not None and crons != want.crons:
        problems.append(f"{where} crons are {crons}, the design says {want.crons}")
    if want.weekly and (crons is None or len(crons) != 1 or not is_weekly(crons[0])):
        problems.append(f"{where} crons are {crons}, the design says once a week")
    if want.after_workflows:
        if _as_tuple(got.get("workflows")) != want.after_workflows:
            problems.append(
                f"{where}.workflows is {got.get('workflows')!r}, not {list(want.after_workflows)}"
            )
        if _as_tuple(got.get("types")) != ("completed",):
            problems.append(f"{where}.types is {got.get('types')!r}, not [completed]")
    if want.after_build:
        if _as_tuple(got.get("workflows")) != (build,):
            problems.append(f"{where}.workflows is {got.get('workflows')!r}, not [{build!r}]")
        if _as_tuple(got.get("types")) != ("completed",):
            problems.append(f"{where}.types is {got.get('types')!r}, not [completed]")
        if _as_tuple(got.get("branches")) != BUILD_BRANCHES:
            problems.append(f"{where}.branches is {got.get('branches')!r}, not {BUILD_BRANCHES}")
    return problems


def trigger_problems(wf: Workflow, row: WorkflowRow, build_name: str) -> list[str]:
    """The triggers are the design's ("Trigger Strategy"), plus only documented extras."""
    problems: list[str] = []
    allowed = set(row.events) | set(row.extra_events)
    problems += [f"trigger {e!r} is not in the design" for e in sorted(set(wf.triggers) - allowed)]
    absent = sorted(set(row.events) - set(wf.triggers))
    problems += [f"no {e!r} trigger (the design has it)" for e in absent]
    for event, want in row.events.items():
        if event in wf.triggers:
            problems += _event_problems(event, wf.triggers[event], want, build_name)
    return problems


def _job_sessions(wf: Workflow) -> dict[str, str]:
    """``{job id: session}`` for every job that runs exactly one session."""
    found = {job.id: job_session(job) for job in wf.jobs.values()}
    return {job: run.session for job, run in found.items() if run is not None and run.session}


def job_design_problems(wf: Workflow, row: WorkflowRow) -> list[str]:
    """Jobs run the row's sessions with the design's timeouts, needs, write scopes, caches."""
    problems: list[str] = []
    sessions = _job_sessions(wf)
    missing = sorted(set(row.jobs) - set(sessions.values()))
    problems += [f"no job runs session {s!r} (the design's row has it)" for s in missing]
    for job in wf.jobs.values():
        session = sessions.get(job.id)
        if session is None:
            continue  # the session rule (test_workflow_sessions.py) reports it
        if session in REPORTING_SESSIONS and session not in row.jobs:
            problems += [f"job {job.id}: {p}" for p in _reporting_problems(job, session, sessions)]
            continue
        want = row.jobs.get(session)
        if want is None:
            problems.append(f"job {job.id}: session {session!r} is not in this file's row")
            continue
        problems += [f"job {job.id}: {p}" for p in _job_problems(job, session, want, sessions)]
    return problems


def _reporting_problems(job: Job, session: str, sessions: dict[str, str]) -> list[str]:
    """A reporting job (notify) follows jobs of its own workflow that run sessions, has its
    session's timeout, and writes nothing but what REPORTING_SESSIONS allows it."""
    problems: list[str] = []
    if not job.needs or any(need not in sessions for need in job.needs):
        problems.append(f"needs {list(job.needs)}: it must follow the jobs it reports on")
    if job.timeout_minutes != SESSIONS[session].timeout_minutes:
        problems.append(
            f"timeout-minutes {job.timeout_minutes!r}, "
            f"the design says {SESSIONS[session].timeout_minutes}"
        )
    extra = sorted(write_scopes(job) - set(REPORTING_SESSIONS[session]))
    if extra:
        problems.append(
            f"write scopes {extra} (a {session} job may write only to "
            f"{list(REPORTING_SESSIONS[session])})"
        )
    return problems


def _job_problems(job: Job, session: str, want: JobRow, sessions: dict[str, str]) -> list[str]:
    problems: list[str] = []
    design = SESSIONS.get(session)
    if design is None:
        problems.append(f"session {session!r} has no row in workflow_design.SESSIONS")
    elif job.timeout_minutes != design.timeout_minutes:
        problems.append(
            f"timeout-minutes {job.timeout_minutes!r}, the design says {design.timeout_minutes}"
        )
    needs = tuple(sorted(sessions.get(need, f"<job {need}>") for need in job.needs))
    if needs != tuple(sorted(want.needs)):
        problems.append(f"needs the jobs of {needs}, the design says {tuple(sorted(want.needs))}")
    writes = write_scopes(job)
    if writes != set(want.write_scopes):
        design_writes = sorted(want.write_scopes)
        problems.append(f"write scopes {sorted(writes)}, the design says {design_writes}")
    lacking = sorted(set(want.caches) - cache_kinds(job))
    if lacking:
        problems.append(f"restores no {lacking} cache (Caching Strategy)")
    return problems


BUILD_WORKFLOW_NAME = "CI build and push"  # the `name:` of ci-build-push.yml
RELEASE_FOLLOW_UP_CLAUSES = (
    "github.event.workflow_run.conclusion == 'success'",
    "github.event.workflow_run.event == 'push'",
)
PR_FOLLOW_UP_CLAUSES = (
    "github.event.workflow_run.event == 'pull_request'",
    "github.event.workflow_run.head_repository.full_name == github.repository",
)


def chain_problems(wf: Workflow) -> list[str]:
    """A follow-up of the build runs only after a successful build of a push: every job that
    needs no other checks the run's conclusion and event (or, in a workflow that also runs on
    a schedule, does so for workflow_run events)."""
    if "workflow_run" not in wf.triggers:
        return []
    follows = _as_tuple(wf.triggers["workflow_run"].get("workflows")) or ()
    # A PR-feedback follow-up (of anything but the build) reports on pull requests from this
    # repository only; a follow-up of the build continues a release: success and push only.
    clauses = (
        RELEASE_FOLLOW_UP_CLAUSES
        if not follows or BUILD_WORKFLOW_NAME in follows
        else PR_FOLLOW_UP_CLAUSES
    )
    problems: list[str] = []
    for job in wf.jobs.values():
        if job.needs:
            continue  # skipped when what it needs was skipped
        condition = str(job.raw.get("if", ""))
        for clause in clauses:
            if clause not in condition:
                problems.append(f"job {job.id}: `if:` lacks {clause}")
    return problems


def design_problems(wf: Workflow, row: WorkflowRow, build_name: str) -> list[str]:
    """Everything the design table says of one workflow."""
    return [
        *trigger_problems(wf, row, build_name),
        *job_design_problems(wf, row),
        *chain_problems(wf),
    ]
