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
    CheckFailedError,
    PipelineError,
    UsageError,
)
from vibevoice_ci.release import multiarch, promote
from vibevoice_ci.release.reference import parse_reference
from vibevoice_ci.report import Status, read_status
from vibevoice_ci.tools import docker
from vibevoice_ci.tools._exec import progress

TRIVY_PARTS = ("vulnerabilities", "secrets", "misconfigurations")


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
    sign_cmd = commands.add_parser(
        "sign",
        help="sign the released images, attest provenance and SBOMs, verify (nox -s sign)",
    )
    sign_cmd.add_argument("--release", type=Path, help="default: reports/build/release.json")
    sign_cmd.add_argument(
        "--keyless",
        action="store_true",
        help="sign with the workflow's OIDC identity (GitHub, id-token: write) and verify the "
        "certificate's identity and issuer ([tool.vibevoice-ci.sign]); default: a key pair",
    )
    sign_cmd.add_argument(
        "--key",
        type=Path,
        help="sign with this cosign private key (its .pub beside it; password: "
        "$COSIGN_PASSWORD); default: a key pair generated for the run",
    )
    sign_cmd.add_argument(
        "--verify-only",
        action="store_true",
        help="only verify what the registry holds (with --key's .pub, or --keyless)",
    )
    report_cmd = commands.add_parser(
        "report",
        help="one page and one summary of every session's report: reports/index.html, "
        "reports/summary.md (nox -s report)",
    )
    report_cmd.add_argument(
        "--browser",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="check the page in headless Chromium and save reports/index.png (default: yes; "
        "without Chromium the check is reported as not run)",
    )
    notify_cmd = commands.add_parser(
        "notify",
        help="send the notifications an event calls for, from the reports (nox -s notify)",
    )
    notify_cmd.add_argument(
        "event",
        choices=("failure", "security", "perf"),
        help="failure: webhook on main, PR comment on a PR; security: webhook on any CRITICAL "
        "finding (trivy, audit); perf: an issue per regression, PR comment with the summary",
    )
    notify_cmd.add_argument(
        "--dry-run",
        action="store_true",
        help="print the messages instead of sending them",
    )
    audit_cmd = commands.add_parser(
        "audit",
        help="pip-audit every image's, extra's and group's locked dependencies; check "
        "Dependabot's config (nox -s audit)",
    )
    audit_cmd.add_argument(
        "--strict",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="fail (exit 1) when the verdict is unknown, e.g. dependencies pip-audit could not "
        "check (default: strict when $CI is set; the CI workflow passes --strict)",
    )
    audit_cmd.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="NAME",
        help="audit only this image, extra, group or ci-tools (repeatable; default: all)",
    )

    expect_cmd = commands.add_parser(
        "expect-status",
        help="exit 0 when a session's JSON report has this top-level status, else 1 "
        "(.ci/run: offline, the scanners' reports must say unknown, never a false clean)",
    )
    expect_cmd.add_argument("--report", type=Path, required=True, help="the JSON report")
    expect_cmd.add_argument(
        "--status",
        required=True,
        choices=[status.value for status in Status],
        help="the status the report must have",
    )
    trivy_cmd = commands.add_parser(
        "trivy",
        help="scan every pushed image (each platform) for vulnerabilities, secrets and "
        "misconfigurations, and the Dockerfiles and Helm chart as configuration (nox -s trivy)",
    )
    trivy_cmd.add_argument(
        "--release",
        type=Path,
        help="the images a release build pushed (default: reports/build/release.json when "
        "present, else the --tag of every service in the configured registry)",
    )
    trivy_cmd.add_argument(
        "--tag", default="latest", help="without a release file (default latest)"
    )
    trivy_cmd.add_argument(
        "--strict", action="store_true", help="fail on UNKNOWN too (CI workflows use it)"
    )
    trivy_cmd.add_argument(
        "--db-repository",
        metavar="REGISTRY/REPO:TAG",
        help="where the vulnerability database comes from (default: [tool.vibevoice-ci.trivy] "
        "db_repository, else trivy's own); a loopback registry is read over plain HTTP",
    )
    trivy_expect_cmd = commands.add_parser(
        "trivy-expect",
        help="check one part's status in the trivy report (exit 1 if different): .ci/run uses "
        "it to prove an offline run said UNKNOWN, not clean",
    )
    trivy_expect_cmd.add_argument("--part", required=True, choices=("status", *TRIVY_PARTS))
    trivy_expect_cmd.add_argument("--status", required=True, choices=[s.value for s in Status])
    trivy_expect_cmd.add_argument("--report", type=Path, help="default: reports/trivy/trivy.json")
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
    if args.command == "sign":
        from vibevoice_ci.security.sign import SignOptions, run_sign

        release = args.release or config.report_dir("build") / multiarch.RELEASE_FILE
        run_sign(config, SignOptions(release, args.keyless, args.key, args.verify_only))
        return EXIT_OK
    if args.command == "report":
        from vibevoice_ci.overview.session import run_report

        run_report(config, browser=args.browser)
        return EXIT_OK
    if args.command == "notify":
        from vibevoice_ci.notify.session import run_notify

        run = run_notify(config, args.event, dry_run=args.dry_run)
        if args.dry_run:
            for what, text in run.messages.items():
                print(f"--- {what} ---\n{text}")
        return EXIT_OK
    if args.command == "audit":
        from vibevoice_ci.security.audit import run_audit, verdict

        strict = config.env.ci if args.strict is None else args.strict
        verdict(run_audit(config, strict=strict, target_names=args.target), strict=strict)
        return EXIT_OK
    if args.command == "expect-status":
        found = read_status(args.report)
        if found.value != args.status:
            raise CheckFailedError(f"{args.report} says {found.value}, expected {args.status}")
        progress(f"{args.report} says {found.value}, as expected")
        return EXIT_OK
    if args.command == "trivy":
        from vibevoice_ci.security.trivy_session import run_trivy

        run_trivy(
            config,
            release_file=args.release,
            tag=args.tag,
            strict=args.strict,
            db_repository=args.db_repository,
        )
        return EXIT_OK
    if args.command == "trivy-expect":
        report = args.report or config.report_dir("trivy") / "trivy.json"
        part = report_part_status(promote.read_json(report, "trivy report"), args.part)
        if part != args.status:
            print(
                f"error: {report}: {args.part} is {part!r}, expected {args.status!r}",
                file=sys.stderr,
            )
            return EXIT_CHECK_FAILED
        progress(f"{report}: {args.part} is {part}, as expected")
        return EXIT_OK
    raise AssertionError(args.command)  # argparse only accepts the commands above


def report_part_status(document: dict[str, object], part: str) -> str:
    """The top-level ``status`` (part ``status``) or ``parts.<part>.status`` of a report;
    absent is a UsageError (pure)."""
    if part == "status":
        value = document.get("status")
    else:
        parts = document.get("parts")
        entry = parts.get(part) if isinstance(parts, dict) else None
        value = entry.get("status") if isinstance(entry, dict) else None
    if not isinstance(value, str):
        raise UsageError(f"the report has no status for {part!r}")
    return value


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
