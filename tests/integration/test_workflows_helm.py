"""Issue 17: ci-helm-validate.yml executed by act (as the ``runner`` user) on a push to main:
the helm session's levels 1 and 2 pass, level 3 is accepted as unknown (the job has no root),
and the job builds nothing, since its Go build cache entry is seeded from root's builds in
/var/cache/vibevoice (a warm cache: docs/workflows.md, "Seeded cache entries").

One harness run from a clean clone, in a state folder of its own under the runner's home
(``--state-dir``), so no other harness run on the machine holds its lock or replaces its logs.
About five minutes: the session's venv, level 1, and level 2's control plane with kwok.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_workflows_planted import TEST_STATES, _need_act_runner, _planted

from capabilities import missing
from vibevoice_ci.workflows.plan import CHAIN

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(1500),
    pytest.mark.xdist_group("act-runner"),
]

ROOT = Path(__file__).resolve().parents[2]
(RUN,) = [run for run in CHAIN if run.key == "ci-helm-validate"]
SEED = RUN.seed_cache
CACHE = Path("/home/runner/vibevoice-act-cache")


def _seeded_files() -> list[str]:
    assert SEED is not None
    return subprocess.run(
        SEED.files_command, cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """One harness run of ci-helm-validate from a clean clone; its clone and stdout."""
    bin_dir = _need_act_runner()
    assert SEED is not None
    absent = [name for name in _seeded_files() if not Path(SEED.source, name).is_file()]
    if absent:
        missing("act-runner", f"root has not built {', '.join(absent)} in {SEED.source} yet")
    clone = _planted(tmp_path_factory.mktemp("helm"), None)
    state = TEST_STATES / f"helm-{os.getpid()}"
    environ = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "vibevoice_ci",
                "workflows",
                "--run",
                "ci-helm-validate",
                "--state-dir",
                str(state),
            ],
            cwd=clone,
            env=environ,
            capture_output=True,
            text=True,
            check=False,
            timeout=1440,
        )
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
        yield clone, result.stdout
    finally:
        shutil.rmtree(state, ignore_errors=True)


def _run(clone: Path) -> dict[str, Any]:
    report = json.loads((clone / "reports" / "workflows" / "workflows.json").read_text("utf-8"))
    assert report["status"] == "pass", report
    (run,) = report["runs"]
    return run  # type: ignore[no-any-return]


def test_the_helm_job_passes_as_the_runner(harness: tuple[Path, str]) -> None:
    clone, _ = harness
    run = _run(clone)
    assert (run["key"], run["event"], run["status"], run["conclusion"]) == (
        "ci-helm-validate",
        "push",
        "pass",
        "success",
    )
    assert [(job["name"].split("/", 1)[-1].strip(), job["result"]) for job in run["jobs"]] == [
        ("helm (nox -s helm)", "success")
    ]


def test_levels_1_and_2_pass_and_level_3_is_accepted_as_unknown(
    harness: tuple[Path, str],
) -> None:
    clone, _ = harness
    helm = json.loads((clone / "reports" / "helm" / "helm.json").read_text("utf-8"))
    levels = {level["level"]: level for level in helm["levels"]}
    assert (levels["static"]["status"], levels["cluster"]["status"]) == ("pass", "pass")
    assert {check["name"] for check in levels["cluster"]["checks"]} >= {
        "install",
        "upgrade",
        "rollback",
        "uninstall",
        "teardown",
    }
    (pods,) = levels["pods"]["checks"]
    assert pods["status"] == "unknown"
    assert "need root" in pods["detail"]  # the runner has no root: never a pass
    assert helm["accepted_unknown"]["pods"].startswith("level 3 needs root")


def test_the_job_restored_the_seeded_entry_and_built_nothing(harness: tuple[Path, str]) -> None:
    clone, stdout = harness
    assert SEED is not None
    key = (
        SEED.key_prefix
        + subprocess.run(
            SEED.key_command, cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    seeded = re.search(r"cache entry (\S+\.tar) (seeded from /var/cache/vibevoice|already)", stdout)
    assert seeded is not None, stdout[-3000:]
    assert seeded[1] == f"{key}.tar"
    log = Path(_run(clone)["log"]).read_text("utf-8")
    assert f"Cache restored from key: {key}" in log
    assert "[install-kubernetes] building" not in log
    assert "kubernetes builds ready" not in log  # the whole install ran, not a phase
    assert "[install-kubernetes] kubernetes tools ready for levels static,cluster" in log
    # The entry holds the built binaries alone, as the job would have saved them.
    with tarfile.open(CACHE / f"{key}.tar") as archive:
        names = sorted(archive.getnames())
    folder = SEED.cache_folder.lstrip("/")
    assert names == sorted([f"{folder}/bin", *(f"{folder}/{name}" for name in _seeded_files())])
