"""The audit session on recorded pip-audit runs (tests/data/audit/pip-audit/) and recorded OSV
records served from 127.0.0.1: a HIGH finding fails, an offline run where every dependency
was skipped is unknown (and fails under --strict), malformed output is bad input (exit 2).

The project is a small copy (three pins of the tts image, one Windows-only pin) so the
recordings stay true to the file they audited.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loopback import closed_port_url
from osv_replay import DATA, running_osv
from vibevoice_ci.audit import dependabot
from vibevoice_ci.audit import session as audit
from vibevoice_ci.audit.reports import AuditReport
from vibevoice_ci.audit.session import AuditRun, LockTarget, run_audit, verdict
from vibevoice_ci.core.config import PipelineConfig, load_config, parse_config
from vibevoice_ci.core.errors import CheckFailedError, ConfigError, UsageError
from vibevoice_ci.core.outcome import Status
from vibevoice_ci.core.reports import validate_report
from vibevoice_ci.core.vulnerabilities import AllowListEntry, Severity

REPO_ROOT = Path(__file__).resolve().parents[4]
SCHEMA = json.loads(
    (REPO_ROOT / "src" / "vibevoice_ci" / "audit" / "audit.schema.json").read_text(encoding="utf-8")
)
RECORDED = DATA / "pip-audit"
TODAY = date(2026, 11, 30)
PYPROJECT = '[project]\nname = "example"\n\n[project.optional-dependencies]\ntts = ["click"]\n'


@pytest.fixture
def project(tmp_path: Path, valid_table: dict[str, Any]) -> PipelineConfig:
    root = tmp_path / "project"
    (root / "infra" / "docker" / "requirements").mkdir(parents=True)
    (root / ".github").mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT)
    shutil.copy(DATA / "requirements.txt", root / "infra/docker/requirements/tts.txt")
    shutil.copy(REPO_ROOT / ".github" / "dependabot.yml", root / ".github" / "dependabot.yml")
    return parse_config(valid_table, root)


def replay(name: str | None, returncode: int, stderr: str = "") -> audit.Runner:
    text = (RECORDED / name).read_text() if name else None

    def runner(target: LockTarget) -> AuditRun:
        assert target.name == "tts"
        return AuditRun(returncode, stderr, text)

    return runner


def with_audit(config: PipelineConfig, **changes: Any) -> PipelineConfig:
    return config.model_copy(update={"audit": config.audit.model_copy(update=changes)})


def read_report(config: PipelineConfig) -> dict[str, Any]:
    """audit.json as the session wrote it, checked against its committed schema and model."""
    document: dict[str, Any] = json.loads((config.report_dir("audit") / "audit.json").read_text())
    jsonschema.validate(document, SCHEMA)
    validate_report(document, AuditReport, "audit.json")
    return document


# --- one HIGH finding ---------------------------------------------------------------------------


def test_a_high_finding_fails_and_lands_in_every_report(project: PipelineConfig) -> None:
    with running_osv() as osv:
        config = with_audit(project, osv_url=osv.url)
        result = run_audit(
            config, strict=False, runner=replay("osv-finding.json", 1), today=TODAY, other_checks=()
        )

    assert result.status is Status.FAIL
    assert [(v.id, v.package, v.severity) for v in result.gate.blocking] == [
        ("PYSEC-2026-9001", "click", Severity.HIGH)  # once, though pip-audit listed it twice
    ]
    assert [(v.id, v.severity) for v in result.gate.listed] == [("CVE-2026-99998", Severity.MEDIUM)]
    # the rating came from the GHSA alias's record, the MEDIUM one from its CVSS vector
    assert "GET /v1/vulns/GHSA-9999-9999-9999" in osv.requests
    assert result.ratings["CVE-2026-99998"].source.startswith("GHSA-9999-9999-8888 CVSS:3.1")

    document = read_report(config)
    assert document["status"] == "fail"
    (report,) = document["reports"]
    assert report["summary"]["high"] == 1
    assert report["summary"]["medium"] == 1
    assert report["checked"] == 3
    assert report["unchecked"] == []
    assert report["not_applicable"] == ["colorama==0.4.6 ; sys_platform == 'win32'"]
    assert report["vulnerabilities"][0]["fixed_version"] == "8.5.2"

    sarif = json.loads((config.report_dir("audit") / "audit.sarif").read_text())
    results = sarif["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"PYSEC-2026-9001", "CVE-2026-99998"}
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert uris == {"uv.lock"}

    summary = (config.report_dir("audit") / "summary.md").read_text()
    assert "**FAILED**" in summary
    assert "### Blocking (1)" in summary
    assert "### Listed (below the gate) (1)" in summary
    with pytest.raises(CheckFailedError, match=r"pip-audit: image tts"):
        verdict(result, strict=False)


def test_an_unrated_finding_still_fails_when_osv_is_unreachable(project: PipelineConfig) -> None:
    config = with_audit(project, osv_url=closed_port_url())
    result = run_audit(
        config, strict=False, runner=replay("osv-finding.json", 1), today=TODAY, other_checks=()
    )
    assert result.status is Status.FAIL
    assert {v.severity for v in result.gate.blocking} == {Severity.UNKNOWN}
    assert {v.id for v in result.gate.blocking} == {"PYSEC-2026-9001", "CVE-2026-99998"}
    summary = (config.report_dir("audit") / "summary.md").read_text()
    assert "have no severity (treated as HIGH)" in summary
    assert "OSV could not be reached" in summary


def test_an_allow_list_entry_accepts_a_finding_until_it_expires(project: PipelineConfig) -> None:
    entry = AllowListEntry(
        "GHSA-9999-9999-9999", "no shell completion in our images", date(2026, 12, 31), "click"
    )
    with running_osv() as osv:
        config = with_audit(project, osv_url=osv.url, allow=(entry,))
        accepted = run_audit(
            config, strict=True, runner=replay("osv-finding.json", 1), today=TODAY, other_checks=()
        )
        assert accepted.status is Status.PASS
        assert [v.id for v in accepted.gate.allowed] == ["PYSEC-2026-9001"]
        assert read_report(config)["allow_list"] == [
            {
                "id": "GHSA-9999-9999-9999",
                "package": "click",
                "reason": "no shell completion in our images",
                "expires": "2026-12-31",
            }
        ]
        verdict(accepted, strict=True)

        later = date(2027, 1, 1)
        expired = run_audit(
            config, strict=True, runner=replay("osv-finding.json", 1), today=later, other_checks=()
        )
    assert expired.status is Status.FAIL
    failed = [o for o in expired.outcomes if o.status is Status.FAIL]
    assert [o.name for o in failed] == ["allow-list: GHSA-9999-9999-9999"]
    assert "expired on 2026-12-31" in failed[0].detail


# --- offline: every dependency skipped ----------------------------------------------------------


def test_an_offline_run_that_skipped_everything_is_unknown(
    project: PipelineConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    # pip-audit exited 0 and printed "No known vulnerabilities found": not a pass.
    config = with_audit(project, osv_url=closed_port_url())
    result = run_audit(
        config, strict=False, runner=replay("offline-pypi.json", 0), today=TODAY, other_checks=()
    )

    assert result.status is Status.UNKNOWN
    (target,) = result.targets
    assert target.report.checked == 0
    assert [u.target for u in target.report.unchecked] == [
        "click==8.5.1",
        "h11==0.16.0",
        "idna==3.20",
    ]
    assert {u.reason for u in target.report.unchecked} == {
        "Dependency not found on PyPI and could not be audited"
    }
    document = read_report(config)
    assert (document["status"], document["unchecked"], document["checked"]) == ("unknown", 3, 0)
    summary = (config.report_dir("audit") / "summary.md").read_text()
    assert "**UNKNOWN**" in summary
    assert "**3 of 3 pinned dependencies were NOT checked**" in summary
    assert "Dependency not found on PyPI" in summary

    verdict(result, strict=False)  # loud, exit 0
    assert "This is NOT a pass" in capsys.readouterr().err
    with pytest.raises(CheckFailedError, match="--strict fails on unknown"):
        verdict(result, strict=True)


def test_a_run_that_wrote_nothing_is_unknown_with_its_reason(project: PipelineConfig) -> None:
    stderr = (RECORDED / "osv-unreachable.stderr.txt").read_text()
    result = run_audit(
        project, strict=True, runner=replay(None, 1, stderr), today=TODAY, other_checks=()
    )
    assert result.status is Status.UNKNOWN
    reasons = {u.reason for u in result.targets[0].report.unchecked}
    assert reasons == {
        "advisory service unreachable (api.osv.dev: name resolution failed); pip-audit exited 1"
    }
    # all four pins, the Windows-only one too: nothing was checked at all
    assert len(result.targets[0].report.unchecked) == 4


@pytest.mark.parametrize(
    ("name", "returncode"),
    [("offline-pypi.json", 1), ("osv-finding.json", 2), ("osv-finding.json", -9)],
)
def test_output_the_exit_code_contradicts_is_not_trusted(
    project: PipelineConfig, name: str, returncode: int
) -> None:
    config = with_audit(project, osv_url=closed_port_url())
    result = run_audit(
        config, strict=False, runner=replay(name, returncode), today=TODAY, other_checks=()
    )
    assert result.status is Status.UNKNOWN
    assert result.targets[0].report.vulnerabilities == ()


def test_a_pin_missing_from_the_output_is_unchecked(project: PipelineConfig) -> None:
    requirements = project.root / "infra/docker/requirements/tts.txt"
    requirements.write_text(
        requirements.read_text() + "anyio==4.16.0 --hash=sha256:" + "0" * 64 + "\n"
    )
    with running_osv() as osv:
        config = with_audit(project, osv_url=osv.url)
        result = run_audit(
            config, strict=False, runner=replay("osv-finding.json", 1), today=TODAY, other_checks=()
        )
    unchecked = result.targets[0].report.unchecked
    assert [(u.target, u.reason) for u in unchecked] == [
        ("anyio==4.16.0", "pinned but missing from pip-audit's output")
    ]


# --- malformed ----------------------------------------------------------------------------------


def test_what_a_killed_run_left_is_ignored_not_parsed(project: PipelineConfig) -> None:
    config = with_audit(project, osv_url=closed_port_url())
    result = run_audit(
        config,
        strict=False,
        runner=replay("malformed-truncated.json", -9),
        today=TODAY,
        other_checks=(),
    )
    assert result.status is Status.UNKNOWN
    assert "pip-audit exited -9" in result.targets[0].report.unchecked[0].reason


def test_malformed_output_is_bad_input_in_one_line(project: PipelineConfig) -> None:
    with pytest.raises(
        UsageError, match=r"pip-audit's JSON for image tts .* is malformed: not JSON"
    ):
        run_audit(
            project,
            strict=False,
            runner=replay("malformed-truncated.json", 1),
            today=TODAY,
            other_checks=(),
        )


def test_the_cli_turns_malformed_output_into_exit_2_without_a_traceback(tmp_path: Path) -> None:
    # The real pip-audit cannot be made to write broken JSON: a stand-in binary writes the
    # recorded truncated file where --output points, as a run cut short would leave it.
    fake = tmp_path / "pip-audit"
    fake.write_text(
        f"#!{sys.executable}\n"
        "import shutil, sys\n"
        "if '--version' in sys.argv:\n    print('pip-audit 2.10.1'); sys.exit(0)\n"
        "out = sys.argv[sys.argv.index('--output') + 1]\n"
        f"shutil.copy({str(RECORDED / 'malformed-truncated.json')!r}, out)\n"
        "sys.exit(1)\n"
    )
    fake.chmod(0o755)
    env = {
        **os.environ,
        "VIBEVOICE_PIP_AUDIT": str(fake),
        "VIBEVOICE_REPORTS_DIR": str(tmp_path / "reports"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    completed = subprocess.run(
        [sys.executable, "-m", "vibevoice_ci", "audit", "--target", "tts", "--no-strict"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 2, completed.stderr
    errors = [line for line in completed.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "is malformed: not JSON" in errors[0]
    assert "Traceback" not in completed.stderr


# --- targets ------------------------------------------------------------------------------------


def test_every_image_extra_group_and_the_ci_tools_are_targets() -> None:
    config = load_config(REPO_ROOT)
    import tomllib

    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    targets = {(t.kind, t.name): t for t in audit.lock_targets(config, pyproject)}
    extras = set(pyproject["project"]["optional-dependencies"])
    shipped = {service.extra for service in config.services.values()}
    assert {name for kind, name in targets if kind == "image"} == set(config.services)
    assert {name for kind, name in targets if kind == "extra"} == extras - shipped
    assert {name for kind, name in targets if kind == "group"} == set(
        pyproject["dependency-groups"]
    )
    assert ("ci-tools", "ci-tools") in targets
    assert targets[("image", "tts")].requirements == Path("infra/docker/requirements/tts.txt")
    assert targets[("extra", "ci")].exported
    assert targets[("extra", "ci")].requirements == Path("reports/audit/requirements/extra-ci.txt")


def test_the_audit_extra_pins_the_pip_audit_the_wrapper_supports() -> None:
    import tomllib

    from vibevoice_ci.tools.pip_audit import SUPPORTED_VERSION

    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert (
        f"pip-audit=={SUPPORTED_VERSION}" in pyproject["project"]["optional-dependencies"]["audit"]
    )
    assert load_config(REPO_ROOT).audit.fail_at is Severity.HIGH


def test_select_targets_names_the_choices() -> None:
    targets = [LockTarget("tts", "image", Path("a")), LockTarget("dev", "group", Path("b"))]
    assert audit.select_targets(targets, []) == targets
    assert audit.select_targets(targets, ["dev", "dev"]) == [targets[1]]
    with pytest.raises(UsageError, match="--target nope: choose from dev, tts"):
        audit.select_targets(targets, ["nope"])


def test_skip_reasons_lose_the_package_they_name() -> None:
    assert (
        audit.skip_reason("Dependency not found on PyPI and could not be audited: h11 (0.16.0)")
        == "Dependency not found on PyPI and could not be audited"
    )
    assert audit.skip_reason("some other reason") == "some other reason"


# --- dependabot ---------------------------------------------------------------------------------


def test_the_repository_dependabot_config_passes() -> None:
    outcomes = dependabot.check(REPO_ROOT)
    assert [(o.name, o.status) for o in outcomes] == [
        ("dependabot: schema", Status.PASS),
        ("dependabot: coverage", Status.PASS),
    ]


def test_an_invalid_or_incomplete_dependabot_config_fails(tmp_path: Path) -> None:
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "dependabot.yml").write_text(
        "version: 2\nupdates:\n  - package-ecosystem: pip\n    directory: /nowhere\n"
        "    schedule:\n      interval: sometimes\n"
    )
    schema, coverage = dependabot.check(tmp_path)
    assert schema.status is Status.FAIL
    assert "sometimes" in schema.detail
    assert coverage.status is Status.FAIL
    assert "directory '/nowhere' does not exist" in coverage.detail
    assert "no update for docker" in coverage.detail
    assert "no update for github-actions" in coverage.detail


def test_a_missing_dependabot_config_fails(tmp_path: Path) -> None:
    assert {o.status for o in dependabot.check(tmp_path)} == {Status.FAIL}


# --- config -------------------------------------------------------------------------------------


def test_audit_config_defaults_and_values(valid_table: dict[str, Any]) -> None:
    assert parse_config(valid_table, Path("/p")).audit.fail_at is Severity.HIGH
    valid_table["audit"] = {
        "fail_at": "critical",
        "sarif_min": "medium",
        "service": "pypi",
        "osv_url": "http://127.0.0.1:1/",
        "timeout": 5,
        "allow": [
            {"id": "GHSA-1", "reason": "r", "expires": date(2027, 1, 2), "package": "Foo_Bar"},
            {"id": "CVE-2", "reason": "r", "expires": "2027-01-03"},
        ],
    }
    config = parse_config(valid_table, Path("/p")).audit
    assert (config.fail_at, config.sarif_min, config.service) == (
        Severity.CRITICAL,
        Severity.MEDIUM,
        "pypi",
    )
    assert config.osv_url == "http://127.0.0.1:1"
    assert config.allow == (
        AllowListEntry("GHSA-1", "r", date(2027, 1, 2), "foo-bar"),
        AllowListEntry("CVE-2", "r", date(2027, 1, 3), ""),
    )


@pytest.mark.parametrize(
    ("audit_table", "message"),
    [
        (
            {"fail_at": "severe"},
            "[tool.vibevoice-ci.audit] fail_at: must be CRITICAL, HIGH, MEDIUM or LOW "
            "(got 'severe')",
        ),
        ({"service": "esms"}, "service: Input should be 'osv' or 'pypi' (got 'esms')"),
        ({"osv_url": "api.osv.dev"}, "is not an http"),
        ({"timeout": 0}, "timeout: Input should be greater than or equal to 1 (got 0)"),
        ({"colour": "red"}, "[tool.vibevoice-ci.audit] colour: unknown key"),
        ({"allow": {"id": "x"}}, "must be an array of tables"),
        (
            {"allow": [{"id": "GHSA-1", "expires": "2027-01-01"}]},
            "[[tool.vibevoice-ci.audit.allow]] #1 (GHSA-1) reason: is required",
        ),
        ({"allow": [{"id": "GHSA-1", "reason": "r"}]}, "(GHSA-1) expires: is required"),
        ({"allow": [{"id": "GHSA-1", "reason": "r", "expires": "soon"}]}, "got 'soon'"),
        (
            {"allow": [{"id": "G", "reason": "r", "expires": "2027-01-01", "until": 1}]},
            "[[tool.vibevoice-ci.audit.allow]] #1 (G) until: unknown key",
        ),
    ],
)
def test_malformed_audit_config_is_one_line(
    valid_table: dict[str, Any], audit_table: dict[str, Any], message: str
) -> None:
    valid_table["audit"] = audit_table
    with pytest.raises(ConfigError) as caught:
        parse_config(valid_table, Path("/p"))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_time_of_day_is_not_an_expiry(valid_table: dict[str, Any]) -> None:
    from datetime import datetime

    valid_table["audit"] = {
        "allow": [{"id": "G", "reason": "r", "expires": datetime(2027, 1, 1, 12, 0)}]
    }
    with pytest.raises(ConfigError, match="expires: must be a date"):
        parse_config(valid_table, Path("/p"))


def test_osv_url_comes_from_the_environment_too(project: PipelineConfig) -> None:
    from vibevoice_ci.core.config import with_environment

    changed = with_environment(project, {"VIBEVOICE_OSV_URL": "http://127.0.0.1:9"})
    assert changed.audit.osv_url == "http://127.0.0.1:9"
    assert with_environment(project, {}).audit.osv_url == "https://api.osv.dev"


# --- property: no false clean -------------------------------------------------------------------

_FATES = ("audited", "skipped", "missing")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(_FATES), st.booleans()),
        min_size=0,
        max_size=12,
    ),
    st.sampled_from([0, 1]),
)
def test_every_pin_is_accounted_for_and_a_gap_is_never_a_pass(
    fates: list[tuple[str, bool]], returncode: int
) -> None:
    """Whatever pip-audit reported of whichever pins: each pin is checked, unchecked or (only
    when a marker excludes it) not applicable, and the verdict passes only with no gap."""
    pinned = [
        audit.Pin(f"pkg-{n}", "1.0", "sys_platform == 'win32'" if marked else None)
        for n, (_, marked) in enumerate(fates)
    ]
    dependencies: list[dict[str, Any]] = []
    for pin, (fate, _) in zip(pinned, fates, strict=True):
        if fate == "audited":
            dependencies.append({"name": pin.name, "version": pin.version, "vulns": []})
        elif fate == "skipped":
            dependencies.append({"name": pin.name, "skip_reason": f"offline: {pin.name} (1.0)"})
    run = AuditRun(returncode, "", json.dumps({"dependencies": dependencies, "fixes": []}))
    target = LockTarget("t", "image", Path("t.txt"))
    output = audit.parse_run(target, run)
    result = audit.target_report(
        target, pinned, run, output, {}, scanner_version="x", timestamp="t"
    )
    report = result.report
    assert report.checked + len(report.unchecked) + len(result.not_applicable) == len(pinned)
    gaps = [fate != "audited" and not (fate == "missing" and marked) for fate, marked in fates]
    if returncode == 1:  # exit 1 without a finding: nothing in the output is trusted
        assert report.checked == 0
        assert len(report.unchecked) == len(pinned)
    else:
        assert len(report.unchecked) == sum(gaps)
        assert all(text.endswith("sys_platform == 'win32'") for text in result.not_applicable)
    gate_result = audit.gate([report], fail_at=Severity.HIGH, today=TODAY)
    status = gate_result.outcomes[0].status
    assert (status is Status.PASS) == (len(report.unchecked) == 0)
