"""Command line of the agent: flags override environment variables.

Exit status: 0 after a clean (drained) shutdown; 2 for bad flags, settings or tokens, and for
an address other than loopback without tokens (unless ``--allow-unauthenticated``).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from vibevoice_platform.agent.settings import Settings, SettingsError, is_loopback
from vibevoice_platform.agent.tokens import TokenChecker, TokenError, load_tokens
from vibevoice_platform.common.cli import EXIT_BAD_INPUT, ArgumentParser, configure_logging

PROG = "vibevoice-agent"


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="python -m vibevoice_platform.agent",
        description=(
            "Voice agent (WS /v1/converse, POST /v1/reply): replies from Anthropic's Messages "
            "API when ANTHROPIC_API_KEY is set, else from a local responder, spoken through tts."
        ),
    )
    parser.add_argument("--host", help="address to listen on (VIBEVOICE_AGENT_HOST)")
    parser.add_argument("--port", type=int, help="TCP port (VIBEVOICE_AGENT_PORT)")
    parser.add_argument("--tts-url", help="the tts service (VIBEVOICE_AGENT_TTS_URL)")
    parser.add_argument(
        "--allow-unauthenticated",
        action="store_true",
        default=None,
        help=(
            "serve without tokens on an address other than loopback "
            "(VIBEVOICE_AGENT_ALLOW_UNAUTHENTICATED); anyone who reaches it can use it"
        ),
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env().with_overrides(
            host=args.host,
            port=args.port,
            tts_url=args.tts_url,
            allow_unauthenticated=args.allow_unauthenticated,
        )
        tokens = load_tokens(settings.tokens_file, settings.tokens_env, os.environ)
    except (SettingsError, TokenError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if tokens is None and not is_loopback(settings.host) and not settings.allow_unauthenticated:
        print(
            f"{PROG}: error: no tokens configured, so the agent serves only on a loopback "
            f"address, not {settings.host}: set VIBEVOICE_AGENT_TOKENS_FILE or "
            "VIBEVOICE_AGENT_TOKENS_ENV, or pass --allow-unauthenticated",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT

    # Imported late so that --help and bad settings answer fast.
    from vibevoice_platform.agent.app import create_app
    from vibevoice_platform.agent.responders import create_responder
    from vibevoice_platform.agent.server import serve

    # The SDK's and httpx's own loggers stay at WARNING: request lines are not our log.
    configure_logging("vibevoice_platform.agent.access", quiet=("httpx", "httpx2", "anthropic"))
    log = logging.getLogger("vibevoice_platform.agent")
    responder = create_responder(settings)
    if tokens is None:
        log.warning(
            "no tokens configured: serving WITHOUT authentication on %s%s",
            settings.host,
            "" if is_loopback(settings.host) else " (--allow-unauthenticated)",
        )
    else:
        log.info("bearer tokens required (%d configured)", len(tokens))
    log.info(
        "responder %s%s; tts at %s; serving on http://%s:%d",
        responder.name,
        f" (model {settings.model})" if responder.name == "anthropic" else "",
        settings.tts_url,
        settings.host,
        settings.port,
    )
    app = create_app(settings, responder, tokens=None if tokens is None else TokenChecker(tokens))
    return serve(app, settings.host, settings.port)
