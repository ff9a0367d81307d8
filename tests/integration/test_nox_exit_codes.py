"""``nox -s X`` exits with the code docs/ci-cd.md promises, through the real nox command.

nox turns any failed session into exit 1; the noxfile's ``pipeline``/``stop`` end nox with 2
(bad usage or input) or 3 (a required tool is missing) instead, which a CI job sees.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
REPO_ROOT = Path(__file__).resolve().parents[2]


def nox(
    envdir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    found = shutil.which("nox")
    if found is None:
        pytest.fail("nox is not installed (python3 -m pip install nox uv)")
    return subprocess.run(
        [found, "-f", str(REPO_ROOT / "noxfile.py"), "--envdir", str(envdir), *args],
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def test_a_usage_error_in_the_noxfile_is_exit_2(tmp_path: Path) -> None:
    run = nox(tmp_path, "-s", "notify", "--", "nothing-to-notify")
    assert run.returncode == 2, run.stderr
    assert "usage: nox -s notify --" in run.stderr
    assert "stopped nox with exit code 2" in run.stderr


def test_a_usage_error_of_the_pipeline_is_exit_2_and_a_missing_tool_exit_3(
    tmp_path: Path,
) -> None:
    usage = nox(tmp_path, "-s", "helm", "--", "--no-such-flag")
    assert usage.returncode == 2, usage.stderr
    assert "unrecognized arguments: --no-such-flag" in usage.stdout + usage.stderr
    # The same venv again (-R: reused, nothing installed), the helm binary named as absent.
    missing = nox(tmp_path, "-R", "-s", "helm", env={"VIBEVOICE_HELM": str(tmp_path / "helm")})
    assert missing.returncode == 3, missing.stderr
    assert "vibevoice_ci helm exited 3 (a required tool is missing" in missing.stderr


def test_a_usage_error_stops_the_sessions_after_it(tmp_path: Path) -> None:
    # Running on would only meet the same broken command line or machine again.
    run = nox(tmp_path, "-s", "notify", "report", "--", "nothing-to-notify")
    assert run.returncode == 2, run.stderr
    assert "Running session report" not in run.stderr
