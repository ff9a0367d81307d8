"""``report`` and ``expect-status``: the report session's commands (``nox -s report``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from vibevoice_ci.core.command import Command
from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.errors import EXIT_OK, CheckFailedError
from vibevoice_ci.core.outcome import Status


def _report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--browser",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="check the page in headless Chromium and save reports/index.png (default: yes; "
        "without Chromium the check is reported as not run)",
    )


def _report(args: argparse.Namespace, config: PipelineConfig) -> int:
    from vibevoice_ci.report.session import run_report

    run_report(config, browser=args.browser)
    return EXIT_OK


def _expect_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--report", type=Path, required=True, help="the JSON report")
    parser.add_argument(
        "--status",
        required=True,
        choices=[status.value for status in Status],
        help="the status the report must have",
    )


def _expect_status(args: argparse.Namespace, config: PipelineConfig) -> int:
    from vibevoice_ci.core.progress import progress
    from vibevoice_ci.report.expect import read_status_document

    found = read_status_document(args.report)
    if found.value != args.status:
        raise CheckFailedError(f"{args.report} says {found.value}, expected {args.status}")
    progress(f"{args.report} says {found.value}, as expected")
    return EXIT_OK


COMMANDS = (
    Command(
        "report",
        "one page and one summary of every session's report: reports/index.html, "
        "reports/summary.md (nox -s report)",
        _report_arguments,
        _report,
    ),
    Command(
        "expect-status",
        "exit 0 when a session's status document (audit.json, trivy.json, verdict.json, ...; "
        "read through its model) has this top-level status, else 1 "
        "(.ci/run: offline, the scanners' reports must say unknown, never a false clean)",
        _expect_arguments,
        _expect_status,
    ),
)
