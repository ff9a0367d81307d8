"""``python -m vibevoice_ci``: the commands the nox sessions call.

Every failure ends as one line on stderr and a documented exit code (see errors.py):
0 pass, 1 a check failed, 2 bad usage or input, 3 a required tool is missing.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from vibevoice_ci import baseimage, build, infra_lint, lockfile, smoke
from vibevoice_ci.config import HELM_LEVELS, PipelineConfig, load_config, with_environment
from vibevoice_ci.errors import (
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    EXIT_OK,
    PipelineError,
    UsageError,
)
from vibevoice_ci.release import multiarch, promote
from vibevoice_ci.release.reference import parse_reference
from vibevoice_ci.tools import docker
from vibevoice_ci.tools._exec import progress


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def parser() -> argparse.ArgumentParser:
    root = _Parser(prog="python -m vibevoice_ci", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True, parser_class=_Parser)

    build_cmd = commands.add_parser("build", help="build the service images (nox -s build)")
    build_cmd.add_argument("--service", action="append", default=[], help="only this service")
    build_cmd.add_argument(
        "--push",
        action="store_true",
        help="the release build: every platform (buildx + buildkitd), pushed with the git-SHA "
        "tag, SBOMs and metadata; `promote` moves latest/version tags after smoke",
    )
    build_cmd.add_argument(
        "--platform",
        action="append",
        default=[],
        help="with --push: only this platform (repeatable; default: [tool.vibevoice-ci] platforms)",
    )
    build_cmd.add_argument(
        "--native",
        action="store_true",
        help="with --push: the quick native-platform docker build and push instead",
    )
    build_cmd.add_argument(
        "--registry",
        help="registry to push to (default: $VIBEVOICE_REGISTRY or [tool.vibevoice-ci].registry)",
    )

    smoke_cmd = commands.add_parser("smoke", help="smoke-test the running stack (nox -s smoke)")
    smoke_cmd.add_argument(
        "--mode",
        choices=smoke.MODES,
        default=None,
        help="docker: the real container (no engine: exit 3); local: a local process; "
        "auto: docker when an engine answers, else (never under CI) a local process, "
        "reported as unknown (default: $VIBEVOICE_SMOKE_MODE or auto)",
    )
    smoke_cmd.add_argument("--engine", default="piper", help="tts engine (default piper)")
    smoke_cmd.add_argument(
        "--image-digest",
        action="append",
        default=[],
        metavar="REPOSITORY@sha256:...",
        help="pull and run this pushed image instead of building (repeatable, one per service)",
    )
    smoke_cmd.add_argument(
        "--release",
        type=Path,
        help="pull and run the images a release build pushed (its reports/build/release.json)",
    )

    promote_cmd = commands.add_parser(
        "promote", help="move latest / the version tag to the smoke-tested digests"
    )
    promote_cmd.add_argument("--release", type=Path, help="default: reports/build/release.json")
    promote_cmd.add_argument("--smoke", type=Path, help="default: reports/smoke/smoke.json")

    base_cmd = commands.add_parser("base-image", help="build the offline base image if absent")
    base_cmd.add_argument("--rebuild", action="store_true", help="build even if present")

    export_cmd = commands.add_parser(
        "export-requirements",
        help="write the hashed requirements: the images' (from uv.lock) and the CI tools' "
        "(.github/requirements/ci-tools.txt, from [tool.vibevoice-ci.tools])",
    )
    export_mode = export_cmd.add_mutually_exclusive_group()
    export_mode.add_argument(
        "--check", action="store_true", help="only check they are current (exit 1 if not)"
    )
    export_mode.add_argument(
        "--upgrade",
        action="store_true",
        help="move nox's and uv's dependencies in the CI tools file to their newest versions "
        "(by default the pins it already has are kept where they still fit)",
    )
    commands.add_parser(
        "lint-infra", help="actionlint, zizmor, hadolint and shellcheck (nox -s lint)"
    )

    perf_cmd = commands.add_parser(
        "perf", help="load-test the tts service and gate on regressions (nox -s perf)"
    )
    perf_cmd.add_argument(
        "--update-baseline",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="make this run the baseline when it shows no regression (default: no; the "
        "baseline is created when there is none)",
    )
    perf_cmd.add_argument("--requests", type=int, help="measured requests (default: config)")
    perf_cmd.add_argument("--engine", help="tts engine (default: [tool.vibevoice-ci.perf])")
    perf_cmd.add_argument(
        "--capacity", type=int, metavar="N", help="realtime capacity levels 1..N (0: skip)"
    )
    perf_target = perf_cmd.add_mutually_exclusive_group()
    perf_target.add_argument(
        "--image",
        metavar="REF",
        help="load a container of this built image instead of a local process "
        "(repository@sha256:... is pulled; a tag must be on this machine)",
    )
    perf_target.add_argument(
        "--release",
        type=Path,
        metavar="FILE",
        help="load a container of the tts image in this release file (reports/build/release.json)",
    )
    helm_cmd = commands.add_parser(
        "helm", help="check the Helm chart: static, control plane, real pods (nox -s helm)"
    )
    helm_cmd.add_argument(
        "--level",
        action="append",
        default=[],
        choices=HELM_LEVELS,
        help="run only this level (repeatable; default: [tool.vibevoice-ci.helm].levels); "
        "static always runs, a level not run is reported unknown",
    )
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return _dispatch(args)
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    config = with_environment(load_config(), os.environ)
    if args.command == "build":
        if (args.platform or args.native) and not args.push:
            raise UsageError("--platform and --native go with --push (the release build)")
        if args.push and not args.native:
            multiarch.build_release(
                config, services=args.service, platforms=args.platform, registry=args.registry
            )
            return EXIT_OK
        if args.platform:
            raise UsageError("--platform is for the release build; --native builds this machine's")
        build.build_images(config, services=args.service, push=args.push, registry=args.registry)
        return EXIT_OK
    if args.command == "smoke":
        images = pinned_images(config, args.image_digest, args.release)
        smoke.run_smoke(config, mode=args.mode, engine=args.engine, images=images)
        return EXIT_OK
    if args.command == "promote":
        promote.promote(
            config,
            release_file=args.release or config.report_dir("build") / multiarch.RELEASE_FILE,
            smoke_file=args.smoke or config.report_dir("smoke") / "smoke.json",
        )
        return EXIT_OK
    if args.command == "base-image":
        if docker.image_exists(config.base_image.offline) and not args.rebuild:
            progress(f"{config.base_image.offline} already present (--rebuild to build anew)")
            return EXIT_OK
        baseimage.build_offline_base(config.base_image)
        return EXIT_OK
    if args.command == "export-requirements":
        if args.check:
            stale = lockfile.drift(config)
            for item in stale:
                print(
                    f"error: {item.path} is out of date with {item.source}; run "
                    "`python -m vibevoice_ci export-requirements`",
                    file=sys.stderr,
                )
            return EXIT_CHECK_FAILED if stale else EXIT_OK
        for path in lockfile.export_all(config, upgrade_ci_tools=args.upgrade):
            progress(f"wrote {path}")
        return EXIT_OK
    if args.command == "lint-infra":
        infra_lint.lint_infra(config)
        return EXIT_OK
    if args.command == "perf":
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
        )
        run_perf(config, options)
        return EXIT_OK
    if args.command == "helm":
        from vibevoice_ci.helm.session import run_helm

        run_helm(config, levels=args.level)
        return EXIT_OK
    raise AssertionError(args.command)  # argparse only accepts the commands above


def pinned_images(
    config: PipelineConfig, references: Sequence[str], release: Path | None
) -> dict[str, str]:
    """Service -> ``repository@digest`` from ``--image-digest`` and ``--release``; the service
    is the one whose configured image name the repository ends with."""
    pinned: dict[str, str] = {}
    if release is not None:
        document = promote.read_json(release, "release file")
        for image in document.get("images") or []:
            pinned[str(image["service"])] = str(image["reference"])
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
