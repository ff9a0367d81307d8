"""The metrics document: the seed design's schema, extended with the samples and the setting.

``build_document`` turns a load run into the document (pure); ``parse_metrics`` validates a
document read back for the regression gate and returns only what the gate compares (pure,
every problem one line as :class:`~vibevoice_ci.core.errors.UsageError`, exit 2). The
document is :class:`~vibevoice_ci.perf.reports.MetricsDocument`; ``metrics.schema.json`` next
to this module is its JSON Schema, generated from it (``python -m vibevoice_ci schemas``).
"""

from __future__ import annotations

import hashlib
import math
import os
import platform
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from vibevoice_ci.core.errors import CheckFailedError
from vibevoice_ci.core.reports import read_report, validate_report
from vibevoice_ci.perf.client import Kind
from vibevoice_ci.perf.loadgen import LoadRun
from vibevoice_ci.perf.reports import (
    Latency,
    Machine,
    Measurements,
    MetricsDocument,
    PromptSet,
    RawSamples,
    Realtime,
    RunSetting,
    ServiceUnderLoad,
    Units,
)
from vibevoice_ci.perf.stats import summarize


class NothingServedError(CheckFailedError):
    """Every request of the load test failed: the service served nothing."""


SCHEMA_VERSION: Literal[1] = 1
SCHEMA_PATH = Path(__file__).with_name("metrics.schema.json")
LATENCY_METRICS = ("ttfa_ms", "e2e_latency_ms")


def build_document(
    run: LoadRun,
    *,
    engine: str,
    git_sha: str | None,
    workflow_run_id: str | None,
    prompt_source: str,
    machine: Machine | Mapping[str, Any],
    timestamp: datetime | None = None,
    service: ServiceUnderLoad | None = None,
    realtime: Realtime | None = None,
) -> MetricsDocument:
    """The metrics document of ``run``. Latency statistics and samples come from the requests
    that succeeded; a run where none did has no latency to report: :class:`NothingServedError`
    (a failed check, exit 1: the worst regression, not bad input)."""
    ok = [r for r in run.results if r.kind is Kind.OK and r.ttfa is not None and r.e2e]
    if not ok:
        counts = Counter(r.kind.value for r in run.results)
        raise NothingServedError(f"no request succeeded, nothing to measure ({dict(counts)})")
    total = len(run.results)
    failures = sum(1 for r in run.results if r.kind.is_failure)
    shed = sum(1 for r in run.results if r.kind in (Kind.REJECTED, Kind.UNAVAILABLE))
    ttfa = [round(r.ttfa * 1000, 3) for r in ok if r.ttfa is not None]
    e2e = [round(r.e2e * 1000, 3) for r in ok if r.e2e is not None]
    audio = [round(r.audio_seconds, 4) for r in ok]
    wall = run.wall_seconds if run.wall_seconds > 0 else math.inf
    when = (timestamp or datetime.now(UTC)).astimezone(UTC)
    plan = run.plan
    if not isinstance(machine, Machine):
        machine = validate_report(dict(machine), Machine, "machine details")
    return MetricsDocument(
        schema_version=SCHEMA_VERSION,
        timestamp=when.isoformat(timespec="seconds").replace("+00:00", "Z"),
        git_sha=git_sha,
        workflow_run_id=workflow_run_id,
        units=Units(latency="ms", error_rate="fraction"),
        metrics=Measurements(
            ttfa_ms=Latency.model_validate(summarize(ttfa)),
            e2e_latency_ms=Latency.model_validate(summarize(e2e)),
            throughput_rps=round(len(ok) / wall, 3),
            audio_seconds_per_second=round(sum(audio) / wall, 3),
            error_rate=round(failures / total, 6),
            rejected_rate=round(shed / total, 6),
            total_requests=total,
            outcomes=dict(sorted(Counter(r.kind.value for r in run.results).items())),
        ),
        samples=RawSamples(ttfa_ms=ttfa, e2e_latency_ms=e2e, audio_seconds=audio),
        run=RunSetting.model_validate(
            {
                "engine": engine,
                "endpoint": plan.endpoint,  # "http" or "ws", as LoadPlan checked
                "mode": plan.mode,
                "concurrency": plan.concurrency,
                "rate": plan.rate,
                "requests": plan.requests,
                "duration_s": plan.duration,
                "warmup": plan.warmup,
                "wall_seconds": round(run.wall_seconds, 3),
                "late_starts": run.late_starts,
                "prompt_set": prompt_set(plan.prompts, prompt_source),
                **({} if service is None else {"service": service}),
            }
        ),
        machine=machine,
        realtime=realtime,
    )


def prompt_set(prompts: Sequence[str], source: str) -> PromptSet:
    digest = hashlib.sha256("\n".join(prompts).encode("utf-8")).hexdigest()
    return PromptSet(
        source=source, count=len(prompts), lengths=[len(p) for p in prompts], sha256=digest
    )


def machine_details() -> Machine:
    """CPU model, cores, load average, platform and Python of this machine (an edge)."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.lower().startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = [round(value, 2) for value in os.getloadavg()]
    except OSError:
        load = []
    return Machine(
        cpu_model=model,
        cores=os.cpu_count() or 1,
        load_average=load,
        platform=platform.platform(),
        python=platform.python_version(),
    )


# --------------------------------------------------------------------------------------------
# Reading a document back for the gate


@dataclass(frozen=True)
class Capacity:
    """What the gate compares of a run's realtime capacity: the streams, and what they were
    measured under (None where an older document does not say)."""

    streams: int
    ttfa_slo_ms: float | None
    cores: int | None


@dataclass(frozen=True)
class Metrics:
    """What the regression gate compares, validated: latency statistics in milliseconds, the
    error rate as a fraction, and the raw samples when the file has them."""

    ttfa_ms: Mapping[str, float]
    e2e_latency_ms: Mapping[str, float]
    throughput_rps: float
    error_rate: float
    total_requests: int
    samples: Mapping[str, tuple[float, ...]]
    capacity: Capacity | None = None  # None: the run had no capacity steps


def parse_metrics(document: object, name: str) -> Metrics:
    """Validate ``document`` (from the file ``name``); any problem is one UsageError line."""
    return gate_metrics(validate_report(document, MetricsDocument, name))


def read_metrics(path: Path) -> MetricsDocument:
    """The metrics document in ``path``; a missing file, malformed JSON or a document of
    another shape (a missing field, a negative, non-numeric or NaN value, other units) is one
    UsageError line."""
    return read_report(path, MetricsDocument, "metrics file")


def gate_metrics(document: MetricsDocument) -> Metrics:
    """What the gate compares of a validated document."""
    measured = document.metrics
    samples: dict[str, tuple[float, ...]] = {}
    if document.samples is not None:
        for metric in LATENCY_METRICS:
            values: list[float] | None = getattr(document.samples, metric)
            if values is not None:
                samples[metric] = tuple(values)
    return Metrics(
        ttfa_ms=measured.ttfa_ms.model_dump(),
        e2e_latency_ms=measured.e2e_latency_ms.model_dump(),
        throughput_rps=measured.throughput_rps,
        error_rate=measured.error_rate,
        total_requests=measured.total_requests,
        samples=samples,
        capacity=(
            None
            if document.realtime is None
            else Capacity(
                streams=document.realtime.capacity_streams,
                ttfa_slo_ms=document.realtime.ttfa_slo_ms,
                cores=None if document.machine is None else document.machine.cores,
            )
        ),
    )
