"""The ``build`` session: build each service image, tag it with the git SHA, record metadata."""

from __future__ import annotations

import hashlib
import re
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from vibevoice_ci.build import metadata
from vibevoice_ci.build.base_image import BaseImageChoice, resolve_base_image
from vibevoice_ci.build.reports import BuildMetadataFile, NativeBuildRecord
from vibevoice_ci.core.config import PipelineConfig, ServiceConfig
from vibevoice_ci.core.errors import CheckFailedError, ToolMissingError, UsageError
from vibevoice_ci.core.files import write_text_atomic
from vibevoice_ci.core.outcome import Outcome, Status, publish_summary, render_summary
from vibevoice_ci.core.progress import progress
from vibevoice_ci.core.reports import write_report
from vibevoice_ci.tools import docker, git

_SEMVER_TAG = re.compile(r"refs/tags/v(?P<version>\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)")
# Build context folder (inside the repository, git-ignored) for extra CA certificates.
CA_STAGING = Path(".build/ca-certificates")
DEFAULT_CA_SOURCES = (Path("/usr/local/share/ca-certificates"),)


@dataclass(frozen=True)
class BuiltImage:
    """One service image the session built."""

    service: str
    reference: str
    image_id: str
    size_bytes: int
    seconds: float
    pushed_reference: str | None
    metadata: NativeBuildRecord


def image_tags(image: str, git_sha: str, *, dirty: bool) -> list[str]:
    """Local tags for a build: the short SHA (``-dirty`` when the tree has changes) (pure)."""
    suffix = "-dirty" if dirty else ""
    return [f"{image}:{git_sha[:12]}{suffix}"]


def release_tags(git_ref: str, *, dirty: bool) -> list[str]:
    """Extra tags a push carries, after docker/metadata-action's conventions (pure).

    A release tag ``refs/tags/v1.2.3`` adds ``1.2.3``; the main branch adds ``latest``. A build
    from a tree with uncommitted changes gets neither: it is not what the ref names.
    """
    if dirty:
        return []
    release = _SEMVER_TAG.fullmatch(git_ref)
    if release:
        return [release.group("version")]
    if git_ref == "refs/heads/main":
        return ["latest"]
    return []


def image_created(git_state: git.GitState, built_at: datetime) -> str:
    """The image's ``created`` label: the commit time for a clean tree (so rebuilding a commit
    gives the same image ID, as SOURCE_DATE_EPOCH does), the build time for a dirty one."""
    if git_state.committed_at and not git_state.dirty:
        return git_state.committed_at
    return built_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def oci_labels(service: ServiceConfig, git_state: git.GitState, created: str) -> dict[str, str]:
    """The build-time ``org.opencontainers.image.*`` labels (static ones live in the Dockerfile)."""
    return {
        "org.opencontainers.image.revision": git_state.sha,
        "org.opencontainers.image.created": created,
        "org.opencontainers.image.ref.name": git_state.ref,
        "org.opencontainers.image.title": service.image,
    }


def extra_ca_sources(configured: Sequence[Path] | None) -> list[Path]:
    """Where extra CA certificates come from: the paths ``$VIBEVOICE_EXTRA_CA_CERTS`` lists
    (``RunEnvironment.extra_ca_certs``; files or folders), or when it is unset the host's
    /usr/local/share/ca-certificates."""
    if configured is None:
        return [path for path in DEFAULT_CA_SOURCES if path.is_dir()]
    return list(configured)


STAGING_README = "Extra CA certificates staged by `nox -s build` for the image build stage only.\n"


def stage_ca_certificates(sources: Sequence[Path], staging: Path) -> list[str]:
    """Make ``staging`` hold exactly the CA certificates of ``sources`` (and a README); return
    their staged names.

    A source is a PEM file (any name) or a folder, searched recursively for ``*.crt`` as
    update-ca-certificates does. Each certificate is staged as ``<stem>-<hash>.crt`` so
    update-ca-certificates picks it up and two files with one name never overwrite each other
    (identical certificates are staged once). A file that holds no PEM certificate is an error,
    found before the folder is touched.

    Idempotent and safe to run concurrently on one tree (parallel tests, two builds): a file
    that already holds the right content is left alone, anything else is written atomically,
    and only what no source stages any more is removed, so a build reading the folder never
    sees it emptied or half-written.
    """
    wanted: dict[str, str] = {}
    for source in sources:
        if source.is_file():
            files = [source]
        elif source.is_dir():
            files = sorted(source.rglob("*.crt"))
        else:
            raise UsageError(f"extra CA certificate path {source} does not exist")
        for path in files:
            content = path.read_bytes()
            if b"-----BEGIN CERTIFICATE-----" not in content:
                raise UsageError(f"extra CA certificate {path} holds no PEM certificate")
            try:
                text = content.decode("utf-8")
            except UnicodeDecodeError:
                raise UsageError(f"extra CA certificate {path} is not a text PEM file") from None
            wanted.setdefault(f"{path.stem}-{hashlib.sha256(content).hexdigest()[:12]}.crt", text)
    staging.mkdir(parents=True, exist_ok=True)
    keep = {"README", *wanted}
    for entry in staging.iterdir():
        if entry.name in keep or _in_flight(entry.name):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    for name, text in {"README": STAGING_README, **wanted}.items():
        target = staging / name
        try:
            if target.read_bytes() == text.encode("utf-8"):
                continue
        except OSError:
            pass
        write_text_atomic(target, text)
    return list(wanted)


def _in_flight(name: str) -> bool:
    """A temporary file of ``write_text_atomic`` (another build staging at the same time)."""
    return name.startswith(".") and name.endswith(".tmp")


def build_images(
    config: PipelineConfig,
    *,
    services: Sequence[str] = (),
    push: bool = False,
    registry: str | None = None,
    report_dir: Path | None = None,
) -> list[BuiltImage]:
    """Build (and with ``push``, push) the images of ``services`` (default: all).

    Metadata and the summary go to ``report_dir`` (default: the build session's folder; the
    smoke session passes its own so it never overwrites what ``nox -s build`` recorded).
    """
    status = docker.engine_status()
    if not status.available:
        raise ToolMissingError(status.reason)
    names = list(services) or list(config.services)
    selected = [config.service(name) for name in names]
    git_state = git.state(config.root)
    base = resolve_base_image(config.base_image, override=config.env.base_image)
    progress(f"base image: {base.reference} ({base.how})")
    staged = stage_ca_certificates(
        extra_ca_sources(config.env.extra_ca_certs), config.root / CA_STAGING
    )
    if staged:
        progress(f"extra CA certificates for the build stage: {', '.join(staged)}")
    report_dir = report_dir or config.report_dir("build")
    report_dir.mkdir(parents=True, exist_ok=True)
    target_registry = registry or config.registry
    built = [
        _build_one(config, service, git_state, base, report_dir, push, target_registry)
        for service in selected
    ]
    write_report(
        report_dir / "build-metadata.json", BuildMetadataFile([image.metadata for image in built])
    )
    publish_summary(report_dir, _summary(built, base, status.server_version, config.platforms))
    return built


def _build_one(
    config: PipelineConfig,
    service: ServiceConfig,
    git_state: git.GitState,
    base: BaseImageChoice,
    report_dir: Path,
    push: bool,
    registry: str,
) -> BuiltImage:
    built_at = datetime.now(UTC)
    tags = image_tags(service.image, git_state.sha, dirty=git_state.dirty)
    progress(f"building {service.name}: {tags[0]} from {service.dockerfile.name}")
    started = time.monotonic()
    image_id = docker.build(
        context=config.root,
        dockerfile=service.dockerfile,
        tags=tags,
        build_args={"BASE_IMAGE": base.reference},
        labels=oci_labels(service, git_state, image_created(git_state, built_at)),
        iidfile=report_dir / f"{service.name}.iid",
    )
    seconds = time.monotonic() - started
    info = docker.inspect_image(image_id)
    platform = f"{info.os}/{info.architecture}"
    if platform not in config.platforms:
        raise CheckFailedError(
            f"{service.name} was built for {platform}, which [tool.vibevoice-ci] platforms "
            f"does not list ({', '.join(config.platforms)})"
        )
    digest = image_id
    pushed: str | None = None
    extra_pushed: list[str] = []
    if push:
        repository = f"{registry.rstrip('/')}/{service.image}"
        pushed = f"{repository}:{tags[0].rpartition(':')[2]}"
        progress(f"pushing {pushed}")
        docker.tag(tags[0], pushed)
        digest = docker.push(pushed)
        ref = config.env.git_ref or git_state.ref
        for extra_tag in release_tags(ref, dirty=git_state.dirty):
            reference = f"{repository}:{extra_tag}"
            progress(f"pushing {reference}")
            docker.tag(tags[0], reference)
            if docker.push(reference) != digest:
                raise CheckFailedError(f"{reference} was pushed with a different digest")
            extra_pushed.append(reference)
    seed = metadata.build_metadata(
        image=pushed or tags[0],
        digest=digest,
        platform=platform,
        git_sha=git_state.sha,
        git_ref=git_state.ref,
        run=config.env,
        built_at=built_at,
    )
    problems = metadata.metadata_problems(seed)
    if problems:
        raise CheckFailedError(f"build metadata for {service.name} is invalid: {problems}")
    record = NativeBuildRecord(
        **seed,
        service=service.name,
        digest_kind="manifest" if push else "image-id",
        pushed_tags=[ref for ref in (pushed, *extra_pushed) if ref],
        image_id=image_id,
        local_tags=tags,
        base_image=base.reference,
        size_bytes=info.size_bytes,
        build_seconds=round(seconds, 2),
        git_dirty=git_state.dirty,
    )
    progress(
        f"built {tags[0]} ({image_id[:19]}, {info.size_bytes / 1e6:.0f} MB) in {seconds:.1f} s"
    )
    return BuiltImage(service.name, tags[0], image_id, info.size_bytes, seconds, pushed, record)


def _summary(
    built: Sequence[BuiltImage], base: BaseImageChoice, engine: str, platforms: Sequence[str]
) -> str:
    outcomes = [
        Outcome(
            image.service,
            Status.PASS,
            f"`{image.reference}` {image.image_id[:19]} {image.size_bytes / 1e6:.0f} MB "
            f"in {image.seconds:.1f} s"
            + (f", pushed `{image.pushed_reference}`" if image.pushed_reference else ""),
        )
        for image in built
    ]
    notes = [
        f"base image `{base.reference}` ({base.how})",
        f"Docker engine {engine}",
        f"native platform only; the release platforms are {', '.join(platforms)}",
    ]
    return render_summary("build", outcomes, notes)
