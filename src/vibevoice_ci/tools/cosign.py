"""cosign (Sigstore): sign images, attach in-toto attestations, verify both.

Two ways to sign (docs/ci-cd.md, "Signing and provenance"):

- **key**: a key pair made by ``cosign generate-key-pair`` (its password from
  ``$COSIGN_PASSWORD``, read by config, else empty); no transparency log (``--tlog-upload=false``
  to sign, ``--insecure-ignore-tlog=true`` to verify), which is what a machine without Sigstore's
  services can do;
- **keyless**: a short-lived certificate for the workflow's OIDC identity (GitHub's
  ``id-token: write``), logged in Rekor; verification names the identity and issuer it expects.

Argument lists and output parsers are pure; the runs go through ``_exec.run_tool``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vibevoice_ci.core.errors import ToolFailedError
from vibevoice_ci.tools._exec import ToolResult, find_tool, require_version, run_tool
from vibevoice_ci.tools._output import json_list, json_object
from vibevoice_ci.tools.crane import plain_http

INSTALL_HINT = (
    "build it from the Go module proxy: bash scripts/ci/install-go-tools.sh cosign "
    "(go install github.com/sigstore/cosign/v2/cmd/cosign@v<version>)"
)
SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1"
# cosign's --type for the predicates the sign session attaches, and the predicate type URI
# each becomes in the in-toto statement. The provenance goes by its URI, which cosign attaches
# byte for byte: its `slsaprovenance1` name parses the predicate into a Go struct and writes
# `invocationID` back where SLSA v1 says `invocationId` (seen with cosign 2.6.5).
PREDICATE_TYPES: Mapping[str, str] = {
    SLSA_PROVENANCE_V1: SLSA_PROVENANCE_V1,
    "spdxjson": "https://spdx.dev/Document",
}
IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_VERSION = re.compile(r"v?(\d+\.\d+\.\d+)")
# A signature or attestation operation on one image takes seconds; a registry that hangs
# must not hang the session.
TIMEOUT_SECONDS = 300.0


@dataclass(frozen=True)
class KeyPair:
    """Sign with a private key, verify with its public key; no transparency log."""

    private_key: Path
    public_key: Path


@dataclass(frozen=True)
class Keyless:
    """Sign with the workflow's OIDC identity; verify that the certificate names
    ``identity``, issued by ``issuer``."""

    identity: str
    issuer: str


SigningMode = KeyPair | Keyless


@dataclass(frozen=True)
class VerifiedSignature:
    """One verified signature's simple-signing payload (what ``cosign verify`` prints)."""

    docker_manifest_digest: str
    docker_reference: str
    # Keyless only: the certificate's subject (the workflow identity) and OIDC issuer.
    certificate_subject: str | None = None
    certificate_issuer: str | None = None


@dataclass(frozen=True)
class Statement:
    """One verified attestation: the in-toto statement inside its DSSE envelope."""

    predicate_type: str
    subject_digests: tuple[str, ...]  # sha256:<hex> of every subject
    predicate: Mapping[str, Any]
    raw: Mapping[str, Any]


def cosign() -> str:
    return find_tool("cosign", INSTALL_HINT, env_override="VIBEVOICE_COSIGN")


# --- version -------------------------------------------------------------------------------


def version_argv(binary: str) -> list[str]:
    return [binary, "version", "--json"]


def parse_version(output: str) -> str:
    """The release ``cosign version --json`` reports, e.g. ``2.6.5`` (pure)."""
    try:
        document = json.loads(output)
    except ValueError:
        document = None
    text = str(document.get("gitVersion", "")) if isinstance(document, dict) else ""
    found = _VERSION.match(text.strip())
    if found is None:
        raise ToolFailedError(f"cosign version printed no release version: {output.strip()[:80]!r}")
    return found.group(1)


def check_version(binary: str, expected: str) -> str:
    """The installed version; a different one than ``expected`` is a ``ToolMissingError``."""
    found = parse_version(run_tool(version_argv(binary), timeout=60).stdout)
    return require_version("cosign", found, expected, INSTALL_HINT, binary=binary)


# --- argument lists (pure) -------------------------------------------------------------------


def generate_key_pair_argv(binary: str, prefix: Path) -> list[str]:
    """``cosign generate-key-pair``: writes ``<prefix>.key`` and ``<prefix>.pub``."""
    return [binary, "generate-key-pair", "--output-key-prefix", str(prefix)]


def _registry_flags(reference: str) -> list[str]:
    return ["--allow-insecure-registry"] if plain_http(reference) else []


def _signing_flags(mode: SigningMode) -> list[str]:
    if isinstance(mode, KeyPair):
        return ["--key", str(mode.private_key), "--tlog-upload=false"]
    return []


def _verifying_flags(mode: SigningMode) -> list[str]:
    if isinstance(mode, KeyPair):
        return ["--key", str(mode.public_key), "--insecure-ignore-tlog=true"]
    return [
        "--certificate-identity",
        mode.identity,
        "--certificate-oidc-issuer",
        mode.issuer,
    ]


def _by_digest(reference: str) -> str:
    if "@" not in reference or not _DIGEST.fullmatch(reference.rpartition("@")[2]):
        raise ValueError(f"{reference!r}: sign and verify by digest (repository@sha256:...)")
    return reference


def sign_argv(binary: str, reference: str, mode: SigningMode, *, recursive: bool) -> list[str]:
    """``cosign sign`` of ``reference`` (by digest); ``recursive``: an index and each of its
    platform manifests."""
    return [
        binary,
        "sign",
        "--yes",
        *_signing_flags(mode),
        *_registry_flags(reference),
        *(["--recursive"] if recursive else []),
        _by_digest(reference),
    ]


def attest_argv(
    binary: str, reference: str, mode: SigningMode, *, predicate: Path, predicate_type: str
) -> list[str]:
    """``cosign attest``: wrap ``predicate`` in an in-toto statement whose subject is
    ``reference``'s digest, sign it, attach it; ``--replace`` drops an earlier attestation of
    the same type (a rerun does not pile them up)."""
    if predicate_type not in PREDICATE_TYPES:
        raise ValueError(f"predicate type {predicate_type!r}: one of {', '.join(PREDICATE_TYPES)}")
    return [
        binary,
        "attest",
        "--yes",
        "--replace",
        "--type",
        predicate_type,
        "--predicate",
        str(predicate),
        *_signing_flags(mode),
        *_registry_flags(reference),
        _by_digest(reference),
    ]


def verify_argv(binary: str, reference: str, mode: SigningMode) -> list[str]:
    """``cosign verify``: the verified payloads as JSON on stdout."""
    return [
        binary,
        "verify",
        *_verifying_flags(mode),
        *_registry_flags(reference),
        "--output",
        "json",
        _by_digest(reference),
    ]


def verify_attestation_argv(
    binary: str, reference: str, mode: SigningMode, *, predicate_type: str
) -> list[str]:
    """``cosign verify-attestation --type``: each verified envelope as one JSON line."""
    if predicate_type not in PREDICATE_TYPES:
        raise ValueError(f"predicate type {predicate_type!r}: one of {', '.join(PREDICATE_TYPES)}")
    return [
        binary,
        "verify-attestation",
        "--type",
        predicate_type,
        *_verifying_flags(mode),
        *_registry_flags(reference),
        "--output",
        "json",
        _by_digest(reference),
    ]


def run_env(password: str | None) -> dict[str, str]:
    """cosign's settings for a run (pure): the key's password (empty when none), so cosign
    never prompts for it."""
    return {"COSIGN_PASSWORD": password or ""}


# --- output parsers (pure) -------------------------------------------------------------------


def parse_verified_signatures(output: str) -> list[VerifiedSignature]:
    """``cosign verify --output json``'s payloads; anything else is a ``ToolFailedError``."""
    document = json_list(output, "cosign verify")
    if not document:
        raise ToolFailedError("cosign verify printed no verified signature")
    found = []
    for item in document:
        critical = item.get("critical") if isinstance(item, dict) else None
        if not isinstance(critical, dict):
            raise ToolFailedError("cosign verify: a payload has no 'critical' section")
        image = critical.get("image") or {}
        identity = critical.get("identity") or {}
        optional = item.get("optional") or {}
        if not isinstance(optional, dict):
            optional = {}
        found.append(
            VerifiedSignature(
                docker_manifest_digest=str(image.get("docker-manifest-digest", "")),
                docker_reference=str(identity.get("docker-reference", "")),
                certificate_subject=_optional_str(optional, "Subject"),
                certificate_issuer=_optional_str(optional, "Issuer"),
            )
        )
    return found


def _optional_str(section: Mapping[str, Any], key: str) -> str | None:
    value = section.get(key)
    return str(value) if value else None


def parse_statement(envelope: Mapping[str, Any]) -> Statement:
    """The in-toto statement inside one DSSE envelope (pure)."""
    if envelope.get("payloadType") != IN_TOTO_PAYLOAD_TYPE:
        raise ToolFailedError(f"attestation payloadType {envelope.get('payloadType')!r}")
    try:
        payload = base64.b64decode(str(envelope.get("payload", "")), validate=True)
    except binascii.Error as exc:
        raise ToolFailedError(f"attestation payload is not base64: {exc}") from None
    statement = json_object(payload, "attestation payload")
    subjects = statement.get("subject")
    if not isinstance(subjects, list):
        raise ToolFailedError("attestation statement has no subject list")
    digests = []
    for subject in subjects:
        digest = subject.get("digest") if isinstance(subject, dict) else None
        if isinstance(digest, dict) and "sha256" in digest:
            digests.append(f"sha256:{digest['sha256']}")
    predicate = statement.get("predicate")
    return Statement(
        predicate_type=str(statement.get("predicateType", "")),
        subject_digests=tuple(digests),
        predicate=predicate if isinstance(predicate, dict) else {},
        raw=statement,
    )


def parse_verified_attestations(output: str) -> list[Statement]:
    """``cosign verify-attestation --output json``: one DSSE envelope per line (pure)."""
    statements = []
    for line in output.splitlines():
        if not line.strip():
            continue
        statements.append(parse_statement(json_object(line, "cosign verify-attestation")))
    if not statements:
        raise ToolFailedError("cosign verify-attestation printed no verified attestation")
    return statements


# --- runs ------------------------------------------------------------------------------------


def run(argv: Sequence[str], *, password: str | None, check: bool = True) -> ToolResult:
    """Run one cosign command with :func:`run_env`."""
    return run_tool(argv, env=run_env(password), check=check, timeout=TIMEOUT_SECONDS)


def generate_key_pair(binary: str, prefix: Path, *, password: str | None) -> KeyPair:
    """A new key pair at ``<prefix>.key`` / ``<prefix>.pub``, the key encrypted with
    ``password`` (empty: none)."""
    run(generate_key_pair_argv(binary, prefix), password=password)
    pair = KeyPair(Path(f"{prefix}.key"), Path(f"{prefix}.pub"))
    for path in (pair.private_key, pair.public_key):
        if not path.is_file():
            raise ToolFailedError(f"cosign generate-key-pair did not write {path}")
    return pair
