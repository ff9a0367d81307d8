"""``notify``: the notify session's command (``nox -s notify -- EVENT``)."""

from __future__ import annotations

import argparse

from vibevoice_ci.core.command import Command, add_strict_option
from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.errors import EXIT_OK


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "event",
        choices=("failure", "security", "perf"),
        help="failure: webhook on main, PR comment on a PR; security: webhook on any CRITICAL "
        "finding (trivy, audit); perf: an issue per regression, PR comment with the summary",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the messages instead of sending them",
    )
    add_strict_option(parser)  # an unknown: a scanner report that could not be read


def _run(args: argparse.Namespace, config: PipelineConfig) -> int:
    from vibevoice_ci.notify.session import run_notify

    run = run_notify(config, args.event, dry_run=args.dry_run, strict=args.strict)
    if args.dry_run:
        for what, text in run.messages.items():
            print(f"--- {what} ---\n{text}")
    return EXIT_OK


COMMANDS = (
    Command(
        "notify",
        "send the notifications an event calls for, from the reports (nox -s notify)",
        _arguments,
        _run,
    ),
)
