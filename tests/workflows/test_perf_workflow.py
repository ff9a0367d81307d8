"""ci-performance.yml does what the seed design and issue 8 ask of it."""

from __future__ import annotations

from workflow_model import Workflow, job_session, uses_of

CI_PERF = "ci-performance.yml"


def test_perf_runs_nightly_at_two_and_by_hand(workflow_by_file: dict[str, Workflow]) -> None:
    wf = workflow_by_file[CI_PERF]
    assert wf.triggers["schedule"] == {"crons": ["0 2 * * *"]}
    assert "workflow_dispatch" in wf.triggers


def test_perf_job_shape(workflow_by_file: dict[str, Workflow]) -> None:
    job = workflow_by_file[CI_PERF].jobs["perf"]
    assert job.timeout_minutes == 45
    found = job_session(job)
    assert found is not None
    assert found.session == "perf"
    assert job.permissions == {"contents": "read"}
    (upload,) = uses_of(job, "actions/upload-artifact")
    assert upload.with_["retention-days"] == 90
    assert upload.with_["path"] == "reports/perf/"


def test_the_baseline_travels_in_the_cache_saved_on_every_outcome(
    workflow_by_file: dict[str, Workflow],
) -> None:
    job = workflow_by_file[CI_PERF].jobs["perf"]
    caches = uses_of(job, "actions/cache")
    by_path = {step.uses.split("@")[0]: step for step in caches if step.uses}
    restore, save = by_path["actions/cache/restore"], by_path["actions/cache/save"]
    assert restore.with_["path"] == save.with_["path"] == ".perf-state"
    assert restore.with_["restore-keys"].strip() == "perf-state-"
    assert str(save.if_).strip() == "always()"


def test_a_failed_nightly_opens_or_updates_the_regression_issue(
    workflow_by_file: dict[str, Workflow],
) -> None:
    wf = workflow_by_file[CI_PERF]
    assert set(wf.jobs) == {"perf", "notify"}
    notify = wf.jobs["notify"]
    assert notify.needs == ("perf",)
    assert notify.raw["if"] == "failure() && github.event_name != 'pull_request'"
    assert notify.permissions == {"contents": "read", "issues": "write"}
    found = job_session(notify)
    assert found is not None
    assert (found.session, found.posarg) == ("notify", "perf")
    assert found.step.env["GITHUB_TOKEN"] == "${{ github.token }}"  # noqa: S105
    assert uses_of(notify, "actions/cache") == []
