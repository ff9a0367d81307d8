"""Shared fixtures for the workflow tests: the parsed workflows and the nox session listing."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from workflow_model import (
    WORKFLOWS_DIR,
    MakeWorkflow,
    NoxSession,
    Workflow,
    load_workflows,
    parse_nox_listing,
    parse_workflow,
    supported_pythons,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
PINS_FILE = Path(__file__).with_name("action_pins.toml")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def workflows() -> list[Workflow]:
    found = load_workflows(REPO_ROOT / WORKFLOWS_DIR)
    assert found, f"no workflow files in {REPO_ROOT / WORKFLOWS_DIR}"
    return found


@pytest.fixture(scope="session")
def workflow_by_file(workflows: list[Workflow]) -> dict[str, Workflow]:
    return {wf.path.name: wf for wf in workflows}


@pytest.fixture(scope="session")
def pyproject() -> dict[str, object]:
    with (REPO_ROOT / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)


@pytest.fixture(scope="session")
def supported_pythons_list(pyproject: dict[str, object]) -> list[str]:
    """The Python versions pyproject.toml's classifiers name, oldest first."""
    project = pyproject["project"]
    assert isinstance(project, dict)
    found = supported_pythons(project.get("classifiers", []))
    assert found, "pyproject.toml names no `Programming Language :: Python :: 3.X` classifier"
    return found


@pytest.fixture(scope="session")
def pins() -> dict[str, object]:
    with PINS_FILE.open("rb") as handle:
        return tomllib.load(handle)


def _nox_list(*extra: str) -> list[NoxSession]:
    # --script-mode none: use this interpreter's nox; never build a venv for the noxfile's
    # PEP 723 block (a listing needs no network).
    argv = [sys.executable, "-m", "nox", "--list", "--json", "--script-mode", "none", *extra]
    completed = subprocess.run(
        argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, (
        f"{' '.join(argv[1:])} exited {completed.returncode} (is nox installed in the test "
        f"environment? it is in the dev dependency group):\n{completed.stderr[-2000:]}"
    )
    return parse_nox_listing(completed.stdout)


@pytest.fixture(scope="session")
def nox_default_sessions() -> list[NoxSession]:
    """What plain ``nox -l --json`` lists: the sessions selected by default."""
    return _nox_list()


@pytest.fixture(scope="session")
def nox_all_sessions() -> list[NoxSession]:
    """Every session in the noxfile, including ``default=False`` ones.

    ``nox -l --json`` prints only the *selected* sessions, so a session declared with
    ``default=False`` would be missing from it. ``-k True`` is a keyword expression that
    selects every session, which makes the listing complete.
    """
    return _nox_list("-k", "True")


# A minimal workflow that follows every rule the tests enforce. The negative tests change
# one thing in it and check that the matching rule notices, which proves each rule can fail.
GOOD_WORKFLOW = """\
# Purpose:  an example.
# Triggers: pull requests.
# Outputs:  reports-tests.
# Secrets:  none.
name: Example
on:
  pull_request:
    branches: [main]
permissions: {}
concurrency:
  group: ${{ github.workflow }}-${{ github.event.pull_request.number || github.ref }}
  cancel-in-progress: ${{ github.event_name == 'pull_request' }}
env:
  PIP_DISABLE_PIP_VERSION_CHECK: "1"
jobs:
  test:
    name: test
    runs-on: ubuntu-24.04
    timeout-minutes: 90
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@d23441a48e516b6c34aea4fa41551a30e30af803 # v6.1.0
        with:
          persist-credentials: false
      - uses: actions/setup-python@ece7cb06caefa5fff74198d8649806c4678c61a1 # v6.3.0
        with:
          python-version: "3.11"
      - run: python -m pip install --require-hashes --no-deps -r .github/requirements/ci-tools.txt
      - env:
          NOX_SESSION: tests
        run: nox -s "$NOX_SESSION"
      - if: always()
        uses: actions/upload-artifact@b7c566a772e6b6bfb58ed0dc250532a479d7789f # v6.0.0
        with:
          name: reports-tests
          path: reports/tests/
          retention-days: 30
"""


def _make_workflow(*replacements: tuple[str, str], name: str = "example.yml") -> Workflow:
    """GOOD_WORKFLOW with each ``(old, new)`` text replacement applied (``old`` must occur)."""
    text = GOOD_WORKFLOW
    for old, new in replacements:
        assert old in text, f"{old!r} is not in the example workflow"
        text = text.replace(old, new)
    return parse_workflow(text, Path(".github/workflows") / name)


@pytest.fixture(scope="session")
def make_workflow() -> MakeWorkflow:
    """Build a variant of GOOD_WORKFLOW: ``make_workflow((old, new), ..., name="x.yml")``."""
    return _make_workflow
