"""``scripts/check_performance_regression.py``: the gate's command line and the baseline file.

    check_performance_regression.py --current FILE --baseline FILE [--update-baseline]
        [--summary FILE.md] [--json-out FILE] [--threshold-only]

- No baseline file: it is created from the current metrics, the output says so, exit 0
  (seed design, Example 1).
- The baseline is replaced only with ``--update-baseline`` and only when there is no
  regression. Every file is written atomically (temporary file, fsync, rename).
- Exit status: 0 no regression, 1 regression, 2 bad input (a missing file, malformed JSON, a
  missing field, a negative, non-numeric or NaN value, mismatched units), one line, never a
  traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vibevoice_ci.core.config import PerfConfig, load_config, with_environment
from vibevoice_ci.core.errors import (
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    EXIT_OK,
    ConfigError,
    PipelineError,
    UsageError,
)
from vibevoice_ci.core.files import write_json_atomic, write_text_atomic
from vibevoice_ci.core.outcome import Status
from vibevoice_ci.perf.metrics import parse_metrics
from vibevoice_ci.perf.regression import Thresholds, Verdict, compare, render_markdown


@dataclass(frozen=True)
class CheckResult:
    """What one check did: the verdict (None when the baseline was just created)."""

    verdict: Verdict | None
    baseline_created: bool
    baseline_updated: bool
    markdown: str
    document: dict[str, Any]

    @property
    def status(self) -> Status:
        return Status.PASS if self.verdict is None else self.verdict.status


def read_json(path: Path) -> Any:
    """A JSON file, or a one-line UsageError. NaN and Infinity are not JSON: refused."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read it: {_one_line(exc)}") from None
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except ValueError as exc:
        raise UsageError(f"{path}: not valid JSON: {_one_line(exc)}") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]


def check(
    current_path: Path,
    baseline_path: Path,
    thresholds: Thresholds,
    *,
    update_baseline: bool = False,
    statistical: bool = True,
) -> CheckResult:
    """Compare the two files, creating or updating the baseline as the rules above say."""
    current_document = read_json(current_path)
    current = parse_metrics(current_document, str(current_path))
    if not baseline_path.exists():
        write_json_atomic(baseline_path, current_document, durable=True)
        note = (
            f"No baseline at `{baseline_path}`: created it from the current metrics "
            "(nothing to compare against; this run is not a regression)."
        )
        markdown = f"## Performance regression check\n\n**Baseline created**\n\n{note}\n"
        document = {
            "status": Status.PASS.value,
            "regression": False,
            "baseline_created": True,
            "baseline_updated": False,
            "mode": None,
            "checks": [],
            "note": note,
        }
        return CheckResult(None, True, False, markdown, document)
    baseline_document = read_json(baseline_path)
    baseline = parse_metrics(baseline_document, str(baseline_path))
    verdict = compare(current, baseline, thresholds, statistical=statistical)
    updated = update_baseline and not verdict.regression
    if updated:
        write_json_atomic(baseline_path, current_document, durable=True)
    if updated:
        note = f"Baseline `{baseline_path}` updated to these metrics."
    elif update_baseline:
        note = f"Baseline `{baseline_path}` kept: a regression never becomes the baseline."
    else:
        note = f"Baseline `{baseline_path}` unchanged (update it with --update-baseline)."
    document = {
        **verdict.to_json(),
        "baseline_created": False,
        "baseline_updated": updated,
        "note": note,
    }
    differences = setting_differences(current_document, baseline_document)
    if differences:
        note += (
            f" Note: the runs differ in {', '.join(differences)}; the comparison may measure "
            "the change of setting, not of the code."
        )
        document["note"] = note
        document["setting_differences"] = differences
    markdown = render_markdown(verdict, baseline_note=note)
    return CheckResult(verdict, False, updated, markdown, document)


SETTING_KEYS = ("engine", "endpoint", "mode", "concurrency", "rate")


def setting_differences(current: object, baseline: object) -> list[str]:
    """The run settings (engine, endpoint, loop, concurrency, rate, prompt set, and where both
    say it, the kind of service: a local process or a container) in which two metrics documents
    differ; files without a ``run`` section are not compared. The image is not a setting: it
    changes with every commit, which is what the gate is there to measure."""
    if not isinstance(current, dict) or not isinstance(baseline, dict):
        return []
    now, before = current.get("run"), baseline.get("run")
    if not isinstance(now, dict) or not isinstance(before, dict):
        return []
    differences = [key for key in SETTING_KEYS if now.get(key) != before.get(key)]
    prompts_now, prompts_before = now.get("prompt_set"), before.get("prompt_set")
    if (
        isinstance(prompts_now, dict)
        and isinstance(prompts_before, dict)
        and prompts_now.get("sha256") != prompts_before.get("sha256")
    ):
        differences.append("prompt set")
    service_now, service_before = now.get("service"), before.get("service")
    if (
        isinstance(service_now, dict)
        and isinstance(service_before, dict)
        and service_now.get("kind") != service_before.get("kind")
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
            write_json_atomic(args.json_out, result.document, durable=True)
    except PipelineError as exc:
        print(f"check_performance_regression: error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(result.markdown)
    return EXIT_CHECK_FAILED if result.status is Status.FAIL else EXIT_OK
