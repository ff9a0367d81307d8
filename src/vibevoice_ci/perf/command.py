"""``perf``: the perf session's command (``nox -s perf``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from vibevoice_ci.core.command import Command, add_strict_option
from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.errors import EXIT_OK, UsageError


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--update-baseline",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="make this run the baseline when it shows no regression (default: no; the "
        "baseline is created when there is none)",
    )
    parser.add_argument("--requests", type=int, help="measured requests (default: config)")
    parser.add_argument("--engine", help="tts engine (default: [tool.vibevoice-ci.perf])")
    parser.add_argument(
        "--capacity", type=int, metavar="N", help="realtime capacity levels 1..N (0: skip)"
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--image",
        metavar="REF",
        help="load a container of this built image instead of a local process "
        "(repository@sha256:... is pulled; a tag must be on this machine)",
    )
    target.add_argument(
        "--release",
        type=Path,
        metavar="FILE",
        help="load a container of the tts image in this release file (reports/build/release.json)",
    )
    add_strict_option(parser)  # an unknown: nothing compared (no baseline)


def _run(args: argparse.Namespace, config: PipelineConfig) -> int:
    from vibevoice_ci.perf.session import PerfOptions, run_perf

    if (args.requests is not None and args.requests < 1) or (
        args.capacity is not None and args.capacity < 0
    ):
        raise UsageError("--requests must be at least 1 and --capacity 0 or more")
    options = PerfOptions(
        args.update_baseline,
        args.requests,
        args.engine,
        args.capacity,
        image=args.image,
        release=args.release,
        strict=args.strict,
    )
    run_perf(config, options)
    return EXIT_OK


COMMANDS = (
    Command(
        "perf", "load-test the tts service and gate on regressions (nox -s perf)", _arguments, _run
    ),
)
