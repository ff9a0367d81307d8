"""An HTTP/1.1 server that answers every request at once, like ``POST /v1/tts`` with no work.

The load generator's own added latency is what it measures against a server that takes no
time: this one answers each request, as soon as its body has arrived, with what the tts
service streams (200, ``X-Sample-Rate``, a chunked body holding 10 ms of silent 16-bit PCM),
on keep-alive connections. ``scripts/bench_loadgen_vs_wrk.py`` runs it as its own process
(so it does not share the load generator's interpreter) on 127.0.0.1:

    python -m vibevoice_ci.perf.instant_server --host 127.0.0.1 --port 8123
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence

SAMPLE_RATE = 16000
AUDIO = bytes(SAMPLE_RATE // 100 * 2)  # 10 ms of silence
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: audio/pcm\r\n"
    + f"X-Sample-Rate: {SAMPLE_RATE}\r\n".encode("ascii")
    + b"Transfer-Encoding: chunked\r\n\r\n"
    + f"{len(AUDIO):x}\r\n".encode("ascii")
    + AUDIO
    + b"\r\n0\r\n\r\n"
)
MAX_HEAD = 65536


def parse_requests(buffer: bytes) -> tuple[int, bool, bytes]:
    """How many complete requests ``buffer`` holds, whether one asked to close the connection,
    and the bytes left over (pure). A head without a valid length counts as a body of 0."""
    count = 0
    close = False
    while True:
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            return count, close, buffer
        length = 0
        for line in buffer[:end].split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                try:
                    length = max(0, int(value.strip()))
                except ValueError:
                    length = 0
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        if len(buffer) < end + 4 + length:
            return count, close, buffer
        buffer = buffer[end + 4 + length :]
        count += 1


class _Instant(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if isinstance(transport, asyncio.Transport):
            self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.transport is None:
            return
        count, close, self.buffer = parse_requests(self.buffer + data)
        if count:
            self.transport.write(RESPONSE * count)
        if close or len(self.buffer) > MAX_HEAD:
            self.transport.close()


async def serve(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Instant, host, port, backlog=1024)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with server:
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    cli = argparse.ArgumentParser(prog="instant_server", description=__doc__.split("\n\n")[0])
    cli.add_argument("--host", default="127.0.0.1")
    cli.add_argument("--port", type=int, required=True)
    args = cli.parse_args(argv)
    if args.host != "127.0.0.1":
        print("instant_server: error: it listens on 127.0.0.1 only", file=sys.stderr)
        return 2
    asyncio.run(serve(args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
