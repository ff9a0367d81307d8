"""``export-requirements`` and ``lint-infra``: the lint session's commands (``nox -s lint``)."""

from __future__ import annotations

import argparse
import sys

from vibevoice_ci.core.command import Command, no_arguments
from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.errors import EXIT_CHECK_FAILED, EXIT_OK


def _export_arguments(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--check", action="store_true", help="only check they are current (exit 1 if not)"
    )
    mode.add_argument(
        "--upgrade",
        action="store_true",
        help="move nox's and uv's dependencies in the CI tools file to their newest versions "
        "(by default the pins it already has are kept where they still fit)",
    )


def _export(args: argparse.Namespace, config: PipelineConfig) -> int:
    from vibevoice_ci.core.progress import progress
    from vibevoice_ci.lint import requirements

    if args.check:
        stale = requirements.drift(config)
        for item in stale:
            print(
                f"error: {item.path} is out of date with {item.source}; run "
                "`python -m vibevoice_ci export-requirements`",
                file=sys.stderr,
            )
        return EXIT_CHECK_FAILED if stale else EXIT_OK
    for path in requirements.export_all(config, upgrade_ci_tools=args.upgrade):
        progress(f"wrote {path}")
    return EXIT_OK


def _lint_infra(args: argparse.Namespace, config: PipelineConfig) -> int:
    from vibevoice_ci.lint.infra import lint_infra

    lint_infra(config)
    return EXIT_OK


def _schemas_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--check", action="store_true", help="only check they are current (exit 1 if not)"
    )


def _schemas(args: argparse.Namespace, config: PipelineConfig) -> int:
    from vibevoice_ci.core.progress import progress
    from vibevoice_ci.lint import schemas

    files = schemas.schema_files()
    if args.check:
        stale = schemas.stale_schemas(files)
        for path in stale:
            print(
                f"error: {path.relative_to(config.root)} is not what its model generates; "
                "run `python -m vibevoice_ci schemas`",
                file=sys.stderr,
            )
        return EXIT_CHECK_FAILED if stale else EXIT_OK
    for path in schemas.write_schemas(files):
        progress(f"wrote {path.relative_to(config.root)}")
    progress(f"{len(files)} report schemas are current")
    return EXIT_OK


COMMANDS = (
    Command(
        "export-requirements",
        "write the hashed requirements: the images' (from uv.lock) and the CI tools' "
        "(.github/requirements/ci-tools.txt, from [tool.vibevoice-ci.tools])",
        _export_arguments,
        _export,
    ),
    Command(
        "schemas",
        "write the JSON Schemas of the sessions' reports from their models (each "
        "<package>/*.schema.json beside its reports.py)",
        _schemas_arguments,
        _schemas,
    ),
    Command(
        "lint-infra",
        "actionlint, zizmor, hadolint and shellcheck (nox -s lint)",
        no_arguments,
        _lint_infra,
    ),
)
