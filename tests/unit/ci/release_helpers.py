"""release.json documents for the tests of its readers (smoke, promote, sign, trivy, perf),
built through the model the release build writes with, so they always have its shape."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from vibevoice_ci.build.reports import Release, ReleaseImage, ReleasePlatform
from vibevoice_ci.core.reports import write_report

REGISTRY = "127.0.0.1:5000/v"
INDEX = "sha256:" + "1" * 64
PLATFORM_DIGESTS = {"linux/amd64": "sha256:" + "2" * 64, "linux/arm64": "sha256:" + "3" * 64}
REFERRER = "sha256:" + "f" * 64


def released_image(
    service: str = "tts",
    *,
    digest: str = INDEX,
    repository: str | None = None,
    platforms: dict[str, str] | None = None,
    promote_tags: Sequence[str] = (),
) -> ReleaseImage:
    """One service's entry as the release build writes it."""
    repository = repository or f"{REGISTRY}/vibevoice-{service}"
    platforms = PLATFORM_DIGESTS if platforms is None else platforms
    return ReleaseImage(
        service=service,
        repository=repository,
        tag="0123456789ab",
        digest=digest,
        reference=f"{repository}@{digest}",
        platforms=[
            ReleasePlatform(
                platform=platform,
                digest=manifest,
                sbom=f"sbom/{service}-{platform.replace('/', '-')}.spdx.json",
                sbom_referrer=REFERRER,
            )
            for platform, manifest in platforms.items()
        ],
        promote_tags=list(promote_tags),
        build_seconds=61.2,
        log=f"logs/{service}.log",
    )


def release(*images: ReleaseImage, status: Literal["pass", "fail"] = "pass") -> Release:
    return Release(
        status=status,
        registry=REGISTRY,
        platforms=sorted({p.platform for image in images for p in image.platforms}),
        images=list(images),
        retries=[],
        notes=[],
    )


def write_release(
    path: Path, *images: ReleaseImage, status: Literal["pass", "fail"] = "pass"
) -> Path:
    write_report(path, release(*images, status=status))
    return path
