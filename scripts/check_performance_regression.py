"""Compare this run's performance metrics with the baseline; exit 1 on a regression.

    python scripts/check_performance_regression.py --current FILE --baseline FILE
        [--update-baseline] [--summary FILE.md] [--json-out FILE] [--threshold-only]

No baseline: it is created from the current metrics (exit 0). Thresholds come from
``[tool.vibevoice-ci.perf]``. Exit status: 0 no regression, 1 regression, 2 bad input.
The code lives in ``vibevoice_ci.perf.check`` (docs/performance.md).
"""

from __future__ import annotations

import sys

from vibevoice_ci.perf.check import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
