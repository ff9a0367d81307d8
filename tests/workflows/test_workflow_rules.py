"""The hardening rules every workflow follows (DESIGN.md "Security posture for the workflows").

Each rule is a function from a parsed workflow to a list of problems. ``test_rule_holds``
applies every rule to every file in .github/workflows; ``test_rule_catches`` feeds each rule
an example workflow that breaks it, so a rule that can no longer fail is noticed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest

from vibevoice_ci import ci_tools
from vibevoice_ci.workflows import (
    Job,
    Step,
    Workflow,
    has_expression,
    job_sessions,
    nox_invocations,
    parse_uses,
    secrets_referenced,
    shell_commands,
    uses_of,
)

Rule = Callable[[Workflow], list[str]]
MakeWorkflow = Callable[..., Workflow]

# Scopes a job may write to, each for one documented reason (DESIGN.md).
WRITE_SCOPES_ALLOWED = {
    "packages": "push images to ghcr.io",
    "id-token": "keyless signing and provenance (OIDC)",
    "security-events": "upload SARIF to code scanning",
    "attestations": "store build provenance attestations",
}
READ_ONLY_VALUES = {"read", "none"}
# Header lines every workflow starts with (seed design, "Workflow Documentation").
HEADER_FIELDS = ("Purpose:", "Triggers:", "Outputs:", "Secrets:")
MAX_TIMEOUT_MINUTES = 120
MAX_RETENTION_DAYS = 90
# Artifact retention per session (seed design, "Artifact Retention"): test results and
# coverage 30 days, build logs 14 days, performance and security reports 90 days.
RETENTION_DAYS = {
    "lint": 30,
    "tests": 30,
    "smoke": 30,
    "build": 14,
    "helm": 14,
    "perf": 90,
    "audit": 90,
    "trivy": 90,
    "sign": 90,
}
# The only zizmor audits a workflow may silence inline, where, and why.
ZIZMOR_IGNORES_ALLOWED = {
    ("ci-smoke-test.yml", "dangerous-triggers"): (
        "workflow_run:",
        "read-only job, no secrets, nothing from the triggering run is executed",
    ),
}
_ZIZMOR_IGNORE_RE = re.compile(r"#\s*zizmor:\s*ignore\[(?P<audits>[^\]]*)\]")
_RELEASE_TRIGGERS = {"release", "workflow_run"}
# The hashed file every job installs nox and uv from (generated; see vibevoice_ci.ci_tools).
CI_TOOLS_FILE = PurePosixPath(ci_tools.REQUIREMENTS_PATH.as_posix())
# `pip install` options that take a value (the next word, unless written `--option=value`).
_PIP_VALUE_OPTIONS = frozenset(
    {
        "-r",
        "--requirement",
        "-c",
        "--constraint",
        "-e",
        "--editable",
        "-i",
        "--index-url",
        "--extra-index-url",
        "-f",
        "--find-links",
        "-t",
        "--target",
        "--prefix",
        "--root",
        "--src",
        "--platform",
        "--python-version",
        "--implementation",
        "--abi",
        "--upgrade-strategy",
        "--progress-bar",
        "--root-user-action",
        "--report",
        "--no-binary",
        "--only-binary",
        "-C",
        "--config-settings",
        "--global-option",
        "--cache-dir",
        "--log",
        "--timeout",
        "--retries",
        "--proxy",
        "--trusted-host",
        "--cert",
        "--client-cert",
        "--exists-action",
        "--keyring-provider",
        "--python",
        "--use-feature",
        "--use-deprecated",
        "--group",
    }
)
_PIP_RE = re.compile(r"pip(?:\d+(?:\.\d+)?)?")
_PYTHON_RE = re.compile(r"python(?:\d+(?:\.\d+)?)?")
_ENV_ASSIGNMENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


def _is_expression_true(value: object) -> bool:
    return value is True or value == "true"


def _if_always(step: Step) -> bool:
    condition = (step.if_ or "").strip()
    condition = re.sub(r"^\$\{\{\s*(.*?)\s*\}\}$", r"\1", condition)
    return condition == "always()"


def _scopes(permissions: object) -> dict[str, str] | None:
    if isinstance(permissions, dict):
        return {str(k): str(v) for k, v in permissions.items()}
    return None


def _is_release_workflow(wf: Workflow) -> bool:
    push = wf.triggers.get("push", {})
    return bool(push.get("tags")) or bool(_RELEASE_TRIGGERS & set(wf.triggers))


@dataclass(frozen=True)
class PipInstall:
    """One ``pip install`` command: its flags, its ``-r`` files and what it names directly."""

    flags: frozenset[str]
    files: tuple[PurePosixPath, ...]
    packages: tuple[str, ...]


def pip_install(command: Sequence[str]) -> PipInstall | None:
    """Parse ``pip install``, ``python -m pip install`` or ``uv pip install``; else ``None``.

    ``packages`` are the requirements named on the command line (``nox==1``, ``-e .``): those
    are installed without hashes, whatever the flags say.
    """
    words = list(command)
    while words and _ENV_ASSIGNMENT_RE.match(words[0]):
        words.pop(0)
    if not words:
        return None
    program = Path(words[0]).name
    if _PIP_RE.fullmatch(program):
        args = words[1:]
    elif _PYTHON_RE.fullmatch(program) and words[1:3] == ["-m", "pip"]:
        args = words[3:]
    elif program == "uv" and words[1:2] == ["pip"]:
        args = words[2:]
    else:
        return None
    while args and args[0].startswith("-"):  # general options before the command
        args = args[2:] if args[0] in _PIP_VALUE_OPTIONS else args[1:]
    if args[:1] != ["install"]:
        return None
    flags: set[str] = set()
    files: list[PurePosixPath] = []
    packages: list[str] = []
    rest = iter(args[1:])
    for word in rest:
        if not word.startswith("-"):
            packages.append(word)
            continue
        option, eq, value = word.partition("=")
        if not eq and word in _PIP_VALUE_OPTIONS:
            option, value = word, next(rest, "")
        elif not eq and not option.startswith("--") and option[:2] in {"-r", "-e"}:
            option, value = option[:2], option[2:]  # attached short form: -rfile.txt
        flags.add(option)
        if option in {"-r", "--requirement"}:
            files.append(PurePosixPath(value))
        elif option in {"-e", "--editable"}:
            packages.append(f"-e {value}")
    return PipInstall(frozenset(flags), tuple(files), tuple(packages))


def _step_pip_installs(step: Step) -> list[PipInstall]:
    if step.run is None:
        return []
    found = (pip_install(command) for command in shell_commands(step.run))
    return [install for install in found if install is not None]


def _installs_ci_tools(step: Step) -> bool:
    return any(CI_TOOLS_FILE in install.files for install in _step_pip_installs(step))


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
            elif untrusted:
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
        problems += [
            f"secret {name} used in a workflow_run/pull_request_target workflow"
            for name in sorted(secrets_referenced(wf.text))
        ]
    return problems


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
    """Jobs install nox and uv from the hashed CI tools file; no pip install names a package."""
    problems: list[str] = []
    for job in wf.jobs.values():
        if job.uses is not None:
            continue
        from_file = False
        for step in job.steps:
            for install in _step_pip_installs(step):
                where = f"job {job.id}: {step.label}"
                if install.packages:
                    named = " ".join(install.packages)
                    problems.append(f"{where}: `pip install {named}` installs by name, unhashed")
                if "--require-hashes" not in install.flags:
                    problems.append(f"{where}: pip install without --require-hashes")
                if CI_TOOLS_FILE in install.files:
                    from_file = True
                    if "--no-deps" not in install.flags:
                        problems.append(f"{where}: installs {CI_TOOLS_FILE} without --no-deps")
        if not from_file:
            problems.append(
                f"job {job.id}: does not install nox and uv with `{ci_tools.INSTALL_COMMAND}`"
            )
    return problems


def job_shape_problems(wf: Workflow) -> list[str]:
    """Checkout, set up Python 3.11, install nox, run the session, then upload its reports."""
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
    nox = first(lambda s: s.run is not None and bool(nox_invocations(s.run)))
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
    setup = job.steps[python or 0]
    if str(setup.with_.get("python-version")) != "3.11":
        problems.append(f"setup-python python-version is {setup.with_.get('python-version')!r}")
    return problems


def retention_problems(wf: Workflow) -> list[str]:
    """Each job uploads ``reports/<its session>/`` for as long as the seed design says."""
    problems: list[str] = []
    for job in wf.jobs.values():
        sessions = {s.resolved for s in job_sessions(wf, job) if s.resolved}
        if len(sessions) != 1:
            continue  # the session rules report this
        (session,) = sessions
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
    retention_problems,
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

# (rule, replacements applied to the example workflow, a phrase of the expected problem)
BROKEN_EXAMPLES: list[tuple[Rule, list[tuple[str, str]], str]] = [
    (header_problems, [("# Secrets:  none.\n", "")], "'Secrets:'"),
    (top_permission_problems, [("permissions: {}\n", "")], "no top-level"),
    (top_permission_problems, [("permissions: {}", "permissions: write-all")], "write-all"),
    (top_permission_problems, [("permissions: {}", "permissions:\n  contents: write")], "contents"),
    (job_permission_problems, [("      contents: read\n", "      contents: write\n")], "contents"),
    (job_permission_problems, [("      contents: read\n", "      packages: write\n")], "pull-req"),
    (job_permission_problems, [("    permissions:\n      contents: read\n", "")], "no `perm"),
    (timeout_problems, [("    timeout-minutes: 30\n", "")], "not a number"),
    (timeout_problems, [("timeout-minutes: 30", "timeout-minutes: 600")], "outside"),
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
    (tool_install_problems, [(INSTALL, "python -m pip install nox uv")], "installs by name"),
    (
        tool_install_problems,
        [(INSTALL, f"{INSTALL} && python -m pip install 'nox==2026.10.20'")],
        "`pip install nox==2026.10.20` installs by name",
    ),
    (tool_install_problems, [("--require-hashes ", "")], "without --require-hashes"),
    (tool_install_problems, [("--no-deps ", "")], "without --no-deps"),
    (tool_install_problems, [(INSTALL_STEP, "")], "does not install nox and uv"),
    (
        tool_install_problems,
        [(".github/requirements/ci-tools.txt", "requirements.txt")],
        "does not install nox and uv",
    ),
    (job_shape_problems, [(INSTALL_STEP, "")], "no nox install"),
    (job_shape_problems, [('python-version: "3.11"', 'python-version: "3.12"')], "3.12"),
    (retention_problems, [("path: reports/tests/", "path: reports/")], "does not upload"),
    (retention_problems, [("retention-days: 30", "retention-days: 5")], "expected 30"),
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


def test_example_installs_with_the_documented_command() -> None:
    assert INSTALL == ci_tools.INSTALL_COMMAND


@pytest.mark.parametrize(
    "run",
    [
        "python3 -m pip install --no-deps --require-hashes -r ./.github/requirements/ci-tools.txt",
        "pip install --require-hashes --no-deps --requirement=.github/requirements/ci-tools.txt",
        "A=1 pip3.11 install --no-deps --require-hashes -r.github/requirements/ci-tools.txt",
    ],
)
def test_tool_install_rule_accepts_the_spellings(run: str, make_workflow: MakeWorkflow) -> None:
    assert tool_install_problems(make_workflow((INSTALL, run))) == []


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("echo pip install nox", None),
        ("python -m pip --version", None),
        ("pip download nox", None),
        ("pip --cache-dir /tmp/c install nox", PipInstall(frozenset(), (), ("nox",))),
        (
            "python -m pip install -U --index-url https://x/simple nox",
            PipInstall(frozenset({"-U", "--index-url"}), (), ("nox",)),
        ),
        (
            "uv pip install -c c.txt -e . -r a.txt",
            PipInstall(frozenset({"-c", "-e", "-r"}), (PurePosixPath("a.txt"),), ("-e .",)),
        ),
    ],
)
def test_pip_install_parsing(command: str, expected: PipInstall | None) -> None:
    (words,) = shell_commands(command)
    assert pip_install(words) == expected


def test_every_rule_has_a_broken_example() -> None:
    covered = {rule for rule, _, _ in BROKEN_EXAMPLES}
    assert [rule.__name__ for rule in RULES if rule not in covered] == []
