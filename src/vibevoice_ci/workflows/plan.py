"""The order the workflows run in, as GitHub would chain them (pure).

act runs one workflow file per call and never starts a ``workflow_run`` follow-up, so the
chain is written down here: a push to main runs ci-test and ci-build-push; ci-build-push's
completion triggers ci-smoke-test, ci-security-images and ci-provenance; and so on. A run
``after`` another is given the ``workflow_run`` event of that run (its id, head SHA,
conclusion), and :func:`trigger_problems` checks that the triggered file really names the
triggering workflow, so a renamed workflow cannot silently orphan its follow-ups.

A run may ``plant`` a change: a patch (a file of this repository) that the harness applies and
commits in the runner's clone before the run, so the run's head (``GITHUB_SHA``, the pull
request's head SHA) really carries it, and takes back out after it. A run that talks to
GitHub's REST API (``github_api``) gets the API stand-in through ``$GITHUB_API_URL`` and the
automatic ``GITHUB_TOKEN``, as a runner gives them.

A run may find Actions cache entries already saved (``seed_caches``): a warm cache, as a second
push on GitHub finds the entry the first push's job saved under the same key. The harness
writes that entry before the run (workflows/seeding.py) from files root built earlier on this
machine, so the run does not pay a cold build root already paid.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from vibevoice_ci.core.outcome import Status

Event = Literal["push", "pull_request", "schedule", "workflow_run"]


@dataclass(frozen=True)
class CacheSeed:
    """An Actions cache entry a planned run finds already saved (a warm cache, simulated).

    The entry is the one the job itself saves after a cold run: the files ``files_command``
    lists (relative to ``cache_folder``, the job's folder that the workflow caches), under the
    key ``key_prefix`` followed by what ``key_command`` prints (the command the workflow's own
    key step runs). Both commands run in the checkout. The files are copied from ``source``,
    where root built the same versions; a file missing there stops the run (it would build
    cold), and an entry already saved under that key is kept, as GitHub never overwrites one.
    """

    key_prefix: str
    key_command: tuple[str, ...]
    files_command: tuple[str, ...]
    source: str
    cache_folder: str


# ci-helm-validate.yml's Go build cache: helm, kwok and the control plane for levels 1 and 2
# ($KUBERNETES_LEVELS), as root's `install-kubernetes.sh` built them into its default cache.
KUBERNETES_TOOLS = ("bash", "scripts/ci/install-kubernetes.sh", "--levels", "static,cluster")
KUBERNETES_TOOLS_SEED = CacheSeed(
    key_prefix="kubernetes-tools-",
    key_command=(*KUBERNETES_TOOLS, "--cache-key"),
    files_command=(*KUBERNETES_TOOLS, "--cache-files"),
    source="/var/cache/vibevoice",
    cache_folder="/home/runner/.cache/vibevoice",
)

# ci-test.yml's test job restores that entry and one of the release tools the integration
# tests use ($TEST_TOOLS), as root's `install-tools.sh` built them into its default Go cache.
INSTALL_TOOLS = ("bash", "scripts/ci/install-tools.sh")
TEST_TOOLS = ("docker-registry", "wrk", "crane", "cosign", "oras", "trivy-db")
RELEASE_TOOLS_SEED = CacheSeed(
    key_prefix="go-tools-",
    key_command=(*INSTALL_TOOLS, "--cache-key", *TEST_TOOLS),
    files_command=(*INSTALL_TOOLS, "--cache-files", *TEST_TOOLS),
    source="/var/cache/vibevoice-ci/go",
    cache_folder="/home/runner/.cache/vibevoice-ci/go",
)


@dataclass(frozen=True)
class PlannedRun:
    """One workflow run of the chain."""

    key: str
    workflow: str
    event: Event
    after: str | None = None
    labels: tuple[str, ...] = ()
    matrix: Mapping[str, str] = field(default_factory=dict)
    job: str | None = None
    expect: Literal["success", "failure"] = "success"
    why: str = ""
    # A step that cannot reach a verdict on this machine (its session is unknown here and,
    # as CI runs it, fails): the run is UNKNOWN when that step is the only one that failed,
    # FAIL when it passed (a clean result it cannot have) or anything else failed.
    unknown_step: str | None = None
    # The one step a planned failure must fail at (a run that fails anywhere else, e.g. an
    # install, did not show what it was planned to show).
    failing_step: str | None = None
    # A patch (repository-relative) applied and committed in the runner's clone for this run.
    plant: str | None = None
    # The run's jobs reach the GitHub REST API stand-in ($GITHUB_API_URL, github.token).
    github_api: bool = False
    # Actions cache keys (prefixes) removed before the run: the cache as a repository that
    # never saved such an entry has it (e.g. the first nightly perf run: no baseline).
    evict_cache: tuple[str, ...] = ()
    # Actions cache entries written before the run: the run finds them as a second run on
    # GitHub finds the first one's (a warm cache).
    seed_caches: tuple[CacheSeed, ...] = ()


CHAIN: tuple[PlannedRun, ...] = (
    PlannedRun(
        "ci-test-lint",
        "ci-test.yml",
        "push",
        job="lint",
        why="a push to main, its lint job alone (nox -s lint as the runner user)",
    ),
    PlannedRun(
        "ci-test",
        "ci-test.yml",
        "push",
        matrix={"python-version": "3.11"},
        seed_caches=(KUBERNETES_TOOLS_SEED, RELEASE_TOOLS_SEED),
        why="a push to main: lint and the README's test command (the lowest Python's leg), as "
        "the runner, the integration tools from the Go build caches (entries seeded from "
        "root's builds: a warm cache); what needs root is accepted as unknown there and "
        ".ci/run runs it as root",
    ),
    PlannedRun(
        "ci-build-push",
        "ci-build-push.yml",
        "push",
        why="a push to main: the release build of every service for every platform, on the "
        "host's BuildKit through the setup-buildx stand-in, pushed to a registry that demands "
        "a bearer token as ghcr.io does (--var VIBEVOICE_REGISTRY_HOST), logged in with the "
        "job's GITHUB_TOKEN",
    ),
    PlannedRun(
        "ci-smoke-test",
        "ci-smoke-test.yml",
        "workflow_run",
        after="ci-build-push",
        github_api=True,
        why="the build's follow-up: its reports-build artifact downloaded across runs, the "
        "pushed digests pulled and smoke-tested, then promote moves latest once the commit's "
        "CI test run concluded success (the runs this harness executed, ci-test-lint's "
        "included, listed by the REST API stand-in)",
    ),
    PlannedRun(
        "ci-security-images",
        "ci-security-images.yml",
        "workflow_run",
        after="ci-build-push",
        expect="failure",
        unknown_step="Scan the images and the configuration",
        why="the build's follow-up: trivy on the pushed digests; no vulnerability database "
        "can be downloaded here, so that part is unknown and --strict fails the scan, as it "
        "must; the SARIF upload and notify still run",
    ),
    PlannedRun(
        "ci-provenance",
        "ci-provenance.yml",
        "workflow_run",
        after="ci-build-push",
        expect="failure",
        unknown_step="Sign, attest and verify the pushed digests",
        github_api=True,
        why="the build's follow-up: keyless signing needs GitHub's OIDC token, which no "
        "service here issues, so the sign step cannot reach a verdict (never a pass); it "
        "stops there, before its tests gate asks the REST API stand-in",
    ),
    PlannedRun(
        "ci-helm-validate",
        "ci-helm-validate.yml",
        "push",
        seed_caches=(KUBERNETES_TOOLS_SEED,),
        why="a push to main that changes the chart: helm levels 1 and 2 as the runner (helm, "
        "kwok and the control plane from the Go build cache, whose entry is seeded from root's "
        "builds: a warm cache, as a second push finds the first one's entry); level 3 needs "
        "root and is accepted as unknown there, .ci/run runs it directly",
    ),
    PlannedRun(
        "ci-security-deps",
        "ci-security-deps.yml",
        "schedule",
        expect="failure",
        unknown_step="Run the audit session",
        why="the weekly dependency audit; no advisory service answers here, so the audit is "
        "unknown and --strict fails it, as it must; the SARIF upload and notify still run",
    ),
    PlannedRun(
        "ci-test-lint-planted",
        "ci-test.yml",
        "pull_request",
        job="lint",
        plant="tests/workflows/plants/lint-defect.patch",
        expect="failure",
        failing_step="Run the lint session",
        why="a pull request whose head carries a planted lint defect (an unused import): "
        "its lint job fails at the lint session, and only there",
    ),
    PlannedRun(
        "ci-pr-feedback-red",
        "ci-pr-feedback.yml",
        "workflow_run",
        after="ci-test-lint-planted",
        github_api=True,
        why="CI test failed on the pull request: the failure comment is posted (GitHub's "
        "REST API is the stand-in on 127.0.0.1)",
    ),
    PlannedRun(
        "ci-test-lint-pr",
        "ci-test.yml",
        "pull_request",
        job="lint",
        why="the same pull request, the defect gone: its lint job passes",
    ),
    PlannedRun(
        "ci-pr-feedback-green",
        "ci-pr-feedback.yml",
        "workflow_run",
        after="ci-test-lint-pr",
        github_api=True,
        why="CI test passed on the pull request: the earlier failure comment is edited to "
        "say so (issue 17 defect 9), and no new one is added",
    ),
    PlannedRun(
        "ci-performance-nightly",
        "ci-performance.yml",
        "schedule",
        evict_cache=("perf-state-",),
        expect="failure",
        unknown_step="Run the perf session",
        github_api=True,
        why="the first nightly perf run (no perf-state cache entry: no baseline): nothing to "
        "compare is unknown, never a pass, and strict under CI; the baseline is saved from "
        "it, and the notify job runs and finds no regression to report",
    ),
    PlannedRun(
        "ci-performance-pr",
        "ci-performance.yml",
        "pull_request",
        labels=("perf",),
        why="a pull request labelled perf, compared with the baseline main's nightly saved "
        "(the run before it in the chain; alone, with no such entry, it is unknown)",
    ),
    PlannedRun(
        "ci-pr-feedback-perf",
        "ci-pr-feedback.yml",
        "workflow_run",
        after="ci-performance-pr",
        github_api=True,
        why="CI performance ran on the pull request: its verdict table is the perf comment",
    ),
)


def judge(run: PlannedRun, concluded_success: bool, failed: Sequence[str]) -> tuple[Status, str]:
    """The status of a finished run and why (pure): ``failed`` names its failed steps."""
    if run.failing_step is not None and not concluded_success and set(failed) != {run.failing_step}:
        named = ", ".join(failed) or "none"
        return Status.FAIL, f"planned to fail at {run.failing_step!r} alone; failed steps: {named}"
    if run.unknown_step is not None:
        if concluded_success or not failed:
            return Status.FAIL, f"{run.unknown_step!r} passed, which it cannot here (a false clean)"
        if set(failed) == {run.unknown_step}:
            return Status.UNKNOWN, f"{run.unknown_step!r} could not reach a verdict here"
        others = sorted(set(failed) - {run.unknown_step})
        return Status.FAIL, f"failed steps beyond {run.unknown_step!r}: {', '.join(others)}"
    concluded = "success" if concluded_success else "failure"
    if concluded != run.expect:
        detail = f": failed steps {', '.join(failed)}" if failed else ""
        return Status.FAIL, f"concluded {concluded}, planned {run.expect}{detail}"
    return Status.PASS, f"concluded {concluded}, as planned"


def select(chain: Sequence[PlannedRun], keys: Iterable[str]) -> list[PlannedRun]:
    """The runs named by ``keys`` (all when empty), in chain order, each with the runs it
    follows; an unknown key is a ``ValueError`` listing the known ones."""
    by_key = {run.key: run for run in chain}
    wanted = set(keys)
    unknown = sorted(wanted - by_key.keys())
    if unknown:
        raise ValueError(f"no run {', '.join(unknown)} in the chain (known: {', '.join(by_key)})")
    if not wanted:
        return list(chain)
    closure = set(wanted)
    for key in list(wanted):
        after = by_key[key].after
        while after is not None:
            closure.add(after)
            after = by_key[after].after
    return [run for run in chain if run.key in closure]


def trigger_problems(
    chain: Sequence[PlannedRun], workflows: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """What would stop a planned ``workflow_run`` from ever starting on GitHub (pure): the
    triggered file has no ``workflow_run`` trigger, or does not name the triggering
    workflow's ``name:``; and any ``workflow_run`` trigger naming no workflow at all."""
    names = {str(data.get("name", file)): file for file, data in workflows.items()}
    problems: list[str] = []
    for file, data in sorted(workflows.items()):
        trigger = (data.get("on") or {}) if isinstance(data.get("on"), dict) else {}
        for named in (trigger.get("workflow_run") or {}).get("workflows") or []:
            if named not in names:
                problems.append(
                    f"{file}: workflow_run names {named!r}, which no workflow is called"
                )
    by_key = {run.key: run for run in chain}
    for run in chain:
        if run.after is None:
            continue
        data = workflows.get(run.workflow, {})
        trigger = data.get("on") if isinstance(data.get("on"), dict) else {}
        named = ((trigger or {}).get("workflow_run") or {}).get("workflows") or []
        parent = workflows.get(by_key[run.after].workflow, {})
        parent_name = str(parent.get("name", by_key[run.after].workflow))
        if parent_name not in named:
            problems.append(
                f"{run.workflow}: does not run after {parent_name!r} "
                f"(its workflow_run names {named or 'nothing'})"
            )
    return problems
