"""Build metadata in the seed design's schema (pure: the caller supplies the environment)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from vibevoice_ci.build.reports import UTC_TIMESTAMP_FORMAT, BuildMetadata
from vibevoice_ci.core.environment import RunEnvironment
from vibevoice_ci.core.errors import UsageError

REQUIRED_FIELDS = tuple(BuildMetadata.model_fields)
# What a malformed value of a field is not; the model's patterns say what it must be.
_EXPECTED = {
    "digest": "is not sha256:<64 hex>",
    "git_sha": "is not a 40-hex commit",
    "platform": "is not os/arch[/variant]",
    "build_timestamp": "is not UTC ISO 8601",
}
_REPORTED_ORDER = (*_EXPECTED, *(field for field in REQUIRED_FIELDS if field not in _EXPECTED))


def build_metadata(
    *,
    image: str,
    digest: str,
    platform: str,
    git_sha: str,
    git_ref: str,
    run: RunEnvironment,
    built_at: datetime,
) -> dict[str, Any]:
    """The seed design's metadata record for one built image (:class:`BuildMetadata`'s fields).

    ``workflow_run_id``, ``builder`` and ``git_ref`` come from GitHub Actions' variables when
    they are set (``run``: ``GITHUB_RUN_ID``, ``GITHUB_ACTIONS``, ``GITHUB_REF``); a local build
    says ``local`` for the first two, so every field is always present. ``digest`` is the
    registry's manifest digest after a push, or the image ID before one. The builds add their
    own fields to it (``build.reports``: ``NativeBuildRecord``, ``ReleaseBuildRecord``).
    """
    in_actions = run.github_actions
    return {
        "image": image,
        "digest": digest,
        "platform": platform,
        "git_sha": git_sha,
        "git_ref": run.git_ref or git_ref,
        "workflow_run_id": (run.github_run_id or "local") if in_actions else "local",
        "build_timestamp": built_at.astimezone(UTC).strftime(UTC_TIMESTAMP_FORMAT),
        "builder": "github-actions" if in_actions else "local",
    }


def metadata_problems(document: Mapping[str, Any]) -> list[str]:
    """Every way ``document``'s seed-design fields fall short of :class:`BuildMetadata`; empty
    when they are valid. Missing (or empty) fields are reported alone, in the schema's order;
    else each malformed value, one line each. Other keys are the builds' own: not looked at."""
    seed = {field: document[field] for field in REQUIRED_FIELDS if field in document}
    try:
        BuildMetadata.model_validate(seed)
    except ValidationError as exc:
        errors = {str(error["loc"][0]): error for error in exc.errors(include_url=False)}
    else:
        return []
    missing = [f"missing {field}" for field in REQUIRED_FIELDS if not seed.get(field)]
    if missing:
        return missing
    return [_problem(field, errors[field]) for field in _REPORTED_ORDER if field in errors]


def _problem(field: str, error: ErrorDetails) -> str:
    value = error["input"]
    if field in _EXPECTED and error["type"] in ("string_pattern_mismatch", "value_error"):
        return f"{field} {value!r} {_EXPECTED[field]}"
    if error["type"] == "value_error":  # the image reference: parse_reference's own message
        return str(error.get("ctx", {}).get("error", error["msg"]))
    return f"{field} {value!r}: {error['msg']}"


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
