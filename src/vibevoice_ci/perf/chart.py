"""The trend chart: TTFA p50/p95 and throughput over the stored history, the baseline marked.

``history_entry`` turns a metrics document into one line of ``history.jsonl``
(:class:`~vibevoice_ci.perf.reports.HistoryEntry`, pure); ``render_chart`` draws the PNG with
matplotlib's Agg backend (no display needed).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vibevoice_ci.perf.reports import HistoryEntry, MetricsDocument


def history_entry(document: MetricsDocument, *, regression: bool | None) -> HistoryEntry:
    """The numbers of one run that the trend needs."""
    metrics = document.metrics
    return HistoryEntry(
        timestamp=document.timestamp,
        git_sha=document.git_sha,
        workflow_run_id=document.workflow_run_id,
        ttfa_p50_ms=metrics.ttfa_ms.p50,
        ttfa_p95_ms=metrics.ttfa_ms.p95,
        e2e_p95_ms=metrics.e2e_latency_ms.p95,
        throughput_rps=metrics.throughput_rps,
        error_rate=metrics.error_rate,
        regression=regression,
    )


def render_chart(
    history: Sequence[HistoryEntry], baseline: MetricsDocument | None, path: Path
) -> None:
    """Draw the trend of ``history`` (oldest first) with ``baseline``'s TTFA as dashed lines,
    regressions as red marks, into the PNG ``path`` (written atomically: temp, rename)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = list(range(1, len(history) + 1))
    labels = [(entry.git_sha or "")[:7] for entry in history]
    figure, (latency, throughput) = plt.subplots(
        2, 1, figsize=(9, 6), sharex=True, gridspec_kw={"height_ratios": [2, 1]}
    )
    latency.plot(runs, [e.ttfa_p50_ms for e in history], "o-", label="TTFA p50")
    latency.plot(runs, [e.ttfa_p95_ms for e in history], "s-", label="TTFA p95")
    regressed = [i for i, e in zip(runs, history, strict=True) if e.regression]
    if regressed:
        latency.plot(
            regressed,
            [history[i - 1].ttfa_p95_ms for i in regressed],
            "rx",
            markersize=12,
            label="regression",
        )
    if baseline is not None:
        ttfa = baseline.metrics.ttfa_ms
        latency.axhline(ttfa.p50, linestyle="--", color="C0", alpha=0.6, label="baseline p50")
        latency.axhline(ttfa.p95, linestyle="--", color="C1", alpha=0.6, label="baseline p95")
        throughput.axhline(
            baseline.metrics.throughput_rps,
            linestyle="--",
            color="C2",
            alpha=0.6,
            label="baseline",
        )
    latency.set_ylabel("time to first audio (ms)")
    latency.set_title("tts performance trend")
    latency.legend(loc="upper left", fontsize="small")
    latency.grid(alpha=0.3)
    throughput.plot(runs, [e.throughput_rps for e in history], "^-", color="C2")
    throughput.set_ylabel("requests/s")
    throughput.set_xlabel("run (commit)")
    throughput.grid(alpha=0.3)
    throughput.set_xticks(runs)
    throughput.set_xticklabels(labels, rotation=45, ha="right", fontsize="x-small")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        figure.savefig(temporary, format="png", dpi=100)
        temporary.replace(path)
    finally:
        plt.close(figure)
        temporary.unlink(missing_ok=True)
