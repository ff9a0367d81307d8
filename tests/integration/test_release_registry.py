"""The release flow against a real registry on 127.0.0.1: retries through a flaky proxy,
fast failure on a permanent error, SBOM referrers, and the promotion gate (crane, real tags,
images labelled with commits of a real git repository, so latest only moves forward).

No Docker engine needed: crane, git and Debian's docker-registry only.
"""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from release_support import FlakyProxy, require_tool, running_registry

from git_history import History
from vibevoice_ci.build import referrers
from vibevoice_ci.build.reports import Release, ReleaseImage, ReleasePlatform
from vibevoice_ci.core.config import PipelineConfig, load_config
from vibevoice_ci.core.errors import CheckFailedError, ToolFailedError
from vibevoice_ci.core.image_reference import parse_reference
from vibevoice_ci.core.outcome import Outcome, Status
from vibevoice_ci.core.reports import write_report
from vibevoice_ci.core.retry import RetriesExhaustedError, RetryLog, RetryPolicy, with_retries
from vibevoice_ci.promote import session as promote
from vibevoice_ci.smoke.reports import SmokeReport
from vibevoice_ci.smoke.session import SmokeRun
from vibevoice_ci.tools import crane

pytestmark = pytest.mark.integration
FAST = RetryPolicy(attempts=5, base_delay=0.05, max_delay=0.2, budget_seconds=60)


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[str]:
    with running_registry(tmp_path) as address:
        yield address


def _push_image(
    reference: str, content: bytes, tmp_path: Path, *, revision: str | None = None
) -> str:
    """A one-layer image made and pushed by crane (no Docker), labelled
    org.opencontainers.image.revision=``revision`` if given; returns its digest."""
    require_tool("crane")
    layer = tmp_path / f"layer-{len(content)}-{content[:8].hex()}.tar"
    with tarfile.open(layer, "w") as archive:
        info = tarfile.TarInfo("hello.txt")
        info.size = len(content)
        archive.addfile(info, io.BytesIO(content))
    subprocess.run(
        ["crane", "append", "--insecure", "-f", str(layer), "-t", reference],
        check=True,
        capture_output=True,
    )
    if revision is not None:
        subprocess.run(
            [
                *("crane", "mutate", "--insecure", "--label", f"{crane.REVISION}={revision}"),
                *("-t", reference, reference),
            ],
            check=True,
            capture_output=True,
        )
    return crane.digest(reference)


# --- retries -----------------------------------------------------------------------------------


def test_a_push_through_a_flaky_proxy_succeeds_and_its_retries_are_counted(
    registry: str,
) -> None:
    log = RetryLog()
    with (
        FlakyProxy(registry, drop_first=2, delay_first=1, delay=0.5) as proxy,
        referrers.RegistryClient(proxy.address, log=log, policy=FAST) as client,
    ):
        blob = client.put_blob("flaky/test", b"an SBOM, say")
        assert proxy.dropped == 2
    # the blob really is in the registry behind the proxy
    with referrers.RegistryClient(registry, log=RetryLog()) as direct:
        assert direct.blob_exists("flaky/test", blob.digest)
    assert len(log.retries) == 2
    assert all(
        "ReadError" in r.reason or "RemoteProtocolError" in r.reason or "ConnectError" in r.reason
        for r in log.retries
    ), log.retries


def test_crane_calls_through_a_flaky_proxy_are_retried(registry: str, tmp_path: Path) -> None:
    digest = _push_image(f"{registry}/flaky/crane:a", b"crane", tmp_path)
    log = RetryLog()
    with FlakyProxy(registry, drop_first=8) as proxy:
        # crane retries some failures itself; what outlasts it is retried by the policy
        found = with_retries(
            "digest", lambda: crane.digest(f"{proxy.address}/flaky/crane:a"), log=log, policy=FAST
        )
    assert found == digest
    assert proxy.dropped == 8
    # each retry the policy made (beyond crane's own transport retries) is on record
    assert all(retry.what == "digest" for retry in log.retries)


def test_a_permanent_failure_fails_fast_with_a_clear_error(registry: str) -> None:
    log = RetryLog()
    with (
        FlakyProxy(registry, forbid=True) as proxy,
        referrers.RegistryClient(proxy.address, log=log, policy=FAST) as client,
    ):
        with pytest.raises(ToolFailedError, match="HTTP 403") as failed:
            client.put_blob("flaky/test", b"never")
        assert proxy.connections == 1
    assert not isinstance(failed.value, RetriesExhaustedError)
    assert log.retries == []
    assert "\n" not in str(failed.value)


def test_a_registry_that_never_answers_exhausts_the_bounded_retries(registry: str) -> None:
    log = RetryLog()
    with (
        FlakyProxy(registry, drop_first=1000) as proxy,
        referrers.RegistryClient(proxy.address, log=log, policy=FAST) as client,
        pytest.raises(RetriesExhaustedError, match="failed 5 times"),
    ):
        client.blob_exists("flaky/test", "sha256:" + "0" * 64)
    assert len(log.retries) == FAST.attempts - 1


# --- SBOM referrers ----------------------------------------------------------------------------


def test_an_sbom_is_attached_as_a_referrer_of_its_image(registry: str, tmp_path: Path) -> None:
    reference = f"{registry}/ref/img:a"
    digest = _push_image(reference, b"subject", tmp_path)
    manifest = crane.manifest(f"{registry}/ref/img@{digest}")
    size = len(json.dumps(manifest).encode())  # only informative; the registry checks digests
    sbom = json.dumps({"spdxVersion": "SPDX-2.3", "name": "img"}).encode()
    with referrers.RegistryClient(registry, log=RetryLog()) as client:
        artifact = referrers.attach(
            client,
            parse_reference(reference),
            subject=referrers.Descriptor(str(manifest["mediaType"]), digest, size),
            document=sbom,
            artifact_type="application/spdx+json",
            title="img.spdx.json",
            created="2026-01-01T00:00:00Z",
        )
        listed = client.referrers("ref/img", digest)
    assert [(r["digest"], r["artifactType"]) for r in listed] == [
        (artifact, "application/spdx+json")
    ]
    stored = crane.manifest(f"{registry}/ref/img@{artifact}")
    assert stored["subject"]["digest"] == digest
    layer = stored["layers"][0]["digest"]
    fetched = subprocess.run(
        ["crane", "blob", "--insecure", f"{registry}/ref/img@{layer}"],
        check=True,
        capture_output=True,
    ).stdout
    assert fetched == sbom


# --- the promotion gate with real tags ----------------------------------------------------------


@pytest.fixture
def history(tmp_path: Path) -> History:
    """The checkout promote decides ancestry in: a real repository with real commits."""
    return History(tmp_path / "checkout")


@pytest.fixture
def config(tmp_path: Path, history: History) -> PipelineConfig:
    return load_config().model_copy(
        update={"reports_dir": tmp_path / "reports", "root": history.root}
    )


def _promote(
    config: PipelineConfig, release_file: Path, smoke_file: Path, *, allow_rollback: bool = False
) -> list[promote.Move]:
    """The promote session on a local registry; its tests gate (the commit's CI test run on
    GitHub) is skipped, saying why: tests/integration/test_tests_gate_api.py covers it."""
    return promote.promote(
        config,
        release_file=release_file,
        smoke_file=smoke_file,
        allow_rollback=allow_rollback,
        skip_tests="a local registry: this test is about the smoke and forward-only gates",
    )


def _files(tmp_path: Path, release: Release, smoke: SmokeReport) -> tuple[Path, Path]:
    release_file, smoke_file = tmp_path / "release.json", tmp_path / "smoke.json"
    write_report(release_file, release)
    write_report(smoke_file, smoke)
    return release_file, smoke_file


def _release(repository: str, digest: str) -> Release:
    """release.json as the release build writes it, for one image pushed at ``digest``."""
    image = ReleaseImage(
        service="tts",
        repository=repository,
        tag="0123456789ab",
        digest=digest,
        reference=f"{repository}@{digest}",
        platforms=[
            ReleasePlatform(
                platform="linux/amd64",
                digest=digest,
                sbom="sbom/tts-linux-amd64.spdx.json",
                sbom_referrer="sha256:" + "f" * 64,
            )
        ],
        promote_tags=["latest"],
        build_seconds=1.0,
        log="logs/tts.log",
    )
    registry = repository.rsplit("/", 1)[0]
    return Release(
        status="pass",
        registry=registry,
        platforms=["linux/amd64"],
        images=[image],
        retries=[],
        notes=[],
    )


def _smoke(status: str, images: dict[str, str]) -> SmokeReport:
    """smoke.json as the smoke session writes it, with the container's verdict ``status``."""
    verdict = Status(status)
    run = SmokeRun(
        requested="docker",
        mode="docker",
        target="http://127.0.0.1:18000",
        checks=[Outcome("tts GET /health", verdict, "HTTP 200" if status == "pass" else "503")],
        notes=[],
        container=verdict,
        images=images,
    )
    return run.report()


def test_a_failed_smoke_leaves_latest_where_it_was_and_a_passing_one_moves_it(
    registry: str, tmp_path: Path, config: PipelineConfig, history: History
) -> None:
    repository = f"{registry}/vibevoice/vibevoice-tts"
    old_commit, new_commit = history.commit("older"), history.commit("released")
    old = _push_image(
        f"{repository}:old", b"the image latest points at", tmp_path, revision=old_commit
    )
    crane.tag(f"{repository}@{old}", "latest")
    new = _push_image(f"{repository}:0123456789ab", b"the new build", tmp_path, revision=new_commit)
    release = _release(repository, new)
    tested = {"tts": f"{repository}@{new}"}

    # a planted smoke failure of the new digest: latest stays on the old image
    failed = _smoke("fail", tested)
    with pytest.raises(CheckFailedError, match="not pass"):
        promote.promote(
            config,
            release_file=_files(tmp_path, release, failed)[0],
            smoke_file=tmp_path / "smoke.json",
        )
    assert crane.digest(f"{repository}:latest") == old
    report = json.loads((config.report_dir("promote") / "promote.json").read_text())
    assert report["status"] == "fail"
    assert report["moves"] == []

    # a passing smoke of another digest does not count either
    other = _smoke("pass", {"tts": f"{repository}@{old}"})
    release_file, smoke_file = _files(tmp_path, release, other)
    with pytest.raises(CheckFailedError, match="did not test"):
        _promote(config, release_file, smoke_file)
    assert crane.digest(f"{repository}:latest") == old

    # smoke passed on exactly the new digest: latest moves to it
    passed = _smoke("pass", tested)
    release_file, smoke_file = _files(tmp_path, release, passed)
    moves = _promote(config, release_file, smoke_file)
    assert [m.target for m in moves] == [f"{repository}:latest"]
    assert crane.digest(f"{repository}:latest") == new
    report = json.loads((config.report_dir("promote") / "promote.json").read_text())
    assert report["moves"] == [
        {
            "target": f"{repository}:latest",
            "before": old,
            "after": new,
            "commit_before": old_commit,
            "commit_after": new_commit,
            "direction": "forward",
        }
    ]


def test_latest_never_moves_backwards_unless_a_rollback_is_allowed(
    registry: str, tmp_path: Path, config: PipelineConfig, history: History
) -> None:
    # An old smoke run re-run (or finishing last) after latest moved on to a later commit.
    repository = f"{registry}/vibevoice/vibevoice-tts"
    stale_commit, current_commit = history.commit("released"), history.commit("later")
    stale = _push_image(f"{repository}:stale", b"the old build", tmp_path, revision=stale_commit)
    current = _push_image(
        f"{repository}:current", b"the build latest holds", tmp_path, revision=current_commit
    )
    crane.tag(f"{repository}@{current}", "latest")
    release_file, smoke_file = _files(
        tmp_path, _release(repository, stale), _smoke("pass", {"tts": f"{repository}@{stale}"})
    )

    with pytest.raises(CheckFailedError, match=r"refusing to move .* backwards") as refused:
        _promote(config, release_file, smoke_file)
    assert f"{stale_commit} does not descend from {current_commit}" in str(refused.value)
    assert crane.digest(f"{repository}:latest") == current
    report = json.loads((config.report_dir("promote") / "promote.json").read_text())
    assert (report["status"], report["moves"]) == ("fail", [])

    # the rollback runbook: the same move, allowed by the flag, says it was a rollback
    _promote(config, release_file, smoke_file, allow_rollback=True)
    assert crane.digest(f"{repository}:latest") == stale
    report = json.loads((config.report_dir("promote") / "promote.json").read_text())
    assert report["moves"] == [
        {
            "target": f"{repository}:latest",
            "before": current,
            "after": stale,
            "commit_before": current_commit,
            "commit_after": stale_commit,
            "direction": "rollback",
        }
    ]

    # promoting it again is the same commit: a no-op move, no flag needed
    _promote(config, release_file, smoke_file)
    report = json.loads((config.report_dir("promote") / "promote.json").read_text())
    assert report["moves"][0]["direction"] == "same"
    assert crane.digest(f"{repository}:latest") == stale
