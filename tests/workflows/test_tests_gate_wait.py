"""The jobs that run promote and sign wait for the commit's CI test run (the tests gate's
``tests_wait_seconds``): their timeout must leave that wait and the session's own work room,
or GitHub would cancel a job that was only waiting, as a failure."""

from __future__ import annotations

from pathlib import Path

from workflow_model import Workflow, job_session

from vibevoice_ci.core.config import load_config

# What a promote or sign job does besides waiting (check out, install, move tags or sign and
# verify every digest), in minutes.
WORK_MINUTES = 15


def test_a_gated_job_outlasts_the_wait_for_the_tests(
    workflows: list[Workflow], repo_root: Path
) -> None:
    config = load_config(repo_root)
    waits = {
        "promote": config.promote.tests_wait_seconds,
        "sign": config.sign.tests_wait_seconds,
    }
    gated = [
        (wf.path.name, job)
        for wf in workflows
        for job in wf.jobs.values()
        if (found := job_session(job)) is not None and found.session in waits
    ]
    assert sorted(name for name, _ in gated) == ["ci-provenance.yml", "ci-smoke-test.yml"]
    for name, job in gated:
        found = job_session(job)
        assert found is not None
        assert found.session is not None
        needed = waits[found.session] / 60 + WORK_MINUTES
        assert isinstance(job.timeout_minutes, int)
        assert job.timeout_minutes >= needed, (
            f"{name} job {job.id}: timeout-minutes {job.timeout_minutes} < {needed:.0f} "
            f"(tests_wait_seconds {waits[found.session]} and {WORK_MINUTES} min of work)"
        )
