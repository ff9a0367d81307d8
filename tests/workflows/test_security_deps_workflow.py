"""ci-security-deps.yml, as the seed design's section 6 and issue 10 describe it: pushes to
main, pull requests and weekly on Monday 09:00 UTC; `nox -s audit -- --strict`; the SARIF log
uploaded to code scanning by the one job that holds `security-events: write`; reports 90 days.
"""

from __future__ import annotations

from workflow_model import Workflow, job_session, parse_uses, uses_of

FILE = "ci-security-deps.yml"


def test_triggers(workflow_by_file: dict[str, Workflow]) -> None:
    wf = workflow_by_file[FILE]
    assert set(wf.triggers) == {"push", "pull_request", "schedule"}
    assert wf.triggers["push"].get("branches") == ["main"]
    assert wf.raw["on"]["schedule"] == [{"cron": "0 9 * * 1"}]  # Monday 09:00 UTC


def test_one_strict_audit_job_holds_the_sarif_scope(workflow_by_file: dict[str, Workflow]) -> None:
    wf = workflow_by_file[FILE]
    assert list(wf.jobs) == ["audit", "notify"]
    job = wf.jobs["audit"]
    found = job_session(job)
    assert found is not None
    assert (found.session, found.posarg) == ("audit", "--strict")
    assert job.permissions == {
        "contents": "read",
        "actions": "read",
        "security-events": "write",
    }


def test_sarif_upload_follows_the_session_even_when_it_fails(
    workflow_by_file: dict[str, Workflow],
) -> None:
    job = workflow_by_file[FILE].jobs["audit"]
    found = job_session(job)
    assert found is not None
    (sarif,) = [
        step
        for step in job.steps
        if step.uses
        and (parse_uses(step.uses).repo, parse_uses(step.uses).path)
        == ("github/codeql-action", "upload-sarif")
    ]
    assert sarif.index > found.step.index
    assert sarif.with_.get("sarif_file") == "reports/audit/audit.sarif"
    condition = str(sarif.if_)
    assert "always()" in condition
    # forks' pull requests have a read-only token: their upload would only fail
    assert "github.event.pull_request.head.repo.full_name == github.repository" in condition
    (upload,) = uses_of(job, "actions/upload-artifact")
    assert upload.with_.get("path") == "reports/audit/"
    assert upload.with_.get("retention-days") == 90


def test_a_critical_finding_is_announced_without_a_write_scope(
    workflow_by_file: dict[str, Workflow],
) -> None:
    job = workflow_by_file[FILE].jobs["notify"]
    found = job_session(job)
    assert found is not None
    assert (found.session, found.posarg) == ("notify", "security")
    assert job.needs == ("audit",)
    condition = str(job.raw.get("if"))
    assert "always()" in condition
    assert "github.event_name != 'pull_request'" in condition
    assert job.permissions == {"contents": "read"}
