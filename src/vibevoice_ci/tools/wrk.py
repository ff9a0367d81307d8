"""wrk (Debian ``wrk``): a C HTTP benchmark, the yardstick the perf load generator is held to.

``run()`` POSTs one JSON body to a URL on 127.0.0.1 for a number of seconds over a number of
keep-alive connections and returns what wrk measured. A small Lua script sets the method,
body and headers in ``init`` (so the request stays static, built once per thread, as in a
plain wrk run) and prints wrk's summary as one JSON line in ``done``: requests, duration,
errors and latency percentiles (wrk's latency runs from the request written to the response
complete, i.e. to the last byte of a streamed body).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vibevoice_ci.core.errors import ToolFailedError
from vibevoice_ci.tools._exec import find_tool, run_tool

INSTALL_HINT = "Debian: apt-get install wrk (scripts/ci/install-tools.sh installs it)"
MARKER = "WRK-JSON "
PERCENTILES = (50.0, 90.0, 99.0, 99.9)

LUA_TEMPLATE = r"""-- Written by vibevoice_ci.tools.wrk: POST the body given after `--` as JSON.
function init(args)
    wrk.method = "POST"
    wrk.body = args[1]
    wrk.headers["Content-Type"] = "application/json"
end

function done(summary, latency, requests)
    local e = summary.errors
    local parts = {}
    for _, p in ipairs({@PERCENTILES@}) do
        table.insert(parts, string.format('"%g": %d', p, latency:percentile(p)))
    end
    io.write(string.format(
        '@MARKER@{"requests": %d, "duration_us": %d, "bytes": %d, '
        .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, '
        .. '"timeout": %d}, "latency_us": {"min": %d, "mean": %.3f, "max": %d, '
        .. '"stdev": %.3f, "percentiles": {%s}}}\n',
        summary.requests, summary.duration, summary.bytes,
        e.connect, e.read, e.write, e.status, e.timeout,
        latency.min, latency.mean, latency.max, latency.stdev, table.concat(parts, ", ")))
end
"""
LUA_SCRIPT = LUA_TEMPLATE.replace(
    "@PERCENTILES@", ", ".join(f"{p:g}" for p in PERCENTILES)
).replace("@MARKER@", MARKER)


@dataclass(frozen=True)
class WrkResult:
    """One wrk run: counts, the wall time and latency statistics in milliseconds."""

    requests: int
    seconds: float
    errors: dict[str, int]
    latency_ms: dict[str, float]  # min, mean, max, stdev, p50, p90, p99, p99.9

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def wrk() -> str:
    return find_tool("wrk", INSTALL_HINT, env_override="VIBEVOICE_WRK")


def version() -> str:
    """``4.1.0`` from ``wrk -v``'s first line (``wrk debian/4.1.0-3+b2 [epoll] ...``)."""
    result = run_tool([wrk(), "-v"], check=False, timeout=30)
    return parse_version(result.stdout + result.stderr)


def parse_version(text: str) -> str:
    words = (text.splitlines() or [""])[0].split()
    if len(words) < 2 or words[0] != "wrk":
        return "unknown"
    return words[1].rsplit("/", 1)[-1]


def argv(
    binary: str,
    url: str,
    *,
    script: Path,
    body: str,
    threads: int,
    connections: int,
    seconds: float,
    timeout: float,
) -> list[str]:
    """``wrk -t T -c C -d Ds --timeout Xs -s SCRIPT URL -- BODY`` (pure)."""
    if connections < threads:
        raise ValueError(f"wrk needs connections ({connections}) >= threads ({threads})")
    return [
        binary,
        "--threads",
        str(threads),
        "--connections",
        str(connections),
        "--duration",
        f"{max(1, round(seconds))}s",
        "--timeout",
        f"{max(1, round(timeout))}s",
        "--script",
        str(script),
        url,
        "--",
        body,
    ]


def parse_output(stdout: str) -> WrkResult:
    """The JSON line the Lua ``done`` printed; ToolFailedError when it is missing or bad."""
    for line in stdout.splitlines():
        if line.startswith(MARKER):
            try:
                data = json.loads(line[len(MARKER) :])
                latency = data["latency_us"]
                stats = {
                    key: round(float(latency[key]) / 1000, 4)
                    for key in ("min", "mean", "max", "stdev")
                }
                for key, value in latency["percentiles"].items():
                    stats[f"p{key}"] = round(float(value) / 1000, 4)
                return WrkResult(
                    requests=int(data["requests"]),
                    seconds=float(data["duration_us"]) / 1e6,
                    errors={key: int(value) for key, value in data["errors"].items()},
                    latency_ms=stats,
                )
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise ToolFailedError(f"wrk printed a summary that is not ours: {exc}") from None
    raise ToolFailedError("wrk printed no summary (its Lua script did not run to done())")


def run(
    url: str,
    body: str,
    *,
    threads: int = 1,
    connections: int = 1,
    seconds: float = 5.0,
    timeout: float = 10.0,
) -> WrkResult:
    """POST ``body`` to ``url`` (on 127.0.0.1) with wrk and return its summary."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"wrk only loads 127.0.0.1 here, not {url}")
    binary = wrk()
    with tempfile.TemporaryDirectory(prefix="vibevoice-wrk-") as folder:
        script = Path(folder) / "post.lua"
        script.write_text(LUA_SCRIPT, encoding="utf-8")
        command: Sequence[str] = argv(
            binary,
            url,
            script=script,
            body=body,
            threads=threads,
            connections=connections,
            seconds=seconds,
            timeout=timeout,
        )
        result = run_tool(command, check=True, timeout=seconds + timeout + 60)
    return parse_output(result.stdout)
