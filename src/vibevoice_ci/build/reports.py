"""The build session's documents: ``release.json`` and ``build-metadata.json``.

- ``release.json`` (:class:`Release`, the release build ``build/release.py``): every image
  pushed, by digest, with its platform manifests and SBOMs. Read by ``smoke --release``,
  ``promote``, ``sign``, ``trivy`` and ``perf --release`` (each with :func:`read_report`).
- ``build-metadata.json`` (:class:`BuildMetadataFile`, both builds): one record per image and
  platform, the seed design's Build Metadata Schema (:class:`BuildMetadata`) plus what that
  build adds (:class:`NativeBuildRecord`, :class:`ReleaseBuildRecord`; ``digest_kind`` says
  which). Read by ``sign`` for the provenance.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, NonNegativeFloat, RootModel, model_validator

from vibevoice_ci.core.errors import PipelineError
from vibevoice_ci.core.image_reference import parse_reference
from vibevoice_ci.core.reports import ReportModel
from vibevoice_ci.core.retry import RetryLog

UTC_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

Digest = Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")]
GitSha = Annotated[str, Field(pattern=r"^[0-9a-f]{40}$")]
Platform = Annotated[str, Field(pattern=r"^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$")]
NonEmpty = Annotated[str, Field(min_length=1)]


def _image_reference(text: str) -> str:
    try:
        parse_reference(text)
    except PipelineError as exc:
        raise ValueError(str(exc)) from None
    return text


def _real_utc_time(text: str) -> str:
    try:
        datetime.strptime(text, UTC_TIMESTAMP_FORMAT)
    except ValueError:
        raise ValueError(f"{text!r} is not a real date and time") from None
    return text


ImageReferenceText = Annotated[str, AfterValidator(_image_reference)]
UtcTimestamp = Annotated[
    str,
    Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"),
    AfterValidator(_real_utc_time),
]


class Retry(ReportModel):
    """One retry that happened (``core.retry``): what, which attempt failed, and why."""

    what: str
    failed_attempt: int
    reason: str

    @classmethod
    def all_of(cls, log: RetryLog) -> list[Retry]:
        return [cls(what=r.what, failed_attempt=r.attempt, reason=r.reason) for r in log.retries]


# --- release.json ------------------------------------------------------------------------------


class ReleasePlatform(ReportModel):
    """One platform's manifest in a pushed index, and its SBOM."""

    platform: str
    digest: Digest = Field(description="the platform manifest's digest")
    sbom: str = Field(description="the SPDX JSON file, relative to the build's report folder")
    sbom_referrer: Digest = Field(description="the SBOM's OCI referrer manifest in the registry")


class ReleaseImage(ReportModel):
    """One service's pushed index: where, which digest, which platforms, what comes next."""

    service: NonEmpty
    repository: NonEmpty = Field(description="registry/name, no tag or digest")
    tag: NonEmpty = Field(description="the git-SHA tag it was pushed with")
    digest: Digest = Field(description="the image index's digest, as the registry reports it")
    reference: str = Field(description="repository@digest: what smoke pulls and promote retags")
    platforms: list[ReleasePlatform]
    promote_tags: list[str] = Field(description="the tags promote moves here after smoke")
    build_seconds: NonNegativeFloat
    log: str = Field(description="the build log, relative to the build's report folder")

    @model_validator(mode="after")
    def _reference_is_repository_at_digest(self) -> ReleaseImage:
        if self.reference != f"{self.repository}@{self.digest}":
            raise ValueError(
                f"reference {self.reference!r} is not repository@digest "
                f"({self.repository}@{self.digest})"
            )
        return self


class Release(ReportModel):
    """``release.json``: what the release build (``nox -s build -- --push``) pushed."""

    status: Literal["pass", "fail"]
    registry: str
    platforms: list[str]
    images: list[ReleaseImage]
    retries: list[Retry]
    notes: list[str]


# --- build-metadata.json ------------------------------------------------------------------------


class BuildMetadata(ReportModel):
    """The seed design's Build Metadata Schema: every field present, with a valid value."""

    image: ImageReferenceText = Field(description="the image reference built or pushed")
    digest: Digest = Field(description="the registry's digest after a push, else the image ID")
    platform: Platform = Field(description="os/arch[/variant]")
    git_sha: GitSha
    git_ref: NonEmpty
    workflow_run_id: NonEmpty = Field(description="GITHUB_RUN_ID, or local")
    build_timestamp: UtcTimestamp = Field(description="UTC, YYYY-MM-DDTHH:MM:SSZ")
    builder: Literal["github-actions", "local"]


class NativeBuildRecord(BuildMetadata):
    """A ``nox -s build`` record: this machine's image, maybe pushed (``docker push``)."""

    service: NonEmpty
    digest_kind: Literal["manifest", "image-id"] = Field(
        description="manifest: pushed, digest is the registry's; image-id: not pushed"
    )
    pushed_tags: list[str]
    image_id: str
    local_tags: list[str]
    base_image: NonEmpty
    size_bytes: int
    build_seconds: NonNegativeFloat
    git_dirty: bool


class ReleaseBuildRecord(BuildMetadata):
    """A release build record (``nox -s build -- --push``): one platform of a pushed index."""

    service: NonEmpty
    digest_kind: Literal["index"] = Field(description="digest is the image index's")
    platform_digest: Digest = Field(description="this platform's manifest in the index")
    sbom: str = Field(description="the SPDX JSON file, relative to the build's report folder")
    base_image: NonEmpty = Field(description="the base image it was built FROM")
    build_seconds: NonNegativeFloat
    git_dirty: bool
    promote_tags: list[str]


BuildRecord = Annotated[NativeBuildRecord | ReleaseBuildRecord, Field(discriminator="digest_kind")]


class BuildMetadataFile(RootModel[list[BuildRecord]]):
    """``build-metadata.json``: one record per built image and platform."""

    model_config = ConfigDict(frozen=True)  # a list: no extra keys to forbid


SCHEMAS = {
    "release.schema.json": Release,
    "build-metadata.schema.json": BuildMetadataFile,
}
