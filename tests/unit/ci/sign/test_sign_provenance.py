"""SLSA v1 provenance from the release build's records: properties over any build context,
the checker catching every missing or broken field, and contexts read from real-shaped
release.json / build-metadata.json records."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.build.reports import BuildMetadataFile, BuildRecord, ReleaseImage
from vibevoice_ci.core.errors import UsageError
from vibevoice_ci.core.reports import validate_report
from vibevoice_ci.sign import provenance
from vibevoice_ci.sign.provenance import BuildContext, Origin

HEX = "0123456789abcdef"
digests = st.text(HEX, min_size=64, max_size=64).map(lambda h: f"sha256:{h}")
commits = st.text(HEX, min_size=40, max_size=40)
names = st.from_regex(r"[a-z0-9]{1,12}(-[a-z0-9]{1,8})?", fullmatch=True)
hosts = st.sampled_from(["ghcr.io/owner", "127.0.0.1:5000/vibevoice", "registry.example.org"])
refs = st.one_of(
    st.just("refs/heads/main"),
    st.from_regex(r"refs/tags/v[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{1,2}", fullmatch=True),
    st.from_regex(r"refs/heads/[a-z]{1,10}", fullmatch=True),
)
platform_names = st.sampled_from(["linux/amd64", "linux/arm64", "linux/arm/v7", "linux/s390x"])
moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(UTC)
)


@st.composite
def contexts(draw: st.DrawFn) -> BuildContext:
    service = draw(names)
    repository = f"{draw(hosts)}/{draw(names)}"
    platforms = draw(st.lists(platform_names, min_size=1, max_size=4, unique=True))
    started = draw(moments)
    base_host = draw(st.sampled_from(["", "127.0.0.1:5000/vibevoice/", "docker.io/library/"]))
    return BuildContext(
        service=service,
        repository=repository,
        digest=draw(digests),
        tag=draw(commits)[:12],
        platforms=tuple((platform, draw(digests)) for platform in platforms),
        git_sha=draw(commits),
        git_ref=draw(refs),
        git_dirty=draw(st.booleans()),
        source_uri=draw(
            st.sampled_from(["git+https://github.com/o/r", "git+file:///work/checkout"])
        ),
        dockerfile=f"infra/docker/{service}.Dockerfile",
        base_image=f"{base_host}{draw(names)}@{draw(digests)}",
        builder_id=draw(
            st.sampled_from(
                [
                    provenance.LOCAL_BUILDER_ID,
                    "https://github.com/o/r/.github/workflows/ci-build-push.yml@refs/heads/main",
                ]
            )
        ),
        invocation_id=draw(st.sampled_from(["https://github.com/o/r/actions/runs/1", "urn:x:1"])),
        started_on=started,
        finished_on=started + timedelta(seconds=draw(st.integers(0, 7200))),
    )


@settings(max_examples=300, deadline=None)
@given(contexts())
def test_any_build_context_gives_a_complete_provenance_about_its_image(
    context: BuildContext,
) -> None:
    statement = provenance.provenance_statement(context)

    assert provenance.provenance_problems(statement, context.digest) == []
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    assert [f"sha256:{s['digest']['sha256']}" for s in statement["subject"]] == [context.digest]
    predicate = statement["predicate"]
    build = predicate["buildDefinition"]
    assert re.fullmatch(r"https://\S+", build["buildType"])
    assert build["externalParameters"]["ref"] == context.git_ref
    dependencies = {d["name"]: d for d in build["resolvedDependencies"]}
    assert dependencies["source"]["digest"] == {"gitCommit": context.git_sha}
    assert (
        f"sha256:{dependencies['base-image']['digest']['sha256']}"
        == (context.base_image.rpartition("@")[2])
    )
    run = predicate["runDetails"]
    assert run["builder"]["id"] == context.builder_id
    assert run["metadata"]["invocationId"] == context.invocation_id
    started = datetime.strptime(run["metadata"]["startedOn"], "%Y-%m-%dT%H:%M:%SZ")
    finished = datetime.strptime(run["metadata"]["finishedOn"], "%Y-%m-%dT%H:%M:%SZ")
    assert started.replace(tzinfo=UTC) == context.started_on.replace(microsecond=0)
    assert finished >= started
    assert [b["name"] for b in run["byproducts"]] == [p for p, _ in context.platforms]


@settings(max_examples=150, deadline=None)
@given(contexts(), digests)
def test_the_provenance_of_one_image_is_not_the_provenance_of_another(
    context: BuildContext, other: str
) -> None:
    statement = provenance.provenance_statement(context)
    problems = provenance.provenance_problems(statement, other)
    assert (problems == []) is (other == context.digest)


def _context(**changes: Any) -> BuildContext:
    base = BuildContext(
        service="tts",
        repository="127.0.0.1:5000/vibevoice/vibevoice-tts",
        digest="sha256:" + "a" * 64,
        tag="0123456789ab",
        platforms=(("linux/amd64", "sha256:" + "b" * 64), ("linux/arm64", "sha256:" + "c" * 64)),
        git_sha="0123456789abcdef0123456789abcdef01234567",
        git_ref="refs/heads/main",
        git_dirty=False,
        source_uri="git+file:///work",
        dockerfile="infra/docker/tts.Dockerfile",
        base_image="127.0.0.1:5000/vibevoice/vibevoice-base@sha256:" + "d" * 64,
        builder_id=provenance.LOCAL_BUILDER_ID,
        invocation_id="urn:vibevoice-ci:build:tts:x",
        started_on=datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC),
        finished_on=datetime(2026, 11, 30, 12, 1, 30, tzinfo=UTC),
    )
    return BuildContext(**{**base.__dict__, **changes})


def _delete(document: dict[str, Any], path: tuple[str, ...]) -> None:
    for key in path[:-1]:
        document = document[key]
    del document[path[-1]]


def _set(document: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        document = document[key]
    document[path[-1]] = value


REQUIRED = [
    (("_type",), "_type"),
    (("predicateType",), "predicateType"),
    (("subject",), "subject"),
    (("predicate", "buildDefinition", "buildType"), "buildType"),
    (("predicate", "buildDefinition", "externalParameters"), "externalParameters"),
    (("predicate", "buildDefinition", "resolvedDependencies"), "resolvedDependencies"),
    (("predicate", "runDetails", "builder", "id"), "builder.id"),
    (("predicate", "runDetails", "metadata", "invocationId"), "invocationId"),
    (("predicate", "runDetails", "metadata", "startedOn"), "startedOn"),
    (("predicate", "runDetails", "metadata", "finishedOn"), "finishedOn"),
]


@pytest.mark.parametrize(("path", "expected"), REQUIRED, ids=[e for _, e in REQUIRED])
def test_a_missing_required_field_is_a_problem(path: tuple[str, ...], expected: str) -> None:
    statement = copy.deepcopy(provenance.provenance_statement(_context()))
    _delete(statement, path)
    problems = provenance.provenance_problems(statement, _context().digest)
    assert any(expected in problem for problem in problems), problems


def test_cosigns_statement_v0_1_wrapper_is_accepted() -> None:
    # cosign 2.x wraps an attested predicate in an in-toto Statement v0.1 (same fields).
    statement = dict(provenance.provenance_statement(_context()))
    statement["_type"] = "https://in-toto.io/Statement/v0.1"
    assert provenance.provenance_problems(statement, _context().digest) == []


INVALID = [
    (("predicate", "buildDefinition", "buildType"), "release build", "buildType"),
    (("predicate", "buildDefinition", "externalParameters"), {}, "externalParameters"),
    (("predicate", "runDetails", "builder", "id"), "", "builder.id"),
    (("predicate", "runDetails", "metadata", "invocationId"), "  ", "invocationId"),
    (("predicate", "runDetails", "metadata", "startedOn"), "2026-11-30 12:00:00", "startedOn"),
    (("predicate", "runDetails", "metadata", "finishedOn"), "2026-11-30T11:00:00Z", "before"),
    (("subject",), [], "subject"),
    (("subject",), [{"name": "x", "digest": {"sha256": "abc"}}], "64 hex"),
    (("subject",), [{"name": "x", "digest": {"sha512": "a" * 128}}], "64 hex"),
    (("predicateType",), "https://slsa.dev/provenance/v0.2", "SLSA v1"),
    (("_type",), "https://in-toto.io/Statement/v0.2", "_type"),
    (("_type",), "https://example.org/Statement", "_type"),
    (("predicate",), [], "not an object"),
]


@pytest.mark.parametrize(("path", "value", "expected"), INVALID, ids=[e for *_, e in INVALID])
def test_an_invalid_field_is_a_problem(path: tuple[str, ...], value: Any, expected: str) -> None:
    statement = copy.deepcopy(provenance.provenance_statement(_context()))
    _set(statement, path, value)
    problems = provenance.provenance_problems(statement, _context().digest)
    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("name", "digest", "expected"),
    [
        ("source", {"gitCommit": "abc"}, "no git commit"),
        ("source", {"sha1": "0" * 40}, "no git commit"),
        ("base-image", {"sha256": "xyz"}, "no base image digest"),
        ("base-image", {}, "no base image digest"),
    ],
)
def test_dependencies_need_the_commit_and_the_base_digest(
    name: str, digest: dict[str, str], expected: str
) -> None:
    statement = copy.deepcopy(provenance.provenance_statement(_context()))
    for dependency in statement["predicate"]["buildDefinition"]["resolvedDependencies"]:
        if dependency["name"] == name:
            dependency["digest"] = digest
    problems = provenance.provenance_problems(statement, _context().digest)
    assert any(expected in problem for problem in problems), problems


def test_a_subject_naming_another_image_is_a_problem() -> None:
    statement = provenance.provenance_statement(_context())
    problems = provenance.provenance_problems(statement, "sha256:" + "f" * 64)
    assert problems == [f"subject[0] digest {_context().digest} is not the image sha256:{'f' * 64}"]


def test_a_base_image_without_a_digest_cannot_be_named() -> None:
    with pytest.raises(provenance.ProvenanceError, match="not pinned by digest"):
        provenance.provenance_statement(_context(base_image="python:3.11.14-slim-bookworm"))


def test_a_non_object_statement_is_a_problem() -> None:
    assert provenance.provenance_problems([], "sha256:" + "a" * 64) == ["statement: not an object"]


# --- build_context from the release build's records ----------------------------------------

INDEX = "sha256:" + "1" * 64
AMD64 = "sha256:" + "2" * 64
ARM64 = "sha256:" + "3" * 64
BASE = "127.0.0.1:5000/vibevoice/vibevoice-base@sha256:" + "4" * 64
SHA = "89abcdef0123456789abcdef0123456789abcdef"
REFERRER = "sha256:" + "5" * 64


def release_image() -> dict[str, Any]:
    """An image entry as build/release.py writes it to release.json."""
    return {
        "service": "tts",
        "repository": "127.0.0.1:5000/vibevoice/vibevoice-tts",
        "tag": SHA[:12],
        "digest": INDEX,
        "reference": f"127.0.0.1:5000/vibevoice/vibevoice-tts@{INDEX}",
        "platforms": [
            {
                "platform": platform,
                "digest": digest,
                "sbom": f"sbom/tts-{platform.replace('/', '-')}.spdx.json",
                "sbom_referrer": REFERRER,
            }
            for platform, digest in (("linux/amd64", AMD64), ("linux/arm64", ARM64))
        ],
        "promote_tags": ["latest"],
        "build_seconds": 61.2,
        "log": "logs/tts.log",
    }


def metadata_records(builder: str = "local", run_id: str = "local") -> list[dict[str, Any]]:
    """Records as build/release.py writes them to build-metadata.json (one per platform)."""
    return [
        {
            "image": f"127.0.0.1:5000/vibevoice/vibevoice-tts:{SHA[:12]}",
            "digest": INDEX,
            "platform": platform,
            "git_sha": SHA,
            "git_ref": "refs/heads/main",
            "workflow_run_id": run_id,
            "build_timestamp": "2026-11-30T12:00:00Z",
            "builder": builder,
            "service": "tts",
            "digest_kind": "index",
            "platform_digest": digest,
            "sbom": f"sbom/tts-{platform.replace('/', '-')}.spdx.json",
            "base_image": BASE,
            "build_seconds": 61.2,
            "git_dirty": False,
            "promote_tags": ["latest"],
        }
        for platform, digest in (("linux/amd64", AMD64), ("linux/arm64", ARM64))
    ]


def read(
    image: dict[str, Any], records: list[dict[str, Any]]
) -> tuple[ReleaseImage, list[BuildRecord]]:
    """The image and records as the sign session reads them: validated as their models."""
    return (
        validate_report(image, ReleaseImage, "release.json image"),
        validate_report(records, BuildMetadataFile, "build-metadata.json").root,
    )


def test_a_local_build_context() -> None:
    context = provenance.build_context(
        *read(release_image(), metadata_records()),
        dockerfile="infra/docker/tts.Dockerfile",
        origin=Origin(None, local_source="/work/checkout"),
    )
    assert context.digest == INDEX
    assert context.platforms == (("linux/amd64", AMD64), ("linux/arm64", ARM64))
    assert context.builder_id == provenance.LOCAL_BUILDER_ID
    assert context.source_uri == "git+file:///work/checkout"
    assert context.finished_on - context.started_on == timedelta(seconds=62)
    assert provenance.provenance_problems(provenance.provenance_statement(context), INDEX) == []


def test_a_github_build_context_names_the_build_workflow_and_run() -> None:
    context = provenance.build_context(
        *read(release_image(), metadata_records("github-actions", "4242")),
        dockerfile="infra/docker/tts.Dockerfile",
        origin=Origin("Owner/Repo"),
    )
    assert context.builder_id == (
        "https://github.com/Owner/Repo/.github/workflows/ci-build-push.yml@refs/heads/main"
    )
    assert context.invocation_id == "https://github.com/Owner/Repo/actions/runs/4242"
    assert context.source_uri == "git+https://github.com/Owner/Repo"


def test_a_github_build_needs_the_repository() -> None:
    with pytest.raises(UsageError, match="GITHUB_REPOSITORY"):
        provenance.build_context(
            *read(release_image(), metadata_records("github-actions", "1")),
            dockerfile="d",
            origin=Origin(None),
        )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda image, records: image.update(digest="sha256:short"),
            r"^release.json image: digest",
        ),
        (lambda image, records: image.update(platforms=[]), "tts: lists no platform"),
        (lambda image, records: image.pop("repository"), "repository: Field required"),
        (lambda image, records: image.update(tag=""), "tag: String should have at least 1"),
        (lambda image, records: records.clear(), "no record for service tts"),
        (lambda image, records: records[0].update(git_sha="HEAD"), r"0\.index\.git_sha: String"),
        (lambda image, records: records[0].update(build_timestamp="yesterday"), "build_timestamp"),
        (lambda image, records: records[0].update(build_seconds=-1), "build_seconds: Input"),
        (lambda image, records: records[0].pop("base_image"), "base_image: Field required"),
    ],
)
def test_malformed_records_are_bad_input(change: Any, expected: str) -> None:
    image, records = release_image(), metadata_records()
    change(image, records)
    with pytest.raises(UsageError, match=expected) as caught:
        provenance.build_context(*read(image, records), dockerfile="d", origin=Origin(None))
    assert "\n" not in str(caught.value)
