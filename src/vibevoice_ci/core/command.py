"""How a session package declares its ``python -m vibevoice_ci`` subcommand.

Each session package has a ``command.py`` whose ``COMMANDS`` lists :class:`Command` values:
the subcommand's name and help, a function that adds its flags, and its entry point.
``vibevoice_ci.cli`` only assembles them. A ``command.py`` imports its session's modules
inside ``run``, so ``--help`` and the other sessions' commands never load a session's heavy
dependencies (perf's scipy is not installed in the build session's environment).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from vibevoice_ci.core.config import PipelineConfig


@dataclass(frozen=True)
class Command:
    """One subcommand: ``run`` returns the exit code, or raises a ``PipelineError``."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, PipelineConfig], int]


def no_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``add_arguments`` of a command that takes no flags."""


def add_strict_option(parser: argparse.ArgumentParser) -> None:
    """``--strict``/``--no-strict``: whether an unknown verdict fails (exit 1). Unset, the one
    rule decides (``core.outcome.unknown_fails``: strict when ``$CI`` is set)."""
    parser.add_argument(
        "--strict",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="fail (exit 1) when the verdict is unknown (default: strict when $CI is set; "
        "--no-strict lets a known unknown through, still reported as unknown, never a pass)",
    )
