"""The trivy session's pure parts: argument lists, trivy's JSON parsed into the shared
vulnerability report, the verdict per part, the JSON report, SARIF and the config table.

The recorded reports in data/trivy/ are real trivy 0.76 output: an image scanned with the
planted-advisory database (one CRITICAL advisory against starlette, one planted secret) and
the Helm chart scanned as configuration (secrets' and findings' code excerpts removed).
"""

from __future__ import annotations

import itertools
import json
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from release_helpers import (
    INDEX,
    PLATFORM_DIGESTS,
    REGISTRY,
    release,
    released_image,
    write_release,
)

from vibevoice_ci import cli
from vibevoice_ci.core.config import (
    ScanException,
    TrivyConfig,
    load_config,
    parse_config,
    with_environment,
)
from vibevoice_ci.core.errors import EXIT_BAD_INPUT, ConfigError, ToolFailedError, UsageError
from vibevoice_ci.core.outcome import Status
from vibevoice_ci.core.reports import report_json, validate_report, write_report
from vibevoice_ci.core.vulnerabilities import AllowListEntry, Severity, VulnerabilityReport
from vibevoice_ci.core.vulnerability_models import VulnerabilityReportDocument
from vibevoice_ci.tools import oras, trivy, trivy_db
from vibevoice_ci.tools.trivy import Misconfiguration, Secret
from vibevoice_ci.trivy import imagescan, planted_db
from vibevoice_ci.trivy import session as trivy_session
from vibevoice_ci.trivy.command import report_part_status
from vibevoice_ci.trivy.imagescan import ConfigScan, ImageScan, ImageTarget
from vibevoice_ci.trivy.reports import DatabaseDocument, TrivyReport

DATA = Path(__file__).parent / "data"
SCHEMAS = Path(imagescan.__file__).parent
TRIVY_SCHEMA = json.loads((SCHEMAS / "trivy.schema.json").read_text(encoding="utf-8"))
REPORT_SCHEMA = json.loads(
    (SCHEMAS / "vulnerability-report.schema.json").read_text(encoding="utf-8")
)
SCANNED = "2026-11-30T12:00:00Z"
TODAY = date(2026, 11, 30)
TARGET = ImageTarget(
    "tts", "linux/amd64", "127.0.0.1:5000/v/tts@sha256:" + "a" * 64, "127.0.0.1:5000/v/tts@x"
)


def recorded(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


# --- argument lists -------------------------------------------------------------------------


def test_image_argv_scans_one_platform_by_digest_offline_with_every_package_listed() -> None:
    argv = trivy.image_argv(
        "trivy",
        TARGET.reference,
        platform="linux/arm64",
        cache_dir=Path("/c"),
        output=Path("/o.json"),
        scanners=["vuln", "secret", "misconfig"],
    )
    assert argv[:2] == ["trivy", "image"]
    assert argv[-1] == TARGET.reference
    pairs = dict(itertools.pairwise(argv))
    assert pairs["--platform"] == "linux/arm64"
    assert pairs["--image-src"] == "remote"
    assert pairs["--scanners"] == "vuln,secret,misconfig"
    assert pairs["--format"] == "json"
    assert pairs["--output"] == "/o.json"
    assert pairs["--cache-dir"] == "/c"
    for flag in ("--skip-db-update", "--skip-check-update", "--offline-scan", "--list-all-pkgs"):
        assert flag in argv
    assert "--insecure" in argv  # a loopback registry speaks plain HTTP


def test_image_argv_on_a_remote_registry_stays_secure() -> None:
    argv = trivy.image_argv(
        "trivy",
        "ghcr.io/o/tts@sha256:" + "b" * 64,
        platform="linux/amd64",
        cache_dir=Path("/c"),
        output=Path("/o.json"),
        scanners=["secret"],
    )
    assert "--insecure" not in argv


def test_download_db_argv_points_at_the_given_repository() -> None:
    default = trivy.download_db_argv("trivy", cache_dir=Path("/c"))
    assert "--db-repository" not in default
    assert "--download-db-only" in default
    local = trivy.download_db_argv(
        "trivy", cache_dir=Path("/c"), db_repository="127.0.0.1:5000/trivy-db:2"
    )
    pairs = dict(itertools.pairwise(local))
    assert pairs["--db-repository"] == "127.0.0.1:5000/trivy-db:2"
    assert "--insecure" in local


def test_config_argv_is_offline_json_with_helm_values() -> None:
    argv = trivy.config_argv(
        "trivy",
        Path("infra/k8s/vibevoice"),
        cache_dir=Path("/c"),
        output=Path("/o.json"),
        helm_values=[Path("ci.yaml")],
    )
    assert argv[:2] == ["trivy", "config"]
    assert argv[-1] == "infra/k8s/vibevoice"
    assert "--skip-check-update" in argv
    assert argv[argv.index("--helm-values") + 1] == "ci.yaml"


def test_trivy_db_and_oras_argv() -> None:
    build = trivy_db.build_argv("trivy-db", tree=Path("/t"), output=Path("/o"), sources=["ghsa"])
    assert build == [
        "trivy-db",
        "build",
        "--cache-dir",
        "/t",
        "--output-dir",
        "/o",
        "--only-update",
        "ghsa",
    ]
    push = oras.push_argv(
        "oras",
        "127.0.0.1:5000/trivy-db:2",
        Path("/w/db.tar.gz"),
        artifact_type=planted_db.DB_ARTIFACT_TYPE,
        media_type=planted_db.DB_MEDIA_TYPE,
    )
    assert "--plain-http" in push
    assert push[-1] == "db.tar.gz:application/vnd.aquasec.trivy.db.layer.v1.tar+gzip"


def test_version_parsing() -> None:
    assert trivy.parse_version("Version: 0.76.0\nVulnerability DB:\n  Version: 2\n") == "0.76.0"
    with pytest.raises(ToolFailedError):
        trivy.parse_version("trivy: command not understood")


def test_db_failure_reason_keeps_the_cause() -> None:
    stderr = (
        "2026-11-30T16:09:26Z\tINFO\t[vulndb] Need to update DB\n"
        "2026-11-30T16:09:26Z\tFATAL\tFatal error\trun error: init error: DB error: failed to "
        "download vulnerability DB: OCI artifact error: failed to download artifact from "
        "mirror.gcr.io/aquasec/trivy-db:2: OCI repository error: 1 error occurred:\n"
        '\t* Get "https://mirror.gcr.io/v2/": dial tcp: lookup mirror.gcr.io: no such host\n'
    )
    reason = trivy.db_failure_reason(stderr)
    assert reason.startswith("failed to download artifact from mirror.gcr.io/aquasec/trivy-db:2")
    assert "no such host" in reason
    assert trivy.db_failure_reason("") == ""


# --- parsing recorded output ----------------------------------------------------------------


def test_parse_recorded_image_scan_with_the_planted_database() -> None:
    scan = trivy.parse_scan(recorded("image-planted-db.json"))
    assert scan.version == "0.76.0"
    assert scan.os == "debian 12.12"
    [vulnerability] = scan.vulnerabilities
    assert vulnerability.id == "CVE-2099-0001"
    assert vulnerability.aliases == ("GHSA-vibe-test-0001",)
    assert vulnerability.severity is Severity.CRITICAL
    assert (vulnerability.package, vulnerability.installed_version) == ("starlette", "1.10.0")
    assert vulnerability.fixed_version == "99.0.0"
    assert scan.packages == 1
    [secret] = scan.secrets
    assert secret.rule_id == "aws-access-key-id"
    assert secret.line == 1
    assert "*" in secret.match  # masked as trivy prints it


def test_parse_recorded_chart_scan() -> None:
    scan = trivy.parse_scan(recorded("config-chart.json"))
    assert len(scan.config_files) == 7
    assert {m.id for m in scan.misconfigurations} == {"KSV-01010", "KSV-0110"}
    by_id = {m.id: m for m in scan.misconfigurations}
    assert by_id["KSV-0110"].target == "templates/deployment.yaml"
    assert by_id["KSV-0110"].severity is Severity.LOW
    assert scan.vulnerabilities == ()
    assert scan.packages == 0


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        json.dumps({"SchemaVersion": 1}),
        json.dumps({"SchemaVersion": 2, "Results": {}}),
    ],
)
def test_parse_rejects_malformed_reports(text: str) -> None:
    with pytest.raises(ToolFailedError):
        trivy.parse_scan(text)


def test_parse_rejects_a_vulnerability_without_an_id() -> None:
    document = json.loads(recorded("image-planted-db.json"))
    for result in document["Results"]:
        for row in result.get("Vulnerabilities") or []:
            del row["VulnerabilityID"]
    with pytest.raises(ToolFailedError):
        trivy.parse_scan(json.dumps(document))


def test_image_report_without_a_database_is_unchecked_not_clean() -> None:
    scan = trivy.parse_scan(recorded("image-planted-db.json"))
    report = trivy_session.image_report(
        scan, name="img", version="0.76.0", timestamp=SCANNED, db_reason="no such host"
    )
    assert report.checked == 0
    assert report.vulnerabilities == ()
    assert "no such host" in report.unchecked[0].reason
    with_db = trivy_session.image_report(
        scan, name="img", version="0.76.0", timestamp=SCANNED, db_reason=None
    )
    assert with_db.checked == 1
    assert with_db.unchecked == ()
    for written in (report, with_db):  # each as the session writes it, one file per image
        document = report_json(VulnerabilityReportDocument.of(written))
        jsonschema.validate(document, REPORT_SCHEMA)
        assert validate_report(document, VulnerabilityReportDocument, "report") == (
            VulnerabilityReportDocument.of(written)
        )
    assert {"scan_timestamp", "scanner", "scanner_version", "target", "vulnerabilities"} <= set(
        document
    )
    assert document["summary"]["critical"] == 1


# --- the verdict ----------------------------------------------------------------------------


def image(
    *,
    db: bool = True,
    secrets: tuple[Secret, ...] = (),
    misconfigurations: tuple[Misconfiguration, ...] = (),
    error: str = "",
) -> ImageScan:
    scan = trivy.parse_scan(recorded("image-planted-db.json"))
    report = trivy_session.image_report(
        scan, name="tts", version="0.76.0", timestamp=SCANNED, db_reason=None if db else "offline"
    )
    return ImageScan(TARGET, report, secrets, misconfigurations, error)


def chart_scan() -> ConfigScan:
    scan = trivy.parse_scan(recorded("config-chart.json"))
    findings = tuple(
        Misconfiguration(m.id, m.title, m.severity, "infra/k8s/vibevoice/" + m.target, m.line, "")
        for m in scan.misconfigurations
    )
    return ConfigScan("infra/k8s/vibevoice", scan.config_files, findings)


SECRET = Secret("aws-access-key-id", "AWS Access Key ID", Severity.CRITICAL, "/etc/x", 1, "***")
CHART_EXCEPTIONS = (
    ScanException(
        id="KSV-01010",
        target="infra/k8s/vibevoice/templates/configmap.yaml",
        reason="fp",
        expires=date(2027, 5, 31),
    ),
    ScanException(
        id="KSV-0110",
        target="infra/k8s/vibevoice/templates/*.yaml",
        reason="ns",
        expires=date(2027, 5, 31),
    ),
)


def test_planted_critical_fails_the_vulnerability_part() -> None:
    verdict = imagescan.judge(TrivyConfig(), [image()], [], today=TODAY)
    assert verdict.part_status("vulnerabilities") is Status.FAIL
    assert [v.id for v in verdict.vulnerability_gate.blocking] == ["CVE-2099-0001"]
    assert verdict.part_status("secrets") is Status.PASS
    assert verdict.status is Status.FAIL


def test_allow_listed_by_its_ghsa_alias_passes_until_it_expires() -> None:
    entry = AllowListEntry("GHSA-vibe-test-0001", "no fix yet", date(2026, 12, 31), "starlette")
    config = TrivyConfig(allow=(entry,))
    assert imagescan.judge(config, [image()], [], today=TODAY).status is Status.PASS
    expired = imagescan.judge(config, [image()], [], today=date(2027, 1, 1))
    assert expired.part_status("vulnerabilities") is Status.FAIL


def test_offline_vulnerability_part_is_unknown_and_strict_status_is_unknown() -> None:
    verdict = imagescan.judge(TrivyConfig(), [image(db=False)], [], today=TODAY)
    assert verdict.part_status("vulnerabilities") is Status.UNKNOWN
    assert verdict.part_status("secrets") is Status.PASS
    assert verdict.status is Status.UNKNOWN


def test_any_secret_in_an_image_fails_even_offline() -> None:
    verdict = imagescan.judge(TrivyConfig(), [image(db=False, secrets=(SECRET,))], [], today=TODAY)
    assert verdict.part_status("secrets") is Status.FAIL
    assert verdict.status is Status.FAIL


def test_a_secret_exception_names_the_rule_and_the_file_in_the_image() -> None:
    found = Secret(
        "gcp-service-account",
        "GCP",
        Severity.CRITICAL,
        "/opt/venv/lib/python3.11/site-packages/anthropic/types/x.py",
        3,
        '{"type": "service_account"}',
    )
    entry = ScanException(
        id="gcp-service-account",
        target="tts:/opt/venv/*/site-packages/anthropic/*",
        reason="docs",
        expires=date(2027, 1, 1),
    )
    other_rule = ScanException(
        id="aws-access-key-id", target="tts:*", reason="wrong rule", expires=date(2027, 1, 1)
    )
    scans = [image(db=False, secrets=(found, SECRET))]
    verdict = imagescan.judge(TrivyConfig(exceptions=(entry, other_rule)), scans, [], today=TODAY)
    # The AWS key is covered by `other_rule` too (any file of tts): both excepted.
    assert verdict.part_status("secrets") is Status.PASS
    assert len(verdict.excepted_secrets) == 2
    only_gcp = imagescan.judge(TrivyConfig(exceptions=(entry,)), scans, [], today=TODAY)
    assert only_gcp.part_status("secrets") is Status.FAIL
    assert [s.rule_id for _, s in only_gcp.blocking_secrets] == ["aws-access-key-id"]
    expired = imagescan.judge(
        TrivyConfig(exceptions=(entry,)), [image(secrets=(found,))], [], today=date(2027, 2, 1)
    )
    assert expired.part_status("secrets") is Status.FAIL


def test_chart_findings_fail_without_exceptions_and_pass_with_them() -> None:
    bare = imagescan.judge(TrivyConfig(), [], [chart_scan()], today=TODAY)
    assert bare.part_status("misconfigurations") is Status.FAIL
    assert {m.id for m in bare.blocking_misconfigurations} == {"KSV-01010", "KSV-0110"}
    excepted = imagescan.judge(
        TrivyConfig(exceptions=CHART_EXCEPTIONS), [], [chart_scan()], today=TODAY
    )
    assert excepted.part_status("misconfigurations") is Status.PASS
    assert len(excepted.excepted) == 2
    # No image scanned: the image parts are unknown, never passed.
    assert excepted.part_status("vulnerabilities") is Status.UNKNOWN
    assert excepted.part_status("secrets") is Status.UNKNOWN


def test_an_exception_for_another_file_or_an_expired_one_does_not_cover() -> None:
    elsewhere = ScanException(
        id="KSV-0110", target="infra/docker/*", reason="wrong file", expires=date(2027, 5, 31)
    )
    config = TrivyConfig(exceptions=(CHART_EXCEPTIONS[0], elsewhere))
    verdict = imagescan.judge(config, [], [chart_scan()], today=TODAY)
    assert {m.id for m in verdict.blocking_misconfigurations} == {"KSV-0110"}
    late = imagescan.judge(
        TrivyConfig(exceptions=CHART_EXCEPTIONS), [], [chart_scan()], today=date(2027, 6, 1)
    )
    assert late.part_status("misconfigurations") is Status.FAIL
    assert any(o.name.startswith("exception: KSV-01010") for o in late.outcomes)


def test_misconfig_threshold_lists_lower_findings() -> None:
    config = TrivyConfig(misconfig_fail_on=Severity.MEDIUM, exceptions=CHART_EXCEPTIONS[:1])
    verdict = imagescan.judge(config, [], [chart_scan()], today=TODAY)
    assert verdict.part_status("misconfigurations") is Status.PASS  # KSV-0110 is LOW


def test_a_failed_scan_fails_every_part_of_that_image() -> None:
    verdict = imagescan.judge(TrivyConfig(), [image(error="manifest unknown")], [], today=TODAY)
    for part in imagescan.PARTS:
        assert verdict.part_status(part) is Status.FAIL, part


def test_a_config_folder_without_files_is_unknown() -> None:
    verdict = imagescan.judge(TrivyConfig(), [], [ConfigScan("infra/x", (), ())], today=TODAY)
    assert verdict.part_status("misconfigurations") is Status.UNKNOWN


findings_strategy = st.lists(
    st.builds(
        Misconfiguration,
        id=st.sampled_from(["KSV-0001", "KSV-0002", "DS-0002"]),
        title=st.just("t"),
        severity=st.sampled_from([s for s in Severity if s is not Severity.UNKNOWN]),
        target=st.sampled_from(["infra/a.yaml", "infra/b/c.yaml", "infra/docker/x.Dockerfile"]),
        line=st.integers(0, 50),
        message=st.just("m"),
    ),
    max_size=8,
)
exceptions_strategy = st.lists(
    st.builds(
        ScanException,
        id=st.sampled_from(["KSV-0001", "KSV-0002", "DS-0002"]),
        target=st.sampled_from(["infra/*", "infra/a.yaml", "infra/b/*", "*.Dockerfile"]),
        reason=st.just("r"),
        expires=st.dates(date(2026, 1, 1), date(2027, 12, 31)),
    ),
    max_size=4,
)


@settings(max_examples=150, deadline=None)
@given(
    findings=findings_strategy,
    exceptions=exceptions_strategy,
    threshold=st.sampled_from([Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]),
    db=st.booleans(),
    secret=st.booleans(),
)
def test_verdict_properties(
    findings: list[Misconfiguration],
    exceptions: list[ScanException],
    threshold: Severity,
    db: bool,
    secret: bool,
) -> None:
    """Blocking = at the threshold or above and no unexpired covering exception; no database
    never passes the vulnerability part; a secret always fails; the overall status is the
    worst of the parts (fail > unknown > pass)."""
    config = TrivyConfig(misconfig_fail_on=threshold, exceptions=tuple(exceptions))
    scan = image(db=db, secrets=(SECRET,) if secret else ())
    verdict = imagescan.judge(
        config, [scan], [ConfigScan("infra", ("infra/a.yaml",), tuple(findings))], today=TODAY
    )
    expected = [
        f
        for f in findings
        if f.severity.rank >= threshold.rank
        and imagescan.exception_for(f.id, f.target, exceptions, TODAY) is None
    ]
    assert list(verdict.blocking_misconfigurations) == expected
    if not db:
        assert verdict.part_status("vulnerabilities") is Status.UNKNOWN
    assert (verdict.part_status("secrets") is Status.FAIL) == secret
    statuses = {verdict.part_status(part) for part in imagescan.PARTS}
    worst = (
        Status.FAIL
        if Status.FAIL in statuses
        else Status.UNKNOWN
        if Status.UNKNOWN in statuses
        else Status.PASS
    )
    assert verdict.status is worst


# --- reports --------------------------------------------------------------------------------


OFFLINE = DatabaseDocument(
    repository="mirror", available=False, reason="offline", metadata={}, seconds=0.5
)
ONLINE = DatabaseDocument(
    repository="mirror",
    available=True,
    reason="",
    metadata={"Version": 2, "UpdatedAt": "2026-11-30T00:00:00Z"},
    seconds=3.2,
)


def trivy_document(
    scans: list[ImageScan],
    configs: list[ConfigScan],
    *,
    database: DatabaseDocument = OFFLINE,
    config: TrivyConfig | None = None,
) -> TrivyReport:
    verdict = imagescan.judge(config or TrivyConfig(), scans, configs, today=TODAY)
    return imagescan.document(
        verdict,
        scanner_version="0.76.0",
        database=database,
        images=scans,
        configs=configs,
        strict=False,
        source="release file x",
    )


def test_document_has_a_top_level_status_and_one_per_part() -> None:
    report = trivy_document([image(db=False)], [chart_scan()])
    document = report_json(report)
    jsonschema.validate(document, TRIVY_SCHEMA)
    assert validate_report(document, TrivyReport, "trivy.json") == report
    assert document["status"] == "fail"  # the chart without exceptions
    assert document["parts"]["vulnerabilities"]["status"] == "unknown"
    assert "offline" in document["parts"]["vulnerabilities"]["detail"]
    assert report_part_status(report, "vulnerabilities") == "unknown"
    assert report_part_status(report, "status") == "fail"


def test_document_records_what_exceptions_covered_and_what_failed() -> None:
    secret_exception = ScanException(
        id="aws-access-key-id", target="tts:/etc/x", reason="a test key", expires=date(2027, 1, 1)
    )
    failed = ImageScan(TARGET, image().vulnerabilities, error="pull failed", seconds=1.25)
    report = trivy_document(
        [image(secrets=(SECRET,)), failed],
        [chart_scan(), ConfigScan("infra/docker", (), (), error="no such folder")],
        database=ONLINE,
        config=TrivyConfig(exceptions=(*CHART_EXCEPTIONS, secret_exception)),
    )
    document = report_json(report)
    jsonschema.validate(document, TRIVY_SCHEMA)
    assert validate_report(document, TrivyReport, "trivy.json") == report
    assert [s["rule_id"] for s in document["excepted_secrets"]] == ["aws-access-key-id"]
    assert document["excepted_secrets"][0]["exception"] == {
        "reason": "a test key",
        "expires": "2027-01-01",
    }
    assert {f["id"] for f in document["excepted"]} == {"KSV-01010", "KSV-0110"}
    assert document["images"][1]["error"] == "pull failed"
    assert document["images"][1]["scan_seconds"] == 1.2
    assert document["database"]["metadata"]["Version"] == 2


def test_sarif_holds_configured_severities_only_with_two_runs() -> None:
    low = Misconfiguration("KSV-0110", "ns", Severity.LOW, "infra/k8s/x.yaml", 4, "m")
    high = Misconfiguration("DS-0002", "root", Severity.HIGH, "infra/docker/tts.Dockerfile", 9, "m")
    scans = [image(secrets=(SECRET,))]
    verdict = imagescan.judge(
        TrivyConfig(), scans, [ConfigScan("infra", ("a",), (low, high))], today=TODAY
    )
    log = imagescan.sarif(
        verdict,
        scans,
        min_severity=Severity.HIGH,
        dockerfiles={"tts": "infra/docker/tts.Dockerfile"},
    )
    runs = {run["tool"]["driver"]["name"]: run for run in log["runs"]}
    assert set(runs) == {"trivy", "trivy-config"}
    assert [r["ruleId"] for r in runs["trivy"]["results"]] == ["CVE-2099-0001"]
    location = runs["trivy"]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "infra/docker/tts.Dockerfile"
    config_rules = sorted(r["ruleId"] for r in runs["trivy-config"]["results"])
    assert config_rules == ["DS-0002", "secret/aws-access-key-id"]  # the LOW one is left out
    dockerfile = next(r for r in runs["trivy-config"]["results"] if r["ruleId"] == "DS-0002")
    assert dockerfile["locations"][0]["physicalLocation"]["region"]["startLine"] == 9


def test_targets_from_release_lists_every_platform_by_digest() -> None:
    amd64, arm64 = PLATFORM_DIGESTS["linux/amd64"], PLATFORM_DIGESTS["linux/arm64"]
    targets = imagescan.targets_from_release(release(released_image("tts")))
    assert [(t.platform, t.reference, t.index) for t in targets] == [
        ("linux/amd64", f"{REGISTRY}/vibevoice-tts@{amd64}", f"{REGISTRY}/vibevoice-tts@{INDEX}"),
        ("linux/arm64", f"{REGISTRY}/vibevoice-tts@{arm64}", f"{REGISTRY}/vibevoice-tts@{INDEX}"),
    ]
    assert targets[0].slug == "tts-linux-amd64"
    with pytest.raises(UsageError, match="lists no image"):
        imagescan.targets_from_release(release())


def test_a_release_file_of_the_wrong_shape_is_one_line_exit_2(tmp_path: Path) -> None:
    path = write_release(tmp_path / "release.json", released_image("tts"))
    document = json.loads(path.read_text(encoding="utf-8"))
    del document["images"][0]["platforms"]
    path.write_text(json.dumps(document), encoding="utf-8")
    config = load_config()
    with pytest.raises(UsageError) as caught:
        trivy_session._release(config, path)
    assert str(caught.value) == f"release file {path}: images.0.platforms: Field required"
    assert caught.value.exit_code == EXIT_BAD_INPUT


def test_db_cache_dirs_keep_a_test_database_apart() -> None:
    default = trivy_session.db_cache_dir(Path("/c"), "")
    planted = trivy_session.db_cache_dir(Path("/c"), "127.0.0.1:5000/trivy-db:2")
    assert default != planted
    assert default.parent == planted.parent == Path("/c/trivy")


def test_planted_advisory_record_is_ghsa_osv() -> None:
    advisory = planted_db.PlantedAdvisory("GHSA-aaaa-bbbb-cccc", "CVE-2099-1", "starlette", "99.0")
    record = planted_db.ghsa_record(advisory)
    assert record["database_specific"]["severity"] == "CRITICAL"
    assert record["affected"][0]["package"] == {"ecosystem": "PyPI", "name": "starlette"}
    assert record["aliases"] == ["CVE-2099-1"]


# --- config ---------------------------------------------------------------------------------


def test_trivy_table_defaults_and_the_real_exceptions(
    valid_table: dict[str, Any], repo_root: Path
) -> None:
    assert parse_config(valid_table, Path("/r")).trivy == TrivyConfig()
    from vibevoice_ci.core.config import load_config

    real = load_config(repo_root).trivy
    assert real.fail_on is Severity.CRITICAL
    assert all(entry.reason and entry.expires for entry in real.exceptions)
    assert {entry.id for entry in real.exceptions} >= {"KSV-01010", "KSV-0110"}
    assert real.helm_values
    assert all(path.is_file() for path in real.helm_values)
    assert all(path.is_dir() for path in real.config_targets)


@pytest.mark.parametrize(
    ("trivy_table", "message"),
    [
        ({"fail_on": "SEVERE"}, "fail_on"),
        ({"fail_on": "UNKNOWN"}, "fail_on"),
        ({"surprise": 1}, "unknown key"),
        ({"exceptions": [{"id": "X", "reason": "r"}]}, "expires"),
        ({"exceptions": [{"id": "X", "reason": "r", "expires": "2027-01-01"}]}, "expires"),
        ({"exceptions": [{"id": "X", "expires": date(2027, 1, 1)}]}, "reason"),
        ({"allow": [{"id": "X", "reason": "r", "expires": date(2027, 1, 1), "why": 1}]}, "why"),
        ({"allow": {"id": "X"}}, "array of tables"),
    ],
)
def test_bad_trivy_tables_are_config_errors(
    valid_table: dict[str, Any], trivy_table: dict[str, Any], message: str
) -> None:
    valid_table["trivy"] = trivy_table
    with pytest.raises(ConfigError, match=message):
        parse_config(valid_table, Path("/r"))


def test_allow_entries_parse_to_the_shared_allow_list(valid_table: dict[str, Any]) -> None:
    valid_table["trivy"] = {
        "fail_on": "high",
        "allow": [{"id": "CVE-1", "reason": "r", "expires": date(2027, 1, 1), "package": "p"}],
    }
    config = parse_config(valid_table, Path("/r")).trivy
    assert config.fail_on is Severity.HIGH
    assert config.allow == (AllowListEntry("CVE-1", "r", date(2027, 1, 1), "p"),)


def test_vulnerability_report_type_is_shared() -> None:
    assert isinstance(image().vulnerabilities, VulnerabilityReport)


def test_summary_says_unknown_loudly_when_the_database_was_not_fetched() -> None:
    scans = [image(db=False)]
    verdict = imagescan.judge(TrivyConfig(), scans, [], today=TODAY)
    database = OFFLINE.model_copy(update={"reason": "no such host"})
    text = trivy_session.summary(verdict, scans, database, "release file x")
    assert "**vulnerabilities: UNKNOWN**" in text
    assert "could not be fetched" in text
    assert "no such host" in text
    assert "PASSED" not in text


def test_trivy_expect_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "trivy.json"
    write_report(report, trivy_document([image(db=False)], []))  # as the session writes it
    base = ["trivy-expect", "--report", str(report)]
    assert cli.main([*base, "--part", "status", "--status", "unknown"]) == 0
    assert cli.main([*base, "--part", "secrets", "--status", "fail"]) == 1
    assert "secrets is 'pass', expected 'fail'" in capsys.readouterr().err
    assert cli.main([*base, "--part", "vulnerabilities", "--status", "unknown"]) == 0
    capsys.readouterr()
    # A report of another shape is bad input, in one line.
    document = json.loads(report.read_text())
    del document["parts"]["vulnerabilities"]
    report.write_text(json.dumps(document))
    assert cli.main([*base, "--part", "secrets", "--status", "pass"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "parts.vulnerabilities: Field required" in err
    missing = ["trivy-expect", "--report", str(tmp_path / "nope.json")]
    assert cli.main([*missing, "--part", "status", "--status", "pass"]) == 2
    with pytest.raises(SystemExit) as usage:
        cli.main([*base, "--part", "everything", "--status", "pass"])
    assert usage.value.code == 2


def test_the_database_repository_comes_from_the_environment_too() -> None:
    project = load_config(Path(__file__).resolve().parents[4])
    local = "127.0.0.1:5000/aquasec/trivy-db:2"
    changed = with_environment(project, {"VIBEVOICE_TRIVY_DB_REPOSITORY": f" {local} "})
    assert changed.trivy.db_repository == local
    assert with_environment(project, {}).trivy.db_repository == project.trivy.db_repository
