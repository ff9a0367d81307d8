"""``nox -s workflows``: run the chain of workflow files through act, as the runner user.

For each planned run (plan.py): write the event payload, start act on that one file with the
stand-ins (actions.py) as the runner (runner.py), read each job's result from act's JSON log,
and record the run. A run passes when it concludes as planned (success, or failure for a run
that plants a defect); ``workflows.json`` and ``summary.md`` say what each run did.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.errors import EXIT_CHECK_FAILED, UsageError
from vibevoice_ci.core.files import write_text_atomic
from vibevoice_ci.core.outcome import (
    Outcome,
    Status,
    exit_code,
    overall,
    publish_summary,
    render_summary,
    unknown_fails,
    unknown_warning,
)
from vibevoice_ci.core.reports import read_report, write_report
from vibevoice_ci.tools import act
from vibevoice_ci.tools._exec import inherited
from vibevoice_ci.workflows import events
from vibevoice_ci.workflows.actions import (
    action_steps,
    input_problems,
    load_interfaces,
    load_workflow,
    write_stand_ins,
)
from vibevoice_ci.workflows.github_api import RECORD_NAME, RUNS_NAME, github_api, write_api_runs
from vibevoice_ci.workflows.plan import (
    CHAIN,
    CacheSeed,
    PlannedRun,
    judge,
    select,
    trigger_problems,
)
from vibevoice_ci.workflows.reports import JobResult, WorkflowRunRecord, WorkflowsReport
from vibevoice_ci.workflows.runner import (
    PASSED_THROUGH,
    Runner,
    act_environment,
    as_user_prefix,
    clone_workspace,
    find_runner,
    give_to,
    install_binary,
    planted,
    state_lock,
)
from vibevoice_ci.workflows.seeding import archive_stem, seed_cache

WORKFLOWS_DIR = Path(".github") / "workflows"
INTERFACES = Path("tests") / "workflows" / "action_interfaces.toml"
STAND_IN_SCRIPT = Path("tests") / "workflows" / "standins" / "standin.py"
DEFAULT_REPOSITORY = "vibevoice/vibevoice-realtime-platform"
FIRST_RUN_ID = 1001
LOGS = "logs"  # reports/workflows/logs/<run id>-<key>.log: each run's act log
ACT_DIR = "act"  # <state>/act: act's --action-cache-path (job folders, tool_cache)
TOOL_CACHE_LINK = "tool_cache"


@dataclass(frozen=True)
class Request:
    """What to run, as whom, with which extra job environment and secrets."""

    keys: Sequence[str] = ()
    user: str | None = None
    repository: str = DEFAULT_REPOSITORY
    job_env: Mapping[str, str] = field(default_factory=dict)
    variables: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    strict: bool | None = None
    state_dir: Path | None = None
    append: bool = False  # keep the earlier runs in workflows.json (a later part of one CI run)


def preflight(
    root: Path, chain: Sequence[PlannedRun]
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Every workflow file, and what would make a run fail on GitHub before a step starts."""
    files = sorted((root / WORKFLOWS_DIR).glob("*.yml"))
    workflows = {path.name: load_workflow(path) for path in files}
    interfaces = load_interfaces(root / INTERFACES)
    problems = [
        *input_problems(
            (step for name, data in workflows.items() for step in action_steps(name, data)),
            interfaces,
        ),
        *trigger_problems(chain, workflows),
    ]
    problems += [
        f"{run.workflow}: no such workflow file" for run in chain if run.workflow not in workflows
    ]
    return workflows, problems


def event_payload(
    run: PlannedRun,
    repository: events.Repository,
    head: str,
    workflow: Mapping[str, Any],
    finished: Mapping[str, events.FinishedRun],
) -> dict[str, Any]:
    """The payload GitHub would deliver for ``run`` (pure)."""
    if run.event == "push":
        return events.push(repository, sha=head)
    if run.event == "pull_request":
        return events.pull_request(
            repository,
            number=1,
            head_sha=head,
            head_ref=events.PULL_REQUEST_BRANCH,
            labels=run.labels,
        )
    if run.event == "schedule":
        crons = (workflow.get("on") or {}).get("schedule") or [{"cron": "0 0 * * *"}]
        return events.schedule(repository, cron=str(crons[0]["cron"]))
    if run.after is None or run.after not in finished:
        raise UsageError(f"{run.key}: a workflow_run needs the run it follows ({run.after})")
    return events.workflow_run(repository, finished[run.after])


def run_workflows(config: PipelineConfig, request: Request) -> int:
    root = config.root
    chain = select(CHAIN, request.keys)
    workflows, problems = preflight(root, CHAIN)
    if problems:
        for problem in problems:
            print(f"FAIL {problem}")
        print(f"error: {len(problems)} problem(s) GitHub would meet before a step runs")
        return EXIT_CHECK_FAILED
    runner = find_runner(request.user, request.state_dir)
    with state_lock(runner.state):
        return _run_chain(config, request, chain, workflows, runner)


def _run_chain(
    config: PipelineConfig,
    request: Request,
    chain: Sequence[PlannedRun],
    workflows: Mapping[str, Mapping[str, Any]],
    runner: Runner,
) -> int:
    root = config.root
    state = _fresh_state(runner)
    head = clone_workspace(root, runner)
    local_repositories = write_stand_ins(
        load_interfaces(root / INTERFACES), root / STAND_IN_SCRIPT, state / "actions"
    )
    binary = state / "bin" / "act"
    install_binary(Path(act.act_binary()), binary)
    give_to(runner, state)

    repository = events.Repository(request.repository)
    passed = (*PASSED_THROUGH, *request.secrets)
    environ = {**inherited(PASSED_THROUGH), **request.secrets}
    finished: dict[str, events.FinishedRun] = {}
    records: list[WorkflowRunRecord] = []
    record = config.report_dir("workflows") / RECORD_NAME
    earlier: list[WorkflowRunRecord] = []
    if request.append:
        earlier = earlier_runs(config.report_dir("workflows") / "workflows.json", chain)
        for run in chain:  # a run named again: its new log replaces the old one
            for stale in (config.report_dir("workflows") / LOGS).glob(f"*-{run.key}.log"):
                stale.unlink()
    else:
        record.unlink(missing_ok=True)
        shutil.rmtree(config.report_dir("workflows") / LOGS, ignore_errors=True)
    first_run_id = max((run.run_id for run in earlier), default=FIRST_RUN_ID - 1) + 1
    names = {file: str(data.get("name", file)) for file, data in workflows.items()}
    api_runs = config.report_dir("workflows") / RUNS_NAME
    write_api_runs(api_runs, earlier, names, request.repository)
    with ExitStack() as services:
        api = (
            services.enter_context(
                github_api(
                    root,
                    request.repository,
                    record,
                    runs=api_runs,
                    token=request.secrets.get("GITHUB_TOKEN"),
                )
            )
            if any(run.github_api for run in chain)
            else None
        )
        for number, run in enumerate(chain):
            with ExitStack() as planting:
                run_head = head
                if run.plant is not None:
                    run_head = planting.enter_context(planted(runner, head, root / run.plant))
                    print(f"planted {run.plant} as {run_head}", flush=True)
                job_env = dict(request.job_env)
                run_secrets = dict(request.secrets)
                if run.github_api and api is not None:
                    job_env["GITHUB_API_URL"] = api.url
                    run_secrets["GITHUB_TOKEN"] = api.token
                # A job starts on a fresh machine whose home is the runner's: what a root process
                # (an earlier job's sudo step, a test run as root) left in ~/.cache would make
                # this job's `mkdir` or cache restore fail here where it cannot on GitHub.
                _reclaim_cache(runner)
                evict_cache(runner.cache_dir, run.evict_cache)
                seeded = tuple(_seed(runner, seed, root) for seed in run.seed_caches)
                result = _run_one(
                    config,
                    run,
                    seeded_keys=seeded,
                    run_id=first_run_id + number,
                    head=run_head,
                    payload=event_payload(
                        run, repository, run_head, workflows[run.workflow], finished
                    ),
                    runner=runner,
                    request=request,
                    state=state,
                    binary=binary,
                    local_repositories=local_repositories,
                    job_env=job_env,
                    secrets=run_secrets,
                    environ={**environ, **run_secrets},
                    passed=(*passed, *(name for name in run_secrets if name not in passed)),
                )
            records.append(result)
            write_api_runs(api_runs, [*earlier, *records], names, request.repository)
            finished[run.key] = events.FinishedRun(
                workflow_name=str(workflows[run.workflow].get("name", run.workflow)),
                run_id=result.run_id,
                event=run.event,
                head_sha=run_head,
                head_branch=events.PULL_REQUEST_BRANCH if run.event == "pull_request" else "main",
                conclusion=result.conclusion,
                pull_request_number=1 if run.event == "pull_request" else None,
            )
    return _report(config, runner, request, [*earlier, *records])


def earlier_runs(path: Path, chain: Sequence[PlannedRun]) -> list[WorkflowRunRecord]:
    """The runs an earlier harness run of the same CI run recorded in ``path`` (none when it is
    absent), without those ``chain`` runs again: their new records replace them."""
    if not path.is_file():
        return []
    again = {run.key for run in chain}
    report = read_report(path, WorkflowsReport, "the earlier workflows report")
    return [run for run in report.runs if run.key not in again]


def _run_one(
    config: PipelineConfig,
    run: PlannedRun,
    *,
    run_id: int,
    head: str,
    payload: Mapping[str, Any],
    seeded_keys: Sequence[str] = (),
    runner: Runner,
    request: Request,
    state: Path,
    binary: Path,
    local_repositories: Mapping[str, Path],
    job_env: Mapping[str, str],
    secrets: Mapping[str, str],
    environ: Mapping[str, str],
    passed: Sequence[str],
) -> WorkflowRunRecord:
    """Run one planned run through act and judge it; its reports come back into reports/."""
    print(f"\n==== {run.key}: {run.workflow} on {run.event} (run {run_id}) ====", flush=True)
    run_dir = state / "runs" / f"{run_id}-{run.key}"
    run_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(run_dir / "event.json", json.dumps(payload, indent=2))
    give_to(runner, run_dir)
    invocation = act.ActInvocation(
        workflow=Path(WORKFLOWS_DIR / run.workflow),
        event_name=run.event,
        event_path=run_dir / "event.json",
        env={
            "GITHUB_REPOSITORY": request.repository,
            "GITHUB_RUN_ID": str(run_id),
            "GITHUB_RUN_ATTEMPT": "1",
            "VIBEVOICE_ACT_REPOSITORY": str(runner.workspace),
            "VIBEVOICE_ACT_ARTIFACTS": str(state / "artifacts"),
            "VIBEVOICE_ACT_CACHE": str(runner.cache_dir),
            **job_env,
        },
        variables=request.variables,
        secrets=secrets,
        local_repositories=local_repositories,
        matrix=run.matrix,
        job=run.job,
        actor=events.Repository(request.repository).owner,
        action_cache=state / ACT_DIR,
    )
    started = time.monotonic()
    try:
        code, lines = act.run_act(
            act.act_argv(str(binary), invocation),
            cwd=runner.workspace,
            log_path=run_dir / "act.log",
            env={**act_environment(runner, environ, passed)},
            as_user=as_user_prefix(runner, passed),
        )
    finally:
        remove_job_workspaces(state / ACT_DIR)
    results = act.job_results(lines)
    succeeded = (
        code == 0
        and bool(results)
        and all(result in ("success", "skipped") for result in results.values())
    )
    conclusion: Literal["success", "failure"] = "success" if succeeded else "failure"
    status, verdict = judge(run, succeeded, [step for _, step in act.failed_steps(lines)])
    unrestored = seed_unrestored(seeded_keys, [line.message for line in lines])
    if unrestored and status is not Status.FAIL:
        status, verdict = Status.FAIL, unrestored
    # A copy beside workflows.json: the next harness run, from any checkout, empties runs/.
    log = config.report_dir("workflows") / LOGS / f"{run_id}-{run.key}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run_dir / "act.log", log)
    record = WorkflowRunRecord(
        key=run.key,
        workflow=run.workflow,
        event=run.event,
        run_id=run_id,
        head_sha=head,
        expected=run.expect,
        conclusion=conclusion,
        status=status,
        verdict=verdict,
        jobs=[JobResult(name=name, result=result) for name, result in sorted(results.items())],
        seconds=round(time.monotonic() - started, 1),
        log=str(log),
        why=run.why,
    )
    _collect_reports(state / "artifacts" / str(run_id), config.reports_dir)
    print(f"{status.upper()} {run.key}: {verdict} ({record.seconds:.0f} s)")
    return record


def seed_unrestored(keys: Sequence[str], messages: Sequence[str]) -> str | None:
    """Why a run whose cache entries were seeded under ``keys`` fails though it may have
    passed: a job never restored one, so it built cold and the plan's warm cache was not what
    ran (pure); None when nothing was seeded or every entry was restored."""
    missed = [
        key
        for key in keys
        if not any(f"Cache restored from key: {key}" in text for text in messages)
    ]
    if not missed:
        return None
    entries = "entry" if len(missed) == 1 else "entries"
    return (
        f"the seeded cache {entries} {', '.join(missed)} not restored "
        "(the job built cold, not as planned)"
    )


def _seed(runner: Runner, seed: CacheSeed, root: Path) -> str:
    """Write the planned run's warm cache entry into the cache stand-in's folder; its key."""
    entry = seed_cache(runner.cache_dir, seed, root)
    if entry.written:
        give_to(runner, entry.archive)
        print(
            f"cache entry {entry.archive.name} seeded from {seed.source} (planned: a warm "
            "cache, as a second push finds the first one's entry)",
            flush=True,
        )
    else:
        print(f"cache entry {entry.archive.name} already saved: kept", flush=True)
    return entry.key


def evict_cache(cache_dir: Path, prefixes: Sequence[str]) -> list[Path]:
    """Remove the cache stand-in's archives whose key starts with one of ``prefixes`` (named
    as the stand-in names them: other characters than ``[A-Za-z0-9._-]`` become ``_``)."""
    removed: list[Path] = []
    for prefix in prefixes:
        stem = archive_stem(prefix)
        for archive in sorted(cache_dir.glob(glob.escape(stem) + "*.tar")):
            archive.unlink()
            removed.append(archive)
            print(f"cache entry {archive.name} removed (planned: no such entry yet)", flush=True)
    return removed


def _collect_reports(artifacts: Path, reports_dir: Path) -> None:
    """Each ``reports-<name>`` artifact of a run into ``reports/<name>/``, as a contributor
    downloads a CI run's reports to read them (the report page then shows them)."""
    for artifact in sorted(artifacts.glob("reports-*")) if artifacts.is_dir() else ():
        target = reports_dir / artifact.name.removeprefix("reports-")
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(artifact, target)


def remove_job_workspaces(action_cache: Path) -> list[Path]:
    """Remove the job folders act left under ``action_cache`` (its copy of the repository per
    job, gigabytes once nox has made its environments there), keeping ``tool_cache``.

    act removes a job's folder only when the job succeeded, and then as the runner user, who
    cannot remove what a ``sudo`` step wrote; on GitHub each job's machine is thrown away. The
    harness removes them as root after each run: the log and the reports were kept already.
    """
    removed: list[Path] = []
    for entry in sorted(action_cache.iterdir()) if action_cache.is_dir() else ():
        if entry.name == TOOL_CACHE_LINK or entry.is_symlink() or not entry.is_dir():
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def _fresh_state(runner: Runner) -> Path:
    """The runner's state folder, with the previous harness run's runs, artifacts and job
    folders gone (the cache stand-in's archives stay, as GitHub's cache does)."""
    state = runner.state
    for stale in ("runs", "artifacts", "actions", ACT_DIR):
        shutil.rmtree(state / stale, ignore_errors=True)
    state.mkdir(parents=True, exist_ok=True)
    runner.cache_dir.mkdir(exist_ok=True)
    # act sets $RUNNER_TOOL_CACHE to <action cache path>/tool_cache whatever it is told; there
    # it leads to the runner's tool cache, as on GitHub.
    (state / ACT_DIR).mkdir()
    (state / ACT_DIR / TOOL_CACHE_LINK).symlink_to(runner.tool_cache)
    give_to(runner, runner.cache_dir)
    return state


def _reclaim_cache(runner: Runner) -> None:
    """Give back to the runner every file and folder under its ``~/.cache`` that another user
    owns (about a second for 100,000 entries).

    A job's ``sudo`` step may write there (ci-test's install step builds into the Go cache it
    restored); on GitHub the next job starts on a fresh machine, here in the same home, where
    its cache restore could not replace a file root owns ("Permission denied")."""
    cache = runner.home / ".cache"
    if not runner.switch_user or not cache.is_dir():
        return
    entry = pwd.getpwnam(runner.user)
    for top, folders, files in os.walk(cache):
        folder = Path(top)
        for path in (folder, *(folder / name for name in (*folders, *files))):
            if path.lstat().st_uid != entry.pw_uid:
                os.lchown(path, entry.pw_uid, entry.pw_gid)


def _report(
    config: PipelineConfig, runner: Runner, request: Request, records: list[WorkflowRunRecord]
) -> int:
    outcomes = [
        Outcome(
            record.key,
            record.status,
            f"{record.workflow} on {record.event}: {record.verdict}; "
            + ", ".join(f"{job.name.split('/', 1)[-1]} {job.result}" for job in record.jobs),
        )
        for record in records
    ]
    status = overall(outcomes)
    out = config.report_dir("workflows")
    write_report(
        out / "workflows.json",
        WorkflowsReport(
            status=status, runner_user=runner.user, repository=request.repository, runs=records
        ),
    )
    publish_summary(out, render_summary("Workflows executed by act", outcomes))
    warning = unknown_warning("workflows", status)
    if warning and not unknown_fails(ci=config.env.ci, strict=request.strict):
        print(warning, file=sys.stderr)
    return exit_code(status, ci=config.env.ci, strict=request.strict)
