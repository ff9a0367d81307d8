"""The hardening rules every workflow follows (DESIGN.md "Security posture for the workflows").

Each rule is a function from a parsed workflow to a list of problems. ``test_rule_holds``
applies every rule to every file in .github/workflows; ``test_rule_catches`` feeds each rule
an example workflow that breaks it, so a rule that can no longer fail is noticed.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from workflow_design import SESSIONS
from workflow_model import (
    Job,
    MakeWorkflow,
    Step,
    Workflow,
    has_expression,
    job_session,
    mentions_nox,
    parse_uses,
    secrets_referenced,
    supported_pythons,
    uses_of,
)

from vibevoice_ci.lint import ci_tools

Rule = Callable[[Workflow], list[str]]

# Scopes a job may write to, each for one documented reason (DESIGN.md).
WRITE_SCOPES_ALLOWED = {
    "packages": "push images to ghcr.io",
    "id-token": "keyless signing and provenance (OIDC)",
    "security-events": "upload SARIF to code scanning",
    "attestations": "store build provenance attestations",
    "issues": "open or update the one issue per performance regression (nox -s notify)",
    "pull-requests": "comment on a pull request, updated in place (nox -s notify)",
}
# A job in a pull-request-triggered workflow may hold a write scope only when its `if:` keeps
# it off pull-request runs: this exact conjunct, and no `||` that could route around it.
PULL_REQUEST_GUARD = "github.event_name != 'pull_request'"
READ_ONLY_VALUES = {"read", "none"}
# Write scopes a pull-request-triggered job may hold, and why. A fork's pull request gets a
# read-only token whatever the job asks; a branch of this repository is written by someone who
# can push anyway. Code scanning needs the scope to show a pull request's SARIF results.
PULL_REQUEST_WRITE_SCOPES = {
    "security-events": "upload the dependency audit's SARIF log for the pull request",
}
# Header lines every workflow starts with (seed design, "Workflow Documentation").
HEADER_FIELDS = ("Purpose:", "Triggers:", "Outputs:", "Secrets:")
MAX_TIMEOUT_MINUTES = 120
MAX_RETENTION_DAYS = 90
# Artifact retention per session (seed design, "Artifact Retention"): test results and
# coverage 30 days, build logs 14 days, performance and security reports 90 days. The numbers
# live in workflow_design.SESSIONS, the design table.
RETENTION_DAYS = {session: row.retention_days for session, row in SESSIONS.items()}
# The one exception to "no secret in a workflow_run workflow": the webhook a notify job reads
# in a follow-up of the build (push-only, so no pull request's run can start it), to announce
# a CRITICAL finding at once. That job runs this repository's code on the scan's reports and
# never code from the run it follows.
BUILD_WORKFLOW_NAME = "CI build and push"
FOLLOW_UP_SECRETS_ALLOWED: dict[str, set[str]] = {"notify": {"SLACK_WEBHOOK_URL"}}
# The only zizmor audits a workflow may silence inline, where, and why.
ZIZMOR_IGNORES_ALLOWED = {
    ("ci-smoke-test.yml", "dangerous-triggers"): (
        "workflow_run:",
        "read-only job, no secrets, nothing from the triggering run is executed",
    ),
    ("ci-provenance.yml", "dangerous-triggers"): (
        "workflow_run:",
        "runs on main and tags only; the build's artifact is read as data, never executed",
    ),
    ("ci-security-images.yml", "dangerous-triggers"): (
        "workflow_run:",
        "a scan: only release.json (data) is taken from the triggering run, nothing executed",
    ),
    ("ci-pr-feedback.yml", "dangerous-triggers"): (
        "workflow_run:",
        "PR comments: main's code runs, the PR run's reports are read as data, no cache",
    ),
}
_ZIZMOR_IGNORE_RE = re.compile(r"#\s*zizmor:\s*ignore\[(?P<audits>[^\]]*)\]")
_RELEASE_TRIGGERS = {"release", "workflow_run"}
# The one command every job installs nox and uv with (hashed, generated; see ci_tools).
INSTALL_COMMAND = ci_tools.INSTALL_COMMAND
# A run: step that names any of these installs Python packages; only INSTALL_COMMAND may.
_INSTALLER_RE = re.compile(r"\b(?:pip[0-9.]*|pipx|uvx|easy_install)\b|\buv\s+(?:pip|tool)\b")
# The lowest supported Python (pyproject.toml's classifiers): every job without a Python
# matrix sets it up, so nothing is tested only on a version users may not have.
_PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
LOWEST_PYTHON = supported_pythons(
    tomllib.loads(_PYPROJECT.read_text(encoding="utf-8"))["project"].get("classifiers", [])
)[0]
MATRIX_PYTHON = "${{ matrix.python-version }}"


def _is_expression_true(value: object) -> bool:
    return value is True or value == "true"


def _if_always(step: Step) -> bool:
    condition = (step.if_ or "").strip()
    condition = re.sub(r"^\$\{\{\s*(.*?)\s*\}\}$", r"\1", condition)
    return condition == "always()"


def _excludes_pull_requests(job: Job) -> bool:
    """The job's ``if:`` is a conjunction with :data:`PULL_REQUEST_GUARD` among its terms."""
    condition = str(job.raw.get("if") or "").strip()
    condition = re.sub(r"^\$\{\{\s*(.*?)\s*\}\}$", r"\1", condition, flags=re.DOTALL)
    if not condition or "||" in condition:
        return False
    return PULL_REQUEST_GUARD in [term.strip() for term in condition.split("&&")]


def _scopes(permissions: object) -> dict[str, str] | None:
    if isinstance(permissions, dict):
        return {str(k): str(v) for k, v in permissions.items()}
    return None


def _is_release_workflow(wf: Workflow) -> bool:
    push = wf.triggers.get("push", {})
    return bool(push.get("tags")) or bool(_RELEASE_TRIGGERS & set(wf.triggers))


def _installs_ci_tools(step: Step) -> bool:
    return (step.run or "").strip() == INSTALL_COMMAND


# --------------------------------------------------------------------------------------------
# The rules


def header_problems(wf: Workflow) -> list[str]:
    """The file opens with a comment block naming purpose, triggers, outputs and secrets."""
    header: list[str] = []
    for line in wf.text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    text = "\n".join(header)
    return [f"header comment has no {field!r} line" for field in HEADER_FIELDS if field not in text]


def top_permission_problems(wf: Workflow) -> list[str]:
    """Top-level permissions exist and are empty or read-only."""
    if not wf.has_permissions:
        return ["no top-level `permissions:` (the default token may be read-write)"]
    if wf.permissions == "read-all":
        return []
    scopes = _scopes(wf.permissions)
    if scopes is None:
        return [f"top-level permissions {wf.permissions!r} are not `{{}}` or read-only"]
    return [
        f"top-level permission {scope}: {value} (write scopes belong on the job that needs them)"
        for scope, value in scopes.items()
        if value not in READ_ONLY_VALUES
    ]


def job_permission_problems(wf: Workflow) -> list[str]:
    """Every job declares its scopes; write scopes only from the allowed list, never on PRs."""
    problems: list[str] = []
    untrusted = "pull_request" in wf.triggers or "pull_request_target" in wf.triggers
    for job in wf.jobs.values():
        scopes = _scopes(job.permissions)
        if job.permissions is None:
            problems.append(f"job {job.id}: no `permissions:` block")
            continue
        if scopes is None:
            problems.append(f"job {job.id}: permissions {job.permissions!r} are not a mapping")
            continue
        for scope, value in scopes.items():
            if value in READ_ONLY_VALUES:
                continue
            if value != "write" or scope not in WRITE_SCOPES_ALLOWED:
                problems.append(f"job {job.id}: {scope}: {value} is not an allowed scope")
            elif (
                untrusted
                and scope not in PULL_REQUEST_WRITE_SCOPES
                and not _excludes_pull_requests(job)
            ):
                problems.append(f"job {job.id}: {scope}: write on a pull-request-triggered run")
    return problems


def timeout_problems(wf: Workflow) -> list[str]:
    """Every job has a whole-number ``timeout-minutes`` (GitHub's default is 6 hours)."""
    problems: list[str] = []
    for job in wf.jobs.values():
        if job.uses is not None:
            continue  # a reusable-workflow call: its jobs carry their own timeouts
        minutes = job.timeout_minutes
        if not isinstance(minutes, int) or isinstance(minutes, bool):
            problems.append(f"job {job.id}: timeout-minutes is {minutes!r}, not a number")
        elif not 1 <= minutes <= MAX_TIMEOUT_MINUTES:
            problems.append(f"job {job.id}: timeout-minutes {minutes} outside 1..120")
    return problems


def concurrency_problems(wf: Workflow) -> list[str]:
    """A concurrency group; PR runs cancel their predecessors, release runs never do."""
    concurrency = wf.concurrency
    if not isinstance(concurrency, dict) or not concurrency.get("group"):
        return ["no `concurrency:` group"]
    cancel = concurrency.get("cancel-in-progress", False)
    if "pull_request" in wf.triggers:
        if not (isinstance(cancel, str) and "pull_request" in cancel):
            return [f"cancel-in-progress {cancel!r} should be true for pull requests only"]
    elif _is_release_workflow(wf) and cancel is not False:
        return [f"cancel-in-progress {cancel!r} on a release workflow (must be false)"]
    return []


def checkout_problems(wf: Workflow) -> list[str]:
    """Every checkout sets ``persist-credentials: false`` (no token left in .git/config)."""
    return [
        f"job {job.id}: {step.label} does not set persist-credentials: false"
        for job in wf.jobs.values()
        for step in uses_of(job, "actions/checkout")
        if step.with_.get("persist-credentials") not in (False, "false")
    ]


def upload_problems(wf: Workflow) -> list[str]:
    """Uploads run ``if: always()`` (failures leave their reports) with a retention period."""
    problems: list[str] = []
    for job in wf.jobs.values():
        for step in uses_of(job, "actions/upload-artifact"):
            if not _if_always(step):
                problems.append(f"job {job.id}: {step.label} lacks `if: always()`")
            days = step.with_.get("retention-days")
            if not isinstance(days, int) or not 1 <= days <= MAX_RETENTION_DAYS:
                problems.append(f"job {job.id}: {step.label} retention-days is {days!r}")
    return problems


def expression_in_run_problems(wf: Workflow) -> list[str]:
    """No ``${{ }}`` inside ``run:``: values reach scripts through ``env:`` only."""
    return [
        f"job {job.id}: {step.label}: `${{{{` inside run: (pass it through env:)"
        for job in wf.jobs.values()
        for step in job.steps
        if step.run is not None and has_expression(step.run)
    ]


def needs_problems(wf: Workflow) -> list[str]:
    """``needs:`` names jobs of the same workflow, without cycles."""
    problems = [
        f"job {job.id} needs unknown job {need!r}"
        for job in wf.jobs.values()
        for need in job.needs
        if need not in wf.jobs
    ]
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(job_id: str, chain: list[str]) -> None:
        if job_id in done or job_id not in wf.jobs:
            return
        if job_id in visiting:
            problems.append(f"needs cycle: {' -> '.join([*chain, job_id])}")
            return
        visiting.add(job_id)
        for need in wf.jobs[job_id].needs:
            visit(need, [*chain, job_id])
        visiting.discard(job_id)
        done.add(job_id)

    for job_id in wf.jobs:
        visit(job_id, [])
    return problems


def secret_problems(wf: Workflow) -> list[str]:
    """Referenced secrets are named in the header; no ``secrets: inherit``; none on PR runs."""
    header = "\n".join(line for line in wf.text.splitlines() if line.startswith("#"))
    problems = [
        f"secret {name} is not documented in the header comment"
        for name in sorted(secrets_referenced(wf.text))
        if name not in header
    ]
    problems += [
        f"job {job.id}: `secrets: inherit` passes every secret on"
        for job in wf.jobs.values()
        if job.raw.get("secrets") == "inherit"
    ]
    if "workflow_run" in wf.triggers or "pull_request_target" in wf.triggers:
        follows_build = _follows_the_build_only(wf)
        for job in wf.jobs.values():
            found = job_session(job)
            session = found.session if found is not None else None
            allowed = (
                FOLLOW_UP_SECRETS_ALLOWED.get(session or "", set()) if follows_build else set()
            )
            problems += [
                f"job {job.id}: secret {name} used in a workflow_run/pull_request_target workflow"
                for name in sorted(secrets_referenced(json.dumps(job.raw)) - allowed)
            ]
    return problems


def _follows_the_build_only(wf: Workflow) -> bool:
    """A workflow_run follow-up of the build alone, which runs only for pushes to main and
    release tags: no pull request's run can start it."""
    follows = (wf.triggers.get("workflow_run") or {}).get("workflows")
    return "pull_request_target" not in wf.triggers and follows == [BUILD_WORKFLOW_NAME]


def release_cache_problems(wf: Workflow) -> list[str]:
    """Release workflows (tags, workflow_run) restore no cache another run could poison."""
    if not _is_release_workflow(wf):
        return []
    problems: list[str] = []
    for job in wf.jobs.values():
        problems += [
            f"job {job.id}: {step.label} restores a cache in a release workflow"
            for step in uses_of(job, "actions/cache")
        ]
        for step in [*uses_of(job, "actions/setup-python"), *uses_of(job, "astral-sh/setup-uv")]:
            if step.with_.get("cache") or _is_expression_true(step.with_.get("enable-cache")):
                problems.append(f"job {job.id}: {step.label} enables a cache")
    return problems


def zizmor_ignore_problems(wf: Workflow) -> list[str]:
    """Inline ``# zizmor: ignore[...]`` only where allowed, on the line it is about."""
    problems: list[str] = []
    for number, line in enumerate(wf.text.splitlines(), start=1):
        for match in _ZIZMOR_IGNORE_RE.finditer(line):
            for audit in (a.strip() for a in match["audits"].split(",")):
                allowed = ZIZMOR_IGNORES_ALLOWED.get((wf.path.name, audit))
                if allowed is None:
                    problems.append(f"line {number}: zizmor ignore[{audit}] is not allowed")
                elif allowed[0] not in line:
                    problems.append(f"line {number}: ignore[{audit}] must sit on {allowed[0]!r}")
    return problems


def tool_install_problems(wf: Workflow) -> list[str]:
    """Jobs install nox and uv with exactly the hashed install command, and install nothing
    else with pip, pipx, uvx or ``uv pip``/``uv tool`` (that would be unhashed)."""
    problems: list[str] = []
    for job in wf.jobs.values():
        if job.uses is not None:
            continue
        problems += [
            f"job {job.id}: {step.label}: installs outside `{INSTALL_COMMAND}`: {step.run!r}"
            for step in job.steps
            if step.run is not None
            and not _installs_ci_tools(step)
            and _INSTALLER_RE.search(step.run)
        ]
        if not any(_installs_ci_tools(step) for step in job.steps):
            problems.append(f"job {job.id}: does not install nox and uv with `{INSTALL_COMMAND}`")
    return problems


def job_shape_problems(wf: Workflow) -> list[str]:
    """Checkout, set up Python, install nox, run the session, then upload its reports."""
    problems: list[str] = []
    for job in wf.jobs.values():
        if job.uses is not None:
            continue
        problems += [f"job {job.id}: {p}" for p in _shape(job)]
    return problems


def _shape(job: Job) -> list[str]:
    def first(predicate: Callable[[Step], bool]) -> int | None:
        return next((s.index for s in job.steps if predicate(s)), None)

    def uses_repo(repo: str) -> Callable[[Step], bool]:
        return lambda s: s.uses is not None and parse_uses(s.uses).repo == repo

    checkout = first(uses_repo("actions/checkout"))
    python = first(uses_repo("actions/setup-python"))
    install = first(_installs_ci_tools)
    nox = first(mentions_nox)
    upload = first(uses_repo("actions/upload-artifact"))
    order = [
        ("checkout", checkout),
        ("setup-python", python),
        ("nox install", install),
        ("nox run", nox),
        ("upload-artifact", upload),
    ]
    problems = [f"no {what} step" for what, index in order if index is None]
    if problems:
        return problems
    indices = [index for _, index in order if index is not None]
    if indices != sorted(indices) or checkout != 0:
        problems.append("steps are not: checkout, setup-python, install nox, nox -s, upload")
    version = job.steps[python or 0].with_.get("python-version")
    expected = MATRIX_PYTHON if "python-version" in job.matrix else LOWEST_PYTHON
    if version != expected:
        problems.append(f"setup-python python-version is {version!r}, expected {expected!r}")
    return problems


def matrix_problems(wf: Workflow) -> list[str]:
    """A matrix job's name, cache keys and artifact names show every matrix value, so two
    legs never share a cache entry or overwrite each other's artifact; Python versions are
    quoted strings (an unquoted 3.10 is the number 3.1)."""
    problems: list[str] = []
    for job in wf.jobs.values():
        for key, values in job.matrix.items():
            ref = f"matrix.{key}"
            if not isinstance(values, list) or not values:
                problems.append(f"job {job.id}: matrix {key} is {values!r}, not a list")
                continue
            if key == "python-version" and not all(isinstance(v, str) for v in values):
                problems.append(f"job {job.id}: matrix python-version {values!r} is not strings")
            if ref not in (job.name or ""):
                problems.append(f"job {job.id}: name {job.name!r} does not show {ref}")
            for step in uses_of(job, "actions/cache"):
                if _is_tools_cache(step):
                    continue  # Go-built tools: the same bytes whatever the matrix says
                if ref not in str(step.with_.get("key", "")):
                    problems.append(f"job {job.id}: {step.label}: cache key lacks {ref}")
            for step in uses_of(job, "actions/upload-artifact"):
                if ref not in str(step.with_.get("name", "")):
                    problems.append(f"job {job.id}: {step.label}: artifact name lacks {ref}")
    return problems


def sarif_upload_problems(wf: Workflow) -> list[str]:
    """A job that uploads SARIF holds ``security-events: write`` and ``actions: read``:
    upload-sarif reads the run's workflow through the Actions API, which a private
    repository's token may do only with ``actions: read`` (codeql-action's README)."""
    problems: list[str] = []
    for job in wf.jobs.values():
        uploads = [s for s in uses_of(job, "github/codeql-action") if _is_sarif_upload(s)]
        if not uploads:
            continue
        scopes = _scopes(job.permissions) or {}
        if scopes.get("security-events") != "write":
            problems.append(f"job {job.id}: uploads SARIF without security-events: write")
        if scopes.get("actions") not in {"read", "write"}:
            problems.append(
                f"job {job.id}: uploads SARIF without actions: read (a private repository's "
                "upload then fails)"
            )
    return problems


def _is_sarif_upload(step: Step) -> bool:
    return step.uses is not None and parse_uses(step.uses).path == "upload-sarif"


# Caches of tools built by scripts/ci/ (Go builds keyed by their pinned versions): their
# contents do not depend on a matrix value, so the legs of a matrix share one entry.
TOOLS_CACHE_PATHS = (
    "/home/runner/.cache/vibevoice/bin",
    "/home/runner/.cache/vibevoice-ci/go/bin",
)


def _is_tools_cache(step: Step) -> bool:
    paths = [p.strip() for p in str(step.with_.get("path", "")).splitlines() if p.strip()]
    return bool(paths) and all(path in TOOLS_CACHE_PATHS for path in paths)


def retention_problems(wf: Workflow) -> list[str]:
    """Each job uploads ``reports/<its session>/`` for as long as the seed design says."""
    problems: list[str] = []
    for job in wf.jobs.values():
        found = job_session(job)
        if found is None or not found.session:
            continue  # the session rule reports this
        session = found.session
        uploads = uses_of(job, "actions/upload-artifact")
        paths = {str(step.with_.get("path", "")).rstrip("/") for step in uploads}
        if f"reports/{session}" not in paths:
            problems.append(f"job {job.id}: does not upload reports/{session}/ (has {paths})")
        expected = RETENTION_DAYS.get(session)
        for step in uploads:
            days = step.with_.get("retention-days")
            if expected is not None and days != expected:
                problems.append(f"job {job.id}: retention-days {days!r}, expected {expected}")
    return problems


RULES: list[Rule] = [
    header_problems,
    top_permission_problems,
    job_permission_problems,
    timeout_problems,
    concurrency_problems,
    checkout_problems,
    upload_problems,
    expression_in_run_problems,
    needs_problems,
    secret_problems,
    release_cache_problems,
    zizmor_ignore_problems,
    tool_install_problems,
    job_shape_problems,
    matrix_problems,
    retention_problems,
    sarif_upload_problems,
]


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_rule_holds(rule: Rule, workflows: list[Workflow]) -> None:
    problems = [f"{wf.path.name}: {problem}" for wf in workflows for problem in rule(wf)]
    assert problems == [], f"{rule.__doc__}\n" + "\n".join(problems)


def test_example_workflow_passes_every_rule(make_workflow: MakeWorkflow) -> None:
    example = make_workflow()
    assert {rule.__name__: rule(example) for rule in RULES} == {r.__name__: [] for r in RULES}


INSTALL = "python -m pip install --require-hashes --no-deps -r .github/requirements/ci-tools.txt"
INSTALL_STEP = f"      - run: {INSTALL}\n"

# The example's test job as a matrix over the lowest and highest Python, done right.
MATRIX_NAME = "test (${{ matrix.python-version }})"
NAME_WITH_MATRIX = ("    name: test\n", f"    name: {MATRIX_NAME}\n")
MATRIX = [
    ('python-version: "3.11"', f"python-version: {MATRIX_PYTHON}"),
    (
        "    runs-on:",
        '    strategy:\n      matrix:\n        python-version: ["3.11", "3.13"]\n    runs-on:',
    ),
    ("name: reports-tests", "name: reports-tests-${{ matrix.python-version }}"),
    NAME_WITH_MATRIX,
]
CACHE_STEP = (
    INSTALL_STEP,
    "      - uses: actions/cache@27d5ce7f107fe9357f9df03efb73ab90386fccae # v5.0.5\n"
    "        with:\n          path: ~/.cache/uv\n"
    "          key: ${{ runner.os }}-tests-${{ hashFiles('uv.lock') }}\n" + INSTALL_STEP,
)

SARIF_UPLOAD = (
    "      - if: always()\n        uses: actions/upload-artifact",
    "      - if: always()\n"
    "        uses: github/codeql-action/upload-sarif@8aad20d150bbac5944a9f9d289da16a4b0d87c1e"
    " # v4.36.2\n        with:\n          sarif_file: reports/tests/x.sarif\n"
    "      - if: always()\n        uses: actions/upload-artifact",
)
SARIF_SCOPES = (
    "      contents: read\n",
    "      contents: read\n      actions: read\n      security-events: write\n",
)

_SLACK_ENV = "          SLACK_WEBHOOK_URL: ${{ secrets.SLACK_WEBHOOK_URL }}\n"

# (rule, replacements applied to the example workflow, a phrase of the expected problem)
BROKEN_EXAMPLES: list[tuple[Rule, list[tuple[str, str]], str]] = [
    (header_problems, [("# Secrets:  none.\n", "")], "'Secrets:'"),
    (top_permission_problems, [("permissions: {}\n", "")], "no top-level"),
    (top_permission_problems, [("permissions: {}", "permissions: write-all")], "write-all"),
    (top_permission_problems, [("permissions: {}", "permissions:\n  contents: write")], "contents"),
    (job_permission_problems, [("      contents: read\n", "      contents: write\n")], "contents"),
    (job_permission_problems, [("      contents: read\n", "      packages: write\n")], "pull-req"),
    (job_permission_problems, [("    permissions:\n      contents: read\n", "")], "no `perm"),
    (job_permission_problems, [("      contents: read\n", "      issues: write\n")], "pull-req"),
    (
        job_permission_problems,
        [
            ("      contents: read\n", "      issues: write\n"),
            ("    name: test\n", f"    name: test\n    if: {PULL_REQUEST_GUARD} || always()\n"),
        ],
        "pull-req",
    ),
    (
        job_permission_problems,
        [("      contents: read\n", "      contents: read\n      id-token: write\n")],
        "id-token: write on a pull-request",
    ),
    (timeout_problems, [("    timeout-minutes: 90\n", "")], "not a number"),
    (timeout_problems, [("timeout-minutes: 90", "timeout-minutes: 600")], "outside"),
    (concurrency_problems, [("concurrency:\n  group:", "x-concurrency:\n  group:")], "no `conc"),
    (
        concurrency_problems,
        [("cancel-in-progress: ${{ github.event_name == 'pull_request' }}", "")],
        "pull requests only",
    ),
    (
        concurrency_problems,
        [
            ("  pull_request:\n    branches: [main]", "  push:\n    tags: ['v*.*.*']"),
            ("${{ github.event_name == 'pull_request' }}", "true"),
        ],
        "release workflow",
    ),
    (checkout_problems, [("persist-credentials: false", "persist-credentials: true")], "persist"),
    (checkout_problems, [("        with:\n          persist-credentials: false\n", "")], "persist"),
    (upload_problems, [("      - if: always()\n        uses", "      - uses")], "always()"),
    (upload_problems, [("          retention-days: 30\n", "")], "retention-days is None"),
    (
        expression_in_run_problems,
        [('run: nox -s "$NOX_SESSION"', "run: nox -s ${{ github.head_ref }}")],
        "inside run",
    ),
    (needs_problems, [("    name: test\n", "    name: test\n    needs: [build]\n")], "unknown"),
    (needs_problems, [("    name: test\n", "    name: test\n    needs: test\n")], "cycle"),
    (
        secret_problems,
        [
            (
                '        run: nox -s "$NOX_SESSION"',
                "          T: ${{ secrets.API_KEY }}\n        run: x",
            )
        ],
        "API_KEY is not documented",
    ),
    # No secret in a workflow_run workflow: not in a session job of a build follow-up ...
    (
        secret_problems,
        [
            (
                "  pull_request:\n    branches: [main]\n",
                "  workflow_run:\n    workflows: [CI build and push]\n    types: [completed]\n",
            ),
            (
                '        run: nox -s "$NOX_SESSION"',
                _SLACK_ENV + '        run: nox -s "$NOX_SESSION"',
            ),
            ("# Secrets:  none.", "# Secrets:  SLACK_WEBHOOK_URL."),
        ],
        "job test: secret SLACK_WEBHOOK_URL used in a workflow_run",
    ),
    # ... nor in a notify job that follows anything but the build (a PR's run could start it).
    (
        secret_problems,
        [
            (
                "  pull_request:\n    branches: [main]\n",
                "  workflow_run:\n    workflows: [CI test]\n    types: [completed]\n",
            ),
            ("NOX_SESSION: tests", "NOX_SESSION: notify"),
            (
                '        run: nox -s "$NOX_SESSION"',
                _SLACK_ENV + '        run: nox -s "$NOX_SESSION"',
            ),
            ("# Secrets:  none.", "# Secrets:  SLACK_WEBHOOK_URL."),
        ],
        "job test: secret SLACK_WEBHOOK_URL used in a workflow_run",
    ),
    (
        release_cache_problems,
        [
            ("  pull_request:\n    branches: [main]", "  push:\n    tags: ['v*.*.*']"),
            ('python-version: "3.11"', 'python-version: "3.11"\n          cache: pip'),
        ],
        "enables a cache",
    ),
    (
        zizmor_ignore_problems,
        [("  pull_request:\n", "  pull_request:  # zizmor: ignore[dangerous-triggers]\n")],
        "not allowed",
    ),
    (tool_install_problems, [(INSTALL, "python -m pip install nox uv")], "installs outside"),
    (
        tool_install_problems,
        [(INSTALL, f"{INSTALL} && python -m pip install 'nox==2026.10.20'")],
        "installs outside",
    ),
    (tool_install_problems, [("--require-hashes ", "")], "installs outside"),
    (tool_install_problems, [("--no-deps ", "")], "installs outside"),
    (tool_install_problems, [(INSTALL_STEP, "")], "does not install nox and uv"),
    (
        tool_install_problems,
        [(".github/requirements/ci-tools.txt", "requirements.txt")],
        "does not install nox and uv",
    ),
    (
        tool_install_problems,
        [(INSTALL_STEP, f"{INSTALL_STEP}      - run: uvx --from nox nox --version\n")],
        "installs outside",
    ),
    (
        tool_install_problems,
        [(INSTALL_STEP, f"{INSTALL_STEP}      - run: uv tool install nox\n")],
        "installs outside",
    ),
    (job_shape_problems, [(INSTALL_STEP, "")], "no nox install"),
    (job_shape_problems, [('python-version: "3.11"', 'python-version: "3.12"')], "3.12"),
    (job_shape_problems, [*MATRIX[1:]], "expected '${{ matrix.python-version }}'"),
    (matrix_problems, [*MATRIX[:2], NAME_WITH_MATRIX], "artifact name lacks"),
    (matrix_problems, MATRIX[:3], "does not show matrix.python-version"),
    (matrix_problems, [*MATRIX, CACHE_STEP], "cache key lacks"),
    (
        matrix_problems,
        [*MATRIX, ('python-version: ["3.11", "3.13"]', "python-version: [3.11, 3.13]")],
        "is not strings",
    ),
    (matrix_problems, [*MATRIX, ('["3.11", "3.13"]', "[]")], "not a list"),
    (retention_problems, [("path: reports/tests/", "path: reports/")], "does not upload"),
    (retention_problems, [("retention-days: 30", "retention-days: 5")], "expected 30"),
    (
        sarif_upload_problems,
        [
            SARIF_UPLOAD,
            ("      contents: read\n", "      contents: read\n      security-events: write\n"),
        ],
        "without actions: read",
    ),
    (
        sarif_upload_problems,
        [SARIF_UPLOAD, ("      contents: read\n", "      contents: read\n      actions: read\n")],
        "without security-events: write",
    ),
]


@pytest.mark.parametrize(
    ("rule", "replacements", "expected"),
    BROKEN_EXAMPLES,
    ids=[f"{rule.__name__}-{i}" for i, (rule, _, _) in enumerate(BROKEN_EXAMPLES)],
)
def test_rule_catches(
    rule: Rule,
    replacements: list[tuple[str, str]],
    expected: str,
    make_workflow: MakeWorkflow,
) -> None:
    problems = rule(make_workflow(*replacements))
    assert any(expected in problem for problem in problems), problems


def test_smoke_ignore_is_allowed_only_in_its_file(make_workflow: MakeWorkflow) -> None:
    ignore = ("  pull_request:\n", "  workflow_run:  # zizmor: ignore[dangerous-triggers]\n")
    assert zizmor_ignore_problems(make_workflow(ignore, name="ci-smoke-test.yml")) == []
    assert zizmor_ignore_problems(make_workflow(ignore, name="other.yml")) != []


def test_matrix_example_passes_every_rule(make_workflow: MakeWorkflow) -> None:
    example = make_workflow(*MATRIX)
    assert example.jobs["test"].matrix == {"python-version": ["3.11", "3.13"]}
    assert {rule.__name__: rule(example) for rule in RULES} == {r.__name__: [] for r in RULES}


def test_example_installs_with_the_documented_command() -> None:
    assert INSTALL == ci_tools.INSTALL_COMMAND


def test_security_events_is_the_one_write_scope_a_pull_request_job_may_hold(
    make_workflow: MakeWorkflow,
) -> None:
    grant = ("      contents: read\n", "      contents: read\n      security-events: write\n")
    assert job_permission_problems(make_workflow(grant)) == []
    assert set(PULL_REQUEST_WRITE_SCOPES) <= set(WRITE_SCOPES_ALLOWED)


def test_every_rule_has_a_broken_example() -> None:
    covered = {rule for rule, _, _ in BROKEN_EXAMPLES}
    assert [rule.__name__ for rule in RULES if rule not in covered] == []


def test_a_write_scope_is_allowed_on_a_job_kept_off_pull_requests(
    make_workflow: MakeWorkflow,
) -> None:
    guarded = make_workflow(
        ("      contents: read\n", "      issues: write\n"),
        ("    name: test\n", f"    name: test\n    if: failure() && {PULL_REQUEST_GUARD}\n"),
    )
    assert job_permission_problems(guarded) == []


def test_a_build_follow_ups_notify_job_may_read_the_webhook(make_workflow: MakeWorkflow) -> None:
    wf = make_workflow(
        (
            "  pull_request:\n    branches: [main]\n",
            "  workflow_run:\n    workflows: [CI build and push]\n    types: [completed]\n",
        ),
        ("NOX_SESSION: tests", "NOX_SESSION: notify"),
        ('        run: nox -s "$NOX_SESSION"', _SLACK_ENV + '        run: nox -s "$NOX_SESSION"'),
        ("# Secrets:  none.", "# Secrets:  SLACK_WEBHOOK_URL."),
    )
    assert secret_problems(wf) == []


def test_a_sarif_upload_with_both_scopes_passes(make_workflow: MakeWorkflow) -> None:
    assert sarif_upload_problems(make_workflow(SARIF_UPLOAD, SARIF_SCOPES)) == []


def test_a_tools_cache_needs_no_matrix_value(make_workflow: MakeWorkflow) -> None:
    tools_cache = (
        INSTALL_STEP,
        "      - uses: actions/cache@27d5ce7f107fe9357f9df03efb73ab90386fccae # v5.0.5\n"
        "        with:\n          path: /home/runner/.cache/vibevoice-ci/go/bin\n"
        "          key: go-tools-crane0.22.1-script0123456789abcdef\n" + INSTALL_STEP,
    )
    assert matrix_problems(make_workflow(*MATRIX, tools_cache)) == []
