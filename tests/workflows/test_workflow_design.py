"""The eight workflows match the seed design's table (``workflow_design.py``), and stay so.

* every workflow the design names exists, and no other: triggers, jobs (one session each),
  timeouts, artifact retention, ``needs`` and ``workflow_run`` chains, write scopes and caches
  as its row says (``test_workflow_matches_design``);
* every workflow and ``dependabot.yml`` validate against the JSON schemas check-jsonschema
  vendors (offline), in process with jsonschema and through the real CLI;
* caches: pip/uv keyed on ``uv.lock``; none restored in a job that pushes or signs (a write
  scope on ``packages``, ``id-token`` or ``attestations``);
* every ``secrets.X`` is documented in docs/ci-cd.md's "Secrets" table;
* each rule fails on a broken example, and every defect the issue plants (unpinned action,
  ``${{ github.event.pull_request.title }}`` in ``run:``, a job with no session or two, no
  timeout, a top-level write, a retention off the design) is caught by the whole battery.

The three security workflows (``ci-security-deps.yml``, ``ci-security-images.yml``,
``ci-provenance.yml``) arrive from their own branch; until then their rows fail here, loudly.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import test_action_pins
import test_workflow_rules
import test_workflow_sessions
from workflow_design import (
    BUILD_BRANCHES,
    BUILD_FILE,
    GO_TOOLS,
    PERF_STATE,
    REPORTING_SESSIONS,
    SESSIONS,
    SESSIONS_IN_WORKFLOWS,
    UV,
    WORKFLOWS,
    Event,
    JobRow,
    WorkflowRow,
)
from workflow_model import (
    WORKFLOWS_DIR,
    Job,
    MakeWorkflow,
    NoxSession,
    Workflow,
    job_session,
    load_yaml,
    parse_uses,
    parse_workflow,
    secrets_referenced,
    uses_of,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPENDABOT = Path(".github") / "dependabot.yml"
CI_CD_DOC = Path("docs") / "ci-cd.md"
# Write scopes that publish: a job holding one pushes or signs a release.
PUBLISHING_SCOPES = frozenset({"packages", "id-token", "attestations"})
# $VIBEVOICE_BUILD_CACHE values that restore BuildKit layers from the GitHub Actions cache.
RESTORING_BUILD_CACHES = frozenset({"gha"})
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
        if ".cache/vibevoice" in path and "pyproject.toml" in key:
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
def _documented_in_repo() -> frozenset[str]:
    return frozenset(documented_secrets((REPO_ROOT / CI_CD_DOC).read_text(encoding="utf-8")))


def documented_secret_problems(wf: Workflow) -> list[str]:
    """Every ``secrets.X`` has a row in the Secrets table of the repository's docs/ci-cd.md."""
    return secret_doc_problems(wf, set(_documented_in_repo()))


# --------------------------------------------------------------------------------------------
# The design table


def _is_weekly(cron: str) -> bool:
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
    if want.weekly and (crons is None or len(crons) != 1 or not _is_weekly(crons[0])):
        problems.append(f"{where} crons are {crons}, the design says once a week")
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


def chain_problems(wf: Workflow) -> list[str]:
    """A follow-up of the build runs only after a successful build of a push: every job that
    needs no other checks the run's conclusion and event (or, in a workflow that also runs on
    a schedule, does so for workflow_run events)."""
    if "workflow_run" not in wf.triggers:
        return []
    problems: list[str] = []
    for job in wf.jobs.values():
        if job.needs:
            continue  # skipped when what it needs was skipped
        condition = str(job.raw.get("if", ""))
        for clause in (
            "github.event.workflow_run.conclusion == 'success'",
            "github.event.workflow_run.event == 'push'",
        ):
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


# --------------------------------------------------------------------------------------------
# The repository's workflows against the table


def _load(file: str) -> Workflow:
    path = REPO_ROOT / WORKFLOWS_DIR / file
    if not path.is_file():
        pytest.fail(f"{WORKFLOWS_DIR / file} does not exist (seed design, Workflow Organization)")
    return parse_workflow(path.read_text(encoding="utf-8"), path)


@pytest.mark.parametrize("file", [*WORKFLOWS, "../dependabot.yml"])
def test_design_file_exists(file: str) -> None:
    assert (REPO_ROOT / WORKFLOWS_DIR / file).is_file(), f"{file} is missing"


def test_no_workflow_outside_the_design(workflows: list[Workflow]) -> None:
    assert sorted(wf.path.name for wf in workflows if wf.path.name not in WORKFLOWS) == []


@pytest.mark.parametrize("file", list(WORKFLOWS))
def test_workflow_matches_design(file: str, workflow_by_file: dict[str, Workflow]) -> None:
    wf = _load(file)
    build = workflow_by_file[BUILD_FILE]
    assert build.name
    problems = design_problems(wf, WORKFLOWS[file], build.name)
    assert problems == [], f"{file} ({WORKFLOWS[file].purpose}):\n" + "\n".join(problems)


def test_design_table_holds_the_design_numbers() -> None:
    # seed-design.md, "Timeout Handling" and "Artifact Retention", as written there.
    assert (SESSIONS["tests"].timeout_minutes, SESSIONS["build"].timeout_minutes) == (30, 60)
    assert SESSIONS["perf"].timeout_minutes == 45
    assert {s: SESSIONS[s].retention_days for s in ("tests", "perf", "build")} == {
        "tests": 30,
        "perf": 90,
        "build": 14,
    }
    assert {SESSIONS[s].retention_days for s in ("audit", "trivy", "sign")} == {90}
    assert set(SESSIONS) == SESSIONS_IN_WORKFLOWS, "a session row no workflow uses, or missing"
    assert {s: r.retention_days for s, r in SESSIONS.items()} == test_workflow_rules.RETENTION_DAYS


def test_local_only_sessions_have_no_design_row() -> None:
    local = set(test_workflow_sessions.LOCAL_ONLY_SESSIONS)
    assert local & SESSIONS_IN_WORKFLOWS == set()


GENERIC_RULES: list[WorkflowRule] = [
    schema_problems,
    release_job_cache_problems,
    dependency_cache_key_problems,
    documented_secret_problems,
]


@pytest.mark.parametrize("rule", GENERIC_RULES, ids=lambda rule: rule.__name__)
def test_generic_rule_holds(rule: WorkflowRule, workflows: list[Workflow]) -> None:
    problems = [f"{wf.path.name}: {problem}" for wf in workflows for problem in rule(wf)]
    assert problems == [], f"{rule.__doc__}\n" + "\n".join(problems)


def test_dependabot_validates_against_its_schema() -> None:
    document = load_yaml((REPO_ROOT / DEPENDABOT).read_text(encoding="utf-8"))
    assert schema_errors(document, "dependabot") == []


@pytest.mark.integration  # the real check-jsonschema command
def test_check_jsonschema_cli_agrees(workflows: list[Workflow]) -> None:
    # The real tool, its vendored schemas, no network: the same verdict as the in-process check.
    runs = [
        ("vendor.github-workflows", [wf.path for wf in workflows]),
        ("vendor.dependabot", [REPO_ROOT / DEPENDABOT]),
    ]
    for schema, files in runs:
        completed = _cli_verdict(schema, *files)
        assert completed.returncode == 0, completed.stdout + completed.stderr
        assert "ok -- validation done" in completed.stdout


def _cli_verdict(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    cli = Path(sys.executable).with_name("check-jsonschema")
    return subprocess.run(
        [str(cli), "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.integration  # the real check-jsonschema command
def test_schema_check_rejects_what_the_real_tool_rejects(
    make_workflow: MakeWorkflow, tmp_path: Path
) -> None:
    # The same broken document fails both the in-process check and check-jsonschema itself.
    unknown_key = ("    runs-on: ubuntu-24.04\n", "    runs-on: ubuntu-24.04\n    stepz: 1\n")
    broken = make_workflow(unknown_key)
    assert any("stepz" in problem for problem in schema_problems(broken))
    assert schema_problems(make_workflow()) == []
    path = tmp_path / "broken.yml"
    path.write_text(broken.text, encoding="utf-8")
    completed = _cli_verdict("vendor.github-workflows", path)
    assert completed.returncode == 1, completed.stdout + completed.stderr


def test_documented_secrets_reads_the_table() -> None:
    text = (
        "# x\n## Secrets\n\n| secret | used by |\n| --- | --- |\n| `GITHUB_TOKEN` | build |\n"
        "| `SLACK_WEBHOOK_URL` | notify |\nnot a row `NOPE`\n## Next\n| `LATER` | x |\n"
    )
    assert documented_secrets(text) == {"GITHUB_TOKEN", "SLACK_WEBHOOK_URL"}
    assert documented_secrets("no section\n| `X` | y |\n") == set()


def test_repository_documents_the_automatic_token() -> None:
    assert "GITHUB_TOKEN" in _documented_in_repo()


@pytest.mark.parametrize(
    ("cron", "weekly"),
    [("0 9 * * 1", True), ("30 4 * * 0", True), ("0 2 * * *", False), ("0 9 1 * 1", False)],
)
def test_weekly_cron(cron: str, weekly: bool) -> None:
    assert _is_weekly(cron) is weekly


# --------------------------------------------------------------------------------------------
# Broken examples: each rule fails on the defect it is about

EXAMPLE_ROW = WorkflowRow(
    purpose="the example in conftest.py",
    events={"pull_request": Event(branches=("main",))},
    jobs={"tests": JobRow()},
)
BUILD_NAME = "CI build and push"
BUILD_CACHE_GHA = "VIBEVOICE_BUILD_CACHE: gha"
UV_CACHE = (
    "      - run: python -m pip install",
    "      - uses: actions/cache@0057852bfaa89a56745cba8c7296529d2fc39830 # v4.3.0\n"
    "        with:\n          path: ~/.cache/uv\n"
    "          key: uv-${{ hashFiles('uv.lock') }}\n"
    "      - run: python -m pip install",
)
PUBLISHING = ("      contents: read\n", "      contents: read\n      packages: write\n")
AFTER_BUILD = (
    "  pull_request:\n    branches: [main]\n",
    "  workflow_run:\n    workflows: [CI build and push]\n    types: [completed]\n"
    '    branches: [main, "v*.*.*"]\n',
)
IF_SUCCESS = (
    "    name: test\n",
    "    name: test\n    if: >-\n      github.event.workflow_run.conclusion == 'success' &&\n"
    "      github.event.workflow_run.event == 'push'\n",
)


NOTIFY_JOB = """\
  notify:
    needs: [test]
    if: failure()
    runs-on: ubuntu-24.04
    timeout-minutes: 10
    permissions:
      contents: read
      issues: write
    steps:
      - uses: actions/checkout@d23441a48e516b6c34aea4fa41551a30e30af803 # v6.1.0
        with:
          persist-credentials: false
      - uses: actions/setup-python@ece7cb06caefa5fff74198d8649806c4678c61a1 # v6.3.0
        with:
          python-version: "3.11"
      - run: python -m pip install --require-hashes --no-deps -r .github/requirements/ci-tools.txt
      - env:
          NOX_SESSION: notify
        run: nox -s "$NOX_SESSION"
      - if: always()
        uses: actions/upload-artifact@b7c566a772e6b6bfb58ed0dc250532a479d7789f # v6.0.0
        with:
          name: reports-notify
          path: reports/notify/
          retention-days: 14
"""
WITH_NOTIFY = ("          retention-days: 30\n", "          retention-days: 30\n" + NOTIFY_JOB)


def _design(wf: Workflow, row: WorkflowRow = EXAMPLE_ROW) -> list[str]:
    return design_problems(wf, row, BUILD_NAME)


def _documented(wf: Workflow) -> list[str]:
    return secret_doc_problems(wf, {"GITHUB_TOKEN"})


AFTER_BUILD_ROW = WorkflowRow("x", {"workflow_run": Event(after_build=True)}, {"tests": JobRow()})
WEEKLY_ROW = WorkflowRow("x", {"schedule": Event(weekly=True)}, {"tests": JobRow()})
CACHED_ROW = WorkflowRow("x", EXAMPLE_ROW.events, {"tests": JobRow(caches=(UV,))})
PUBLISHING_ROW = WorkflowRow("x", EXAMPLE_ROW.events, {"tests": JobRow(write_scopes=("packages",))})

# (rule, replacements applied to the example workflow, a phrase of the expected problem)
BROKEN_EXAMPLES: list[tuple[WorkflowRule, list[tuple[str, str]], str]] = [
    (schema_problems, [("    runs-on: ubuntu-24.04\n", "")], "runs-on"),
    (schema_problems, [("timeout-minutes: 30", "timeout-minutes: soon")], "timeout-minutes"),
    (schema_problems, [("  pull_request:\n", "  pull_requests:\n")], "schema"),
    (_design, [("branches: [main]", "branches: [develop]")], "the design says ('main',)"),
    (_design, [("  pull_request:\n", "  push:\n")], "'push' is not in the design"),
    (_design, [("timeout-minutes: 30", "timeout-minutes: 60")], "the design says 30"),
    (_design, [("NOX_SESSION: tests", "NOX_SESSION: build")], "not in this file's row"),
    (_design, [PUBLISHING], "write scopes ['packages'], the design says []"),
    (
        functools.partial(_design, row=PUBLISHING_ROW),
        [],
        "write scopes [], the design says ['packages']",
    ),
    (functools.partial(_design, row=CACHED_ROW), [], "restores no ['uv'] cache"),
    (
        functools.partial(_design, row=CACHED_ROW),
        [UV_CACHE, ("hashFiles('uv.lock')", "hashFiles('pyproject.toml')")],
        "restores no ['uv'] cache",
    ),
    (functools.partial(_design, row=AFTER_BUILD_ROW), [AFTER_BUILD], "lacks github.event"),
    (
        functools.partial(_design, row=AFTER_BUILD_ROW),
        [AFTER_BUILD, IF_SUCCESS, ("workflows: [CI build and push]", "workflows: [CI test]")],
        "workflows is ['CI test']",
    ),
    (
        functools.partial(_design, row=AFTER_BUILD_ROW),
        [AFTER_BUILD, IF_SUCCESS, ("types: [completed]", "types: [requested]")],
        "types is ['requested']",
    ),
    (
        functools.partial(_design, row=AFTER_BUILD_ROW),
        [AFTER_BUILD, IF_SUCCESS, ('branches: [main, "v*.*.*"]', "branches: [main]")],
        "branches is ['main']",
    ),
    (
        functools.partial(_design, row=WEEKLY_ROW),
        [("  pull_request:\n    branches: [main]\n", '  schedule:\n    - cron: "0 9 * * *"\n')],
        "once a week",
    ),
    (
        _design,
        [("    name: test\n", "    name: test\n    needs: [other]\n")],
        "needs the jobs of ('<job other>',)",
    ),
    (_design, [WITH_NOTIFY, ("    needs: [test]\n", "")], "must follow the jobs"),
    (_design, [WITH_NOTIFY, ("    needs: [test]\n", "    needs: [x]\n")], "must follow the jobs"),
    (_design, [WITH_NOTIFY, ("timeout-minutes: 10", "timeout-minutes: 30")], "design says 10"),
    (_design, [WITH_NOTIFY, ("issues: write", "packages: write")], "write scopes ['packages']"),
    (release_job_cache_problems, [PUBLISHING, UV_CACHE], "restores a cache"),
    (
        release_job_cache_problems,
        [PUBLISHING, ('python-version: "3.11"', 'python-version: "3.11"\n          cache: pip')],
        "built-in cache",
    ),
    (
        release_job_cache_problems,
        [PUBLISHING, ("NOX_SESSION: tests", "NOX_SESSION: tests\n" + " " * 10 + BUILD_CACHE_GHA)],
        "BuildKit layers",
    ),
    (
        release_job_cache_problems,
        [
            ("      contents: read\n", "      contents: read\n      id-token: write\n"),
            UV_CACHE,
        ],
        "restores a cache",
    ),
    (
        dependency_cache_key_problems,
        [UV_CACHE, ("hashFiles('uv.lock')", "hashFiles('pyproject.toml')")],
        "without hashFiles('uv.lock')",
    ),
    (
        _documented,
        [("NOX_SESSION: tests", "NOX_SESSION: tests\n          HOOK: ${{ secrets.UNDOCUMENTED }}")],
        "UNDOCUMENTED is not documented",
    ),
]


@pytest.mark.parametrize(
    ("rule", "replacements", "expected"),
    BROKEN_EXAMPLES,
    ids=[f"{getattr(r, '__name__', 'design')}-{i}" for i, (r, _, _) in enumerate(BROKEN_EXAMPLES)],
)
def test_design_rule_catches(
    rule: WorkflowRule,
    replacements: list[tuple[str, str]],
    expected: str,
    make_workflow: MakeWorkflow,
) -> None:
    problems = rule(make_workflow(*replacements))
    assert any(expected in problem for problem in problems), problems


def test_example_passes_the_design_rules(make_workflow: MakeWorkflow) -> None:
    example = make_workflow()
    assert _design(example) == []
    assert [p for rule in GENERIC_RULES[:3] for p in rule(example)] == []
    assert _documented(example) == []
    # the cached, the publishing and the follow-up variants pass their own rows
    assert _design(make_workflow(UV_CACHE), CACHED_ROW) == []
    assert _design(make_workflow(PUBLISHING), PUBLISHING_ROW) == []
    assert _design(make_workflow(AFTER_BUILD, IF_SUCCESS), AFTER_BUILD_ROW) == []
    assert _design(make_workflow(WITH_NOTIFY)) == []  # a reporting job needs no row
    assert release_job_cache_problems(make_workflow(PUBLISHING)) == []


def test_a_write_only_build_cache_is_allowed_in_a_publishing_job(
    make_workflow: MakeWorkflow,
) -> None:
    # Exporting layers from a trusted build poisons nothing; restoring them is what is barred.
    env = ("NOX_SESSION: tests", "NOX_SESSION: tests\n          VIBEVOICE_BUILD_CACHE: gha-write")
    assert release_job_cache_problems(make_workflow(PUBLISHING, env)) == []


# --------------------------------------------------------------------------------------------
# The planted defects against the whole battery of workflow checks


def battery(wf: Workflow, pins: Mapping[str, object]) -> list[str]:
    """Every check the workflow tests make of one file (the example's design row)."""
    known = {"tests", "build"}
    return [
        *(p for rule in test_workflow_rules.RULES for p in rule(wf)),
        *test_workflow_sessions.session_problems(wf, known),
        *test_action_pins.pin_problems(wf, test_action_pins.load_pins(pins)),
        *(p for rule in GENERIC_RULES[:3] for p in rule(wf)),
        *_documented(wf),
        *_design(wf),
    ]


PLANTED_DEFECTS: dict[str, tuple[list[tuple[str, str]], str]] = {
    "unpinned action": (
        [("actions/checkout@d23441a48e516b6c34aea4fa41551a30e30af803", "actions/checkout@v6")],
        "not pinned to a full commit SHA",
    ),
    "PR title inside run": (
        [('run: nox -s "$NOX_SESSION"', 'run: echo "${{ github.event.pull_request.title }}"')],
        "inside run",
    ),
    "a job running no session": (
        [('run: nox -s "$NOX_SESSION"', "run: pytest")],
        "0 steps mention nox",
    ),
    "a job running two sessions": (
        [("      - if: always()\n", "      - run: nox -s build\n      - if: always()\n")],
        "2 steps mention nox",
    ),
    "a missing timeout": (
        [("    timeout-minutes: 30\n", "")],
        "timeout-minutes is None",
    ),
    "a write permission at the top level": (
        [("permissions: {}", "permissions:\n  packages: write")],
        "top-level permission packages: write",
    ),
    "a retention that differs from the design": (
        [("retention-days: 30", "retention-days: 14")],
        "retention-days 14, expected 30",
    ),
}


def test_the_example_passes_the_whole_battery(
    make_workflow: MakeWorkflow, pins: dict[str, object]
) -> None:
    assert battery(make_workflow(), pins) == []


@pytest.mark.parametrize("defect", list(PLANTED_DEFECTS))
def test_planted_defect_fails_the_battery(
    defect: str, make_workflow: MakeWorkflow, pins: dict[str, object]
) -> None:
    replacements, expected = PLANTED_DEFECTS[defect]
    problems = battery(make_workflow(*replacements), pins)
    assert any(expected in problem for problem in problems), problems


# --------------------------------------------------------------------------------------------
# The docs name what the workflows do


def readme_session_rows(markdown: str) -> dict[str, str]:
    """``{session: its "CI workflow / job" cell}`` from the README's Sessions table (pure)."""
    section = re.search(r"^## Sessions\s*$(?P<body>.*?)(?=^## |\Z)", markdown, re.M | re.S)
    if section is None:
        return {}
    rows: dict[str, str] = {}
    for line in section["body"].splitlines():
        match = re.match(r"^\|\s*`(?P<name>[a-z][a-z0-9_-]*)`\s*\|", line)
        if match:
            rows[match["name"]] = line.rstrip().rstrip("|").rsplit("|", 1)[-1]
    return rows


def test_readme_rows_reads_the_last_column() -> None:
    text = "## Sessions\n| s | w |\n| --- | --- |\n| `lint` | x | `ci-test.yml` / lint |\n## More\n"
    assert readme_session_rows(text) == {"lint": " `ci-test.yml` / lint "}


def test_readme_names_each_sessions_workflow(
    workflows: list[Workflow], nox_all_sessions: list[NoxSession]
) -> None:
    rows = readme_session_rows((REPO_ROOT / "README.md").read_text(encoding="utf-8"))
    run = test_workflow_sessions.sessions_run_by(workflows)
    problems: list[str] = []
    for session in sorted({s.name for s in nox_all_sessions}):
        cell = rows.get(session)
        if cell is None:
            problems.append(f"{session}: no row in the README's session table")
            continue
        files = sorted({where.split(":")[0] for where in run.get(session, [])})
        problems += [f"{session}: the row does not name {f}" for f in files if f not in cell]
        if session in test_workflow_sessions.LOCAL_ONLY_SESSIONS and "local-only" not in cell:
            problems.append(f"{session}: local-only, and the row does not say so")
    assert problems == []


def test_ci_cd_doc_lists_every_designed_workflow() -> None:
    text = (REPO_ROOT / CI_CD_DOC).read_text(encoding="utf-8")
    section = text.split("## The workflows", 1)[-1].split("\n## ", 1)[0]
    assert [f for f in WORKFLOWS if f"| `{f}` |" not in section] == []
    assert (REPO_ROOT / "docs" / "ci-cd-runbook.md").is_file()
