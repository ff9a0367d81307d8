"""The CRITICAL alert fires from real scans: ``nox -s notify -- security`` on the reports of a
real trivy run and a real audit run, against the stand-in webhook on 127.0.0.1.

Nothing here is a hand-made report. trivy scans an image (made by crane, in a registry on
127.0.0.1) with a real database built by trivy-db from a planted CRITICAL advisory
(trivy_support.py, as test_trivy_session.py); the audit session runs the real pip-audit over
the tts image's pins, its OSV API a replay on 127.0.0.1 (tests/osv_replay.py) serving a
second planted CRITICAL advisory, rated from the record's GitHub severity
(audit/osv.py). Both write their reports as a contributor's run does
(``python -m vibevoice_ci trivy|audit``), each checked against its committed schema; then the
real ``nox`` runs the notify session on them, as ci-security-images and ci-security-deps do.
With the planted advisories absent (the fixed version in the image, no record served) both
scans pass and nothing is posted, said so.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from audit_support import audit_report, run_audit_session
from notify_server import FakeGitHub, running_stand_in
from nox_support import run_nox
from release_support import running_registry
from trivy_support import (
    PLANTED_CVE,
    REPO_ROOT,
    pinned_version,
    plant_database,
    push_image,
    python_image_files,
    run_session,
    write_release,
)

from osv_replay import running_osv
from vibevoice_ci.trivy import planted_db

# One worker for the module: its registry, images, database and nox venv serve both tests.
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("security-alert")]

STARLETTE = pinned_version("starlette", REPO_ROOT / "infra/docker/requirements/tts.txt")
FIXED = "99.0.0"  # the planted advisories' fixed version (trivy_support.plant_database's too)
AUDIT_ADVISORY = planted_db.PlantedAdvisory(
    "GHSA-vibe-audi-test", "CVE-2099-4343", "starlette", FIXED, severity="CRITICAL"
)
NOTIFY_SCHEMA = json.loads(
    (REPO_ROOT / "src" / "vibevoice_ci" / "notify" / "notify.schema.json").read_text()
)
TOKEN = "ghs_TOKENVALUE1234567890secret"  # noqa: S105 (a test value)
HOOK_PATH = "/services/T000/B000/HOOKSECRETxyz987"
SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_registry(tmp_path_factory.mktemp("registry")) as address:
        yield address


@pytest.fixture(scope="module")
def trivy_db(registry: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The planted database: starlette before 99.0.0 has a CRITICAL advisory."""
    return plant_database(registry, "starlette", tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="module")
def vulnerable_image(registry: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The tts image's starlette pin, which the planted advisory affects."""
    files = python_image_files("starlette", STARLETTE, secret=False)
    return push_image(registry, "vibevoice/vulnerable", files, tmp_path_factory.mktemp("vuln"))


@pytest.fixture(scope="module")
def fixed_image(registry: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """starlette at the planted advisory's fixed version: nothing for trivy to find."""
    files = python_image_files("starlette", FIXED, secret=False)
    return push_image(registry, "vibevoice/fixed", files, tmp_path_factory.mktemp("fixed"))


@pytest.fixture(scope="module")
def nox_envdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """nox's session venvs, made by the first run and reused (``-r``) by the next."""
    return tmp_path_factory.mktemp("nox")


@pytest.fixture
def stand_in() -> Iterator[tuple[str, FakeGitHub]]:
    with running_stand_in(TOKEN, HOOK_PATH) as found:
        yield found


def osv_record(advisory: planted_db.PlantedAdvisory, version: str) -> dict[str, Any]:
    """The advisory as OSV serves it: GitHub's record (the one the trivy database is built
    from), listing the affected version the replay matches a query on.

    Made here, not kept in tests/data/audit/osv/: it must name the version tts.txt pins today
    (as the trivy advisory follows it), and those records belong to the recorded pip-audit
    runs over tests/data/audit/requirements.txt."""
    record = planted_db.ghsa_record(advisory)
    record["affected"][0]["versions"] = [version]
    return record


def scan(
    folder: Path, image: str, db_repository: str, records: Mapping[str, Mapping[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """trivy.json and audit.json of real runs, both under ``folder/reports``."""
    release = write_release(folder / "release.json", "tts", image)
    trivy = run_session(folder, "--release", str(release), "--db-repository", db_repository)
    with running_osv(records) as osv:
        audit = run_audit_session("--target", "tts", osv_url=osv.url, reports=folder / "reports")
    assert any(r.startswith("POST /v1/query") for r in osv.requests), "pip-audit asked nothing"
    expected = 1 if records else 0  # a CRITICAL finding fails each scan
    assert (trivy.returncode, audit.returncode) == (expected, expected), trivy.stderr + audit.stderr
    return trivy.report, audit_report(folder / "reports")


def notify_security(envdir: Path, reports: Path, base: str) -> subprocess.CompletedProcess[str]:
    """``nox -s notify -- security`` in a push to main's environment (no other run's GitHub,
    Slack or pipeline settings, no ``$CI``), its webhook the stand-in."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GITHUB_", "SLACK_", "VIBEVOICE_")) and key != "CI"
    }
    env |= {
        "VIBEVOICE_REPORTS_DIR": str(reports),
        "SLACK_WEBHOOK_URL": base + HOOK_PATH,
        "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_REPOSITORY": "o/r",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_WORKFLOW": "CI security images",
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_SHA": SHA,
    }
    return run_nox(envdir, "-r", "-s", "notify", "--", "security", env=env, inherit=False)


def notify_report(reports: Path) -> dict[str, Any]:
    """reports/notify/notify.json, checked against its committed schema."""
    document: dict[str, Any] = json.loads((reports / "notify" / "notify.json").read_text())
    jsonschema.validate(document, NOTIFY_SCHEMA)
    return document


def test_planted_critical_advisories_in_real_scans_fire_the_alert(
    trivy_db: str,
    vulnerable_image: str,
    nox_envdir: Path,
    stand_in: tuple[str, FakeGitHub],
    tmp_path: Path,
) -> None:
    records = {AUDIT_ADVISORY.ghsa_id: osv_record(AUDIT_ADVISORY, STARLETTE)}
    trivy, audit = scan(tmp_path, vulnerable_image, trivy_db, records)
    # What the scanners wrote, where notify reads it (each schema checked above).
    [image] = trivy["images"]
    [found] = image["vulnerability_report"]["vulnerabilities"]
    scanned = image["vulnerability_report"]["target"]
    assert (found["id"], found["severity"]) == (PLANTED_CVE, "CRITICAL")
    [target] = audit["reports"]
    [advisory] = target["vulnerabilities"]
    audited = target["target"]
    # pip-audit names an OSV record by its CVE alias; the rating came from the GHSA record.
    assert (advisory["id"], advisory["severity"]) == (AUDIT_ADVISORY.cve_id, "CRITICAL")
    assert AUDIT_ADVISORY.ghsa_id in advisory["aliases"]
    assert target["summary"]["critical"] == 1

    base, state = stand_in
    result = notify_security(nox_envdir, tmp_path / "reports", base)
    assert result.returncode == 0, result.stderr
    (post,) = state.webhook_posts()
    lines = post.body["text"].splitlines()
    assert lines[0] == ":rotating_light: 2 CRITICAL vulnerabilities on main at 0123456789ab"
    assert lines[1:] == [
        "- audit: 1 critical, 0 high, 0 medium, 0 low",
        f"  - {AUDIT_ADVISORY.cve_id}: starlette {STARLETTE}, fixed in {FIXED} ({audited})",
        "- trivy: 1 critical, 0 high, 0 medium, 0 low",
        f"  - {PLANTED_CVE}: starlette {STARLETTE}, fixed in {FIXED} ({scanned})",
        "Reports: <https://github.example/o/r/actions/runs/4242#artifacts"
        "|https://github.example/o/r/actions/runs/4242>",
    ]
    document = notify_report(tmp_path / "reports")
    assert document["status"] == "pass"
    assert [(c["name"], c["status"]) for c in document["checks"]] == [("security alert", "pass")]
    shown = result.stdout + result.stderr + json.dumps(document)
    assert "HOOKSECRETxyz987" not in shown


def test_without_the_planted_advisories_nothing_is_sent_and_the_skip_is_said(
    trivy_db: str,
    fixed_image: str,
    nox_envdir: Path,
    stand_in: tuple[str, FakeGitHub],
    tmp_path: Path,
) -> None:
    trivy, audit = scan(tmp_path, fixed_image, trivy_db, {})
    assert trivy["database"]["available"] is True  # the database was read, and found nothing
    assert trivy["parts"]["vulnerabilities"]["status"] == "pass"
    assert audit["status"] == "pass"
    assert audit["checked"] > 10

    base, state = stand_in
    result = notify_security(nox_envdir, tmp_path / "reports", base)
    assert result.returncode == 0, result.stderr
    assert state.webhook_posts() == []
    # nox shows the session's own output on its stdout, its own lines on its stderr.
    assert "security alert: skipped, no CRITICAL finding in audit, trivy" in result.stdout
    document = notify_report(tmp_path / "reports")
    assert document["status"] == "pass"
    assert document["checks"] == []
    assert document["notes"] == ["security alert: skipped, no CRITICAL finding in audit, trivy"]
