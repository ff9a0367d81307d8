"""The chart's `helm test`: the smoke checks, run in-cluster against each service's Service.

argv[1] is a JSON list of targets ({name, url, hostEnv, port, health, ready, metrics,
synthesis, turn, tokenEnv}); a target's Service address comes from its
<SERVICE>_SERVICE_HOST variable when the pod has it (no cluster DNS needed), else from the URL's
DNS name. A target with ``tokenEnv`` needs the bearer token in that variable (from the
service's Secret): a request without it must get 401, the metrics and the turn send it. A
target with ``turn`` (the agent) answers one real turn: a frame stream (kind byte, 4-byte
big-endian length, payload; ``A`` audio, ``J`` JSON events) ending in ``end_of_turn`` with
text and audio, the agent having spoken through tts in-cluster. Every check prints PASS or
FAIL on a line of its own; the exit status is 1 when any check failed. Standard library only:
it runs in the service image itself.
"""

import json
import os
import struct
import sys
import time
import urllib.error
import urllib.request

TEXT = "Smoke test. The voice agent is ready."


def fetch(url, data=None, token=None):
    headers = {"Content-Type": "application/json"} if data is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    # The URLs are http:// ones this script builds from the release's service names.
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()
    except OSError as exc:
        return None, {}, str(exc).encode()


def check(target, name, passed, detail):
    print(f"{'PASS' if passed else 'FAIL'} {target}/{name}: {detail}", flush=True)
    return passed


def audio_seconds(headers, pcm):
    lowered = {key.lower(): value for key, value in headers.items()}
    rate = int(lowered.get("x-sample-rate", "0") or 0)
    return len(pcm) / 2 / rate if rate > 0 else 0.0


def frames(body):
    """(audio bytes, events) of an agent frame stream; raises ValueError when malformed."""
    audio, events, offset = bytearray(), [], 0
    while offset < len(body):
        kind, length = struct.unpack_from(">cI", body, offset)
        offset += 5
        payload = body[offset : offset + length]
        if len(payload) != length or kind not in (b"A", b"J"):
            raise ValueError(f"bad frame at byte {offset - 5}")
        offset += length
        if kind == b"A":
            audio += payload
        else:
            events.append(json.loads(payload))
    return bytes(audio), events


def check_turn(target, base, token):
    payload = json.dumps({"text": "Hello agent, this is the helm test."}).encode()
    status, headers, body = fetch(base + target["turn"], payload, token)
    if status != 200:
        return check(target["name"], "turn", False, f"HTTP {status} {body[:120]!r}")
    try:
        audio, events = frames(body)
    except (ValueError, struct.error) as exc:
        return check(target["name"], "turn", False, f"malformed reply stream: {exc}")
    final = events[-1] if events else {}
    text = str(final.get("text", "")).strip()
    seconds = audio_seconds(headers, audio)
    passed = final.get("type") == "end_of_turn" and bool(text) and 0.3 <= seconds <= 60.0
    detail = f"{final.get('type')}, {len(text)} characters, {seconds:.2f} s audio"
    return check(target["name"], "turn", passed, detail)


def run(target):
    host = os.environ.get(target.get("hostEnv", ""))
    base = f"http://{host}:{target['port']}" if host else target["url"]
    print(f"checking {target['name']} at {base}", flush=True)
    ok = True
    deadline = time.monotonic() + 30
    while fetch(base + target["health"])[0] is None and time.monotonic() < deadline:
        time.sleep(1)
    token = os.environ.get(target.get("tokenEnv") or "", "").replace(",", " ").split()
    token = token[0] if token else None
    if target.get("tokenEnv"):
        status, _, _ = fetch(base + target["metrics"])
        ok &= check(target["name"], "auth", status == 401, f"without the token: HTTP {status}")
        ok &= check(target["name"], "token", token is not None, f"${target['tokenEnv']} set")
    for name in ("health", "ready", "metrics"):
        status, _, body = fetch(base + target[name], token=token)
        ok &= check(target["name"], name, status == 200, f"HTTP {status} {body[:80]!r}")
    if target.get("synthesis"):
        payload = json.dumps({"text": TEXT, "format": "pcm"}).encode()
        status, headers, body = fetch(base + target["synthesis"], payload)
        lowered = {key.lower(): value for key, value in headers.items()}
        seconds = audio_seconds(headers, body)
        passed = status == 200 and lowered.get("content-type", "").startswith("audio/")
        passed = passed and 0.3 <= seconds <= 15.0
        ok &= check(target["name"], "synthesis", passed, f"HTTP {status}, {seconds:.2f} s audio")
    if target.get("turn"):
        ok &= check_turn(target, base, token)
    return ok


results = [run(target) for target in json.loads(sys.argv[1])]
sys.exit(0 if all(results) else 1)
