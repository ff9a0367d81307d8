"""A tiny trivy vulnerability database with planted advisories, served from a registry.

Trivy's database can't be downloaded on these machines, so the vulnerability path would never
run. This builds a real one the way Aqua builds theirs: a vuln-list tree (GitHub advisories
in OSV format under ``ghsa/advisories/github-reviewed/``) fed to ``trivy-db build``, packed as
trivy expects (a tar.gz of trivy.db and metadata.json, media type
``application/vnd.aquasec.trivy.db.layer.v1.tar+gzip``) and pushed with oras, so that
``trivy --db-repository <registry>/<repo>:2`` downloads it like the real one. Used by the
integration tests (docs/ci-cd.md, "trivy": the offline database).
"""

from __future__ import annotations

import json
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vibevoice_ci.tools import oras, trivy_db

DB_MEDIA_TYPE = "application/vnd.aquasec.trivy.db.layer.v1.tar+gzip"
DB_ARTIFACT_TYPE = "application/vnd.aquasec.trivy.config.v1+json"
SCHEMA_TAG = "2"  # trivy-db's schema version: the tag trivy 0.76 asks for


@dataclass(frozen=True)
class PlantedAdvisory:
    """A made-up GitHub advisory against one PyPI package, fixed in ``fixed``."""

    ghsa_id: str
    cve_id: str
    package: str
    fixed: str
    severity: str = "CRITICAL"
    summary: str = "Planted advisory (test database)"


def ghsa_record(advisory: PlantedAdvisory) -> dict[str, Any]:
    """The advisory as GitHub's advisory database publishes it (OSV 1.4) (pure)."""
    return {
        "schema_version": "1.4.0",
        "id": advisory.ghsa_id,
        "modified": "2026-11-30T00:00:00Z",
        "published": "2026-11-30T00:00:00Z",
        "aliases": [advisory.cve_id],
        "summary": advisory.summary,
        "details": f"{advisory.summary}: every {advisory.package} before {advisory.fixed}.",
        "severity": [],
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": advisory.package},
                "ranges": [
                    {
                        "type": "ECOSYSTEM",
                        "events": [{"introduced": "0"}, {"fixed": advisory.fixed}],
                    }
                ],
            }
        ],
        "references": [],
        "database_specific": {
            "severity": advisory.severity,
            "cwe_ids": [],
            "github_reviewed": True,
        },
    }


def write_tree(root: Path, advisories: list[PlantedAdvisory]) -> Path:
    """The vuln-list tree trivy-db's ``ghsa`` source reads; returns ``root``."""
    base = root / "ghsa" / "advisories" / "github-reviewed" / "2026" / "11"
    for advisory in advisories:
        folder = base / advisory.ghsa_id
        folder.mkdir(parents=True, exist_ok=True)
        record = json.dumps(ghsa_record(advisory), indent=2)
        (folder / f"{advisory.ghsa_id}.json").write_text(record, encoding="utf-8")
    # The source maps Swift advisories through CocoaPods specs and insists the folder exists.
    (root / "cocoapods-specs" / "Specs").mkdir(parents=True, exist_ok=True)
    return root


def pack(db_dir: Path, archive: Path) -> Path:
    """trivy.db and metadata.json as the tar.gz layer trivy downloads."""
    with tarfile.open(archive, "w:gz") as tar:
        for name in ("trivy.db", "metadata.json"):
            tar.add(db_dir / name, arcname=name)
    return archive


def publish(workdir: Path, advisories: list[PlantedAdvisory], repository: str) -> str:
    """Build the database from ``advisories`` and push it to ``repository`` (tag 2); returns
    the reference to give ``--db-repository``."""
    tree = write_tree(workdir / "vuln-list", advisories)
    db_dir = trivy_db.build(tree, workdir / "db", sources=["ghsa"])
    archive = pack(db_dir, workdir / "db.tar.gz")
    reference = f"{repository}:{SCHEMA_TAG}"
    oras.push(reference, archive, artifact_type=DB_ARTIFACT_TYPE, media_type=DB_MEDIA_TYPE)
    return reference
