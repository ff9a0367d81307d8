"""``trivy`` and ``trivy-expect``: the trivy session's commands (``nox -s trivy``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vibevoice_ci.core.command import Command
from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.errors import EXIT_CHECK_FAILED, EXIT_OK, UsageError
from vibevoice_ci.core.outcome import Status

PARTS = ("vulnerabilities", "secrets", "misconfigurations")


def _trivy_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--release",
        type=Path,
        help="the images a release build pushed (default: reports/build/release.json when "
        "present, else the --tag of every service in the configured registry)",
    )
    parser.add_argument("--tag", default="latest", help="without a release file (default latest)")
    parser.add_argument(
        "--strict", action="store_true", help="fail on UNKNOWN too (CI workflows use it)"
    )
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
        strict=args.strict,
        db_repository=args.db_repository,
    )
    return EXIT_OK


def _expect_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--part", required=True, choices=("status", *PARTS))
    parser.add_argument("--status", required=True, choices=[s.value for s in Status])
    parser.add_argument("--report", type=Path, help="default: reports/trivy/trivy.json")


def _expect(args: argparse.Namespace, config: PipelineConfig) -> int:
    from vibevoice_ci.core.files import read_json
    from vibevoice_ci.core.progress import progress

    report = args.report or config.report_dir("trivy") / "trivy.json"
    part = report_part_status(read_json(report, "trivy report"), args.part)
    if part != args.status:
        print(
            f"error: {report}: {args.part} is {part!r}, expected {args.status!r}", file=sys.stderr
        )
        return EXIT_CHECK_FAILED
    progress(f"{report}: {args.part} is {part}, as expected")
    return EXIT_OK


def report_part_status(document: dict[str, object], part: str) -> str:
    """The top-level ``status`` (part ``status``) or ``parts.<part>.status`` of a report;
    absent is a UsageError (pure)."""
    if part == "status":
        value = document.get("status")
    else:
        parts = document.get("parts")
        entry = parts.get(part) if isinstance(parts, dict) else None
        value = entry.get("status") if isinstance(entry, dict) else None
    if not isinstance(value, str):
        raise UsageError(f"the report has no status for {part!r}")
    return value


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
