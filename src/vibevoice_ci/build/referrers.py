"""OCI referrers: attach an artifact (an SBOM) to an image manifest in a registry.

An artifact is an OCI image manifest with an ``artifactType``, the empty config, one layer
(the document) and a ``subject`` naming the image it describes: what ``cosign attest``,
``oras attach`` and the OCI 1.1 referrers API use. Registries without that API (the Debian
registry, distribution 2.8) get the spec's fallback as well: an index under the tag
``sha256-<hex>`` of the subject, listing its referrers. Every HTTP call is retried on
connection errors, timeouts, 429 and 5xx (``vibevoice_ci.core.retry``).

A registry that asks for credentials (ghcr.io, any token-auth registry) gets those
``docker login`` stored, through its Bearer token challenge (``tools.registry_auth``); a
refusal is one line naming the registry, never retried. Why this client and not ``oras
attach``: the release build restores no cache (a publishing job must not), so oras would be
built from source in every release run; these few calls keep the release record's retry log
(tested against a flaky connection); and they write the referrers tag schema's fallback
index on every registry, with or without the referrers API, without configuration.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from vibevoice_ci.core.errors import PipelineError, ToolFailedError
from vibevoice_ci.core.image_reference import ImageReference
from vibevoice_ci.core.retry import RetryLog, RetryPolicy, is_transient_status, with_retries
from vibevoice_ci.tools.crane import plain_http
from vibevoice_ci.tools.registry_auth import RegistryAuth, TokenServiceError

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
EMPTY_CONFIG = "application/vnd.oci.empty.v1+json"
EMPTY_BLOB = b"{}"


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    artifact_type: str | None = None
    annotations: Mapping[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.size,
        }
        if self.artifact_type:
            document["artifactType"] = self.artifact_type
        if self.annotations:
            document["annotations"] = dict(self.annotations)
        return document


def sha256_digest(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def artifact_manifest(
    *,
    artifact_type: str,
    layer: Descriptor,
    subject: Descriptor,
    annotations: Mapping[str, str],
) -> bytes:
    """The canonical bytes of an artifact manifest for ``layer`` about ``subject`` (pure)."""
    document = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": Descriptor(EMPTY_CONFIG, sha256_digest(EMPTY_BLOB), len(EMPTY_BLOB)).to_json(),
        "layers": [layer.to_json()],
        "subject": subject.to_json(),
        "annotations": dict(annotations),
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def fallback_tag(subject_digest: str) -> str:
    """The referrers tag schema's tag for a subject: ``sha256-<hex>`` (pure)."""
    algorithm, _, hexdigest = subject_digest.partition(":")
    return f"{algorithm}-{hexdigest}"


def with_referrer(index: Mapping[str, Any] | None, referrer: Descriptor) -> bytes:
    """The fallback index with ``referrer`` added once (pure)."""
    manifests = [
        m for m in (index or {}).get("manifests", []) if m.get("digest") != referrer.digest
    ]
    manifests.append(referrer.to_json())
    document = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


class RegistryClient:
    """The few OCI distribution calls attaching a referrer needs, with retries."""

    def __init__(
        self,
        registry: str,
        *,
        log: RetryLog,
        policy: RetryPolicy | None = None,
        docker_config: Path | None = None,
        auth: httpx.Auth | None = None,
    ) -> None:
        scheme = "http" if plain_http(registry + "/x") else "https"
        self.base = f"{scheme}://{registry}"
        self.log = log
        self.policy = policy or RetryPolicy()
        self.client = httpx.Client(
            timeout=60.0,
            trust_env=not plain_http(registry + "/x"),
            auth=auth or RegistryAuth(registry, docker_config=docker_config),
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(
        self, what: str, method: str, url: str, *, ok: tuple[int, ...], **kwargs: Any
    ) -> httpx.Response:
        def attempt() -> httpx.Response:
            try:
                response = self.client.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                raise _TransientHttpError(f"{what}: {type(exc).__name__}: {exc}") from None
            except TokenServiceError as exc:
                if is_transient_status(exc.status):
                    raise _TransientHttpError(f"{what}: {exc}") from None
                raise
            if response.status_code in ok:
                return response
            message = f"{what}: HTTP {response.status_code} {response.text[:200]!r}"
            if is_transient_status(response.status_code):
                raise _TransientHttpError(message)
            raise ToolFailedError(message)

        return with_retries(
            what,
            attempt,
            log=self.log,
            policy=self.policy,
            transient=lambda exc: isinstance(exc, _TransientHttpError),
        )

    def blob_exists(self, repository: str, digest: str) -> bool:
        url = f"{self.base}/v2/{repository}/blobs/{digest}"
        response = self._request(f"HEAD blob {digest[:19]}", "HEAD", url, ok=(200, 404))
        return response.status_code == 200

    def put_blob(self, repository: str, data: bytes) -> Descriptor:
        digest = sha256_digest(data)
        if not self.blob_exists(repository, digest):
            start = self._request(
                "start blob upload",
                "POST",
                f"{self.base}/v2/{repository}/blobs/uploads/",
                ok=(202,),
            )
            location = start.headers["location"]
            # The upload URL carries the registry's state in its query: add to it, not replace.
            url = httpx.URL(location if "://" in location else f"{self.base}{location}")
            self._request(
                f"upload blob {digest[:19]}",
                "PUT",
                str(url.copy_merge_params({"digest": digest})),
                ok=(201,),
                content=data,
                headers={"Content-Type": "application/octet-stream"},
            )
        return Descriptor("application/octet-stream", digest, len(data))

    def put_manifest(self, repository: str, reference: str, data: bytes, media_type: str) -> str:
        self._request(
            f"PUT manifest {repository}:{reference[:19]}",
            "PUT",
            f"{self.base}/v2/{repository}/manifests/{reference}",
            ok=(201,),
            content=data,
            headers={"Content-Type": media_type},
        )
        return sha256_digest(data)

    def get_index(self, repository: str, reference: str) -> dict[str, Any] | None:
        response = self._request(
            f"GET {repository}:{reference[:19]}",
            "GET",
            f"{self.base}/v2/{repository}/manifests/{reference}",
            ok=(200, 404),
            headers={"Accept": OCI_INDEX},
        )
        if response.status_code == 404:
            return None
        document = response.json()
        return document if isinstance(document, dict) else None

    def referrers(self, repository: str, subject_digest: str) -> list[dict[str, Any]]:
        """The referrers of a manifest: the referrers API where the registry has it, else
        the fallback tag."""
        response = self._request(
            "GET referrers",
            "GET",
            f"{self.base}/v2/{repository}/referrers/{subject_digest}",
            ok=(200, 404),
        )
        if response.status_code == 200 and response.headers.get("content-type", "").startswith(
            OCI_INDEX
        ):
            return list(response.json().get("manifests", []))
        index = self.get_index(repository, fallback_tag(subject_digest))
        return list((index or {}).get("manifests", []))


class _TransientHttpError(PipelineError):
    """A connection error, timeout, 429 or 5xx: worth another attempt."""


def attach(
    client: RegistryClient,
    image: ImageReference,
    *,
    subject: Descriptor,
    document: bytes,
    artifact_type: str,
    title: str,
    created: str,
) -> str:
    """Push ``document`` as an artifact about ``subject`` in ``image``'s repository; return
    the artifact manifest's digest."""
    repository = image.repository
    client.put_blob(repository, EMPTY_BLOB)
    blob = client.put_blob(repository, document)
    layer = Descriptor(
        artifact_type,
        blob.digest,
        blob.size,
        annotations={"org.opencontainers.image.title": title},
    )
    manifest = artifact_manifest(
        artifact_type=artifact_type,
        layer=layer,
        subject=subject,
        annotations={"org.opencontainers.image.created": created},
    )
    digest = client.put_manifest(repository, sha256_digest(manifest), manifest, OCI_MANIFEST)
    referrer = Descriptor(OCI_MANIFEST, digest, len(manifest), artifact_type=artifact_type)
    tag = fallback_tag(subject.digest)
    index = with_referrer(client.get_index(repository, tag), referrer)
    client.put_manifest(repository, tag, index, OCI_INDEX)
    return digest
