"""``build`` and ``base-image``: the build session's commands (``nox -s build``)."""

from __future__ import annotations

import argparse

from vibevoice_ci.core.command import Command
from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.errors import EXIT_OK, UsageError


def _build_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--service", action="append", default=[], help="only this service")
    parser.add_argument(
        "--push",
        action="store_true",
        help="the release build: every platform (buildx + buildkitd), pushed with the git-SHA "
        "tag, SBOMs and metadata; `promote` moves latest/version tags after smoke",
    )
    parser.add_argument(
        "--platform",
        action="append",
        default=[],
        help="with --push: only this platform (repeatable; default: [tool.vibevoice-ci] platforms)",
    )
    parser.add_argument(
        "--native",
        action="store_true",
        help="with --push: the quick native-platform docker build and push instead",
    )
    parser.add_argument(
        "--registry",
        help="registry to push to (default: $VIBEVOICE_REGISTRY or [tool.vibevoice-ci].registry)",
    )


def _build(args: argparse.Namespace, config: PipelineConfig) -> int:
    from vibevoice_ci.build import native, release

    if (args.platform or args.native) and not args.push:
        raise UsageError("--platform and --native go with --push (the release build)")
    if args.push and not args.native:
        release.build_release(
            config, services=args.service, platforms=args.platform, registry=args.registry
        )
        return EXIT_OK
    if args.platform:
        raise UsageError("--platform is for the release build; --native builds this machine's")
    native.build_images(config, services=args.service, push=args.push, registry=args.registry)
    return EXIT_OK


def _base_image_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rebuild", action="store_true", help="build even if present")


def _base_image(args: argparse.Namespace, config: PipelineConfig) -> int:
    from vibevoice_ci.build import base_image
    from vibevoice_ci.core.progress import progress
    from vibevoice_ci.tools import docker

    if docker.image_exists(config.base_image.offline) and not args.rebuild:
        progress(f"{config.base_image.offline} already present (--rebuild to build anew)")
        return EXIT_OK
    base_image.build_offline_base(config.base_image)
    return EXIT_OK


COMMANDS = (
    Command("build", "build the service images (nox -s build)", _build_arguments, _build),
    Command(
        "base-image", "build the offline base image if absent", _base_image_arguments, _base_image
    ),
)
