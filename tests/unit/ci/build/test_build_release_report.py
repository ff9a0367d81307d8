"""The release build's documents as it really writes them (over fake buildx, crane, syft and
registry), checked against the committed ``release.schema.json`` and
``build-metadata.schema.json``, and read back through the models the other sessions use."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from schema_helpers import assert_matches_schema

from vibevoice_ci.build import base_image, referrers
from vibevoice_ci.build import release as multiarch
from vibevoice_ci.build.base_image import BaseImageChoice
from vibevoice_ci.build.reports import BuildMetadataFile, Release, ReleaseBuildRecord
from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.errors import ToolFailedError
from vibevoice_ci.core.reports import read_report
from vibevoice_ci.tools import buildx, crane, git, syft

SHA = "0123456789abcdef0123456789abcdef01234567"
INDEX = "sha256:" + "1" * 64
MANIFESTS = {"linux/amd64": "sha256:" + "2" * 64, "linux/arm64": "sha256:" + "3" * 64}
REFERRER = "sha256:" + "4" * 64
BASE = "127.0.0.1:5000/ci/base@sha256:" + "5" * 64


@pytest.fixture
def release_tools(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fake tools for a release build that pushes INDEX; returns the builds' argv tails."""
    builds: list[str] = []

    def build(argv: list[str], *, metadata_file: Path) -> buildx.BuildOutput:
        # buildx fails with "invalid output path" when the metadata file's folder is absent
        assert metadata_file.parent.is_dir(), f"{metadata_file.parent} does not exist"
        builds.append(argv[-1])
        return buildx.BuildOutput(log="#1 exporting to image\n", index_digest=INDEX)

    def index(reference: str) -> dict[str, Any]:
        return {
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": digest,
                    "size": 100,
                    "platform": dict(zip(("os", "architecture"), platform.split("/"), strict=True)),
                }
                for platform, digest in MANIFESTS.items()
            ],
        }

    class Client:
        def blob_exists(self, repository: str, digest: str) -> bool:
            return False  # the credential check before the build

    @contextmanager
    def client(registry: str, **_: Any) -> Iterator[object]:
        yield Client()

    monkeypatch.setattr(buildx, "version", lambda: "github.com/docker/buildx v0.29.1")
    monkeypatch.setattr(buildx, "build", build)
    monkeypatch.setattr(git, "state", lambda root: git.GitState(SHA, "refs/heads/main", False))
    monkeypatch.setattr(
        base_image,
        "resolve_for_platforms",
        lambda *a, **k: BaseImageChoice(BASE, "set by $VIBEVOICE_BASE_IMAGE"),
    )
    monkeypatch.setattr(crane, "digest", lambda reference: INDEX)
    monkeypatch.setattr(crane, "manifest", index)
    monkeypatch.setattr(syft, "generate", lambda reference, platform: '{"spdxVersion": "SPDX-2.3"}')
    monkeypatch.setattr(referrers, "RegistryClient", client)
    monkeypatch.setattr(referrers, "attach", lambda *a, **k: REFERRER)
    return builds


def _config(make_config: Callable[..., PipelineConfig]) -> PipelineConfig:
    return make_config(
        VIBEVOICE_BUILDX_BUILDER="fake-builder", VIBEVOICE_REGISTRY="127.0.0.1:5000/ci"
    )


def test_a_release_writes_documents_that_match_their_schemas(
    make_config: Callable[..., PipelineConfig], release_tools: list[str]
) -> None:
    config = _config(make_config)
    [image] = multiarch.build_release(config)

    report_dir = config.report_dir("build")
    release = assert_matches_schema(report_dir / "release.json", "build/release.schema.json")
    records = assert_matches_schema(
        report_dir / "build-metadata.json", "build/build-metadata.schema.json"
    )
    assert release["status"] == "pass"
    assert release["images"][0]["reference"] == image.reference == f"{image.repository}@{INDEX}"
    assert release["images"][0]["promote_tags"] == ["latest"]
    assert [entry["sbom_referrer"] for entry in release["images"][0]["platforms"]] == [
        REFERRER,
        REFERRER,
    ]
    assert [(r["platform"], r["platform_digest"]) for r in records] == list(MANIFESTS.items())
    assert {r["digest_kind"] for r in records} == {"index"}
    # What the readers (smoke, promote, sign, trivy, perf) get back is what was written.
    read = read_report(report_dir / "release.json", Release, "release file")
    assert read.images == [image]
    metadata = read_report(report_dir / "build-metadata.json", BuildMetadataFile, "metadata")
    assert all(isinstance(record, ReleaseBuildRecord) for record in metadata.root)


def test_a_failed_release_still_writes_documents_that_match_their_schemas(
    make_config: Callable[..., PipelineConfig],
    release_tools: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(argv: list[str], *, metadata_file: Path) -> buildx.BuildOutput:
        raise buildx.BuildFailedError("buildx build failed: [linux/arm64 2/4] RUN x", "log")

    monkeypatch.setattr(buildx, "build", broken)
    config = _config(make_config)
    with pytest.raises(ToolFailedError, match="buildx build failed"):
        multiarch.build_release(config)

    report_dir = config.report_dir("build")
    release = assert_matches_schema(report_dir / "release.json", "build/release.schema.json")
    assert (release["status"], release["images"]) == ("fail", [])
    assert (
        assert_matches_schema(
            report_dir / "build-metadata.json", "build/build-metadata.schema.json"
        )
        == []
    )
