"""ci-provenance.yml does what the seed design and issue 10 ask of it: after a successful
build of main or a tag, sign keyless with the only job that holds the id-token scope (and no
attestations scope: nothing writes GitHub's attestation store), from no cache, and keep the
report 90 days."""

from __future__ import annotations

from workflow_model import Workflow, job_session, uses_of

CI_PROVENANCE = "ci-provenance.yml"
CI_BUILD = "ci-build-push.yml"
SIGNING_SCOPES = {"id-token", "attestations"}


def test_provenance_follows_a_successful_build_of_main_or_a_tag(
    workflow_by_file: dict[str, Workflow],
) -> None:
    wf = workflow_by_file[CI_PROVENANCE]
    assert set(wf.triggers) == {"workflow_run"}
    run = wf.triggers["workflow_run"]
    assert run.get("workflows") == [workflow_by_file[CI_BUILD].name]
    assert run.get("types") == ["completed"]
    assert run.get("branches") == ["main", "v*.*.*"]
    condition = str(wf.jobs["sign"].raw.get("if", ""))
    assert "github.event.workflow_run.conclusion == 'success'" in condition
    assert "github.event.workflow_run.event == 'push'" in condition


def test_the_sign_job_signs_keyless_the_digests_the_build_pushed(
    workflow_by_file: dict[str, Workflow],
) -> None:
    wf = workflow_by_file[CI_PROVENANCE]
    (job,) = wf.jobs.values()
    found = job_session(job)
    assert found is not None
    assert (found.session, found.posarg) == ("sign", "--keyless")
    (checkout,) = uses_of(job, "actions/checkout")
    assert "github.event.workflow_run.head_sha" in str(checkout.with_.get("ref"))
    (download,) = uses_of(job, "actions/download-artifact")
    assert download.with_.get("name") == "reports-build"
    assert download.with_.get("run-id") == "${{ github.event.workflow_run.id }}"
    (login,) = uses_of(job, "docker/login-action")
    assert download.index < found.step.index
    assert login.index < found.step.index
    install = [s for s in job.steps if "install-go-tools.sh" in (s.run or "")]
    assert len(install) == 1
    assert install[0].index < found.step.index
    assert (install[0].run or "").split()[-1] == "cosign"
    assert wf.step_env(job, found.step).get("VIBEVOICE_COSIGN") == "${{ runner.temp }}/bin/cosign"


def test_only_the_sign_job_holds_the_signing_scopes(
    workflow_by_file: dict[str, Workflow], workflows: list[Workflow]
) -> None:
    job = workflow_by_file[CI_PROVENANCE].jobs["sign"]
    assert job.permissions == {
        "contents": "read",
        "actions": "read",
        "packages": "write",
        "id-token": "write",
    }
    holders = [
        f"{wf.path.name}:{other.id}"
        for wf in workflows
        for other in wf.jobs.values()
        if isinstance(other.permissions, dict)
        and SIGNING_SCOPES & {k for k, v in other.permissions.items() if v == "write"}
    ]
    assert holders == [f"{CI_PROVENANCE}:sign"]


def test_the_sign_job_restores_no_cache_and_keeps_its_report(
    workflow_by_file: dict[str, Workflow],
) -> None:
    (job,) = workflow_by_file[CI_PROVENANCE].jobs.values()
    assert uses_of(job, "actions/cache") == []  # restore and save included
    (python,) = uses_of(job, "actions/setup-python")
    assert "cache" not in python.with_
    (upload,) = uses_of(job, "actions/upload-artifact")
    assert upload.with_["path"] == "reports/sign/"
    assert upload.with_["retention-days"] == 90
