"""Load-test the tts service: TTFA, end-to-end latency, throughput and errors, as JSON.

    python scripts/load_test_tts.py [--engine espeak] [--endpoint http|ws] [--concurrency 2]
        [--rate R] [--requests 60 | --duration S] [--warmup 5] [--prompts FILE]
        [--capacity N] [--port P] [--json-out reports/perf/metrics.json]

The code lives in ``vibevoice_ci.perf`` (docs/performance.md). Exit status: 0 after a run,
1 when it failed, 2 for bad flags or input, 3 for a missing tool.
"""

from __future__ import annotations

import os
import sys

from vibevoice_ci.perf.loadtest import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], os.environ))
