"""``promote``: the promote session's command (``nox -s promote``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from vibevoice_ci.core.command import Command
from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.errors import EXIT_OK


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--release", type=Path, help="default: reports/build/release.json")
    parser.add_argument("--smoke", type=Path, help="default: reports/smoke/smoke.json")
    parser.add_argument(
        "--allow-rollback",
        action="store_true",
        help="move a tag to a commit that does not descend from the one it holds "
        "(the rollback runbook, docs/ci-cd.md)",
    )
    parser.add_argument(
        "--no-require-tests",
        metavar="REASON",
        help="move tags without checking that the commit's CI test run concluded success "
        "(recorded in promote.json with REASON); default: that run must have passed",
    )


def _run(args: argparse.Namespace, config: PipelineConfig) -> int:
    from vibevoice_ci.build.release import RELEASE_FILE
    from vibevoice_ci.promote.session import promote

    promote(
        config,
        release_file=args.release or config.report_dir("build") / RELEASE_FILE,
        smoke_file=args.smoke or config.report_dir("smoke") / "smoke.json",
        allow_rollback=args.allow_rollback,
        skip_tests=args.no_require_tests,
    )
    return EXIT_OK


COMMANDS = (
    Command(
        "promote", "move latest / the version tag to the smoke-tested digests", _arguments, _run
    ),
)
