"""Issue 17 part C: each class of defect planted in a clone of this repository fails
``python -m vibevoice_ci workflows --run ci-test-lint`` (act, as the ``runner`` user).

Each test clones the repository's committed HEAD into its own folder, commits one planted
change there and runs the harness from it; the unplanted clone's run is the passing baseline.
Each test's harness run keeps its own state folder (``--state-dir``), so no other run on the
machine holds its lock or replaces its logs; the module's tests share one xdist worker. Two
of them stop before act starts (the preflight); the others each run the lint job once (a few
seconds when the planted step comes first, about 35 s for the whole baseline job).

Not planted here, and why: a tool installed system-wide by root (``/usr/local/bin``,
``/usr/bin``) is on the runner's PATH too on a shared machine, so "a tool the job does not
install" is planted with one only root's own install put on root's PATH (``cfn-lint``, a pyenv
shim under ``/root``, which the runner cannot read), and the test checks that root has it.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from capabilities import missing

# One worker runs them all, in turn: the harness keeps one state folder (and takes its lock).
pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(600),
    pytest.mark.xdist_group("act-runner"),
]

ROOT = Path(__file__).resolve().parents[2]
CI_TEST = Path(".github/workflows/ci-test.yml")
PR_FEEDBACK = Path(".github/workflows/ci-pr-feedback.yml")
SET_UP_PYTHON = "      - name: Set up Python\n"
ROOT_ONLY_TOOL = "cfn-lint"
TEST_STATES = Path("/home/runner/vibevoice-act-tests")
STATES: list[Path] = []


def _need_act_runner() -> Path:
    """The directory holding act; skip (locally) or fail (under CI) without the act runner."""
    act = Path(sys.executable).with_name("act")
    reasons = []
    if os.geteuid() != 0:
        reasons.append("the harness starts act as the runner user through sudo, as root")
    try:
        pwd.getpwnam("runner")
    except KeyError:
        reasons.append("no runner user (sudo bash scripts/ci/setup-runner.sh)")
    if not act.is_file() and shutil.which("act") is None:
        reasons.append("no act binary (uv sync --extra workflows)")
    if reasons:
        missing("act-runner", "; ".join(reasons))
    return act.parent if act.is_file() else Path(str(shutil.which("act"))).parent


def _planted(tmp_path: Path, change: Callable[[Path], None] | None) -> Path:
    clone = tmp_path / "repository"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    if change is not None:
        change(clone)
        git = ["git", "-C", str(clone), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
        subprocess.run([*git, "commit", "--quiet", "--all", "--message", "planted"], check=True)
    return clone


@pytest.fixture(autouse=True)
def _own_state() -> Iterator[None]:
    """Each test's harness run keeps its state in a folder of its own (the runner's home:
    act runs as that user), so no other run on the machine can hold its lock or replace its
    logs; removed afterwards."""
    yield
    for state in STATES:
        shutil.rmtree(state, ignore_errors=True)
    STATES.clear()


def _harness(clone: Path, bin_dir: Path) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    state = TEST_STATES / f"{clone.parent.name}-{os.getpid()}"
    STATES.append(state)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "vibevoice_ci",
            "workflows",
            "--run",
            "ci-test-lint",
            "--state-dir",
            str(state),
        ],
        cwd=clone,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
        timeout=540,
    )


def _report(clone: Path) -> dict[str, object]:
    return json.loads((clone / "reports" / "workflows" / "workflows.json").read_text("utf-8"))  # type: ignore[no-any-return]


def _insert_step(step: str) -> Callable[[Path], None]:
    def change(clone: Path) -> None:
        text = (clone / CI_TEST).read_text(encoding="utf-8")
        assert SET_UP_PYTHON in text
        (clone / CI_TEST).write_text(text.replace(SET_UP_PYTHON, step + SET_UP_PYTHON, 1), "utf-8")

    return change


def _lint_result(report: dict[str, object]) -> tuple[str, list[str]]:
    (run,) = report["runs"]  # type: ignore[misc]
    return run["conclusion"], [job["result"] for job in run["jobs"]]


def test_the_unplanted_clone_passes(tmp_path: Path) -> None:
    bin_dir = _need_act_runner()
    clone = _planted(tmp_path, None)
    result = _harness(clone, bin_dir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = _report(clone)
    assert report["status"] == "pass"
    assert _lint_result(report) == ("success", ["success"])


def test_an_input_the_pinned_action_does_not_declare(tmp_path: Path) -> None:
    bin_dir = _need_act_runner()

    def typo(clone: Path) -> None:
        text = (clone / CI_TEST).read_text(encoding="utf-8")
        old = '          python-version: "3.11"\n'
        assert old in text
        (clone / CI_TEST).write_text(text.replace(old, old + "          typo: x\n", 1), "utf-8")

    result = _harness(_planted(tmp_path, typo), bin_dir)
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        "FAIL ci-test.yml: job lint, step 'Set up Python': "
        "actions/setup-python declares no input 'typo'"
    ) in result.stdout
    assert "====" not in result.stdout  # act never started


def test_a_workflow_run_naming_a_workflow_that_does_not_exist(tmp_path: Path) -> None:
    bin_dir = _need_act_runner()

    def rename(clone: Path) -> None:
        text = (clone / PR_FEEDBACK).read_text(encoding="utf-8")
        assert "      - CI test\n" in text
        (clone / PR_FEEDBACK).write_text(
            text.replace("      - CI test\n", "      - CI tests\n"), "utf-8"
        )

    result = _harness(_planted(tmp_path, rename), bin_dir)
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        "FAIL ci-pr-feedback.yml: workflow_run names 'CI tests', which no workflow is called"
    ) in result.stdout
    assert "====" not in result.stdout


def test_a_step_writing_a_root_only_path(tmp_path: Path) -> None:
    bin_dir = _need_act_runner()
    step = "      - name: Planted root-only write\n        run: touch /usr/local/lib/planted\n\n"
    clone = _planted(tmp_path, _insert_step(step))
    result = _harness(clone, bin_dir)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Permission denied" in Path(_report(clone)["runs"][0]["log"]).read_text("utf-8")  # type: ignore[index]
    assert _lint_result(_report(clone)) == ("failure", ["failure"])
    assert not Path("/usr/local/lib/planted").exists()


def test_a_tool_the_job_does_not_install(tmp_path: Path) -> None:
    bin_dir = _need_act_runner()
    if shutil.which(ROOT_ONLY_TOOL) is None:
        pytest.skip(f"{ROOT_ONLY_TOOL} is not on root's PATH here: nothing root-only to plant")
    step = f"      - name: Planted tool\n        run: {ROOT_ONLY_TOOL} --version\n\n"
    clone = _planted(tmp_path, _insert_step(step))
    result = _harness(clone, bin_dir)
    assert result.returncode == 1, result.stdout + result.stderr
    log = Path(_report(clone)["runs"][0]["log"]).read_text("utf-8")  # type: ignore[index]
    assert f"{ROOT_ONLY_TOOL}: command not found" in log
    assert _lint_result(_report(clone)) == ("failure", ["failure"])
