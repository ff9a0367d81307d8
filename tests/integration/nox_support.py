"""The real ``nox`` command on this repository's noxfile, as a contributor or a CI job runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_nox(
    envdir: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    inherit: bool = True,
) -> subprocess.CompletedProcess[str]:
    """``nox -f noxfile.py --envdir ENVDIR ARGS`` from the repository root.

    The environment is this process's with ``env`` on top, or only ``env`` when ``inherit`` is
    false (the caller then passes what nox and uv need, such as ``PATH`` and ``HOME``).
    """
    found = shutil.which("nox")
    if found is None:
        pytest.fail("nox is not installed (python3 -m pip install nox uv)")
    return subprocess.run(
        [found, "-f", str(REPO_ROOT / "noxfile.py"), "--envdir", str(envdir), *args],
        cwd=REPO_ROOT,
        env={**(os.environ if inherit else {}), **(env or {})},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
