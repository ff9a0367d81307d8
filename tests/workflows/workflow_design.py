"""The seed design's workflow table, as data (the project's seed design document, outside the
repository: ``../shared/seed-design.md`` next to the checkout; quoted section by section here).

Each row cites the section it comes from:

* "Workflow Organization" and "Trigger Strategy": the eight files and what starts each one;
  sections 1-8 of "Components and Interfaces" add the details (branches, tags, paths, crons).
* "Error Handling", "Timeout Handling": tests 30 minutes, builds 60, benchmarks 45. The design
  names no other value; the others below are ours, each with its reason (tests: 90, the
  suite plus a cold install of its integration tools, see SESSIONS).
* "Error Handling", "Artifact Retention": test results and coverage 30 days, performance
  metrics and security scan reports 90, build logs 14.
* "Caching Strategy": Python dependencies keyed on the lock, Docker layers, Helm dependencies;
  DESIGN.md "Security posture": no cache restored in a job that signs or pushes a release.

``test_workflow_design.py`` checks every workflow file against these rows with the pure
functions in ``design_rules.py``, and feeds each of them a broken example.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# The build every follow-up workflow waits for (its `name:`; workflow_run matches names).
BUILD_FILE = "ci-build-push.yml"
# A workflow_run follow-up runs for builds of these refs (a tag build's head_branch is the tag).
BUILD_BRANCHES = ("main", "v*.*.*")


@dataclass(frozen=True)
class SessionRow:
    """What the design says of every job that runs a session: its timeout and how long the
    artifact with the session's reports is kept."""

    timeout_minutes: int
    retention_days: int
    why: str


# Per session (a job runs exactly one; the session decides its timeout and retention).
SESSIONS: Mapping[str, SessionRow] = {
    "lint": SessionRow(15, 30, "lint results are test results (30 days); ruff + mypy + linters"),
    # The design's "tests 30" is for tests alone; this job first installs the integration
    # tests' tools (Go builds, ~15 min on a cold cache), then runs containers, a control plane
    # and the release tools: test_ci_test_workflow.py checks 90 covers the install and the
    # slowest module's own timeout.
    "tests": SessionRow(90, 30, "tests 30 + a cold install of their tools; Retention 30"),
    "build": SessionRow(60, 14, "Timeout Handling: builds 60; Retention: build logs 14"),
    "smoke": SessionRow(30, 30, "a test of the built images: tests 30; test results 30"),
    # promote and sign first wait for the commit's CI test run (tests_wait_seconds, 40 min):
    # test_tests_gate_wait.py checks the timeout covers that wait and the session's work.
    "promote": SessionRow(55, 14, "waits for CI test, moves tags with crane; a build log"),
    "helm": SessionRow(45, 14, "cold Go builds of the control plane take ~20 min; logs 14"),
    "perf": SessionRow(45, 90, "Timeout Handling: benchmarks 45; performance metrics 90"),
    "audit": SessionRow(15, 90, "pip-audit of the lock is minutes; security reports 90"),
    "trivy": SessionRow(60, 90, "every image and platform pulled and scanned, DB download; 90"),
    "sign": SessionRow(70, 90, "waits for CI test; cosign built (~4 min), sign + verify; 90"),
    "notify": SessionRow(10, 14, "Notification Strategy: sends a message; its record is a log"),
}

# Sessions whose jobs may follow the jobs of any workflow, reporting on them (the design's
# "Notification Strategy"), with the write scopes each may hold: never one that publishes.
REPORTING_SESSIONS: Mapping[str, tuple[str, ...]] = {
    "notify": ("issues", "pull-requests"),  # a regression issue, a PR comment
}


@dataclass(frozen=True)
class Event:
    """What one trigger must say. ``None`` means "not constrained"; tuples compare exactly,
    except ``paths_include`` (each must be listed)."""

    branches: tuple[str, ...] | None = None
    tags: tuple[str, ...] | None = None
    paths_include: tuple[str, ...] = ()
    crons: tuple[str, ...] | None = None
    weekly: bool = False  # a schedule with one cron that fires once a week
    after_build: bool = False  # workflow_run: completion of the build workflow
    # workflow_run: completion of these workflows (by name), for a follow-up that reports on
    # their pull request runs (PR comments) rather than continuing a release.
    after_workflows: tuple[str, ...] = ()


@dataclass(frozen=True)
class JobRow:
    """A job of a workflow, named by the session it runs: the sessions of the jobs it
    ``needs``, its write scopes (nothing else may write) and the caches it restores."""

    needs: tuple[str, ...] = ()
    write_scopes: tuple[str, ...] = ()
    caches: tuple[str, ...] = ()


@dataclass(frozen=True)
class WorkflowRow:
    """One workflow of the design: its triggers and its jobs (by session)."""

    purpose: str
    events: Mapping[str, Event]
    jobs: Mapping[str, JobRow]
    # Triggers beyond the design, each with its reason.
    extra_events: Mapping[str, str] = field(default_factory=dict)


# Cache kinds a job restores (see `cache_kinds` in test_workflow_design.py).
UV = "uv"  # ~/.cache/uv (and pip), keyed on hashFiles('uv.lock')
# helm, kwok and the Kubernetes binaries (the built files alone), keyed on their pinned
# versions and that script, as scripts/ci/install-kubernetes.sh --cache-key reports them
GO_TOOLS = "helm-tools"
PERF_STATE = "perf-state"  # the perf baseline and history (.perf-state/)

WORKFLOWS: Mapping[str, WorkflowRow] = {
    "ci-test.yml": WorkflowRow(
        purpose="1. Core CI: lint, tests",
        events={
            "push": Event(branches=("main", "feature/**")),
            "pull_request": Event(branches=("main",)),
        },
        jobs={"lint": JobRow(caches=(UV,)), "tests": JobRow(caches=(UV,))},
    ),
    "ci-build-push.yml": WorkflowRow(
        purpose="2. Container build: multi-arch images pushed by SHA tag",
        events={"push": Event(branches=("main",), tags=("v*.*.*",))},
        jobs={"build": JobRow(write_scopes=("packages",))},
    ),
    "ci-smoke-test.yml": WorkflowRow(
        purpose="3. Smoke test of the pushed digests; promote after it",
        events={"workflow_run": Event(after_build=True)},
        jobs={
            "smoke": JobRow(),
            "promote": JobRow(needs=("smoke",), write_scopes=("packages",)),
        },
    ),
    "ci-helm-validate.yml": WorkflowRow(
        purpose="4. Helm validation",
        events={
            "push": Event(branches=("main",), paths_include=("infra/k8s/**",)),
            "pull_request": Event(branches=("main",), paths_include=("infra/k8s/**",)),
        },
        jobs={"helm": JobRow(caches=(UV, GO_TOOLS))},
    ),
    "ci-performance.yml": WorkflowRow(
        purpose="5. Performance benchmark and regression gate",
        events={"schedule": Event(crons=("0 2 * * *",)), "workflow_dispatch": Event()},
        jobs={"perf": JobRow(caches=(UV, PERF_STATE))},
        extra_events={
            "pull_request": "opt-in with the `perf` label: compared with main's baseline, "
            "never moves it (docs/performance.md)",
        },
    ),
    "ci-security-deps.yml": WorkflowRow(
        purpose="6. Dependency security: pip-audit, SARIF",
        events={
            "push": Event(branches=("main",)),
            "pull_request": Event(),
            "schedule": Event(crons=("0 9 * * 1",)),
        },
        jobs={"audit": JobRow(write_scopes=("security-events",), caches=(UV,))},
    ),
    "ci-security-images.yml": WorkflowRow(
        purpose="7. Container security: trivy, SARIF",
        events={"workflow_run": Event(after_build=True), "schedule": Event(weekly=True)},
        jobs={"trivy": JobRow(write_scopes=("security-events",))},
    ),
    "ci-pr-feedback.yml": WorkflowRow(
        purpose="Notification Strategy: PR comments, written after the PR's run by main's code",
        events={"workflow_run": Event(after_workflows=("CI test", "CI performance"))},
        jobs={"notify": JobRow(write_scopes=("pull-requests",))},
    ),
    "ci-provenance.yml": WorkflowRow(
        purpose="8. Provenance and signing",
        events={"workflow_run": Event(after_build=True)},
        jobs={"sign": JobRow(write_scopes=("packages", "id-token"))},
    ),
}

# Sessions a job may run, from the table (a session run by a job must have a row).
SESSIONS_IN_WORKFLOWS = {
    *(session for row in WORKFLOWS.values() for session in row.jobs),
    *REPORTING_SESSIONS,
}
