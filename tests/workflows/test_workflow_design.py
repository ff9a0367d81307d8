"""The eight workflows match the seed design's table (``workflow_design.py``), and stay so;
the checks themselves are pure functions in ``design_rules.py``.

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
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
import test_action_pins
import test_workflow_rules
import test_workflow_sessions
from design_rules import (
    CI_CD_DOC,
    REPO_ROOT,
    WorkflowRule,
    dependency_cache_key_problems,
    design_problems,
    documented_in_repo,
    documented_secret_problems,
    documented_secrets,
    is_weekly,
    release_job_cache_problems,
    schema_errors,
    schema_problems,
    secret_doc_problems,
)
from workflow_design import (
    BUILD_FILE,
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
    MakeWorkflow,
    NoxSession,
    Workflow,
    load_yaml,
    parse_workflow,
)

DEPENDABOT = Path(".github") / "dependabot.yml"

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
    # seed-design.md, "Timeout Handling" and "Artifact Retention", as written there; the
    # tests job's 90 is the design's 30 plus its tools' cold install (SESSIONS says why).
    assert (SESSIONS["tests"].timeout_minutes, SESSIONS["build"].timeout_minutes) == (90, 60)
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
    assert "GITHUB_TOKEN" in documented_in_repo()


@pytest.mark.parametrize(
    ("cron", "weekly"),
    [("0 9 * * 1", True), ("30 4 * * 0", True), ("0 2 * * *", False), ("0 9 1 * 1", False)],
)
def test_weekly_cron(cron: str, weekly: bool) -> None:
    assert is_weekly(cron) is weekly


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
    "      - uses: actions/cache@27d5ce7f107fe9357f9df03efb73ab90386fccae # v5.0.5\n"
    "        with:\n          path: ~/.cache/uv\n"
    "          key: uv-${{ hashFiles('uv.lock') }}\n"
    "      - run: python -m pip install",
)
PUBLISHING = ("      contents: read\n", "      contents: read\n      packages: write\n")
_INSTALL_LINE = "      - run: python -m pip install"
QEMU = (
    _INSTALL_LINE,
    "      - uses: docker/setup-qemu-action@96fe6ef7f33517b61c61be40b68a1882f3264fb8 # v4.2.0\n"
    "        with:\n          cache-image: false\n" + _INSTALL_LINE,
)
QEMU_DEFAULTS = (
    "      - uses: docker/setup-qemu-action@96fe6ef7f33517b61c61be40b68a1882f3264fb8 # v4.2.0\n"
    + _INSTALL_LINE
)
BUILDX = (
    _INSTALL_LINE,
    "      - uses: docker/setup-buildx-action@37fe631027851001ddb9b187196cc803df7f5f0e # v4.3.0\n"
    "        with:\n          cache-binary: false\n" + _INSTALL_LINE,
)
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

AFTER_PR_RUNS = (
    "  pull_request:\n    branches: [main]\n",
    "  workflow_run:\n    workflows: [CI test]\n    types: [completed]\n",
)
IF_SAME_REPO_PR = (
    "    name: test\n",
    "    name: test\n    if: >-\n      github.event.workflow_run.event == 'pull_request' &&\n"
    "      github.event.workflow_run.head_repository.full_name == github.repository\n",
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
AFTER_PR_RUNS_ROW = WorkflowRow(
    "x", {"workflow_run": Event(after_workflows=("CI test",))}, {"tests": JobRow()}
)
WEEKLY_ROW = WorkflowRow("x", {"schedule": Event(weekly=True)}, {"tests": JobRow()})
CACHED_ROW = WorkflowRow("x", EXAMPLE_ROW.events, {"tests": JobRow(caches=(UV,))})
PUBLISHING_ROW = WorkflowRow("x", EXAMPLE_ROW.events, {"tests": JobRow(write_scopes=("packages",))})

# (rule, replacements applied to the example workflow, a phrase of the expected problem)
BROKEN_EXAMPLES: list[tuple[WorkflowRule, list[tuple[str, str]], str]] = [
    (schema_problems, [("    runs-on: ubuntu-24.04\n", "")], "runs-on"),
    (schema_problems, [("timeout-minutes: 90", "timeout-minutes: soon")], "timeout-minutes"),
    (schema_problems, [("  pull_request:\n", "  pull_requests:\n")], "schema"),
    (_design, [("branches: [main]", "branches: [develop]")], "the design says ('main',)"),
    (_design, [("  pull_request:\n", "  push:\n")], "'push' is not in the design"),
    (_design, [("timeout-minutes: 90", "timeout-minutes: 60")], "the design says 90"),
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
    # A PR-feedback follow-up must keep to this repository's pull requests ...
    (
        functools.partial(_design, row=AFTER_PR_RUNS_ROW),
        [AFTER_PR_RUNS],
        "lacks github.event.workflow_run.head_repository.full_name == github.repository",
    ),
    # ... and follow exactly the workflows of its row.
    (
        functools.partial(_design, row=AFTER_PR_RUNS_ROW),
        [AFTER_PR_RUNS, IF_SAME_REPO_PR, ("workflows: [CI test]", "workflows: [CI lint]")],
        "workflows is ['CI lint']",
    ),
    # A release follow-up's clauses do not stand in for a PR follow-up's.
    (
        functools.partial(_design, row=AFTER_PR_RUNS_ROW),
        [AFTER_PR_RUNS, IF_SUCCESS],
        "lacks github.event.workflow_run.event == 'pull_request'",
    ),
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
        release_job_cache_problems,
        [PUBLISHING, (QEMU[0], QEMU[1].replace("false", "true"))],
        "cache-image",
    ),
    (release_job_cache_problems, [PUBLISHING, (QEMU[0], QEMU_DEFAULTS)], "cache-image"),
    (
        release_job_cache_problems,
        [PUBLISHING, (BUILDX[0], BUILDX[1].replace("false", "True"))],
        "cache-binary",
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
    assert _design(make_workflow(AFTER_PR_RUNS, IF_SAME_REPO_PR), AFTER_PR_RUNS_ROW) == []
    assert _design(make_workflow(WITH_NOTIFY)) == []  # a reporting job needs no row
    assert release_job_cache_problems(make_workflow(PUBLISHING)) == []
    assert release_job_cache_problems(make_workflow(PUBLISHING, QEMU, BUILDX)) == []


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
        *test_action_pins.runtime_problems(wf, test_action_pins.load_pins(pins)),
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
        [("    timeout-minutes: 90\n", "")],
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
    rows = {
        cells[1].strip().strip("`"): cells
        for line in section.splitlines()
        if len(cells := line.split("|")) > 6 and cells[1].strip().startswith("`ci-")
    }
    assert sorted(rows) == sorted(WORKFLOWS)
    problems: list[str] = []
    for file, row in WORKFLOWS.items():
        timeout_cell, artifact_cell = rows[file][4], rows[file][5]
        for session in row.jobs:
            design = SESSIONS[session]
            if str(design.timeout_minutes) not in timeout_cell:
                problems.append(f"{file}: {session}'s {design.timeout_minutes} minutes")
            if f"{design.retention_days} days" not in artifact_cell:
                problems.append(f"{file}: {session}'s {design.retention_days} days")
    assert problems == [], "docs/ci-cd.md's workflow table disagrees with the design table"
    assert (REPO_ROOT / "docs" / "ci-cd-runbook.md").is_file()
