"""SLSA v1 provenance for a release image, generated from the build's own records (pure).

The release build (``build/release.py``) writes ``release.json`` (per service: repository,
SHA tag, index digest, platform manifests) and ``build-metadata.json`` (per service and
platform: commit, ref, who built it, when, how long, the base image by digest). This module
turns one service's records into a :class:`BuildContext`, the context into an in-toto
Statement v1 whose predicate is SLSA provenance v1 (``https://slsa.dev/provenance/v1``), and
checks a statement: :func:`provenance_problems` is empty exactly when every required field is
present with a valid value and the subject is the image's digest. The sign session runs that
check on the statement cosign verified, not only on the one it generated.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from vibevoice_ci.build.reports import BuildRecord, ReleaseImage
from vibevoice_ci.core.errors import PipelineError, UsageError
from vibevoice_ci.core.image_reference import parse_reference

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
# What a checked statement may say: v1, which this module generates, and v0.1, which cosign 2.x
# wraps an attested predicate in (the same fields; in-toto v1 consumers accept both).
ACCEPTED_STATEMENT_TYPES = frozenset({STATEMENT_TYPE, "https://in-toto.io/Statement/v0.1"})
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
# What a release build is: docs/ci-cd.md, "The release build" describes the template this URI
# names (every service, every platform, buildx + BuildKit, pushed by SHA tag).
BUILD_TYPE = (
    "https://github.com/vibevoice-realtime/vibevoice/blob/main/docs/ci-cd.md#the-release-build"
)
LOCAL_BUILDER_ID = "urn:vibevoice-ci:builder:local"
BUILD_WORKFLOW = ".github/workflows/ci-build-push.yml"
BASE_IMAGE_NAME = "base-image"
SOURCE_NAME = "source"

_HEX64 = re.compile(r"[0-9a-f]{64}")
_DIGEST = re.compile(r"sha256:([0-9a-f]{64})")
_COMMIT = re.compile(r"[0-9a-f]{40}")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
_TIMESTAMP = "%Y-%m-%dT%H:%M:%SZ"


class ProvenanceError(PipelineError):
    """The build records cannot support a truthful provenance (a base image not pinned by
    digest, say): the provenance check fails for that image."""


@dataclass(frozen=True)
class BuildContext:
    """What the release build recorded about one service's image: everything the
    provenance says, nothing it has to guess."""

    service: str
    repository: str  # registry/name, no tag or digest
    digest: str  # the index digest: the provenance's subject
    tag: str
    platforms: tuple[tuple[str, str], ...]  # (os/arch, manifest digest)
    git_sha: str
    git_ref: str
    git_dirty: bool
    source_uri: str  # git+https://github.com/owner/repo, or git+file:///path for a local build
    dockerfile: str  # relative to the repository
    base_image: str  # name@sha256:..., as the build used it
    builder_id: str
    invocation_id: str
    started_on: datetime
    finished_on: datetime


def _hex(digest: str) -> str:
    found = _DIGEST.fullmatch(digest)
    if found is None:
        raise ValueError(f"{digest!r} is not sha256:<64 hex>")
    return found.group(1)


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_TIMESTAMP)


def base_image_dependency(base_image: str) -> dict[str, Any]:
    """The base image as a resolved dependency; it must be pinned by digest."""
    reference = parse_reference(base_image)
    if reference.digest is None:
        raise ProvenanceError(
            f"base image {base_image!r} is not pinned by digest: the provenance cannot name "
            "what the image was built from"
        )
    return {
        "name": BASE_IMAGE_NAME,
        "uri": f"oci://{reference.name}",
        "digest": {"sha256": _hex(reference.digest)},
    }


def provenance_predicate(context: BuildContext) -> dict[str, Any]:
    """The SLSA v1 provenance predicate of ``context`` (pure)."""
    return {
        "buildDefinition": {
            "buildType": BUILD_TYPE,
            "externalParameters": {
                "source": context.source_uri,
                "ref": context.git_ref,
                "service": context.service,
                "dockerfile": context.dockerfile,
                "platforms": [platform for platform, _ in context.platforms],
                "repository": context.repository,
                "tag": context.tag,
            },
            "internalParameters": {"gitDirty": context.git_dirty},
            "resolvedDependencies": [
                {
                    "name": SOURCE_NAME,
                    "uri": f"{context.source_uri}@{context.git_ref}",
                    "digest": {"gitCommit": context.git_sha},
                },
                base_image_dependency(context.base_image),
            ],
        },
        "runDetails": {
            "builder": {"id": context.builder_id},
            "metadata": {
                "invocationId": context.invocation_id,
                "startedOn": _timestamp(context.started_on),
                "finishedOn": _timestamp(context.finished_on),
            },
            "byproducts": [
                {
                    "name": platform,
                    "uri": f"oci://{context.repository}@{digest}",
                    "digest": {"sha256": _hex(digest)},
                }
                for platform, digest in context.platforms
            ],
        },
    }


def provenance_statement(context: BuildContext) -> dict[str, Any]:
    """The in-toto Statement v1 of ``context``: subject the image index by digest (pure)."""
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": context.repository, "digest": {"sha256": _hex(context.digest)}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": provenance_predicate(context),
    }


# --- checking ---------------------------------------------------------------------------------


def _get(document: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(document, Mapping):
            return None
        document = document.get(key)
    return document


def _is_uri(value: Any) -> bool:
    return isinstance(value, str) and _URI.fullmatch(value) is not None


def _parse_timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, _TIMESTAMP).replace(tzinfo=UTC)
    except ValueError:
        return None


def subject_problems(statement: Mapping[str, Any], image_digest: str) -> list[str]:
    """The statement's subjects are exactly ``image_digest`` (pure)."""
    subjects = statement.get("subject")
    if not isinstance(subjects, list) or not subjects:
        return ["subject: missing or empty"]
    problems = []
    for index, subject in enumerate(subjects):
        sha = _get(subject, "digest", "sha256")
        if not isinstance(sha, str) or not _HEX64.fullmatch(sha):
            problems.append(f"subject[{index}].digest.sha256 {sha!r} is not 64 hex digits")
        elif f"sha256:{sha}" != image_digest:
            problems.append(f"subject[{index}] digest sha256:{sha} is not the image {image_digest}")
    return problems


def predicate_problems(predicate: Any) -> list[str]:
    """Every required SLSA v1 field of ``predicate`` that is missing or invalid (pure)."""
    problems: list[str] = []
    if not isinstance(predicate, Mapping):
        return ["predicate: not an object"]
    if not _is_uri(_get(predicate, "buildDefinition", "buildType")):
        problems.append("buildDefinition.buildType: not a URI")
    external = _get(predicate, "buildDefinition", "externalParameters")
    if not isinstance(external, Mapping) or not external:
        problems.append("buildDefinition.externalParameters: missing or empty")
    problems += _dependency_problems(_get(predicate, "buildDefinition", "resolvedDependencies"))
    if not _is_uri(_get(predicate, "runDetails", "builder", "id")):
        problems.append("runDetails.builder.id: not a URI")
    metadata = _get(predicate, "runDetails", "metadata")
    invocation = _get(metadata, "invocationId")
    if not isinstance(invocation, str) or not invocation.strip():
        problems.append("runDetails.metadata.invocationId: missing or empty")
    started = _parse_timestamp(_get(metadata, "startedOn"))
    finished = _parse_timestamp(_get(metadata, "finishedOn"))
    if started is None:
        problems.append("runDetails.metadata.startedOn: not a UTC timestamp")
    if finished is None:
        problems.append("runDetails.metadata.finishedOn: not a UTC timestamp")
    if started is not None and finished is not None and finished < started:
        problems.append("runDetails.metadata: finishedOn is before startedOn")
    return problems


def _dependency_problems(dependencies: Any) -> list[str]:
    if not isinstance(dependencies, list) or not dependencies:
        return ["buildDefinition.resolvedDependencies: missing or empty"]
    problems = []
    for index, dependency in enumerate(dependencies):
        if not isinstance(dependency, Mapping) or not (
            dependency.get("uri") or dependency.get("digest")
        ):
            problems.append(f"resolvedDependencies[{index}]: neither uri nor digest")
    commits = [_get(d, "digest", "gitCommit") for d in dependencies]
    if not any(isinstance(c, str) and _COMMIT.fullmatch(c) for c in commits):
        problems.append("resolvedDependencies: no git commit (digest.gitCommit, 40 hex)")
    bases = [d for d in dependencies if _get(d, "name") == BASE_IMAGE_NAME]
    base_sha = _get(bases[0], "digest", "sha256") if bases else None
    if not isinstance(base_sha, str) or not _HEX64.fullmatch(base_sha):
        problems.append("resolvedDependencies: no base image digest (name base-image, sha256)")
    return problems


def provenance_problems(statement: Any, image_digest: str) -> list[str]:
    """Everything wrong with ``statement`` as the provenance of ``image_digest``; empty when
    it is a complete SLSA v1 provenance statement about exactly that image (pure)."""
    if not isinstance(statement, Mapping):
        return ["statement: not an object"]
    problems = []
    if statement.get("_type") not in ACCEPTED_STATEMENT_TYPES:
        problems.append(f"_type {statement.get('_type')!r} is not an in-toto Statement")
    if statement.get("predicateType") != PREDICATE_TYPE:
        problems.append(f"predicateType {statement.get('predicateType')!r} is not SLSA v1")
    return (
        problems
        + subject_problems(statement, image_digest)
        + predicate_problems(statement.get("predicate"))
    )


# --- from the release build's records -------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    """Where the sign session runs, for the URIs the build records only name by kind."""

    github_repository: str | None  # owner/name ($GITHUB_REPOSITORY), None outside Actions
    github_server: str = "https://github.com"
    local_source: str = ""  # the checkout's path, for a local build's source URI


def build_context(
    image: ReleaseImage,
    records: Sequence[BuildRecord],
    *,
    dockerfile: str,
    origin: Origin,
) -> BuildContext:
    """The context of one ``release.json`` image from its ``build-metadata.json`` records
    (pure). Both documents were validated as their writer's models when they were read
    (``build.reports``: digests, commit, timestamp, durations); what is still missing here is
    a ``UsageError``, and records that cannot support a truthful provenance (an unpinned base
    image) a ``ProvenanceError``."""
    service = image.service
    mine = [record for record in records if record.service == service]
    if not mine:
        raise UsageError(f"build-metadata.json has no record for service {service}")
    first = mine[0]
    platforms = tuple((entry.platform, entry.digest) for entry in image.platforms)
    if not platforms:
        raise UsageError(f"release.json image {service}: lists no platform")
    started = datetime.strptime(first.build_timestamp, _TIMESTAMP).replace(tzinfo=UTC)
    in_actions = first.builder == "github-actions"
    if in_actions and not origin.github_repository:
        raise UsageError(
            f"build-metadata.json {service}: built on GitHub Actions; the repository is needed "
            "for the builder and invocation ids ($GITHUB_REPOSITORY)"
        )
    if in_actions:
        repo_url = f"{origin.github_server}/{origin.github_repository}"
        source = f"git+{repo_url}"
        builder_id = f"{repo_url}/{BUILD_WORKFLOW}@{first.git_ref}"
        invocation = f"{repo_url}/actions/runs/{first.workflow_run_id}"
    else:
        source = f"git+file://{origin.local_source or '/'}"
        builder_id = LOCAL_BUILDER_ID
        invocation = f"urn:vibevoice-ci:build:{service}:{first.git_sha}:{_timestamp(started)}"
    return BuildContext(
        service=service,
        repository=image.repository,
        digest=image.digest,
        tag=image.tag,
        platforms=platforms,
        git_sha=first.git_sha,
        git_ref=first.git_ref,
        git_dirty=first.git_dirty,
        source_uri=source,
        dockerfile=dockerfile,
        base_image=first.base_image,
        builder_id=builder_id,
        invocation_id=invocation,
        started_on=started,
        finished_on=started + timedelta(seconds=math.ceil(first.build_seconds)),
    )
