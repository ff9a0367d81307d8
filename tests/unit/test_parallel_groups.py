"""The suite runs in parallel with ``--dist loadgroup`` (nox -s tests), and its shared fixtures
(a module's services, the multi-arch build, the helm level 3 node's machine-wide bridge) rely
on every test of one ``xdist_group`` running on one worker. Nothing fails when that grouping
silently stops (pytest 9.2 broke it: pytest-dev/pytest-xdist#1386): this test does."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

GROUPED = textwrap.dedent(
    """
    import os
    from pathlib import Path

    import pytest

    pytestmark = pytest.mark.xdist_group("one")


    @pytest.mark.parametrize("index", range(8))
    def test_record_the_worker(index):
        record = Path(os.environ["GROUP_RECORD"]) / str(index)
        record.write_text(os.environ["PYTEST_XDIST_WORKER"], encoding="utf-8")
    """
)


def test_the_tests_of_one_xdist_group_run_on_one_worker(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (project / "test_grouped.py").write_text(GROUPED, encoding="utf-8")
    record = tmp_path / "record"
    record.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "COV_CORE_"))
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--numprocesses", "3", "--dist", "loadgroup"],
        cwd=project,
        env={**env, "GROUP_RECORD": str(record)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    workers = {path.name: path.read_text(encoding="utf-8") for path in record.iterdir()}
    assert len(workers) == 8
    assert len(set(workers.values())) == 1, f"one group ran on several workers: {workers}"
