"""``audit``: the audit session's command (``nox -s audit``)."""

from __future__ import annotations

import argparse

from vibevoice_ci.core.command import Command, add_strict_option
from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.errors import EXIT_OK


def _arguments(parser: argparse.ArgumentParser) -> None:
    add_strict_option(parser)  # an unknown: dependencies pip-audit could not check
    parser.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="NAME",
        help="audit only this image, extra, group or ci-tools (repeatable; default: all)",
    )


def _run(args: argparse.Namespace, config: PipelineConfig) -> int:
    from vibevoice_ci.audit.session import run_audit, verdict
    from vibevoice_ci.core.outcome import unknown_fails

    strict = unknown_fails(ci=config.env.ci, strict=args.strict)
    verdict(run_audit(config, strict=strict, target_names=args.target), strict=strict)
    return EXIT_OK


COMMANDS = (
    Command(
        "audit",
        "pip-audit every image's, extra's and group's locked dependencies; check "
        "Dependabot's config (nox -s audit)",
        _arguments,
        _run,
    ),
)
