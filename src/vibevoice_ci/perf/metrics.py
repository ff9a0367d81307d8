"""The metrics document: the seed design's schema, extended with the samples and the setting.

``build_document`` turns a load run into the document (pure); ``parse_metrics`` validates a
document read back for the regression gate and returns only what the gate compares (pure,
every problem one line as :class:`~vibevoice_ci.core.errors.UsageError`, exit 2).
``metrics.schema.json`` next to this module is the JSON Schema of the document; the tests
validate what ``build_document`` writes against it.
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
from typing import Any

from vibevoice_ci.core.errors import UsageError
from vibevoice_ci.perf.client import Kind
from vibevoice_ci.perf.loadgen import LoadRun
from vibevoice_ci.perf.stats import summarize

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).with_name("metrics.schema.json")
UNITS = {"latency": "ms", "error_rate": "fraction"}
LATENCY_METRICS = ("ttfa_ms", "e2e_latency_ms")
STATISTICS = ("mean", "p50", "p95", "p99")


def build_document(
    run: LoadRun,
    *,
    engine: str,
    git_sha: str | None,
    workflow_run_id: str | None,
    prompt_source: str,
    machine: Mapping[str, Any],
    timestamp: datetime | None = None,
) -> dict[str, Any]:
    """The metrics JSON of ``run``. Latency statistics and samples come from the requests
    that succeeded; a run where none did has no latency to report and is a UsageError."""
    ok = [r for r in run.results if r.kind is Kind.OK and r.ttfa is not None and r.e2e]
    if not ok:
        counts = Counter(r.kind.value for r in run.results)
        raise UsageError(f"no request succeeded, nothing to measure ({dict(counts)})")
    total = len(run.results)
    failures = sum(1 for r in run.results if r.kind.is_failure)
    shed = sum(1 for r in run.results if r.kind in (Kind.REJECTED, Kind.UNAVAILABLE))
    ttfa = [round(r.ttfa * 1000, 3) for r in ok if r.ttfa is not None]
    e2e = [round(r.e2e * 1000, 3) for r in ok if r.e2e is not None]
    audio = [round(r.audio_seconds, 4) for r in ok]
    wall = run.wall_seconds if run.wall_seconds > 0 else math.inf
    when = (timestamp or datetime.now(UTC)).astimezone(UTC)
    plan = run.plan
    return {
        "schema_version": SCHEMA_VERSION,
        "timestamp": when.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "git_sha": git_sha,
        "workflow_run_id": workflow_run_id,
        "units": dict(UNITS),
        "metrics": {
            "ttfa_ms": summarize(ttfa),
            "e2e_latency_ms": summarize(e2e),
            "throughput_rps": round(len(ok) / wall, 3),
            "audio_seconds_per_second": round(sum(audio) / wall, 3),
            "error_rate": round(failures / total, 6),
            "rejected_rate": round(shed / total, 6),
            "total_requests": total,
            "outcomes": dict(sorted(Counter(r.kind.value for r in run.results).items())),
        },
        "samples": {"ttfa_ms": ttfa, "e2e_latency_ms": e2e, "audio_seconds": audio},
        "run": {
            "engine": engine,
            "endpoint": plan.endpoint,
            "mode": plan.mode,
            "concurrency": plan.concurrency,
            "rate": plan.rate,
            "requests": plan.requests,
            "duration_s": plan.duration,
            "warmup": plan.warmup,
            "wall_seconds": round(run.wall_seconds, 3),
            "late_starts": run.late_starts,
            "prompt_set": prompt_set(plan.prompts, prompt_source),
        },
        "machine": dict(machine),
    }


def prompt_set(prompts: Sequence[str], source: str) -> dict[str, Any]:
    digest = hashlib.sha256("\n".join(prompts).encode("utf-8")).hexdigest()
    return {
        "source": source,
        "count": len(prompts),
        "lengths": [len(p) for p in prompts],
        "sha256": digest,
    }


def machine_details() -> dict[str, Any]:
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
    return {
        "cpu_model": model,
        "cores": os.cpu_count() or 1,
        "load_average": load,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


# --------------------------------------------------------------------------------------------
# Reading a document back for the gate


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


def parse_metrics(document: object, name: str) -> Metrics:
    """Validate ``document`` (from the file ``name``); any problem is one UsageError line."""
    if not isinstance(document, dict):
        raise UsageError(f"{name}: not a JSON object")
    units = document.get("units")
    if units is not None:
        if not isinstance(units, dict):
            raise UsageError(f"{name}: units must be an object, got {units!r}")
        for key, expected in UNITS.items():
            if key in units and units[key] != expected:
                raise UsageError(
                    f"{name}: units.{key} is {units[key]!r}; the gate compares {expected!r}"
                )
    metrics = document.get("metrics")
    if not isinstance(metrics, dict):
        raise UsageError(f"{name}: missing field metrics")
    latencies = {}
    for metric in LATENCY_METRICS:
        table = metrics.get(metric)
        if not isinstance(table, dict):
            raise UsageError(f"{name}: missing field metrics.{metric}")
        latencies[metric] = {
            stat: _number(table, stat, name, f"metrics.{metric}.{stat}") for stat in STATISTICS
        }
    error_rate = _number(metrics, "error_rate", name, "metrics.error_rate")
    if error_rate > 1:
        raise UsageError(
            f"{name}: metrics.error_rate {error_rate} is above 1: it is a fraction, "
            "not a percentage"
        )
    total = _number(metrics, "total_requests", name, "metrics.total_requests")
    if total != int(total) or total < 1:
        raise UsageError(f"{name}: metrics.total_requests must be a whole number >= 1")
    return Metrics(
        ttfa_ms=latencies["ttfa_ms"],
        e2e_latency_ms=latencies["e2e_latency_ms"],
        throughput_rps=_number(metrics, "throughput_rps", name, "metrics.throughput_rps"),
        error_rate=error_rate,
        total_requests=int(total),
        samples=_samples(document.get("samples"), name),
    )


def _number(table: Mapping[str, Any], key: str, name: str, path: str) -> float:
    if key not in table:
        raise UsageError(f"{name}: missing field {path}")
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UsageError(f"{name}: {path} must be a number, got {_short(value)}")
    if not math.isfinite(value):
        raise UsageError(f"{name}: {path} must be a finite number, got {value!r}")
    if value < 0:
        raise UsageError(f"{name}: {path} must not be negative, got {value!r}")
    return float(value)


def _short(value: object) -> str:
    text = repr(value).replace("\n", " ")
    return text if len(text) <= 40 else text[:37] + "..."


def _samples(samples: object, name: str) -> dict[str, tuple[float, ...]]:
    if samples is None:
        return {}
    if not isinstance(samples, dict):
        raise UsageError(f"{name}: samples must be an object")
    kept = {}
    for metric in LATENCY_METRICS:
        values = samples.get(metric)
        if values is None:
            continue
        if not isinstance(values, list) or not values:
            raise UsageError(f"{name}: samples.{metric} must be a non-empty list of numbers")
        kept[metric] = tuple(
            _number({"v": value}, "v", name, f"samples.{metric}[{index}]")
            for index, value in enumerate(values)
        )
    return kept
