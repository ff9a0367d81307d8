"""The sign session's document: ``sign.json`` (:class:`SignReport`).

Written on every path by ``sign/session.py``; read generically by ``report`` and ``notify``.
Its inputs are the build's ``release.json`` and ``build-metadata.json``
(``build.reports``). The in-toto statements and SLSA predicates it writes under
``provenance/`` are in-toto's and SLSA's formats (``sign/provenance.py`` builds and checks
them), not documents of this project.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic.config import JsonDict
from pydantic.json_schema import SkipJsonSchema

from vibevoice_ci.core.outcome import Status
from vibevoice_ci.core.reports import Check, ReportModel
from vibevoice_ci.promote.reports import RequiredTests


def _absent_when_none(value: object) -> bool:
    return value is None


def _no_default(schema: JsonDict) -> None:
    schema.pop("default", None)


class SignedPlatform(ReportModel):
    """One platform manifest of a signed image."""

    platform: str
    reference: str = Field(description="repository@digest of the platform manifest")


class SignedImage(ReportModel):
    """One released image the session signed and attested (or only verified)."""

    service: str
    reference: str = Field(description="repository@digest of the image index")
    # Absent (never null) when no provenance could be made; the failed check says why.
    provenance: str | SkipJsonSchema[None] = Field(
        default=None,
        exclude_if=_absent_when_none,
        json_schema_extra=_no_default,
        description="the provenance statement, relative to the sign report folder; absent "
        "when none could be made",
    )
    platforms: list[SignedPlatform]


class SignReport(ReportModel):
    """``sign.json``: every signature, provenance and SBOM check per image digest."""

    status: Status = Field(description="every check's verdict")
    mode: Literal["key", "keyless"]
    verify_only: bool
    release_file: str
    cosign_version: str | None = Field(description="null: cosign was not reached")
    public_key: str | None = Field(
        description="the published public key's file name (key mode); null: none"
    )
    tests: RequiredTests | None = Field(
        default=None,
        description="the tests gate (the commit's CI test run, as for promote); null: not "
        "reached (bad options or release documents) or --verify-only (nothing signed); absent "
        "from documents written before the gate existed",
    )
    images: list[SignedImage]
    checks: list[Check]
    notes: list[str]


SCHEMAS = {"sign.schema.json": SignReport}
