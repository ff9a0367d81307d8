"""The release build: every service for every platform, one index each, pushed by SHA tag.

Flow (docs/ci-cd.md, "The release build"): start buildkitd (QEMU for foreign platforms) and
a buildx ``remote`` builder on it; resolve a base that lists every platform; per service,
``buildx build --platform ... --push`` with only the git-SHA tag; read the digest back from
the registry (never a local ID) and check it matches what BuildKit reported; check the index
lists every platform; an SBOM per platform (syft, SPDX JSON) attached to that platform's
manifest as an OCI referrer; build metadata per platform. ``latest`` and version tags are
NOT pushed here: ``promote`` moves them once smoke passed on this exact digest.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from vibevoice_ci.build import base_image, metadata, referrers
from vibevoice_ci.build.native import (
    CA_STAGING,
    extra_ca_sources,
    image_created,
    image_tags,
    oci_labels,
    release_tags,
    stage_ca_certificates,
)
from vibevoice_ci.build.reports import (
    BuildMetadataFile,
    BuildRecord,
    Release,
    ReleaseBuildRecord,
    ReleaseImage,
    ReleasePlatform,
    Retry,
)
from vibevoice_ci.core.config import PipelineConfig, ServiceConfig
from vibevoice_ci.core.errors import CheckFailedError, PipelineError, ToolFailedError, UsageError
from vibevoice_ci.core.files import write_text_atomic
from vibevoice_ci.core.image_reference import parse_reference
from vibevoice_ci.core.outcome import (
    Outcome,
    Status,
    failure_recorded,
    publish_summary,
    render_summary,
)
from vibevoice_ci.core.progress import progress
from vibevoice_ci.core.reports import write_report
from vibevoice_ci.core.retry import RetryLog, is_transient, with_retries
from vibevoice_ci.tools import buildkitd, buildx, crane, docker, git, syft

RELEASE_FILE = "release.json"


@dataclass
class _Run:
    """What the release build has done so far, so the report can be written from anywhere."""

    registry: str
    platforms: tuple[str, ...]
    images: list[ReleaseImage] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    retries: RetryLog = field(default_factory=RetryLog)
    metadata: list[BuildRecord] = field(default_factory=list)
    docker_config: Path | None = None  # where docker login left the registry's credentials


def select_platforms(configured: Sequence[str], requested: Sequence[str]) -> tuple[str, ...]:
    """The platforms to build: the configured ones, narrowed by ``--platform`` (pure)."""
    if not requested:
        return tuple(configured)
    unknown = [platform for platform in requested if platform not in configured]
    if unknown:
        raise UsageError(
            f"--platform {', '.join(unknown)} is not in [tool.vibevoice-ci] platforms "
            f"({', '.join(configured)})"
        )
    return tuple(platform for platform in configured if platform in requested)


def index_annotations(labels: dict[str, str], version: str) -> dict[str, str]:
    """The index's ``org.opencontainers.image.*`` annotations: the images' build labels and
    the version (pure)."""
    return {**labels, "org.opencontainers.image.version": version}


def registry_host(registry: str) -> str:
    """``127.0.0.1:5000/vibevoice`` -> ``127.0.0.1:5000`` (pure)."""
    return registry.split("/", 1)[0]


def build_release(
    config: PipelineConfig,
    *,
    services: Sequence[str] = (),
    platforms: Sequence[str] = (),
    registry: str | None = None,
) -> list[ReleaseImage]:
    """Build and push every selected service for every selected platform (see module doc).

    ``release.json``, ``build-metadata.json``, SBOMs, logs and the summary are written under
    the build session's folder on every path; a failure raises after that.
    """
    report_dir = config.report_dir("build")
    target = (registry or config.registry).rstrip("/")
    run = _Run(
        target,
        select_platforms(config.platforms, platforms),
        docker_config=config.env.docker_config,
    )
    names = list(services) or list(config.services)
    selected = [config.service(name) for name in names]
    try:
        with failure_recorded(run.outcomes, "release"):
            _release(config, run, selected, report_dir)
    finally:
        _write_reports(report_dir, run)
    return run.images


def layer_cache_args(mode: str, service: str, *, service_reachable: bool) -> list[str]:
    """The buildx cache flags ``$VIBEVOICE_BUILD_CACHE`` asks for, for one service (pure).

    A gha mode needs the GitHub Actions cache service in this step's environment; without it
    the request is a usage error, never a build that silently runs uncached.
    """
    if mode != "off" and not service_reachable:
        raise UsageError(
            f"VIBEVOICE_BUILD_CACHE={mode} needs the GitHub Actions cache service: "
            "$ACTIONS_RUNTIME_TOKEN with $ACTIONS_CACHE_URL or $ACTIONS_RESULTS_URL in the "
            "step's environment (unset VIBEVOICE_BUILD_CACHE elsewhere)"
        )
    return buildx.cache_argv(mode, f"vibevoice-{service}")


def _release(
    config: PipelineConfig, run: _Run, selected: Sequence[ServiceConfig], report_dir: Path
) -> None:
    mode = config.env.build_cache
    layer_cache_args(mode, "check", service_reachable=config.env.actions_cache_service)
    check_credentials(run, selected)
    if mode != "off":
        run.notes.append(f"BuildKit layer cache: GitHub Actions, {mode} ($VIBEVOICE_BUILD_CACHE)")
    progress(buildx.version())
    git_state = git.state(config.root)
    staged = stage_ca_certificates(
        extra_ca_sources(config.env.extra_ca_certs), config.root / CA_STAGING
    )
    if staged:
        progress(f"extra CA certificates for the build stage: {', '.join(staged)}")
    cache = config.env.cache_root
    if config.env.buildx_builder:
        # A builder that already runs (GitHub: docker/setup-buildx-action with QEMU).
        run.notes.append(f"buildx builder {config.env.buildx_builder} ($VIBEVOICE_BUILDX_BUILDER)")
        _build_all(config, run, selected, git_state, config.env.buildx_builder, report_dir)
        return
    state_dir = cache / "run" / f"buildkitd-{os.getpid()}"
    host = registry_host(run.registry)
    plain = [host] if crane.plain_http(f"{host}/x") else []
    with buildkitd.running(
        state_dir=state_dir,
        root=cache / "buildkit",
        plain_http_registries=plain,
        log_path=report_dir / "logs" / "buildkitd.log",
    ) as daemon:
        missing = buildkitd.missing_platforms(run.platforms, daemon.platforms)
        if missing:
            raise ToolFailedError(
                f"buildkitd cannot build {', '.join(missing)} (its worker lists "
                f"{', '.join(daemon.platforms)}): install qemu-user-static and enable binfmt "
                "(bash scripts/ci/start-services.sh)"
            )
        run.notes.append(f"buildkitd worker platforms: {', '.join(daemon.platforms)}")
        with buildx.remote_builder(f"vibevoice-{os.getpid()}", daemon.address) as builder:
            _build_all(config, run, selected, git_state, builder, report_dir)


def check_credentials(run: _Run, selected: Sequence[ServiceConfig]) -> None:
    """Ask the registry for the first service's repository with docker login's credentials
    before anything is built: a wrong password or token is one line naming the registry
    (``RegistryAuthError``, never retried) here, not a BuildKit push error minutes later."""
    if not selected:
        return
    image = parse_reference(f"{run.registry}/{selected[0].image}")
    if not image.registry:
        return  # Docker Hub: pushed by buildx, which reads the same credentials
    with referrers.RegistryClient(
        image.registry, log=run.retries, docker_config=run.docker_config
    ) as client:
        client.blob_exists(image.repository, referrers.sha256_digest(referrers.EMPTY_BLOB))


def _build_all(
    config: PipelineConfig,
    run: _Run,
    selected: Sequence[ServiceConfig],
    git_state: git.GitState,
    builder: str,
    report_dir: Path,
) -> None:
    base = base_image.resolve_for_platforms(
        config.base_image,
        override=config.env.base_image,
        registry=run.registry,
        platforms=run.platforms,
        builder=builder,
        cache_dir=config.env.cache_root,
        retries=run.retries,
    )
    run.notes.append(f"base image `{base.reference}` ({base.how})")
    progress(f"base image: {base.reference} ({base.how})")
    for service in selected:
        _release_one(config, run, service, git_state, base.reference, builder, report_dir)


def _release_one(
    config: PipelineConfig,
    run: _Run,
    service: ServiceConfig,
    git_state: git.GitState,
    base: str,
    builder: str,
    report_dir: Path,
) -> None:
    built_at = datetime.now(UTC)
    sha_tag = image_tags(service.image, git_state.sha, dirty=git_state.dirty)[0].rpartition(":")[2]
    repository = f"{run.registry}/{service.image}"
    pushed = f"{repository}:{sha_tag}"
    ref = config.env.git_ref or git_state.ref
    promote = release_tags(ref, dirty=git_state.dirty)
    labels = oci_labels(service, git_state, image_created(git_state, built_at))
    version = next((tag for tag in promote if tag != "latest"), sha_tag)
    log_path = report_dir / "logs" / f"{service.name}.log"
    metadata_file = report_dir / "logs" / f"{service.name}.buildx-metadata.json"
    # buildx refuses a metadata file in a folder that is not there ("invalid output path"):
    # with a builder of the job's own (GitHub's setup-buildx) nothing else has made it yet.
    metadata_file.parent.mkdir(parents=True, exist_ok=True)
    argv = buildx.build_argv(
        docker.docker(),
        builder=builder,
        context=config.root,
        dockerfile=service.dockerfile,
        platforms=run.platforms,
        tags=[pushed],
        build_args={"BASE_IMAGE": base},
        labels=labels,
        index_annotations=index_annotations(labels, version),
        metadata_file=metadata_file,
        push=True,
        cache=layer_cache_args(
            config.env.build_cache,
            service.name,
            service_reachable=config.env.actions_cache_service,
        ),
    )
    progress(f"building {service.name} for {', '.join(run.platforms)}; pushing {pushed}")
    logs: list[str] = []
    started = time.monotonic()

    def attempt() -> buildx.BuildOutput:
        try:
            output = buildx.build(argv, metadata_file=metadata_file)
        except buildx.BuildFailedError as exc:
            logs.append(exc.log)
            raise
        logs.append(output.log)
        return output

    try:
        output = with_retries(
            f"build and push {service.name}",
            attempt,
            log=run.retries,
            transient=lambda exc: _push_failure(exc) and is_transient(str(exc)),
        )
    finally:
        write_text_atomic(log_path, "\n".join(logs))
    seconds = time.monotonic() - started
    digest = with_retries(f"digest of {pushed}", lambda: crane.digest(pushed), log=run.retries)
    if digest != output.index_digest:
        raise CheckFailedError(
            f"{pushed}: the registry reports {digest}, BuildKit pushed {output.index_digest}"
        )
    index = with_retries(
        f"manifest of {pushed}", lambda: crane.manifest(f"{repository}@{digest}"), log=run.retries
    )
    entries = {entry.platform: entry for entry in crane.index_entries(index)}
    absent = [platform for platform in run.platforms if platform not in entries]
    if absent:
        raise CheckFailedError(f"{pushed} lacks {', '.join(absent)} (lists {', '.join(entries)})")
    platform_images = tuple(
        _sbom(run, repository, entries[platform], report_dir, service.name, built_at)
        for platform in run.platforms
    )
    image = ReleaseImage(
        service=service.name,
        repository=repository,
        tag=sha_tag,
        digest=digest,
        reference=f"{repository}@{digest}",
        platforms=list(platform_images),
        promote_tags=list(promote),
        build_seconds=round(seconds, 1),
        log=str(log_path.relative_to(report_dir)),
    )
    run.images.append(image)
    for entry in platform_images:
        seed = metadata.build_metadata(
            image=pushed,
            digest=digest,
            platform=entry.platform,
            git_sha=config.env.github_sha or git_state.sha,
            git_ref=git_state.ref,
            run=config.env,
            built_at=built_at,
        )
        problems = metadata.metadata_problems(seed)
        if problems:
            raise CheckFailedError(f"build metadata for {service.name} is invalid: {problems}")
        run.metadata.append(
            ReleaseBuildRecord(
                **seed,
                service=service.name,
                digest_kind="index",
                platform_digest=entry.digest,
                sbom=entry.sbom,
                base_image=base,
                build_seconds=round(seconds, 1),
                git_dirty=git_state.dirty,
                promote_tags=list(promote),
            )
        )
    run.outcomes.append(
        Outcome(
            service.name,
            Status.PASS,
            f"`{image.reference}` ({', '.join(run.platforms)}) in {seconds:.0f} s",
        )
    )
    progress(f"pushed {pushed} = {digest} in {seconds:.0f} s")


def _push_failure(exc: PipelineError) -> bool:
    """Only a failure while exporting/pushing is retried, never a failing build step."""
    text = str(exc).lower()
    return "export" in text or "push" in text or "failed to do request" in text


def _sbom(
    run: _Run,
    repository: str,
    entry: crane.PlatformEntry,
    report_dir: Path,
    service: str,
    built_at: datetime,
) -> ReleasePlatform:
    reference = f"{repository}@{entry.digest}"
    progress(f"SBOM of {service} {entry.platform} (syft)")
    document = with_retries(
        f"SBOM of {reference}",
        lambda: syft.generate(reference, platform=entry.platform),
        log=run.retries,
    )
    name = f"{service}-{entry.platform.replace('/', '-')}.spdx.json"
    path = report_dir / "sbom" / name
    write_text_atomic(path, document)
    image = parse_reference(repository)
    with referrers.RegistryClient(
        image.registry, log=run.retries, docker_config=run.docker_config
    ) as client:
        referrer = referrers.attach(
            client,
            image,
            subject=referrers.Descriptor(entry.media_type, entry.digest, entry.size),
            document=document.encode(),
            artifact_type=syft.SPDX_MEDIA_TYPE,
            title=name,
            created=built_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
    return ReleasePlatform(
        platform=entry.platform, digest=entry.digest, sbom=f"sbom/{name}", sbom_referrer=referrer
    )


def _write_reports(report_dir: Path, run: _Run) -> None:
    write_report(report_dir / "build-metadata.json", BuildMetadataFile(run.metadata))
    passed = run.images and not any(o.status is not Status.PASS for o in run.outcomes)
    write_report(
        report_dir / RELEASE_FILE,
        Release(
            status="pass" if passed else "fail",
            registry=run.registry,
            platforms=list(run.platforms),
            images=run.images,
            retries=Retry.all_of(run.retries),
            notes=run.notes,
        ),
    )
    notes = [
        *run.notes,
        f"{len(run.retries.retries)} retries"
        + (
            ": " + "; ".join(f"{r.what} ({r.reason})" for r in run.retries.retries)
            if run.retries.retries
            else ""
        ),
        "pushed with the git-SHA tag only; `nox -s promote` moves latest/version tags after smoke",
    ]
    publish_summary(report_dir, render_summary("build (release)", run.outcomes, notes))
