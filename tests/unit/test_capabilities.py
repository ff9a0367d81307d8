"""The one rule for a missing tool, privilege or daemon (tests/capabilities.py): skipped
locally; under CI a failure unless the job accepts it as unknown with a reason, and then a
skip that says ACCEPTED UNKNOWN, listed at the end of the run and in the job summary."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from capabilities import (
    ACCEPT_ENV,
    accepted_in_junit,
    accepted_unknowns,
    decide,
    junit_address,
    under_ci,
)

TESTS = Path(__file__).resolve().parents[1]
PODS_REASON = "level 3 needs root, and the runner's user is not root"


@pytest.mark.parametrize(
    ("environ", "ci"),
    [
        ({}, False),
        ({"CI": "false"}, False),
        ({"CI": "true"}, True),
        ({"VIBEVOICE_REQUIRE_DOCKER": "1"}, True),
        ({"VIBEVOICE_REQUIRE_DOCKER": "0"}, False),
    ],
)
def test_under_ci(environ: dict[str, str], ci: bool) -> None:
    assert under_ci(environ) is ci


def test_locally_a_missing_capability_is_a_skip() -> None:
    assert decide("helm-pods", "no root", {}) == ("skip", "no root")


def test_under_ci_it_fails_unless_the_job_accepts_it() -> None:
    action, message = decide("helm-pods", "no root", {"CI": "true"})
    assert action == "fail"
    assert ACCEPT_ENV in message
    accepting = {"CI": "true", ACCEPT_ENV: f"helm-pods: {PODS_REASON}\n"}
    action, message = decide("helm-pods", "no root", accepting)
    assert action == "skip"
    assert message.startswith("ACCEPTED UNKNOWN [helm-pods]: no root; accepted by this job: ")
    assert PODS_REASON in message
    # accepting one capability accepts no other
    assert decide("buildkitd", "no root", accepting)[0] == "fail"


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("helm-pod: typo", "unknown capability 'helm-pod'"),
        ("helm-pods", "is not 'capability: reason'"),
        ("helm-pods:   ", "is not 'capability: reason'"),
    ],
)
def test_a_bad_declaration_stops_the_run(value: str, error: str) -> None:
    with pytest.raises(pytest.UsageError, match=error):
        accepted_unknowns({ACCEPT_ENV: value})


def test_an_unknown_capability_in_a_test_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="add it to CAPABILITIES"):
        decide("gpu", "none here", {})


SAMPLE = """
from capabilities import missing

import os
import pytest

@pytest.mark.parametrize("level", ["pods", "images"])
def test_pods(level):
    if not os.environ.get("SAMPLE_AS_ROOT"):
        missing("helm-pods", "level 3 cannot run here: no root")

def test_fine():
    assert True
"""


def _run_sample(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text(
        f"import sys\nsys.path.insert(0, {str(TESTS)!r})\npytest_plugins = ['capabilities']\n",
        encoding="utf-8",
    )
    (tmp_path / "test_sample.py").write_text(SAMPLE, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args, str(tmp_path)],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_an_accepted_unknown_is_listed_at_the_end_and_in_the_job_summary(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    completed = _run_sample(
        tmp_path,
        CI="true",
        GITHUB_ACTIONS="true",
        GITHUB_STEP_SUMMARY=str(summary),
        **{ACCEPT_ENV: f"helm-pods: {PODS_REASON}"},
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    out = completed.stdout
    assert "1 passed, 2 skipped" in out
    assert "ACCEPTED UNKNOWN: not run here, not passed" in out
    assert "test_sample.py::test_pods[pods]: ACCEPTED UNKNOWN [helm-pods]" in out
    assert "::warning title=ACCEPTED UNKNOWN [helm-pods]::" in out
    written = summary.read_text(encoding="utf-8")
    assert "### Tests: 2 accepted unknown (not run here, not passed)" in written
    assert PODS_REASON in written


def test_without_acceptance_ci_fails_the_test(tmp_path: Path) -> None:
    completed = _run_sample(tmp_path, CI="true")
    assert completed.returncode == 1
    assert "2 failed, 1 passed" in completed.stdout


def test_a_typo_in_the_declaration_fails_the_whole_run(tmp_path: Path) -> None:
    completed = _run_sample(tmp_path, CI="true", **{ACCEPT_ENV: "helm-pod: typo"})
    assert completed.returncode != 0
    assert "unknown capability 'helm-pod'" in completed.stdout + completed.stderr


def test_what_a_job_accepted_as_unknown_runs_where_it_can(tmp_path: Path) -> None:
    """The job's own JUnit report (written by pytest, as the job writes it) names what it
    skipped as accepted unknown; ``--accepted-unknown-from`` runs exactly those, elsewhere."""
    junit = tmp_path / "job-junit.xml"
    accept = {ACCEPT_ENV: f"helm-pods: {PODS_REASON}"}
    job = _run_sample(tmp_path, f"--junitxml={junit}", CI="true", **accept)
    assert job.returncode == 0, job.stdout + job.stderr
    assert accepted_in_junit(junit.read_text(encoding="utf-8")) == {
        ("test_sample", "test_pods[pods]"),
        ("test_sample", "test_pods[images]"),
    }

    as_root = _run_sample(
        tmp_path, "-rA", f"--accepted-unknown-from={junit}", CI="true", SAMPLE_AS_ROOT="1"
    )
    assert as_root.returncode == 0, as_root.stdout + as_root.stderr
    assert "2 passed, 1 deselected" in as_root.stdout
    assert "PASSED test_sample.py::test_pods[pods]" in as_root.stdout
    assert "PASSED test_sample.py::test_pods[images]" in as_root.stdout
    assert "test_fine" not in as_root.stdout

    # Still needing what is missing (run where it cannot be had either): a failure under CI.
    again = _run_sample(tmp_path, f"--accepted-unknown-from={junit}", CI="true")
    assert again.returncode == 1
    assert "2 failed, 1 deselected" in again.stdout


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (None, "No such file"),
        ("<testsuites><testsuite", "junit.xml: "),
        (
            '<testsuites><testsuite><testcase classname="a" name="b"/></testsuite></testsuites>',
            "no test was skipped ACCEPTED UNKNOWN",
        ),
        (
            '<testsuites><testsuite><testcase classname="test_sample" name="test_gone">'
            '<skipped message="ACCEPTED UNKNOWN [helm-pods]: x"/></testcase></testsuite>'
            "</testsuites>",
            "1 of its tests are not collected here (test_sample::test_gone)",
        ),
    ],
)
def test_a_report_that_names_nothing_to_run_stops_the_run(
    tmp_path: Path, content: str | None, error: str
) -> None:
    junit = tmp_path / "junit.xml"
    if content is not None:
        junit.write_text(content, encoding="utf-8")
    completed = _run_sample(tmp_path, f"--accepted-unknown-from={junit}", CI="true")
    assert completed.returncode == 4  # pytest's usage error: no test ran
    assert error in completed.stderr, completed.stderr
    assert "Traceback" not in completed.stderr


def test_a_name_from_an_xdist_group_run_matches_the_test_without_its_group() -> None:
    # --dist loadgroup appends "@<group>" to the names the job's report carries.
    junit = (
        '<testsuites><testsuite><testcase classname="tests.integration.test_helm_pods" '
        'name="test_level_3[a@b]@helm-pods"><skipped message="ACCEPTED UNKNOWN [helm-pods]: x"/>'
        "</testcase></testsuite></testsuites>"
    )
    assert accepted_in_junit(junit) == {("tests.integration.test_helm_pods", "test_level_3[a@b]")}
    assert junit_address("tests/integration/test_helm_pods.py::test_level_3[a@b]@helm-pods") == (
        "tests.integration.test_helm_pods",
        "test_level_3[a@b]",
    )
