"""``nox -s X`` exits with the code docs/ci-cd.md promises, through the real nox command.

nox turns any failed session into exit 1; the noxfile's ``pipeline``/``stop`` end nox with 2
(bad usage or input) or 3 (a required tool is missing) instead, which a CI job sees.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from nox_support import run_nox as nox

pytestmark = pytest.mark.integration


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
