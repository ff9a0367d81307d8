#!/usr/bin/env python3
"""Smoke-test a running tts service: /health, /ready, a minimal synthesis, /metrics.

Usage: scripts/smoke_test.py --tts-url http://127.0.0.1:18000 [--wait 60] [--json-out FILE]

Prints one line per check (PASS/FAIL with the reason). Exit codes:
  0  every check passed
  1  a check failed
  2  bad usage, or the URL did not answer within --wait seconds
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from vibevoice_ci.report import Status, overall, write_json_atomic
from vibevoice_ci.smoke_checks import ServiceUnreachableError, run_checks

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise argparse.ArgumentTypeError(f"{value!r} is not an http(s) URL with a host")
    return value.rstrip("/")


def _positive(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0 < number <= 3600:
        raise argparse.ArgumentTypeError("must be between 0 and 3600 seconds")
    return number


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tts-url", required=True, type=_url, help="base URL of the service")
    parser.add_argument(
        "--wait",
        type=_positive,
        default=60.0,
        help="seconds to wait for the service to answer (default 60)",
    )
    parser.add_argument("--json-out", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    try:
        results = run_checks(args.tts_url, wait_seconds=args.wait)
    except ServiceUnreachableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for result in results:
        print(result.line())
    verdict = overall(results)
    if args.json_out:
        write_json_atomic(
            args.json_out,
            {
                "url": args.tts_url,
                "status": verdict.value,
                "checks": [result.to_json() for result in results],
            },
        )
    print(f"{sum(r.passed for r in results)} passed, {sum(not r.passed for r in results)} failed")
    return EXIT_OK if verdict is Status.PASS else EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main())
