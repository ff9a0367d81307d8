"""``trivy`` and ``trivy-expect``: the trivy session's commands (``nox -s trivy``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from vibevoice_ci.core.command import Command, add_strict_option
from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.errors import EXIT_CHECK_FAILED, EXIT_OK
from vibevoice_ci.core.outcome import Status, unknown_fails

if TYPE_CHECKING:
    from vibevoice_ci.trivy.reports import PartDocument, TrivyReport

PARTS = ("vulnerabilities", "secrets", "misconfigurations")


def _trivy_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--release",
        type=Path,
        help="the images a release build pushed (default: reports/build/release.json when "
        "present, else the --tag of every service in the configured registry)",
    )
    parser.add_argument("--tag", default="latest", help="without a release file (default latest)")
    add_strict_option(parser)
    parser.add_argument(
        "--db-repository",
        metavar="REGISTRY/REPO:TAG",
        help="where the vulnerability database comes from (default: [tool.vibevoice-ci.trivy] "
        "db_repository, else trivy's own); a loopback registry is read over plain HTTP",
    )


def _trivy(args: argparse.Namespace, config: PipelineConfig) -> int:
    from vibevoice_ci.trivy.session import run_trivy

    run_trivy(
        config,
        release_file=args.release,
        tag=args.tag,
        strict=unknown_fails(ci=config.env.ci, strict=args.strict),
        db_repository=args.db_repository,
    )
    return EXIT_OK


def _expect_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--part", required=True, choices=("status", *PARTS))
    parser.add_argument("--status", required=True, choices=[s.value for s in Status])
    parser.add_argument("--report", type=Path, help="default: reports/trivy/trivy.json")


def _expect(args: argparse.Namespace, config: PipelineConfig) -> int:
    from vibevoice_ci.core.progress import progress
    from vibevoice_ci.core.reports import read_report
    from vibevoice_ci.trivy.reports import TrivyReport

    report = args.report or config.report_dir("trivy") / "trivy.json"
    part = report_part_status(read_report(report, TrivyReport, "trivy report"), args.part)
    if part != args.status:
        print(
            f"error: {report}: {args.part} is {part!r}, expected {args.status!r}", file=sys.stderr
        )
        return EXIT_CHECK_FAILED
    progress(f"{report}: {args.part} is {part}, as expected")
    return EXIT_OK


def report_part_status(report: TrivyReport, part: str) -> str:
    """The top-level ``status`` (part ``status``) or ``parts.<part>.status`` of a report
    (pure; :class:`~vibevoice_ci.trivy.reports.TrivyReport` has them all)."""
    if part == "status":
        return report.status
    entry: PartDocument = getattr(report.parts, part)
    return entry.status


COMMANDS = (
    Command(
        "trivy",
        "scan every pushed image (each platform) for vulnerabilities, secrets and "
        "misconfigurations, and the Dockerfiles and Helm chart as configuration (nox -s trivy)",
        _trivy_arguments,
        _trivy,
    ),
    Command(
        "trivy-expect",
        "check one part's status in the trivy report (exit 1 if different): .ci/run uses "
        "it to prove an offline run said UNKNOWN, not clean",
        _expect_arguments,
        _expect,
    ),
)
