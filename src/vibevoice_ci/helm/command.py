"""``helm``: the helm session's command (``nox -s helm``)."""

from __future__ import annotations

import argparse

from vibevoice_ci.core.command import Command, add_strict_option
from vibevoice_ci.core.config import HELM_LEVELS, PipelineConfig
from vibevoice_ci.core.errors import EXIT_OK


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--level",
        action="append",
        default=[],
        choices=HELM_LEVELS,
        help="run only this level (repeatable; default: [tool.vibevoice-ci.helm].levels); "
        "static always runs, a level not run is reported unknown",
    )
    add_strict_option(parser)  # an unknown the config does not accept


def _run(args: argparse.Namespace, config: PipelineConfig) -> int:
    from vibevoice_ci.helm.session import run_helm

    run_helm(config, levels=args.level, strict=args.strict)
    return EXIT_OK


COMMANDS = (
    Command(
        "helm",
        "check the Helm chart: static, control plane, real pods (nox -s helm)",
        _arguments,
        _run,
    ),
)
