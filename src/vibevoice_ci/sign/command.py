"""``sign``: the sign session's command (``nox -s sign``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from vibevoice_ci.core.command import Command
from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.errors import EXIT_OK


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--release", type=Path, help="default: reports/build/release.json")
    parser.add_argument(
        "--keyless",
        action="store_true",
        help="sign with the workflow's OIDC identity (GitHub, id-token: write) and verify the "
        "certificate's identity and issuer ([tool.vibevoice-ci.sign]); default: a key pair",
    )
    parser.add_argument(
        "--key",
        type=Path,
        help="sign with this cosign private key (its .pub beside it; password: "
        "$COSIGN_PASSWORD); default: a key pair generated for the run",
    )
    parser.add_argument(
        "--verify-only",
        action="store_true",
        help="only verify what the registry holds (with --key's .pub, or --keyless)",
    )
    parser.add_argument(
        "--no-require-tests",
        metavar="REASON",
        help="sign without checking that the commit's CI test run concluded success "
        "(recorded in sign.json with REASON); default: that run must have passed",
    )


def _run(args: argparse.Namespace, config: PipelineConfig) -> int:
    from vibevoice_ci.build.release import RELEASE_FILE
    from vibevoice_ci.sign.session import SignOptions, run_sign

    release = args.release or config.report_dir("build") / RELEASE_FILE
    run_sign(
        config,
        SignOptions(release, args.keyless, args.key, args.verify_only, args.no_require_tests),
    )
    return EXIT_OK


COMMANDS = (
    Command(
        "sign",
        "sign the released images, attest provenance and SBOMs, verify (nox -s sign)",
        _arguments,
        _run,
    ),
)
