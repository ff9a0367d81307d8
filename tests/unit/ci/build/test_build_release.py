"""The release build's pure logic: references, retry policy, buildx/buildkitd/crane parsing,
platform selection and the promotion gate."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from release_helpers import release, released_image

from vibevoice_ci.build.referrers import (
    Descriptor,
    artifact_manifest,
    fallback_tag,
    sha256_digest,
    with_referrer,
)
from vibevoice_ci.build.release import index_annotations, registry_host, select_platforms
from vibevoice_ci.core.errors import CheckFailedError, ToolFailedError, UsageError
from vibevoice_ci.core.image_reference import ImageReference, parse_reference
from vibevoice_ci.core.outcome import Status
from vibevoice_ci.core.retry import (
    RetriesExhaustedError,
    RetryLog,
    RetryPolicy,
    backoff_delays,
    is_transient,
    is_transient_status,
    with_retries,
)
from vibevoice_ci.promote import session as promote
from vibevoice_ci.smoke.reports import SmokeReport
from vibevoice_ci.tools import buildkitd, buildx, crane

HEX = "0123456789abcdef"
digests = st.text(HEX, min_size=64, max_size=64).map(lambda h: f"sha256:{h}")
components = st.from_regex(r"[a-z0-9]+(?:[._-][a-z0-9]+)?", fullmatch=True)
hosts = st.sampled_from(["", "ghcr.io", "127.0.0.1:5000", "localhost:5055", "reg.example:443"])
tags = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True)


# --- references --------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    host=hosts,
    path=st.lists(components, min_size=1, max_size=3),
    tag=st.one_of(st.none(), tags),
    digest=st.one_of(st.none(), digests),
)
def test_references_round_trip(
    host: str, path: list[str], tag: str | None, digest: str | None
) -> None:
    if not host and "." in path[0]:
        # Docker's rule: a first component with a dot names a registry, not a repository.
        host = path.pop(0) if len(path) > 1 else ""
        path = path or ["x"]
    reference = ImageReference(host, "/".join(path), tag, digest)
    parsed = parse_reference(str(reference))
    assert parsed == reference
    assert str(parsed) == str(reference)


@pytest.mark.parametrize(
    "text", ["", "UPPER/case", "a//b", "a:b:c:", "x@sha256:123", "repo:-tag", "r@md5:" + "0" * 32]
)
def test_bad_references_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        parse_reference(text)


# --- retry policy ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        "dial tcp 127.0.0.1:5000: connect: connection refused",
        "read: connection reset by peer",
        "unexpected EOF",
        "net/http: TLS handshake timeout",
        "received unexpected HTTP status: 503 Service Unavailable",
        "429 Too Many Requests",
        "HTTP 502 Bad Gateway",
        "crane copy a b did not finish within 300 s",
    ],
)
def test_transient_errors_are_retried(message: str) -> None:
    assert is_transient(message)


@pytest.mark.parametrize(
    "message",
    [
        "401 Unauthorized",
        "denied: requested access to the resource is denied",
        "403 Forbidden: connection reset",  # a permanent status wins over transient words
        "MANIFEST_UNKNOWN: manifest unknown",
        "404 Not Found",
        "digest mismatch: expected sha256:aa got sha256:bb",
        "lookup index.docker.io: no such host",
        "something nobody has seen before",
    ],
)
def test_permanent_and_unknown_errors_are_not(message: str) -> None:
    assert not is_transient(message)


@pytest.mark.parametrize(
    ("status", "transient"),
    [
        (429, True),
        (500, True),
        (503, True),
        (401, False),
        (403, False),
        (404, False),
        (400, False),
        (201, False),
    ],
)
def test_transient_statuses(status: int, transient: bool) -> None:
    assert is_transient_status(status) is transient


@settings(max_examples=200, deadline=None)
@given(
    attempts=st.integers(1, 8),
    base=st.floats(0.01, 5),
    cap=st.floats(0.01, 30),
    failures=st.integers(0, 10),
    transient=st.booleans(),
)
def test_with_retries_is_bounded_and_counts_every_retry(
    attempts: int, base: float, cap: float, failures: int, transient: bool
) -> None:
    policy = RetryPolicy(attempts=attempts, base_delay=base, max_delay=cap, budget_seconds=1e9)
    delays = list(backoff_delays(policy))
    assert len(delays) == attempts - 1
    assert all(0 < d <= cap for d in delays)
    assert delays == sorted(delays)

    calls, slept = [], []
    message = "connection refused" if transient else "401 Unauthorized"

    def call() -> str:
        calls.append(1)
        if len(calls) <= failures:
            raise ToolFailedError(message)
        return "ok"

    log = RetryLog()

    def run() -> str:
        return with_retries("push", call, log=log, policy=policy, sleep=slept.append)

    if transient and failures >= attempts:
        with pytest.raises(RetriesExhaustedError, match=f"failed {attempts} times"):
            run()
        assert len(calls) == attempts
    elif not transient and failures >= 1:
        with pytest.raises(ToolFailedError, match="401"):
            run()
        assert len(calls) == 1  # a permanent failure fails fast
    else:
        assert run() == "ok"
        assert len(calls) == failures + 1
    # every retry is logged and slept for; the attempt that ended the run never is
    assert len(log.retries) == len(slept) == len(calls) - 1
    assert slept == delays[: len(slept)]


def test_the_time_budget_stops_retrying() -> None:
    now = [0.0]
    policy = RetryPolicy(attempts=10, base_delay=4, max_delay=4, budget_seconds=10)

    def call() -> None:
        now[0] += 1
        raise ToolFailedError("503 Service Unavailable")

    def sleep(seconds: float) -> None:
        now[0] += seconds

    log = RetryLog()
    with pytest.raises(RetriesExhaustedError):
        with_retries("pull", call, log=log, policy=policy, sleep=sleep, clock=lambda: now[0])
    assert now[0] <= 10 + 1
    assert 1 <= len(log.retries) < 9


# --- tools: buildkitd, buildx, crane ------------------------------------------------------------

WORKERS = """\
ID:		abc
Platforms:	linux/amd64,linux/amd64/v2,linux/386
Labels:
	org.mobyproject.buildkit.worker.executor:	oci
ID:		def
Platforms:	linux/arm64,linux/amd64
"""


def test_worker_platforms_and_what_is_missing() -> None:
    platforms = buildkitd.parse_worker_platforms(WORKERS)
    assert platforms == ("linux/amd64", "linux/amd64/v2", "linux/386", "linux/arm64")
    assert buildkitd.missing_platforms(["linux/arm64", "linux/riscv64"], platforms) == [
        "linux/riscv64"
    ]
    assert buildkitd.parse_worker_platforms("") == ()


def test_buildkitd_config_marks_loopback_registries_plain_http() -> None:
    text = buildkitd.config_toml(["127.0.0.1:5000", "127.0.0.1:5000"])
    assert text.count('[registry."127.0.0.1:5000"]') == 1
    assert "http = true" in text
    argv = buildkitd.daemon_argv(
        "/bin/buildkitd", config=Path("/c.toml"), address="unix:///s.sock", root=Path("/r")
    )
    assert argv[:3] == ["/bin/buildkitd", "--config", "/c.toml"]
    assert "--containerd-worker=false" in argv
    assert "--group" not in argv
    shared = buildkitd.daemon_argv(
        "/bin/buildkitd",
        config=Path("/c.toml"),
        address="unix:///s.sock",
        root=Path("/r"),
        group="docker",
    )
    assert shared[shared.index("--group") + 1] == "docker"


def test_buildx_build_argv() -> None:
    argv = buildx.build_argv(
        "docker",
        builder="b",
        context=Path("/ctx"),
        dockerfile=Path("/ctx/x.Dockerfile"),
        platforms=["linux/amd64", "linux/arm64"],
        tags=["r/img:abc"],
        build_args={"BASE_IMAGE": "base@sha256:" + "0" * 64},
        labels={"org.opencontainers.image.revision": "f" * 40},
        index_annotations={"org.opencontainers.image.version": "1.2.3"},
        metadata_file=Path("/m.json"),
        push=True,
    )
    assert argv[:6] == ["docker", "buildx", "build", "--builder", "b", "--progress"]
    assert argv[argv.index("--platform") + 1] == "linux/amd64,linux/arm64"
    assert "index:org.opencontainers.image.version=1.2.3" in argv
    assert "--provenance=false" in argv
    assert "--sbom=false" in argv
    assert argv[argv.index("--output") + 1].endswith("push=true")
    assert argv[-1] == "/ctx"


BUILD_LOG = """\
#1 [internal] load build definition from tts.Dockerfile
#1 DONE 0.0s
#12 [linux/arm64 deps 4/4] RUN python3 -m venv /opt/venv && pip install -r /tmp/r.txt
#12 3.21 ERROR: Could not find a version that satisfies the requirement nothing==1
#12 ERROR: process "/bin/sh -c python3 -m venv" did not complete successfully: exit code: 1
------
ERROR: failed to build: failed to solve: process did not complete successfully
"""


def test_failing_step_quotes_the_step_and_its_error() -> None:
    step = buildx.failing_step(BUILD_LOG)
    assert step is not None
    assert step.startswith("[linux/arm64 deps 4/4] RUN python3 -m venv")
    assert "exit code: 1" in step
    assert buildx.failing_step("ERROR: failed to dial gRPC") == "failed to dial gRPC"
    assert buildx.failing_step("#1 DONE 0.0s") is None


def test_index_entries_skip_attestations_and_reject_a_single_manifest() -> None:
    index = {
        "mediaType": crane.INDEX_MEDIA_TYPES and "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {
                "mediaType": "m",
                "digest": "sha256:" + "1" * 64,
                "size": 10,
                "platform": {"os": "linux", "architecture": "amd64"},
            },
            {
                "mediaType": "m",
                "digest": "sha256:" + "2" * 64,
                "size": 11,
                "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"},
            },
            {
                "mediaType": "m",
                "digest": "sha256:" + "3" * 64,
                "size": 12,
                "platform": {"os": "unknown", "architecture": "unknown"},
            },
        ],
    }
    entries = crane.index_entries(index)
    assert [e.platform for e in entries] == ["linux/amd64", "linux/arm64/v8"]
    with pytest.raises(ToolFailedError):
        crane.index_entries({"mediaType": "application/vnd.oci.image.manifest.v1+json"})


@pytest.mark.parametrize(
    ("reference", "plain"),
    [
        ("127.0.0.1:5000/a:b", True),
        ("localhost:5055/a", True),
        ("ghcr.io/o/a", False),
        ("python:3.11", False),
    ],
)
def test_only_loopback_registries_are_plain_http(reference: str, plain: bool) -> None:
    assert crane.plain_http(reference) is plain
    assert ("--insecure" in crane.argv("crane", ["digest", reference], reference)) is plain


# --- platform selection, annotations, referrers -------------------------------------------------


def test_select_platforms_narrows_and_refuses_unknown() -> None:
    configured = ("linux/amd64", "linux/arm64")
    assert select_platforms(configured, []) == configured
    assert select_platforms(configured, ["linux/arm64"]) == ("linux/arm64",)
    with pytest.raises(UsageError, match="linux/s390x"):
        select_platforms(configured, ["linux/s390x"])
    assert registry_host("127.0.0.1:5000/vibevoice") == "127.0.0.1:5000"
    annotations = index_annotations({"org.opencontainers.image.revision": "a"}, "1.0.0")
    assert annotations["org.opencontainers.image.version"] == "1.0.0"


def test_referrer_manifest_names_its_subject_and_the_fallback_index_lists_it_once() -> None:
    subject = Descriptor("application/vnd.oci.image.manifest.v1+json", "sha256:" + "a" * 64, 99)
    layer = Descriptor("application/spdx+json", sha256_digest(b"{}x"), 3)
    manifest = artifact_manifest(
        artifact_type="application/spdx+json", layer=layer, subject=subject, annotations={}
    )
    import json

    document = json.loads(manifest)
    assert document["subject"]["digest"] == subject.digest
    assert document["artifactType"] == "application/spdx+json"
    assert document["config"]["mediaType"] == "application/vnd.oci.empty.v1+json"
    assert fallback_tag(subject.digest) == "sha256-" + "a" * 64
    referrer = Descriptor("m", sha256_digest(manifest), len(manifest), "application/spdx+json")
    once = json.loads(with_referrer(None, referrer))
    twice = json.loads(with_referrer(once, referrer))
    assert once == twice
    assert [m["digest"] for m in twice["manifests"]] == [referrer.digest]


# --- the promotion gate ------------------------------------------------------------------------


def _smoke(status: str, container: str, images: dict[str, str]) -> SmokeReport:
    return SmokeReport(
        status=Status(status),
        mode_requested="auto",
        mode="docker",
        target="http://127.0.0.1:18000",
        container=Status(container),
        checks=[],
        notes=[],
        images=images,
        speech=[],
    )


@settings(max_examples=200, deadline=None)
@given(
    released=digests,
    tested=digests,
    status=st.sampled_from(["pass", "fail", "unknown"]),
    container=st.sampled_from(["pass", "fail", "unknown"]),
    tags=st.lists(st.sampled_from(["latest", "1.2.3"]), unique=True),
    same=st.booleans(),
)
def test_promotion_only_after_a_passing_smoke_of_the_exact_digest(
    released: str, tested: str, status: str, container: str, tags: list[str], same: bool
) -> None:
    tested = released if same else tested
    repository = "127.0.0.1:5000/v/vibevoice-tts"
    smoke = _smoke(status, container, {"tts": f"{repository}@{tested}"})
    allowed = status == "pass" and container == "pass" and tested == released
    if not allowed:
        with pytest.raises(CheckFailedError, match="unchanged"):
            promote.plan(release(released_image(digest=released, promote_tags=tags)), smoke)
        return
    moves = promote.plan(release(released_image(digest=released, promote_tags=tags)), smoke)
    assert [(m.tag, m.digest) for m in moves] == [(tag, released) for tag in tags]
    assert all(m.source == f"{repository}@{released}" for m in moves)


def test_a_failed_release_promotes_nothing() -> None:
    failed = release(released_image(promote_tags=["latest"]), status="fail")
    with pytest.raises(CheckFailedError, match="did not pass"):
        promote.plan(failed, _smoke("pass", "pass", {}))
