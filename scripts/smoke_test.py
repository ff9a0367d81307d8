#!/usr/bin/env python3
"""Smoke-test running services: tts (/health, /ready, a synthesis, /metrics) and the agent.

Usage: scripts/smoke_test.py [--tts-url http://127.0.0.1:18000]
                             [--agent-url http://127.0.0.1:18080 [--agent-token-file FILE]]
                             [--wait 60] [--json-out FILE]

The agent checks run one full turn end to end (reply text and non-silent audio, counted in
/metrics); with a token, a request without it must get 401 first. The token is read from a
file (first line) so it never shows in the process list. Give at least one URL.

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

from vibevoice_ci.agent_checks import run_agent_checks
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
    parser.add_argument("--tts-url", type=_url, help="base URL of the tts service")
    parser.add_argument("--agent-url", type=_url, help="base URL of the agent service")
    parser.add_argument(
        "--agent-token-file", type=Path, help="a file whose first line is the agent's token"
    )
    parser.add_argument(
        "--wait",
        type=_positive,
        default=60.0,
        help="seconds to wait for the service to answer (default 60)",
    )
    parser.add_argument("--json-out", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    if not (args.tts_url or args.agent_url):
        parser.error("give --tts-url, --agent-url or both")
    token = None
    if args.agent_token_file:
        try:
            token = args.agent_token_file.read_text(encoding="utf-8").splitlines()[0].strip()
        except (OSError, IndexError) as exc:
            parser.error(f"cannot read a token from {args.agent_token_file}: {exc}")
    results = []
    try:
        if args.tts_url:
            results += run_checks(args.tts_url, wait_seconds=args.wait)
        if args.agent_url:
            results += run_agent_checks(args.agent_url, token=token, wait_seconds=args.wait)
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
                "agent_url": args.agent_url,
                "status": verdict.value,
                "checks": [result.to_json() for result in results],
            },
        )
    print(f"{sum(r.passed for r in results)} passed, {sum(not r.passed for r in results)} failed")
    return EXIT_OK if verdict is Status.PASS else EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main())
