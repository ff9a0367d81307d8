"""Each planned workflow run happens once in ``.ci/run`` (issue 19: nothing runs twice).

``.ci/run`` executes some workflow runs itself (``nox -s workflows -- --run KEY``) and runs the
integration tests that execute others (``tests/integration/test_workflows_*.py``, as root,
after ci-test's job accepted them as unknown). A run named in both, or pulled into both as the
run another follows, would cost its minutes twice for nothing. Read from the real files: the
``--run`` keys in ``.ci/run`` and in each test module's argument lists, expanded with the runs
they follow (``workflows.plan.select``, what the harness itself runs).
"""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

from vibevoice_ci.workflows.plan import CHAIN, select

REPO_ROOT = Path(__file__).resolve().parents[2]
CI_RUN = REPO_ROOT / ".ci/run"
ACT_TESTS = sorted((REPO_ROOT / "tests/integration").glob("test_workflows_*.py"))


def run_keys_in_shell(text: str) -> set[str]:
    """The KEYs of every ``--run KEY`` in a shell script (pure)."""
    return set(re.findall(r"--run\s+([a-z0-9-]+)", text))


def run_keys_in_python(source: str) -> set[str]:
    """The string that follows each ``"--run"`` in a Python module's lists and calls (pure)."""
    keys: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.List | ast.Tuple):
            elements = node.elts
        elif isinstance(node, ast.Call):
            elements = node.args
        else:
            continue
        for flag, value in itertools.pairwise(elements):
            if (
                isinstance(flag, ast.Constant)
                and flag.value == "--run"
                and isinstance(value, ast.Constant)
                and isinstance(value.value, str)
            ):
                keys.add(value.value)
    return keys


def executed(keys: set[str]) -> set[str]:
    """The runs the harness executes for ``keys``: each with the runs it follows."""
    return {run.key for run in select(CHAIN, keys)} if keys else set()


def test_the_readers_find_the_keys_as_written() -> None:
    assert run_keys_in_shell("nox -s workflows -- --run a-b \\\n    --run c1 --append") == {
        "a-b",
        "c1",
    }
    source = 'argv = ["x", "--run", "k-1"]\nrun([*argv, "--run", "k-2", "--no-strict"])\n'
    assert run_keys_in_python(source) == {"k-1", "k-2"}


def test_the_act_tests_and_ci_run_name_real_runs() -> None:
    known = {run.key for run in CHAIN}
    by_tests = set().union(*(run_keys_in_python(p.read_text("utf-8")) for p in ACT_TESTS))
    by_ci_run = run_keys_in_shell(CI_RUN.read_text("utf-8"))
    assert by_tests, "no --run found in tests/integration/test_workflows_*.py"
    assert by_ci_run, "no --run found in .ci/run"
    assert by_tests <= known, by_tests - known
    assert by_ci_run <= known, by_ci_run - known


def test_no_run_is_executed_both_by_ci_run_and_by_an_act_test() -> None:
    by_ci_run = executed(run_keys_in_shell(CI_RUN.read_text("utf-8")))
    for module in ACT_TESTS:
        twice = by_ci_run & executed(run_keys_in_python(module.read_text("utf-8")))
        assert not twice, f"{module.name} and .ci/run both execute {sorted(twice)}"
