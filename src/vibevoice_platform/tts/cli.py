"""Command line of the service: flags override environment variables.

Exit status: 0 after a clean (drained) shutdown, 2 for bad flags or settings and for an engine
that cannot run here (a missing package, voice or model: the one-line reason is printed).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from vibevoice_platform.common.cli import EXIT_BAD_INPUT, ArgumentParser, configure_logging
from vibevoice_platform.tts.settings import ENGINE_NAMES, Settings, SettingsError


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="python -m vibevoice_platform.tts",
        description="Streaming text-to-speech service (POST /v1/tts, WS /stream).",
    )
    parser.add_argument("--host", help="address to listen on (VIBEVOICE_TTS_HOST)")
    parser.add_argument("--port", type=int, help="TCP port (VIBEVOICE_TTS_PORT)")
    parser.add_argument(
        "--engine",
        choices=ENGINE_NAMES,
        help=(
            "engine (VIBEVOICE_TTS_ENGINE; default piper). vibevoice is EXPERIMENTAL: it has "
            "never run in this project (no torch, no weights here); verify it before use"
        ),
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env().with_overrides(
            host=args.host, port=args.port, engine=args.engine
        )
    except SettingsError as exc:
        print(f"vibevoice-tts: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT

    # Imported late so that --help and bad settings answer fast.
    from vibevoice_platform.tts.app import create_app
    from vibevoice_platform.tts.engines import EngineUnavailable, create_engine
    from vibevoice_platform.tts.server import serve

    try:
        engine = create_engine(settings.engine, settings)
    except EngineUnavailable as exc:
        print(f"vibevoice-tts: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    configure_logging("vibevoice_platform.tts.access")
    log = logging.getLogger("vibevoice_platform.tts")
    if engine.experimental:
        log.warning(
            "engine %s is EXPERIMENTAL: it has never run in this project; verify its audio",
            engine.name,
        )
    log.info(
        "engine %s: loading; serving on http://%s:%d (ready once warmed up)",
        engine.name,
        settings.host,
        settings.port,
    )
    app = create_app(settings, engine)
    status = serve(app, settings.host, settings.port)
    if status != 0:
        from vibevoice_platform.tts.app import service_state

        reason = service_state(app).load_error or "engine failed"
        print(
            f"vibevoice-tts: error: engine {engine.name} failed to load: {reason}", file=sys.stderr
        )
    return status
