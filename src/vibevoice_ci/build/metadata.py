"""Build metadata in the seed design's schema (pure: the caller supplies the environment)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from vibevoice_ci.core.environment import RunEnvironment
from vibevoice_ci.core.errors import PipelineError, UsageError
from vibevoice_ci.core.image_reference import parse_reference

REQUIRED_FIELDS = (
    "image",
    "digest",
    "platform",
    "git_sha",
    "git_ref",
    "workflow_run_id",
    "build_timestamp",
    "builder",
)
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_SHA = re.compile(r"[0-9a-f]{40}")
_PLATFORM = re.compile(r"[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?")
_UTC_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def build_metadata(
    *,
    image: str,
    digest: str,
    platform: str,
    git_sha: str,
    git_ref: str,
    run: RunEnvironment,
    built_at: datetime,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The metadata record for one built image.

    ``workflow_run_id``, ``builder`` and ``git_ref`` come from GitHub Actions' variables when
    they are set (``run``: ``GITHUB_RUN_ID``, ``GITHUB_ACTIONS``, ``GITHUB_REF``); a local build
    says ``local`` for the first two, so every field is always present. ``digest`` is the
    registry's manifest digest after a push, or the image ID before one (``digest_kind`` says
    which).
    """
    in_actions = run.github_actions
    document: dict[str, Any] = {
        "image": image,
        "digest": digest,
        "platform": platform,
        "git_sha": git_sha,
        "git_ref": run.git_ref or git_ref,
        "workflow_run_id": (run.github_run_id or "local") if in_actions else "local",
        "build_timestamp": built_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "builder": "github-actions" if in_actions else "local",
    }
    for key, value in (extra or {}).items():
        document.setdefault(key, value)
    return document


def metadata_problems(document: Mapping[str, Any]) -> list[str]:
    """Every way ``document`` falls short of the schema; empty when it is valid."""
    problems = [f"missing {field}" for field in REQUIRED_FIELDS if not document.get(field)]
    if problems:
        return problems
    if not _DIGEST.fullmatch(str(document["digest"])):
        problems.append(f"digest {document['digest']!r} is not sha256:<64 hex>")
    if not _SHA.fullmatch(str(document["git_sha"])):
        problems.append(f"git_sha {document['git_sha']!r} is not a 40-hex commit")
    if not _PLATFORM.fullmatch(str(document["platform"])):
        problems.append(f"platform {document['platform']!r} is not os/arch[/variant]")
    if not _valid_utc_timestamp(str(document["build_timestamp"])):
        problems.append(f"build_timestamp {document['build_timestamp']!r} is not UTC ISO 8601")
    try:
        parse_reference(str(document["image"]))
    except PipelineError as exc:
        problems.append(str(exc))
    return problems


def generate(
    *,
    image: str,
    digest: str,
    platforms: Sequence[str],
    run: RunEnvironment,
    git_sha: str | None,
    git_ref: str | None,
    built_at: datetime,
) -> list[dict[str, Any]]:
    """One metadata record per platform of a pushed image (``scripts/generate_build_metadata.py``).

    ``git_sha``/``git_ref`` are the checkout's (None where there is no git); GitHub's
    ``GITHUB_SHA``/``GITHUB_REF`` in ``run`` win. A value that is missing or malformed is a
    one-line ``UsageError`` (exit 2), never an empty field.
    """
    sha = run.github_sha or git_sha
    ref = run.git_ref or git_ref
    if not sha:
        raise UsageError("no git SHA: set GITHUB_SHA or run inside a git checkout")
    if not ref:
        raise UsageError("no git ref: set GITHUB_REF or run inside a git checkout")
    if run.github_actions and not run.github_run_id:
        raise UsageError("GITHUB_ACTIONS is true but GITHUB_RUN_ID is not set")
    if not platforms:
        raise UsageError("no platform given (--platform os/arch, repeatable)")
    records = []
    for platform in platforms:
        record = build_metadata(
            image=image,
            digest=digest,
            platform=platform,
            git_sha=sha,
            git_ref=ref,
            run=run,
            built_at=built_at,
        )
        problems = metadata_problems(record)
        if problems:
            raise UsageError(f"build metadata for {image} {platform}: {'; '.join(problems)}")
        records.append(record)
    return records


def _valid_utc_timestamp(text: str) -> bool:
    """``YYYY-MM-DDTHH:MM:SSZ`` with every field two digits (four for the year) and real."""
    if not _UTC_TIMESTAMP.fullmatch(text):
        return False
    try:
        datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return False
    return True
