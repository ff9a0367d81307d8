"""``smoke``: the smoke session's command (``nox -s smoke``)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from vibevoice_ci.build.reports import Release
from vibevoice_ci.core.command import Command, add_strict_option
from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.environment import SMOKE_MODES
from vibevoice_ci.core.errors import EXIT_OK, UsageError
from vibevoice_ci.core.image_reference import parse_reference
from vibevoice_ci.core.reports import read_report


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--mode",
        choices=SMOKE_MODES,
        default=None,
        help="docker: the real container (no engine: exit 3); local: a local process; "
        "auto: docker when an engine answers, else (never under CI) a local process, "
        "reported as unknown (default: $VIBEVOICE_SMOKE_MODE or auto)",
    )
    parser.add_argument("--engine", default="piper", help="tts engine (default piper)")
    parser.add_argument(
        "--image-digest",
        action="append",
        default=[],
        metavar="REPOSITORY@sha256:...",
        help="pull and run this pushed image instead of building (repeatable, one per service)",
    )
    parser.add_argument(
        "--release",
        type=Path,
        help="pull and run the images a release build pushed (its reports/build/release.json)",
    )
    add_strict_option(parser)  # an unknown: the container was not tested


def _run(args: argparse.Namespace, config: PipelineConfig) -> int:
    from vibevoice_ci.smoke.session import run_smoke

    if args.mode == "local" and (args.image_digest or args.release is not None):
        raise UsageError(
            "smoke --mode local runs a local process: --release/--image-digest pin images it "
            "would never run (use --mode docker)"
        )
    images = pinned_images(config, args.image_digest, args.release)
    run_smoke(config, mode=args.mode, engine=args.engine, images=images, strict=args.strict)
    return EXIT_OK


def pinned_images(
    config: PipelineConfig, references: Sequence[str], release: Path | None
) -> dict[str, str]:
    """Service -> ``repository@digest`` from ``--image-digest`` and ``--release``; the service
    is the one whose configured image name the repository ends with."""
    pinned: dict[str, str] = {}
    if release is not None:
        document = read_report(release, Release, "release file")
        pinned = {image.service: image.reference for image in document.images}
        if not pinned:
            raise UsageError(f"release file {release} lists no image")
    by_image = {service.image: name for name, service in config.services.items()}
    for text in references:
        reference = parse_reference(text)
        if reference.digest is None:
            raise UsageError(f"--image-digest {text}: pin a digest (repository@sha256:...)")
        service = by_image.get(reference.repository.rsplit("/", 1)[-1])
        if service is None:
            raise UsageError(
                f"--image-digest {text}: no configured service has image "
                f"{reference.repository.rsplit('/', 1)[-1]!r} ({', '.join(sorted(by_image))})"
            )
        pinned[service] = f"{reference.name}@{reference.digest}"
    return pinned


COMMANDS = (Command("smoke", "smoke-test the running stack (nox -s smoke)", _arguments, _run),)
