"""The ``perf`` session: load test, regression gate, history and trend chart.

Steps: start the tts service as a local process on 127.0.0.1 (CPU, the configured engine),
or with ``--image REF`` / ``--release FILE`` as a container of that built image
(``container.py``: published on 127.0.0.1 only, always torn down); run the closed-loop load
test and the realtime capacity steps, compare with the stored baseline, append the run to
the history, draw the chart. Writes into ``reports/perf/``:
``metrics.json``, ``verdict.json``, ``summary.md``, ``trend.png``, ``history.jsonl`` (a copy);
the baseline and the history themselves live in ``[tool.vibevoice-ci.perf].state_dir``
(``.perf-state/``), which the workflow restores from and saves to the Actions cache
(docs/performance.md says why). Every file is written atomically, whatever happens.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.errors import PipelineError, ToolMissingError, UsageError
from vibevoice_ci.core.files import write_text_atomic
from vibevoice_ci.core.outcome import (
    Outcome,
    Status,
    overall,
    publish_summary,
    render_summary,
    unknown_warning,
    verdict_error,
)
from vibevoice_ci.core.progress import progress
from vibevoice_ci.core.reports import report_json, write_report
from vibevoice_ci.perf.chart import history_entry, render_chart
from vibevoice_ci.perf.check import CheckResult, check
from vibevoice_ci.perf.container import ContainerRecord, release_image, running_container
from vibevoice_ci.perf.loadgen import LoadPlan
from vibevoice_ci.perf.loadtest import ServiceOptions, load_prompts, measure, render_line
from vibevoice_ci.perf.metrics import NothingServedError, read_metrics
from vibevoice_ci.perf.regression import Thresholds, nothing_served, verdict_document
from vibevoice_ci.perf.reports import HistoryEntry, MetricsDocument, ServiceUnderLoad

SESSION = "perf"
HISTORY_KEEP = 200  # runs kept in history.jsonl
UNTRUSTED_EVENTS = frozenset({"pull_request", "pull_request_target"})


@dataclass(frozen=True)
class PerfOptions:
    """The session's command line (``nox -s perf -- ...``)."""

    update_baseline: bool = False
    requests: int | None = None
    engine: str | None = None
    capacity: int | None = None
    image: str | None = None  # load a container of this image instead of a local process
    release: Path | None = None  # ... or of the tts image in this release file
    strict: bool | None = None  # --strict/--no-strict; None: the one rule ($CI)


def run_perf(config: PipelineConfig, options: PerfOptions) -> Status:
    """Run the session; raise CheckFailedError on a regression, or when the one rule
    (``core.outcome.exit_code``) fails an unknown: nothing compared (no baseline) under CI."""
    perf = config.perf
    report_dir = config.report_dir(SESSION)
    baseline_path = perf.state_dir / "baseline.json"
    history_path = perf.state_dir / "history.jsonl"
    metrics_path = report_dir / "metrics.json"
    outcomes: list[Outcome] = []
    notes: list[str] = []
    engine = options.engine or perf.engine
    pull_request = config.env.github_event in UNTRUSTED_EVENTS
    if pull_request:
        notes.append("a pull request is compared with the baseline but never creates or moves it")
        options = dataclasses.replace(options, update_baseline=False)
    document: MetricsDocument | None = None
    result: CheckResult | None = None
    record = ContainerRecord()
    error: PipelineError | None = None
    try:
        prompts, source = load_prompts(perf.prompts)
        plan = LoadPlan(
            endpoint="http",
            prompts=prompts,
            concurrency=perf.concurrency,
            requests=options.requests or perf.requests,
            warmup=perf.warmup,
        )
        capacity = perf.capacity_max if options.capacity is None else options.capacity
        service = ServiceOptions(
            engine,
            max(perf.max_concurrency, capacity),
            log_path=report_dir / "logs" / "tts.log",
        )
        progress(f"perf: {plan.requests} requests, {engine}, closed loop x{plan.concurrency}")
        reference = options.image
        if reference is None and options.release is not None:
            reference = release_image(options.release)
        if reference is None:
            document = measure(config, plan, service, prompt_source=source, capacity_max=capacity)
        else:
            container = running_container(
                config,
                reference,
                engine=engine,
                max_concurrency=service.max_concurrency,
                logs_dir=report_dir / "logs",
                record=record,
            )
            document = measure(
                config,
                plan,
                service,
                prompt_source=source,
                capacity_max=capacity,
                target=container,
                target_description=ServiceUnderLoad(kind="container", image=reference),
            )
        write_report(metrics_path, document)
        outcomes.append(Outcome("load test", Status.PASS, render_line(document)))
    except NothingServedError as exc:
        # The service failed every request: the worst regression, with its verdict (and so
        # its issue), never bad input.
        outcomes.append(Outcome("load test", Status.FAIL, str(exc).splitlines()[0]))
        outcomes.append(_nothing_served(config, baseline_path, str(exc).splitlines()[0]))
    except (UsageError, ToolMissingError) as exc:
        # Bad input (exit 2) and a missing tool (exit 3) keep their exit codes, after the
        # summary is written.
        outcomes.append(Outcome("load test", Status.FAIL, str(exc).splitlines()[0]))
        error = exc
    except PipelineError as exc:
        outcomes.append(Outcome("load test", Status.FAIL, str(exc).splitlines()[0]))
    finally:
        notes.extend(record.notes)
        if record.teardown is not None:
            outcomes.append(record.teardown)
    if document is not None:
        result = _gate(
            config, metrics_path, baseline_path, options, outcomes, create=not pull_request
        )
        history = _append_history(history_path, document, result)
        write_text_atomic(report_dir / "history.jsonl", _jsonl(history))
        outcomes.append(_chart(history, baseline_path, report_dir / "trend.png"))
        notes.append(
            f"baseline: `{_shown(baseline_path, config.root)}`; history: {len(history)} runs"
        )
    status = overall(outcomes)
    markdown = render_summary("Performance (nox -s perf)", outcomes, notes)
    if result is not None:
        markdown += "\n" + result.markdown
        if (report_dir / "trend.png").exists():
            markdown += (
                "\nTrend chart: `reports/perf/trend.png` (in the `reports-perf` artifact).\n"
            )
    publish_summary(report_dir, markdown)
    for outcome in outcomes:
        progress(outcome.line())
    if error is not None:
        raise error
    failing = "; ".join(f"{o.name}: {o.detail}" for o in outcomes if not o.passed)
    verdict = verdict_error(
        SESSION, status, ci=config.env.ci, strict=options.strict, detail=failing
    )
    if verdict is not None:
        raise verdict
    warning = unknown_warning(SESSION, status)
    if warning is not None:
        progress(f"{warning}: {failing}")
    return status


def _gate(
    config: PipelineConfig,
    metrics_path: Path,
    baseline_path: Path,
    options: PerfOptions,
    outcomes: list[Outcome],
    *,
    create: bool,
) -> CheckResult | None:
    try:
        result = check(
            metrics_path,
            baseline_path,
            Thresholds.from_config(config.perf),
            update_baseline=options.update_baseline,
            create_baseline=create,
        )
    except PipelineError as exc:
        outcomes.append(Outcome("regression", Status.FAIL, str(exc)))
        return None
    report_dir = config.report_dir(SESSION)
    write_report(report_dir / "verdict.json", result.document)
    if result.verdict is None:
        detail = "nothing was compared: no baseline" + (
            " (created it from this run)"
            if result.baseline_created
            else " (a pull request never creates one)"
        )
    elif result.verdict.regression:
        names = ", ".join(r.name for r in result.verdict.rows if r.regression)
        detail = f"regression in {names} ({result.verdict.mode} mode)"
    else:
        detail = f"no regression ({result.verdict.mode} mode)"
    if result.baseline_updated:
        detail += "; baseline updated"
    outcomes.append(Outcome("regression", result.status, detail))
    return result


def _nothing_served(config: PipelineConfig, baseline_path: Path, why: str) -> Outcome:
    """The gate's verdict when no request succeeded (``regression.nothing_served``), written
    to verdict.json like any other; the baseline is never touched."""
    try:
        baseline_rate = read_metrics(baseline_path).metrics.error_rate
    except UsageError:
        baseline_rate = 0.0
    verdict = nothing_served(Thresholds.from_config(config.perf), baseline_rate, why)
    note = f"Baseline `{baseline_path}` unchanged: a run that served nothing never becomes it."
    document = verdict_document(verdict, baseline_updated=False, note=note)
    write_report(config.report_dir(SESSION) / "verdict.json", document)
    return Outcome("regression", Status.FAIL, "regression in error rate: no request succeeded")


def _append_history(
    path: Path, document: MetricsDocument, result: CheckResult | None
) -> list[HistoryEntry]:
    history = read_history(path)
    regression = None if result is None or result.verdict is None else result.verdict.regression
    history.append(history_entry(document, regression=regression))
    history = history[-HISTORY_KEEP:]
    write_text_atomic(path, _jsonl(history), durable=True)
    return history


def read_history(path: Path) -> list[HistoryEntry]:
    """The stored runs, oldest first. The history is a cache the session keeps for the chart:
    a line that is not a run (:class:`~vibevoice_ci.perf.reports.HistoryEntry`: a torn write,
    another shape) is skipped, never a reason to fail the session."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (FileNotFoundError, UnicodeDecodeError):
        return []
    entries = []
    for line in lines:
        try:
            entries.append(HistoryEntry.model_validate_json(line))
        except ValidationError:
            continue
    return entries


def _jsonl(entries: Sequence[HistoryEntry]) -> str:
    return "".join(json.dumps(report_json(entry), sort_keys=True) + "\n" for entry in entries)


def _chart(history: list[HistoryEntry], baseline_path: Path, target: Path) -> Outcome:
    try:
        baseline: MetricsDocument | None = read_metrics(baseline_path)
    except UsageError:
        baseline = None
    try:
        render_chart(history, baseline, target)
    except (ImportError, OSError, ValueError, KeyError, TypeError) as exc:
        return Outcome("trend chart", Status.UNKNOWN, f"not drawn: {type(exc).__name__}: {exc}")
    return Outcome("trend chart", Status.PASS, f"{target.name}: {len(history)} runs")


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
