"""``mutation``: the mutation session's command (``nox -s mutation``)."""

from __future__ import annotations

import argparse

from vibevoice_ci.core.command import Command, add_strict_option
from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.errors import EXIT_OK


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "modules",
        nargs="*",
        metavar="MODULE",
        help="the modules of [tool.vibevoice-ci.mutation] to run (default: every one)",
    )
    add_strict_option(parser)  # an unknown: a module whose mutants were not all run


def _run(args: argparse.Namespace, config: PipelineConfig) -> int:
    from vibevoice_ci.mutation.session import run_mutation

    run_mutation(config, names=args.modules, strict=args.strict)
    return EXIT_OK


COMMANDS = (
    Command(
        "mutation",
        "mutation-test the modules that decide a gate, each against its own tests",
        _arguments,
        _run,
    ),
)
