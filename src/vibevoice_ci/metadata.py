"""Build metadata in the seed design's schema (pure: the caller supplies the environment)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from vibevoice_ci.config import RunEnvironment

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
    return problems


def _valid_utc_timestamp(text: str) -> bool:
    """``YYYY-MM-DDTHH:MM:SSZ`` with every field two digits (four for the year) and real."""
    if not _UTC_TIMESTAMP.fullmatch(text):
        return False
    try:
        datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return False
    return True
