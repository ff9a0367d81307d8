"""``scripts/check_performance_regression.py``: the gate's command line and the baseline file.

    check_performance_regression.py --current FILE --baseline FILE [--update-baseline]
        [--summary FILE.md] [--json-out FILE] [--threshold-only]

- No baseline file: nothing is compared, so the verdict is unknown ("nothing was compared");
  the baseline is created from the current metrics and the script exits 0 (seed design,
  Example 1: the script is never strict; the ``perf`` session, which calls :func:`check`,
  follows the one rule, ``core.outcome.exit_code``, and fails on it under CI).
- The baseline is replaced only with ``--update-baseline`` and only when there is no
  regression. Every file is written atomically (temporary file, fsync, rename).
- Both files are read as :class:`~vibevoice_ci.perf.reports.MetricsDocument` (the seed
  design's schema, and the load test's extensions where present); the verdict written with
  ``--json-out`` is :class:`~vibevoice_ci.perf.reports.PerfVerdict`.
- Exit status: 0 no regression (or nothing compared), 1 regression, 2 bad input (a missing
  file, malformed JSON, a missing field, a negative, non-numeric or NaN value, mismatched
  units, a key the schema does not know), one line, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vibevoice_ci.core.config import PerfConfig, load_config, with_environment
from vibevoice_ci.core.errors import (
    EXIT_BAD_INPUT,
    ConfigError,
    PipelineError,
)
from vibevoice_ci.core.files import write_text_atomic
from vibevoice_ci.core.outcome import Status, exit_code
from vibevoice_ci.core.reports import write_report
from vibevoice_ci.perf.metrics import gate_metrics, read_metrics
from vibevoice_ci.perf.regression import (
    Thresholds,
    Verdict,
    compare,
    render_markdown,
    verdict_document,
)
from vibevoice_ci.perf.reports import MetricsDocument, PerfVerdict


@dataclass(frozen=True)
class CheckResult:
    """What one check did: the verdict (None when the baseline was just created)."""

    verdict: Verdict | None
    baseline_created: bool
    baseline_updated: bool
    markdown: str
    document: PerfVerdict

    @property
    def status(self) -> Status:
        """Unknown when nothing was compared (no baseline), else the gate's verdict."""
        return Status.UNKNOWN if self.verdict is None else self.verdict.status


def check(
    current_path: Path,
    baseline_path: Path,
    thresholds: Thresholds,
    *,
    update_baseline: bool = False,
    statistical: bool = True,
    create_baseline: bool = True,
) -> CheckResult:
    """Compare the two files, creating or updating the baseline as the rules above say.
    Without a baseline nothing is compared: the status is unknown, and the baseline is created
    from the current metrics unless ``create_baseline`` is False (a pull request's run)."""
    current_document = read_metrics(current_path)
    current = gate_metrics(current_document)
    if not baseline_path.exists():
        if create_baseline:
            write_report(baseline_path, current_document, durable=True)
            note = (
                f"No baseline at `{baseline_path}`: nothing was compared. Created it from the "
                "current metrics; the next run is compared with it."
            )
        else:
            note = (
                f"No baseline at `{baseline_path}`: nothing was compared, and none was created "
                "(a pull request's run never creates or moves the baseline)."
            )
        markdown = (
            f"## Performance regression check\n\n**UNKNOWN: nothing was compared**\n\n{note}\n"
        )
        document = PerfVerdict(
            status=Status.UNKNOWN.value,
            regression=False,
            baseline_created=create_baseline,
            baseline_updated=False,
            mode=None,
            checks=[],
            note=note,
        )
        return CheckResult(None, create_baseline, False, markdown, document)
    baseline_document = read_metrics(baseline_path)
    baseline = gate_metrics(baseline_document)
    verdict = compare(current, baseline, thresholds, statistical=statistical)
    updated = update_baseline and not verdict.regression
    if updated:
        write_report(baseline_path, current_document, durable=True)
    if updated:
        note = f"Baseline `{baseline_path}` updated to these metrics."
    elif update_baseline:
        note = f"Baseline `{baseline_path}` kept: a regression never becomes the baseline."
    else:
        note = f"Baseline `{baseline_path}` unchanged (update it with --update-baseline)."
    differences = setting_differences(current_document, baseline_document)
    if differences:
        note += (
            f" Note: the runs differ in {', '.join(differences)}; the comparison may measure "
            "the change of setting, not of the code."
        )
    document = verdict_document(
        verdict,
        baseline_updated=updated,
        note=note,
        setting_differences=differences or None,
    )
    markdown = render_markdown(verdict, baseline_note=note)
    return CheckResult(verdict, False, updated, markdown, document)


SETTING_KEYS = ("engine", "endpoint", "mode", "concurrency", "rate")


def setting_differences(current: MetricsDocument, baseline: MetricsDocument) -> list[str]:
    """The run settings (engine, endpoint, loop, concurrency, rate, prompt set, and where both
    say it, the kind of service: a local process or a container) in which two metrics documents
    differ; files without a ``run`` section are not compared. The image is not a setting: it
    changes with every commit, which is what the gate is there to measure."""
    now, before = current.run, baseline.run
    if now is None or before is None:
        return []
    differences = [key for key in SETTING_KEYS if getattr(now, key) != getattr(before, key)]
    if now.prompt_set.sha256 != before.prompt_set.sha256:
        differences.append("prompt set")
    if (
        now.service is not None
        and before.service is not None
        and now.service.kind != before.service.kind
    ):
        differences.append("service (local process or container)")
    return differences


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def parser() -> argparse.ArgumentParser:
    cli = _Parser(prog="check_performance_regression", description=__doc__.split("\n\n")[0])
    cli.add_argument("--current", type=Path, required=True, help="this run's metrics JSON")
    cli.add_argument("--baseline", type=Path, required=True, help="the baseline metrics JSON")
    cli.add_argument(
        "--update-baseline",
        action="store_true",
        help="replace the baseline with the current metrics when there is no regression",
    )
    cli.add_argument("--summary", type=Path, help="write the Markdown table here")
    cli.add_argument("--json-out", type=Path, help="write the verdict as JSON here")
    cli.add_argument(
        "--threshold-only",
        action="store_true",
        help="the percentage thresholds alone, even where raw samples allow the statistical rule",
    )
    return cli


def thresholds_from_project() -> Thresholds:
    """The thresholds in ``[tool.vibevoice-ci.perf]``; the design defaults outside a checkout
    of this project."""
    try:
        return Thresholds.from_config(with_environment(load_config(), {}).perf)
    except ConfigError as exc:
        if "no pyproject.toml" in str(exc):
            return Thresholds.from_config(PerfConfig())
        raise


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        result = check(
            args.current,
            args.baseline,
            thresholds_from_project(),
            update_baseline=args.update_baseline,
            statistical=not args.threshold_only,
        )
        if args.summary is not None:
            write_text_atomic(args.summary, result.markdown, durable=True)
        if args.json_out is not None:
            write_report(args.json_out, result.document, durable=True)
    except PipelineError as exc:
        print(f"check_performance_regression: error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(result.markdown)
    # Example 1: the script keeps exit 0 when nothing was compared (never strict).
    return exit_code(result.status, ci=False, strict=False)
