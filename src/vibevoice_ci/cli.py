"""``python -m vibevoice_ci``: the commands the nox sessions call.

Each session package declares its own subcommands in its ``command.py`` (``COMMANDS``); this
module only assembles them. Adding a session is adding a package with a ``command.py``, its
name in :data:`SESSION_PACKAGES`, and a noxfile line.

Every failure ends as one line on stderr and a documented exit code (see core/errors.py):
0 pass, 1 a check failed, 2 bad usage or input, 3 a required tool is missing.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Iterable, Sequence

from pydantic import ValidationError

from vibevoice_ci.core.command import Command
from vibevoice_ci.core.config import load_config, with_environment
from vibevoice_ci.core.errors import EXIT_BAD_INPUT, PipelineError
from vibevoice_ci.core.reports import validation_message

# The session packages, in the order `--help` lists their commands.
SESSION_PACKAGES = (
    "lint",
    "build",
    "smoke",
    "promote",
    "perf",
    "helm",
    "sign",
    "audit",
    "trivy",
    "notify",
    "report",
    "workflows",
    "mutation",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def commands() -> list[Command]:
    """Every session package's commands, in :data:`SESSION_PACKAGES` order."""
    found: list[Command] = []
    for package in SESSION_PACKAGES:
        module = importlib.import_module(f"vibevoice_ci.{package}.command")
        found.extend(module.COMMANDS)
    return found


def parser(available: Iterable[Command] | None = None) -> argparse.ArgumentParser:
    root = _Parser(
        prog="python -m vibevoice_ci",
        description="The commands the nox sessions call (each declared by its session's package).",
    )
    subcommands = root.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in commands() if available is None else available:
        command.add_arguments(subcommands.add_parser(command.name, help=command.help))
    return root


def main(argv: Sequence[str] | None = None) -> int:
    available = {command.name: command for command in commands()}
    args = parser(available.values()).parse_args(argv)
    try:
        config = with_environment(load_config(), os.environ)
        return available[args.command].run(args, config)
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except ValidationError as exc:
        # A report model refused data a tool or a file gave us (readers raise UsageError
        # themselves; this is the writers' side): one line, never a traceback.
        print(f"error: malformed {exc.title} data: {validation_message(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
