"""The wrk wrapper's argv and parser, the instant server's request framing, and the
comparison's arithmetic and report (all pure)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.core.errors import ToolFailedError
from vibevoice_ci.perf import instant_server, wrkbench
from vibevoice_ci.tools import wrk

PROPERTY = settings(max_examples=150, deadline=None)


def test_argv_loads_one_url_with_the_body_after_the_separator() -> None:
    argv = wrk.argv(
        "/usr/bin/wrk",
        "http://127.0.0.1:8000/v1/tts",
        script=Path("/tmp/post.lua"),
        body='{"text": "hi"}',
        threads=1,
        connections=2,
        seconds=3,
        timeout=10,
    )
    assert argv[0] == "/usr/bin/wrk"
    assert argv[argv.index("--connections") + 1] == "2"
    assert argv[argv.index("--duration") + 1] == "3s"
    assert argv[argv.index("--script") + 1] == "/tmp/post.lua"
    assert argv[-3:] == ["http://127.0.0.1:8000/v1/tts", "--", '{"text": "hi"}']


def test_argv_refuses_fewer_connections_than_threads() -> None:
    with pytest.raises(ValueError, match="connections"):
        wrk.argv("wrk", "http://127.0.0.1:1/", script=Path("s"), body="", threads=2,
                 connections=1, seconds=1, timeout=1)  # fmt: skip


def test_run_refuses_a_target_off_loopback() -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
        wrk.run("http://example.com/v1/tts", "{}")


SUMMARY = {
    "requests": 5000,
    "duration_us": 2_000_000,
    "bytes": 123,
    "errors": {"connect": 0, "read": 0, "write": 0, "status": 2, "timeout": 1},
    "latency_us": {
        "min": 20,
        "mean": 55.5,
        "max": 9000,
        "stdev": 12.25,
        "percentiles": {"50": 40, "90": 70, "99": 800, "99.9": 4000},
    },
}


def test_the_summary_line_is_parsed_into_milliseconds() -> None:
    output = "Running 2s test @ http://127.0.0.1:1/\n" + wrk.MARKER + json.dumps(SUMMARY) + "\n"
    result = wrk.parse_output(output)
    assert result.requests == 5000
    assert result.seconds == 2.0
    assert result.requests_per_second == 2500.0
    assert result.error_count == 3
    assert result.latency_ms["p50"] == 0.04
    assert result.latency_ms["p99.9"] == 4.0
    assert result.latency_ms["mean"] == 0.0555


@pytest.mark.parametrize(
    "output",
    ["", "Running 2s test\n", wrk.MARKER + "{not json", wrk.MARKER + json.dumps({"requests": 1})],
)
def test_a_missing_or_foreign_summary_is_a_tool_failure(output: str) -> None:
    with pytest.raises(ToolFailedError):
        wrk.parse_output(output)


def test_the_lua_script_carries_the_marker_and_every_percentile() -> None:
    assert wrk.MARKER in wrk.LUA_SCRIPT
    assert "{50, 90, 99, 99.9}" in wrk.LUA_SCRIPT
    assert "@" not in wrk.LUA_SCRIPT


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("wrk debian/4.1.0-3+b2 [epoll] Copyright (C) 2012 Will Glozer\nUsage: ...", "4.1.0-3+b2"),
        ("wrk 4.2.0 [epoll] Copyright", "4.2.0"),
        ("", "unknown"),
        ("something else", "unknown"),
    ],
)
def test_the_version_comes_from_the_first_line(text: str, version: str) -> None:
    assert wrk.parse_version(text) == version


# --------------------------------------------------------------------------------------------
# The instant server's framing


def request(body: bytes, *, close: bool = False) -> bytes:
    head = f"POST /v1/tts HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
    if close:
        head += "Connection: close\r\n"
    return head.encode() + b"\r\n" + body


@PROPERTY
@given(
    st.lists(st.binary(max_size=64), min_size=1, max_size=8),
    st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=40),
)
def test_requests_split_anywhere_are_each_answered_once(
    bodies: list[bytes], cuts: list[int]
) -> None:
    stream = b"".join(request(body) for body in bodies)
    answered = 0
    buffer = b""
    position = 0
    for cut in [*cuts, len(stream)]:
        piece = stream[position : position + cut]
        position += len(piece)
        count, close, buffer = instant_server.parse_requests(buffer + piece)
        answered += count
        assert not close
    count, _, buffer = instant_server.parse_requests(buffer + stream[position:])
    answered += count
    assert answered == len(bodies)
    assert buffer == b""


def test_a_close_request_is_seen_and_an_incomplete_body_waits() -> None:
    assert instant_server.parse_requests(request(b"{}", close=True))[:2] == (1, True)
    partial = request(b'{"text": "hello"}')[:-3]
    assert instant_server.parse_requests(partial) == (0, False, partial)


def test_the_response_is_what_the_tts_service_streams() -> None:
    head, _, body = instant_server.RESPONSE.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert b"X-Sample-Rate: 16000" in head
    assert b"Transfer-Encoding: chunked" in head
    assert body.endswith(b"\r\n0\r\n\r\n")


# --------------------------------------------------------------------------------------------
# The comparison


def run(client: str, rps: float, p50: float) -> wrkbench.ClientRun:
    return wrkbench.ClientRun(
        client, round(rps * 10), 10.0, 0, {"p50": p50, "p90": p50 * 2, "p99": p50 * 4}
    )


def test_added_latency_is_ours_minus_wrks_median_over_rounds() -> None:
    ours = [run("ours", 100, 0.30), run("ours", 100, 0.50), run("ours", 100, 0.40)]
    theirs = [run("wrk", 100, 0.10), run("wrk", 100, 0.20), run("wrk", 100, 0.90)]
    result = wrkbench.compare_latency(ours, theirs)
    assert result["added_ms"]["p50"] == pytest.approx(0.2)
    assert result["met"] is True
    slow = wrkbench.compare_latency([run("ours", 100, 1.5)], [run("wrk", 100, 0.4)])
    assert slow["met"] is False


@pytest.mark.parametrize(("ours", "met"), [(80.0, True), (79.9, False), (120.0, True)])
def test_the_throughput_goal_is_eighty_percent_of_wrk(ours: float, met: bool) -> None:
    result = wrkbench.compare_throughput([run("ours", ours, 1)], [run("wrk", 100.0, 1)])
    assert result["ratio"] == pytest.approx(ours / 100.0)
    assert result["met"] is met


def test_the_markdown_has_both_tables() -> None:
    report: dict[str, Any] = {
        "wrk_version": "4.1.0",
        "seconds": 3,
        "rounds": 1,
        "machine": {"cores": 2, "cpu_model": "test"},
        "added_latency": wrkbench.compare_latency([run("ours", 1, 0.3)], [run("wrk", 1, 0.1)]),
        "throughput": [
            {
                "endpoint": "tts POST /v1/tts (espeak)",
                "connections": 2,
                "goal_applies": True,
                **wrkbench.compare_throughput([run("ours", 90, 1)], [run("wrk", 100, 1)]),
            }
        ],
    }
    markdown = wrkbench.render_markdown(report)
    assert "| quantile | ours (ms) | wrk (ms) | added (ms) |" in markdown
    assert "| p50 | 0.300 | 0.100 | +0.200 |" in markdown
    assert "| tts POST /v1/tts (espeak) | 2 | 90.0 | 100.0 | 0.900 | >= 0.8: met |" in markdown
