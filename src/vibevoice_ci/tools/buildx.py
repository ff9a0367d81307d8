"""docker buildx: multi-platform builds through a BuildKit daemon (the ``remote`` driver)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from vibevoice_ci.core.errors import ToolFailedError, ToolMissingError
from vibevoice_ci.tools._exec import ToolResult, run_tool
from vibevoice_ci.tools.docker import docker

INSTALL_HINT = (
    "build the buildx CLI plugin from the Go module proxy: bash scripts/ci/install-tools.sh"
)
_STEP = re.compile(r"^#(?P<id>\d+) (?P<title>.*)$", re.MULTILINE)
_ERROR_STEP = re.compile(r"^#(?P<id>\d+) ERROR: (?P<error>.*)$", re.MULTILINE)
_FINAL_ERROR = re.compile(r"^ERROR: (?P<error>.*)$", re.MULTILINE)


@dataclass(frozen=True)
class BuildOutput:
    """What a finished ``buildx build`` reported: its full log and its metadata file."""

    log: str
    index_digest: str


def version() -> str:
    """``docker buildx version``; a missing plugin is a ``ToolMissingError``."""
    result = run_tool([docker(), "buildx", "version"], check=False, timeout=60)
    if not result.ok:
        raise ToolMissingError(f"docker buildx is not available: {INSTALL_HINT}")
    return result.stdout.strip()


@contextmanager
def remote_builder(name: str, address: str) -> Iterator[str]:
    """A buildx builder (remote driver) on ``address`` for the duration; always removed."""
    binary = docker()
    run_tool([binary, "buildx", "rm", name], check=False, timeout=60)
    run_tool(
        [binary, "buildx", "create", "--name", name, "--driver", "remote", address], timeout=60
    )
    try:
        yield name
    finally:
        run_tool([binary, "buildx", "rm", name], check=False, timeout=60)


def build_argv(
    binary: str,
    *,
    builder: str,
    context: Path,
    dockerfile: Path,
    platforms: Sequence[str],
    tags: Sequence[str],
    build_args: Mapping[str, str],
    labels: Mapping[str, str],
    index_annotations: Mapping[str, str],
    metadata_file: Path,
    push: bool,
    cache: Sequence[str] = (),
) -> list[str]:
    """``docker buildx build`` of one image for ``platforms`` (pure).

    With ``push`` the image index goes to the registry; without, the build only checks
    (and fills the cache). Labels go on every image's config, ``index_annotations`` on the
    index. No provenance or SBOM attestations from BuildKit itself: their scanner image is
    not available offline, and the SBOMs come from syft (``build/release.py``).
    """
    argv = [binary, "buildx", "build", "--builder", builder, "--progress", "plain"]
    argv += ["--file", str(dockerfile), "--platform", ",".join(platforms)]
    for tag in tags:
        argv += ["--tag", tag]
    for key, value in sorted(build_args.items()):
        argv += ["--build-arg", f"{key}={value}"]
    for key, value in sorted(labels.items()):
        argv += ["--label", f"{key}={value}"]
    for key, value in sorted(index_annotations.items()):
        argv += ["--annotation", f"index:{key}={value}"]
    argv += ["--provenance=false", "--sbom=false", "--metadata-file", str(metadata_file)]
    argv += ["--output", f"type=image,oci-mediatypes=true,push={'true' if push else 'false'}"]
    argv += cache
    argv.append(str(context))
    return argv


def cache_argv(mode: str, scope: str) -> list[str]:
    """``--cache-from``/``--cache-to`` for BuildKit's GitHub Actions cache backend (pure).

    ``gha`` restores and saves the layers of ``scope`` (one per image, so services never
    evict each other); ``gha-write`` only saves them (``mode=max``: every stage's layers, so
    the dependency stage is reused too); ``off`` adds nothing. Saving ignores errors: a cache
    service that fails must not fail a build. buildx takes the service's URL and token from
    ``$ACTIONS_CACHE_URL``/``$ACTIONS_RESULTS_URL`` and ``$ACTIONS_RUNTIME_TOKEN``.
    """
    if mode == "off":
        return []
    if mode not in ("gha", "gha-write"):
        raise ValueError(f"unknown build cache mode {mode!r}")
    if not scope or any(c in scope for c in ",= \t\n"):
        raise ValueError(f"cache scope {scope!r} must be one word without ',' or '='")
    save = ["--cache-to", f"type=gha,scope={scope},mode=max,ignore-error=true"]
    restore = ["--cache-from", f"type=gha,scope={scope}"] if mode == "gha" else []
    return [*restore, *save]


def build(argv: Sequence[str], *, metadata_file: Path) -> BuildOutput:
    """Run a ``build_argv`` command; return its log and the index digest it reported.

    A failed build is a ``ToolFailedError`` whose message quotes the failing step.
    """
    result = run_tool(argv, check=False, timeout=5400)
    log = result.stdout + result.stderr
    if not result.ok:
        raise BuildFailedError(failure_summary(result), log)
    try:
        document = json.loads(metadata_file.read_text(encoding="utf-8"))
        digest = str(document["containerimage.digest"])
    except (OSError, ValueError, KeyError) as exc:
        raise BuildFailedError(f"buildx wrote no image digest ({exc})", log) from None
    return BuildOutput(log, digest)


class BuildFailedError(ToolFailedError):
    """A ``buildx build`` that failed; ``log`` holds its full output."""

    def __init__(self, message: str, log: str) -> None:
        super().__init__(message)
        self.log = log


def failing_step(log: str) -> str | None:
    """The step a plain-progress BuildKit log failed in, and its error (pure).

    ``#12 [deps 4/4] RUN pip install ...`` then ``#12 ERROR: process ... exit code: 1`` gives
    ``[deps 4/4] RUN pip install ...: process ... exit code: 1``.
    """
    titles: dict[str, str] = {}
    for match in _STEP.finditer(log):
        titles.setdefault(match.group("id"), match.group("title").strip())
    errors = list(_ERROR_STEP.finditer(log))
    if errors:
        last = errors[-1]
        title = titles.get(last.group("id"), f"step #{last.group('id')}")
        return f"{title}: {last.group('error')}"
    final = list(_FINAL_ERROR.finditer(log))
    return final[-1].group("error") if final else None


def failure_summary(result: ToolResult) -> str:
    step = failing_step(result.stdout + result.stderr)
    return f"docker buildx build exited {result.returncode}" + (
        f" in {step}" if step else " (no failing step in its log)"
    )
