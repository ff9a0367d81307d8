"""Running the agent under uvicorn with the tts service's bounded drain on SIGTERM/SIGINT.

On the first signal ``/ready`` turns 503, the listening socket closes, turns in progress get
up to ``drain_seconds`` to finish, then uvicorn shuts down (open WebSockets get close 1012)
and the process exits 0. ``/metrics`` can also be served on a port of its own.
"""

from __future__ import annotations

import uvicorn
from prometheus_client import start_http_server
from starlette.applications import Starlette

from vibevoice_platform.agent.app import agent_state
from vibevoice_platform.tts.server import DrainingServer


def serve(app: Starlette, host: str, port: int) -> int:
    """Serve ``app`` until a signal; return the exit status."""
    state = agent_state(app)
    settings = state.settings
    if settings.metrics_port is not None:
        start_http_server(settings.metrics_port, addr=host, registry=state.metrics.registry)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=int(settings.drain_seconds) + 1,
        server_header=False,
        ws_max_size=settings.max_turn_chars * 12 + 4096,
    )
    server = DrainingServer(config, state)
    server.run()
    return server.exit_code
