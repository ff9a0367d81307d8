"""The chart's `helm test`: the smoke checks, run in-cluster against each service's Service.

argv[1] is a JSON list of targets ({name, url, hostEnv, port, health, ready, metrics,
synthesis}); a target's Service address comes from its <SERVICE>_SERVICE_HOST variable when
the pod has it (no cluster DNS needed), else from the URL's DNS name. Every
check prints PASS or FAIL on a line of its own; the exit status is 1 when any check failed.
Standard library only: it runs in the service image itself.
"""

import json
import os
import sys
import time
import urllib.error
import urllib.request

TEXT = "Smoke test. The voice agent is ready."


def fetch(url, data=None):
    headers = {"Content-Type": "application/json"} if data is not None else {}
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()
    except OSError as exc:
        return None, {}, str(exc).encode()


def check(target, name, passed, detail):
    print(f"{'PASS' if passed else 'FAIL'} {target}/{name}: {detail}", flush=True)
    return passed


def run(target):
    host = os.environ.get(target.get("hostEnv", ""))
    base = f"http://{host}:{target['port']}" if host else target["url"]
    print(f"checking {target['name']} at {base}", flush=True)
    ok = True
    deadline = time.monotonic() + 30
    while fetch(base + target["health"])[0] is None and time.monotonic() < deadline:
        time.sleep(1)
    for name in ("health", "ready", "metrics"):
        status, _, body = fetch(base + target[name])
        ok &= check(target["name"], name, status == 200, f"HTTP {status} {body[:80]!r}")
    if target.get("synthesis"):
        payload = json.dumps({"text": TEXT, "format": "pcm"}).encode()
        status, headers, body = fetch(base + target["synthesis"], payload)
        lowered = {key.lower(): value for key, value in headers.items()}
        rate = int(lowered.get("x-sample-rate", "0") or 0)
        seconds = len(body) / 2 / rate if rate > 0 else 0.0
        passed = status == 200 and lowered.get("content-type", "").startswith("audio/")
        passed = passed and 0.3 <= seconds <= 15.0
        ok &= check(target["name"], "synthesis", passed, f"HTTP {status}, {seconds:.2f} s audio")
    return ok


results = [run(target) for target in json.loads(sys.argv[1])]
sys.exit(0 if all(results) else 1)
