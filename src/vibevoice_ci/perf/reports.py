"""The perf session's JSON, as models: the metrics, the gate's verdict and the history.

- :class:`MetricsDocument`: ``reports/perf/metrics.json`` and the baseline
  (``.perf-state/baseline.json``, a copy of a metrics document). The seed design's
  Performance Metrics Schema (``timestamp``, ``git_sha``, ``workflow_run_id``, ``metrics``:
  required, as the seed has them) extended with units, raw samples, the run's setting, the
  machine and the realtime capacity. An extension may be left out (a document in the seed's
  schema alone is one the gate compares) but, when present, has the shape the load test
  writes; the gate reads both files through this model.
- :class:`PerfVerdict`: ``reports/perf/verdict.json`` (``check_performance_regression.py
  --json-out``), which ``notify`` reads for the regression issue.
- :class:`HistoryEntry`: one line of ``history.jsonl`` (the trend chart's numbers of one run).

Every number of a metrics document is finite, and the models are strict: ``"1.5"`` is not a
number and ``true`` is not 1, as in the generated JSON Schemas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)

from vibevoice_ci.core.reports import ReportModel

T = TypeVar("T")
METRICS_SCHEMA_ID = "https://github.com/vibevoice-realtime/platform/perf-metrics.schema.json"
# How a request ended (``client.Kind``'s values; a test keeps the two equal).
OutcomeKind = Literal[
    "ok", "rejected", "unavailable", "http_error", "truncated", "no_audio", "connection", "timeout"
]


def _none_is_left_out(value: Any, inner: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
    # In Python, None is how a writer says "left out" (written as no key at all); in a file,
    # null is not the field's type and is refused as any other wrong type is.
    if value is None and info.mode == "python":
        return None
    return inner(value)


# A field a document may leave out but never writes as null: not in the schema's
# ``required``, and absent from the JSON when the model holds None. (Type checkers see
# ``T | None``; validation and the schema see ``T`` alone, so a wrong value's error names the
# field, not a member of a union.)
if TYPE_CHECKING:
    Omittable = Annotated[T | None, "may be left out"]
else:
    Omittable = Annotated[T, WrapValidator(_none_is_left_out)]


def may_be_left_out() -> Any:
    """The field's default: None, written as no key at all."""
    return Field(default=None, exclude_if=_is_none, json_schema_extra=_no_default)


def _is_none(value: Any) -> bool:
    return value is None


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def _a_fraction(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 1:
        raise ValueError(f"{value} is above 1: it is a fraction (0.01 is 1%), not a percentage")
    return value


def _not_a_boolean(value: Any) -> Any:
    # pydantic matches True against Literal[1] (True == 1); JSON Schema's integer does not.
    if isinstance(value, bool):
        raise ValueError("must be the number 1, not a boolean")
    return value


NonNegative = Annotated[float, Field(ge=0)]
Proportion = Annotated[float, Field(ge=0, le=1), BeforeValidator(_a_fraction)]
Samples = Annotated[list[NonNegative], Field(min_length=1)]
Timestamp = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")]
GitSha = Annotated[str, Field(pattern=r"^[0-9a-f]{7,40}$")]


class _Finite(ReportModel):
    """Strict JSON types, and no NaN or infinity (``allow_inf_nan``)."""

    model_config = ConfigDict(strict=True, allow_inf_nan=False)


# --------------------------------------------------------------------------------------------
# metrics.json and the baseline


class Latency(_Finite):
    """A latency's statistics over the requests that succeeded, in milliseconds."""

    mean: NonNegative
    p50: NonNegative
    p95: NonNegative
    p99: NonNegative


class Units(_Finite):
    """The units the numbers are in; the gate compares only these."""

    latency: Literal["ms"]
    error_rate: Literal["fraction"]


class Measurements(_Finite):
    """``metrics``: the seed design's five, and the load test's extensions."""

    ttfa_ms: Latency
    e2e_latency_ms: Latency
    throughput_rps: NonNegative
    error_rate: Proportion  # failures (not load shed) over all requests
    total_requests: Annotated[int, Field(ge=1)]
    audio_seconds_per_second: Omittable[NonNegative] = may_be_left_out()
    rejected_rate: Omittable[Proportion] = may_be_left_out()  # 429 and 503: load shed
    outcomes: Omittable[dict[OutcomeKind, Annotated[int, Field(ge=1)]]] = may_be_left_out()


class RawSamples(_Finite):
    """Every successful request's numbers, in order: what the statistical rule tests."""

    ttfa_ms: Omittable[Samples] = may_be_left_out()
    e2e_latency_ms: Omittable[Samples] = may_be_left_out()
    audio_seconds: Omittable[Samples] = may_be_left_out()


class PromptSet(_Finite):
    """Which prompts were sent: where from, how many, their lengths and their digest."""

    source: str  # "builtin" or the prompt file
    count: Annotated[int, Field(ge=1)]
    lengths: Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=1)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class ServiceUnderLoad(_Finite):
    """What was loaded: a local process, a port given on the command line, or a container."""

    kind: Literal["local process", "given port", "container"]
    image: str | None  # the container's image reference; null otherwise


class RunSetting(_Finite):
    """``run``: the load's shape; two runs of another setting are not comparable."""

    engine: str
    endpoint: Literal["http", "ws"]
    mode: Literal["closed", "open"]
    concurrency: Annotated[int, Field(ge=1)]
    rate: Annotated[float, Field(gt=0)] | None  # open loop: arrivals per second
    requests: Annotated[int, Field(ge=1)] | None
    duration_s: Annotated[float, Field(gt=0)] | None
    warmup: Annotated[int, Field(ge=0)]
    wall_seconds: NonNegative
    late_starts: Annotated[int, Field(ge=0)]
    prompt_set: PromptSet
    # Written since the container runs (--image, --release); older baselines have none.
    service: Omittable[ServiceUnderLoad] = may_be_left_out()


class Machine(_Finite):
    """The machine that ran the load (and the service: they share its cores)."""

    cpu_model: str
    cores: Annotated[int, Field(ge=1)]
    load_average: Annotated[list[NonNegative], Field(max_length=3)]  # [] where unknown
    platform: Omittable[str] = may_be_left_out()
    python: Omittable[str] = may_be_left_out()


class CapacityLevel(_Finite):
    """One attempt at one concurrency level of the realtime capacity steps."""

    concurrency: Annotated[int, Field(ge=1)]
    requests: Annotated[int, Field(ge=0)]
    failed: Annotated[int, Field(ge=0)]
    underruns: Annotated[int, Field(ge=0)]
    sustained: bool
    ttfa_p95_ms: NonNegative | None
    worst_margin_ms: float | None  # negative: a listener ran dry
    # 1, or 2: the confirmation repeat of a level whose first attempt was not sustained.
    # Written since the TTFA objective; older documents have none (one attempt per level).
    attempt: Omittable[Annotated[int, Field(ge=1, le=2)]] = may_be_left_out()


class Realtime(_Finite):
    """``realtime``: the most concurrent streams kept ahead of playback within the TTFA
    objective, and the engine's limit measured in the same run."""

    capacity_streams: Annotated[int, Field(ge=0)]
    capacity_per_core: NonNegative
    ttfa_p95_ms_at_capacity: NonNegative | None
    jitter_buffer_ms: NonNegative
    levels: list[CapacityLevel]
    # Written since the TTFA objective; older documents have none (no objective: a level
    # counted when no stream underran).
    ttfa_slo_ms: Omittable[Annotated[float, Field(gt=0)]] = may_be_left_out()
    # The engine's limit over the capacity steps, from the service's /metrics: null when the
    # service has no tts_engine_cpu_seconds_total (an older image) or made no audio.
    engine_rtf: Annotated[float, Field(gt=0)] | None = None  # engine CPU s per audio s
    engine_limit_streams: Annotated[float, Field(gt=0)] | None = None  # cores / engine_rtf
    capacity_ratio: NonNegative | None = None  # capacity_streams / engine_limit_streams


class MetricsDocument(_Finite):
    """A tts load test's metrics: the seed design's Performance Metrics Schema (timestamp,
    git_sha, workflow_run_id, metrics), extended with units, raw samples, the run's setting,
    the machine and the realtime capacity. Written by scripts/load_test_tts.py and nox -s
    perf; read by scripts/check_performance_regression.py (the baseline is one too)."""

    model_config = ConfigDict(
        title="tts load-test metrics", json_schema_extra={"$id": METRICS_SCHEMA_ID}
    )

    timestamp: Timestamp
    git_sha: GitSha | None
    workflow_run_id: str | None
    metrics: Measurements
    schema_version: Omittable[Annotated[Literal[1], BeforeValidator(_not_a_boolean)]] = (
        may_be_left_out()
    )
    units: Omittable[Units] = may_be_left_out()
    samples: Omittable[RawSamples] = may_be_left_out()
    run: Omittable[RunSetting] = may_be_left_out()
    machine: Omittable[Machine] = may_be_left_out()
    realtime: Omittable[Realtime] = may_be_left_out()


# --------------------------------------------------------------------------------------------
# verdict.json


class VerdictCheck(ReportModel):
    """One metric's comparison (``regression.Row``)."""

    # A latency rising from a baseline of 0 has an infinite ``change``: json writes it as
    # ``Infinity`` (outside the JSON standard, and this schema's ``number``).
    model_config = ConfigDict(strict=True, ser_json_inf_nan="constants")

    metric: Literal["TTFA mean", "TTFA p50", "end-to-end p95", "error rate", "realtime capacity"]
    baseline: float
    current: float
    change: float | None  # (current - baseline) / baseline; null for the error rate
    threshold: str  # "+10%", "<= 1%", "-10%" (realtime capacity, in streams)
    threshold_exceeded: bool
    rule: str  # "threshold", or "threshold + " the statistical test's name
    evidence: str  # the p-value or the interval; "" in threshold mode
    regression: bool
    verdict: Literal["ok", "above threshold, not statistically clear", "REGRESSION"]


class PerfVerdict(ReportModel):
    """The regression gate's answer: a row per metric, and what became of the baseline."""

    model_config = ConfigDict(strict=True)

    # unknown: nothing was compared (no baseline: created, or on a pull request not)
    status: Literal["pass", "fail", "unknown"]
    regression: bool
    mode: Literal["statistical", "threshold"] | None  # null: nothing was compared
    checks: list[VerdictCheck]
    baseline_created: bool
    baseline_updated: bool
    note: str
    # The run settings the two documents differ in; left out when they differ in none.
    setting_differences: Omittable[list[str]] = may_be_left_out()
    # Why a comparison was not made (the realtime capacity: measured under another TTFA
    # objective or on other cores, or not measured); left out when every one was made.
    skipped: Omittable[list[str]] = may_be_left_out()


# --------------------------------------------------------------------------------------------
# history.jsonl


class HistoryEntry(_Finite):
    """One run in ``history.jsonl``: the numbers the trend chart draws."""

    timestamp: Timestamp
    git_sha: GitSha | None
    workflow_run_id: str | None
    ttfa_p50_ms: NonNegative
    ttfa_p95_ms: NonNegative
    e2e_p95_ms: NonNegative
    throughput_rps: NonNegative
    error_rate: Proportion
    regression: bool | None  # null: no verdict (the baseline was created, or the gate failed)


SCHEMAS: dict[str, type[ReportModel]] = {
    "metrics.schema.json": MetricsDocument,
    "verdict.schema.json": PerfVerdict,
    "history-entry.schema.json": HistoryEntry,
}
