"""The tts service under load as a container of a built image (``nox -s perf -- --image REF``).

The way smoke runs a pushed digest: a ``repository@sha256:...`` reference is pulled as it is
(retried on transient errors, nothing rebuilt); any other reference must already be on this
machine (``pull_policy: never``). The image runs through the repository's compose file, under
a project of its own (``<compose_project>-perf``) so it never touches a smoke stack, with
only the tts service started, published on 127.0.0.1 only, on a free port. Its logs are kept
in ``reports/perf/logs/`` and ``compose down`` always runs; its outcome is the ``teardown``
check the session reports.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from vibevoice_ci.build.reports import Release
from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.errors import CheckFailedError, ToolFailedError, UsageError
from vibevoice_ci.core.image_reference import parse_reference
from vibevoice_ci.core.outcome import Outcome
from vibevoice_ci.core.progress import progress
from vibevoice_ci.core.reports import read_report
from vibevoice_ci.core.retry import RetryLog
from vibevoice_ci.smoke.local_service import free_port
from vibevoice_ci.smoke.session import collect_logs, pull_pinned, tear_down
from vibevoice_ci.tools import compose, docker

SERVICE = "tts"
UP_WAIT_SECONDS = 180


@dataclass
class ContainerRecord:
    """What the container run left for the report: notes and the teardown outcome."""

    notes: list[str] = field(default_factory=list)
    teardown: Outcome | None = None


def release_image(release: Path) -> str:
    """The tts image's ``repository@digest`` in a release file (``reports/build/release.json``,
    written by ``nox -s build -- --push``, read as its model: every reference is pinned by
    digest); a file of another shape, or without a tts image, is bad input (exit 2)."""
    document = read_report(release, Release, "release file")
    for image in document.images:
        if image.service == SERVICE:
            return image.reference
    raise UsageError(f"release file {release} lists no {SERVICE} image")


def stack_environment(
    reference: str, *, engine: str, max_concurrency: int, host_port: int
) -> dict[str, str]:
    """The compose variables of a perf run (pure). The agent is not started, but compose reads
    the whole file, so its required variables get values it never uses."""
    return {
        "VIBEVOICE_TTS_IMAGE": reference,
        "VIBEVOICE_TTS_ENGINE": engine,
        "VIBEVOICE_TTS_HOST_PORT": str(host_port),
        "VIBEVOICE_TTS_MAX_CONCURRENCY": str(max_concurrency),
        "VIBEVOICE_AGENT_IMAGE": reference,
        "VIBEVOICE_AGENT_TOKENS": secrets.token_urlsafe(16),
    }


@contextmanager
def running_container(
    config: PipelineConfig,
    reference: str,
    *,
    engine: str,
    max_concurrency: int,
    logs_dir: Path,
    record: ContainerRecord,
) -> Iterator[int]:
    """Start the tts container from ``reference``; yield its port on 127.0.0.1; always keep
    the logs and ``compose down`` (the outcome lands in ``record.teardown``)."""
    parsed = parse_reference(reference)
    compose.version()
    if parsed.digest is not None:
        retries = RetryLog()
        pull_pinned(reference, retries)
        record.notes.append(
            f"image {reference} (pulled, not rebuilt; {len(retries.retries)} pull retries)"
        )
    elif docker.image_exists(reference):
        record.notes.append(f"image {reference} (on this machine)")
    else:
        raise UsageError(
            f"image {reference} is not on this machine: build it (nox -s build) or pin a "
            "pushed digest (repository@sha256:...)"
        )
    env = stack_environment(
        reference, engine=engine, max_concurrency=max_concurrency, host_port=free_port()
    )
    stack = compose.Stack(
        file=config.compose_file,
        project=f"{config.compose_project}-perf",
        env=env,
        services=(SERVICE,),
    )
    try:
        progress(f"docker compose up --wait ({reference}, engine {engine})")
        try:
            compose.up(stack, wait_timeout=UP_WAIT_SECONDS)
        except ToolFailedError:
            raise CheckFailedError(
                f"the tts container did not become healthy within {UP_WAIT_SECONDS} s "
                f"(container logs: {logs_dir / 'compose.log'})"
            ) from None
        address = compose.published_address(stack, SERVICE, config.service(SERVICE).container_port)
        host, _, port = address.rpartition(":")
        if host != "127.0.0.1":
            raise CheckFailedError(f"{SERVICE} is published on {address}, not on 127.0.0.1")
        yield int(port)
    finally:
        try:
            record.notes.extend(collect_logs(stack, logs_dir))
        finally:
            progress("docker compose down")
            record.teardown = tear_down(stack)
