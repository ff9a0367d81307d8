"""``audit``: the audit session's command (``nox -s audit``)."""

from __future__ import annotations

import argparse

from vibevoice_ci.core.command import Command
from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.errors import EXIT_OK


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--strict",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="fail (exit 1) when the verdict is unknown, e.g. dependencies pip-audit could not "
        "check (default: strict when $CI is set; the CI workflow passes --strict)",
    )
    parser.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="NAME",
        help="audit only this image, extra, group or ci-tools (repeatable; default: all)",
    )


def _run(args: argparse.Namespace, config: PipelineConfig) -> int:
    from vibevoice_ci.audit.session import run_audit, verdict

    strict = config.env.ci if args.strict is None else args.strict
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
