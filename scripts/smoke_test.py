#!/usr/bin/env python3
"""Smoke-test running services: tts (/health, /ready, a synthesis, /metrics, the speech
check on both endpoints) and the agent.

Usage: scripts/smoke_test.py [--tts-url http://127.0.0.1:18000]
                             [--agent-url http://127.0.0.1:18080 [--agent-token-file FILE]]
                             [--engine piper] [--wait 60] [--json-out FILE]

These are the checks ``nox -s smoke`` runs, through the same code
(``vibevoice_ci.smoke.session.run_service_checks``), with the sentences and thresholds of
``[tool.vibevoice-ci.smoke]``. The speech checks transcribe the audio offline (PocketSphinx,
in the ``ci`` extra) and score the word recall: the tts sentences on ``POST /v1/tts`` and
``WS /stream``, and the agent's reply against the text it streamed. The agent checks run one
full turn end to end (reply text, non-silent audio that says the text, counted in
/metrics); with a token, a request without it must get 401 first. The token is read from a
file (first line) so it never shows in the process list. ``--engine`` names the tts engine
behind the agent (the agent does not report it): its reply is held to that engine's
threshold. Give at least one URL.

Prints one line per check (PASS/FAIL with the reason). A service that does not answer within
--wait seconds is one failed check (``tts reachable``, ``agent reachable``, with the reason);
the other services are still checked, and --json-out holds every service's results (written
atomically: a temporary file, then a rename). Exit codes:
  0  every check passed
  1  a check failed, or its verdict is unknown (e.g. an unscored engine)
  2  bad usage, or a URL did not answer within --wait seconds
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from vibevoice_ci.core.config import load_config
from vibevoice_ci.core.errors import ConfigError
from vibevoice_ci.core.files import write_json_atomic
from vibevoice_ci.core.outcome import Outcome, Status, overall
from vibevoice_ci.smoke.checks import ServiceUnreachableError
from vibevoice_ci.smoke.session import AGENT, SERVICE, ServiceChecks, run_service_checks

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
ROOT = Path(__file__).resolve().parents[1]


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
    parser.add_argument(
        "--engine",
        default="piper",
        help="the tts engine behind the agent, whose threshold its reply is held to "
        "(default piper)",
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
    try:
        speech = load_config(ROOT).speech
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    checked: list[ServiceChecks] = []
    unreachable: list[str] = []
    for name, url in ((SERVICE, args.tts_url), (AGENT, args.agent_url)):
        if not url:
            continue
        try:
            checked.append(
                run_service_checks(
                    name,
                    url,
                    token=token,
                    speech=speech,
                    engine=args.engine,
                    wait_seconds=args.wait,
                )
            )
        except ServiceUnreachableError as exc:
            unreachable.append(f"{name}: {exc}")
            checked.append(ServiceChecks([Outcome.of(f"{name} reachable", False, str(exc))]))
    results = [outcome for service in checked for outcome in service.outcomes]
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
                "speech": [heard.to_json() for service in checked for heard in service.speech],
            },
        )
    counts = {status: sum(r.status is status for r in results) for status in Status}
    print(
        f"{counts[Status.PASS]} passed, {counts[Status.FAIL]} failed, "
        f"{counts[Status.UNKNOWN]} unknown"
    )
    if unreachable:
        print(f"error: {'; '.join(unreachable)}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK if verdict is Status.PASS else EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main())
