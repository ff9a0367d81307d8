"""``nox -s trivy``: scan every pushed image (each platform, by digest) and our configuration.

The flow (docs/ci-cd.md, "trivy"): check the pinned trivy; fetch the vulnerability database
(trivy's own, or ``--db-repository``; when it can't be fetched the vulnerability part is
UNKNOWN and says why); scan each image platform from its registry (vulnerabilities when the
database is there, secrets and misconfigurations always: they need no database); scan the
Dockerfiles and the Helm chart with ``trivy config``; judge (``imagescan.judge``); write
reports/trivy/ (trivy.json, one vulnerability report per image platform in the design's schema,
trivy.sarif, summary.md) on every path, then fail on FAIL, and on UNKNOWN under ``--strict``.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from vibevoice_ci.build.reports import Release
from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.errors import PipelineError, UsageError
from vibevoice_ci.core.files import write_json_atomic
from vibevoice_ci.core.outcome import (
    Status,
    publish_summary,
    render_summary,
    unknown_warning,
    verdict_error,
)
from vibevoice_ci.core.progress import progress
from vibevoice_ci.core.reports import read_report, write_report
from vibevoice_ci.core.vulnerabilities import (
    Unchecked,
    VulnerabilityReport,
    render_findings_markdown,
)
from vibevoice_ci.core.vulnerability_models import VulnerabilityReportDocument
from vibevoice_ci.tools import crane, trivy
from vibevoice_ci.trivy import imagescan
from vibevoice_ci.trivy.imagescan import ConfigScan, ImageScan, ImageTarget, Verdict
from vibevoice_ci.trivy.reports import DatabaseDocument

SESSION = "trivy"
REPORT_FILE = "trivy.json"
SARIF_FILE = "trivy.sarif"
DEFAULT_DB = "trivy's default (mirror.gcr.io/aquasec/trivy-db:2, then ghcr.io)"


def run_trivy(
    config: PipelineConfig,
    *,
    release_file: Path | None = None,
    tag: str = "latest",
    strict: bool = False,
    db_repository: str | None = None,
) -> Verdict:
    """Run the session (see the module docstring); returns the verdict when it did not fail."""
    report_dir = config.report_dir(SESSION)
    release = _release(config, release_file)  # a bad release file is exit 2 before any tool
    binary = trivy.trivy()
    version = trivy.version(binary, expected=config.tools.get("trivy", ""))
    progress(f"trivy {version}")
    targets, source = _targets(config, release, tag)
    repository = config.trivy.db_repository if db_repository is None else db_repository
    cache_dir = db_cache_dir(config.env.cache_root, repository)
    started = time.monotonic()
    reason = trivy.download_db(binary, cache_dir=cache_dir, db_repository=repository)
    database = DatabaseDocument(
        repository=repository or DEFAULT_DB,
        available=reason is None,
        reason=reason or "",
        metadata=trivy.db_metadata(cache_dir) if reason is None else {},
        seconds=round(time.monotonic() - started, 1),
    )
    if reason:
        progress(
            "UNKNOWN: the vulnerability database is unavailable, so no image's packages "
            f"are checked: {reason}"
        )
    images = [_scan_image(binary, target, cache_dir, version, reason) for target in targets]
    configs = [
        _scan_config(config, binary, folder, cache_dir) for folder in config.trivy.config_targets
    ]
    verdict = imagescan.judge(config.trivy, images, configs, today=datetime.now(UTC).date())
    _write_reports(config, report_dir, verdict, images, configs, version, database, strict, source)
    for outcome in verdict.outcomes:
        progress(outcome.line())
    status = verdict.status
    detail = "(reports/trivy/summary.md)"
    if status is Status.FAIL:
        failed = [o.name for o in verdict.outcomes if o.status is Status.FAIL]
        detail = f"{len(failed)} check(s) failed: {', '.join(failed[:5])} {detail}"
    elif status is Status.UNKNOWN:
        parts = [part for part in imagescan.PARTS if verdict.part_status(part) is Status.UNKNOWN]
        detail = f"{', '.join(parts)} could not be decided {detail}"
    # ``strict`` is already the one rule's answer (the command resolves --strict and $CI).
    error = verdict_error(SESSION, status, ci=strict, strict=strict, detail=detail)
    if error is not None:
        raise error
    warning = unknown_warning(SESSION, status)
    if warning is not None:
        progress(f"{warning}: {detail}")
    return verdict


def db_cache_dir(cache_root: Path, repository: str) -> Path:
    """trivy's cache folder for one database source (pure): a test database never lands
    where the real one is looked for."""
    name = "default" if not repository else re.sub(r"[^a-zA-Z0-9]+", "-", repository).strip("-")
    digest = hashlib.sha256(repository.encode()).hexdigest()[:8]
    return cache_root / "trivy" / f"{name[:60]}-{digest}"


def _release(config: PipelineConfig, release_file: Path | None) -> tuple[Release, Path] | None:
    """The release file (``--release``, else the build's when present), read and validated."""
    default = config.report_dir("build") / "release.json"
    path = release_file or (default if default.is_file() else None)
    return None if path is None else (read_report(path, Release, "release file"), path)


def _targets(
    config: PipelineConfig, release: tuple[Release, Path] | None, tag: str
) -> tuple[list[ImageTarget], str]:
    """The image platforms to scan, and where that list came from."""
    if release is not None:
        document, path = release
        return imagescan.targets_from_release(document), f"release file {path}"
    targets = []
    registry = config.registry.rstrip("/").lower()  # image references are lower case
    for service in config.services.values():
        repository = f"{registry}/{service.image}"
        index = crane.digest(f"{repository}:{tag}")
        manifest = crane.manifest(f"{repository}@{index}")
        for entry in crane.index_entries(manifest):
            if entry.platform in config.platforms:
                targets.append(
                    ImageTarget(
                        service.name,
                        entry.platform,
                        f"{repository}@{entry.digest}",
                        f"{repository}@{index}",
                    )
                )
    if not targets:
        raise UsageError(f"no image found with tag {tag} in {config.registry}")
    return targets, f"the :{tag} tags in {config.registry} (no release file)"


def _scan_image(
    binary: str, target: ImageTarget, cache_dir: Path, version: str, db_reason: str | None
) -> ImageScan:
    progress(f"scanning {target.service} {target.platform}: {target.reference}")
    scanners = ["secret", "misconfig"] if db_reason else list(trivy.SCANNERS_IMAGE)
    timestamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    name = f"{target.reference} ({target.platform})"
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="vibevoice-trivy-") as scratch:
        output = Path(scratch) / "scan.json"
        argv = trivy.image_argv(
            binary,
            target.reference,
            platform=target.platform,
            cache_dir=cache_dir,
            output=output,
            scanners=scanners,
        )
        try:
            scan = trivy.run_scan(argv, output)
        except PipelineError as exc:
            empty = VulnerabilityReport("trivy", version, name, timestamp)
            first = str(exc).splitlines()
            return ImageScan(
                target, empty, error=" ".join(first[-2:])[:400], seconds=time.monotonic() - started
            )
    seconds = time.monotonic() - started
    progress(f"scanned {target.service} {target.platform} in {seconds:.1f} s")
    return ImageScan(
        target=target,
        vulnerabilities=image_report(
            scan, name=name, version=version, timestamp=timestamp, db_reason=db_reason
        ),
        secrets=scan.secrets,
        misconfigurations=scan.misconfigurations,
        seconds=seconds,
    )


def image_report(
    scan: trivy.Scan, *, name: str, version: str, timestamp: str, db_reason: str | None
) -> VulnerabilityReport:
    """One image platform's vulnerability report in the design's schema (pure): unchecked,
    with the reason, when there was no database or trivy found no package to check."""
    unchecked: tuple[Unchecked, ...] = ()
    if db_reason:
        unchecked = (Unchecked(name, f"vulnerability database unavailable: {db_reason}"),)
    elif scan.packages == 0:
        unchecked = (Unchecked(name, "trivy found no OS or Python package in the image"),)
    return VulnerabilityReport(
        scanner="trivy",
        scanner_version=version,
        target=name,
        scan_timestamp=timestamp,
        vulnerabilities=() if db_reason else scan.vulnerabilities,
        unchecked=unchecked,
        checked=0 if db_reason else scan.packages,
    )


def _scan_config(config: PipelineConfig, binary: str, folder: Path, cache_dir: Path) -> ConfigScan:
    relative = _relative(folder, config.root)
    progress(f"trivy config {relative}")
    if not folder.is_dir():
        return ConfigScan(relative, (), (), error=f"{relative} is not a folder")
    with tempfile.TemporaryDirectory(prefix="vibevoice-trivy-") as scratch:
        output = Path(scratch) / "config.json"
        try:
            scan = trivy.run_scan(
                trivy.config_argv(
                    binary,
                    folder,
                    cache_dir=cache_dir,
                    output=output,
                    helm_values=config.trivy.helm_values,
                ),
                output,
            )
        except PipelineError as exc:
            return ConfigScan(relative, (), (), error=str(exc).splitlines()[0])
    prefix = relative.rstrip("/") + "/"
    findings = tuple(
        trivy.Misconfiguration(
            id=item.id,
            title=item.title,
            severity=item.severity,
            target=prefix + item.target,
            line=item.line,
            message=item.message,
            resolution=item.resolution,
        )
        for item in scan.misconfigurations
    )
    return ConfigScan(relative, tuple(prefix + name for name in scan.config_files), findings)


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _write_reports(
    config: PipelineConfig,
    report_dir: Path,
    verdict: Verdict,
    images: Sequence[ImageScan],
    configs: Sequence[ConfigScan],
    version: str,
    database: DatabaseDocument,
    strict: bool,
    source: str,
) -> None:
    for scan in images:
        write_report(
            report_dir / "vulnerabilities" / f"{scan.target.slug}.json",
            VulnerabilityReportDocument.of(scan.vulnerabilities),
        )
    write_report(
        report_dir / REPORT_FILE,
        imagescan.document(
            verdict,
            scanner_version=version,
            database=database,
            images=images,
            configs=configs,
            strict=strict,
            source=source,
        ),
    )
    dockerfiles = {
        name: _relative(service.dockerfile, config.root)
        for name, service in config.services.items()
    }
    write_json_atomic(
        report_dir / SARIF_FILE,
        imagescan.sarif(
            verdict, images, min_severity=config.trivy.sarif_min_severity, dockerfiles=dockerfiles
        ),
    )
    publish_summary(report_dir, summary(verdict, images, database, source))


def summary(
    verdict: Verdict, images: Sequence[ImageScan], database: DatabaseDocument, source: str
) -> str:
    """The Markdown summary: one line per part (UNKNOWN loud), the checks, the findings."""
    notes = [f"images from {source}"]
    for part in imagescan.PARTS:
        status = verdict.part_status(part)
        line = f"**{part}: {status.value.upper()}**: {imagescan.part_detail(verdict.parts[part])}"
        notes.append(line)
    if not database.available:
        notes.append(
            f"**The vulnerability database ({database.repository}) could not be fetched: "
            f"no package was checked, so the vulnerability part is UNKNOWN, not clean.** "
            f"{database.reason}"
        )
    else:
        notes.append(
            f"vulnerability database {database.repository} "
            f"(updated {database.metadata.get('UpdatedAt', '?')})"
        )
    timings = ", ".join(f"{scan.target.slug} {scan.seconds:.0f} s" for scan in images)
    if timings:
        notes.append(f"scan times: {timings}")
    text = render_summary("trivy: images, secrets, configuration", verdict.outcomes, notes)
    findings = render_findings_markdown(verdict.vulnerability_gate)
    return text + ("\n" + findings if findings else "")
