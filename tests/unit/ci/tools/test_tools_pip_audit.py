"""The pip-audit and check-jsonschema wrappers: argument lists and output parsing, on output
the real tools recorded (tests/data/audit/pip-audit/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from osv_replay import DATA
from vibevoice_ci.core.errors import ToolFailedError
from vibevoice_ci.tools import check_jsonschema, pip_audit

RECORDED = DATA / "pip-audit"


def test_audit_argv_reads_pins_only_and_asks_the_configured_osv() -> None:
    argv = pip_audit.audit_argv(
        "pip-audit",
        Path("req.txt"),
        output=Path("out.json"),
        service="osv",
        osv_url="http://127.0.0.1:9/",
        timeout=7,
    )
    assert argv[:4] == ["pip-audit", "--requirement", "req.txt", "--disable-pip"]
    assert "--require-hashes" in argv
    assert argv[argv.index("--format") + 1] == "json"
    assert argv[argv.index("--output") + 1] == "out.json"
    assert argv[argv.index("--osv-url") + 1] == "http://127.0.0.1:9/v1/query"
    assert argv[argv.index("--timeout") + 1] == "7"
    assert "--no-deps" not in argv  # hashed files need no resolution: pip-audit warns on both


def test_audit_argv_pypi_service_has_no_osv_url_and_unknown_services_are_refused() -> None:
    argv = pip_audit.audit_argv(
        "p", Path("r"), output=Path("o"), service="pypi", osv_url="http://x", timeout=1
    )
    assert argv[argv.index("--vulnerability-service") + 1] == "pypi"
    assert "--osv-url" not in argv
    with pytest.raises(ValueError, match="esms"):
        pip_audit.audit_argv(
            "p", Path("r"), output=Path("o"), service="esms", osv_url="", timeout=1
        )


def test_parse_the_offline_run_every_dependency_skipped() -> None:
    output = pip_audit.parse_output((RECORDED / "offline-pypi.json").read_text())
    assert output.audited == ()
    assert [s.name for s in output.skipped] == ["click", "h11", "idna"]
    assert output.skipped[0].reason.startswith("Dependency not found on PyPI")


def test_parse_the_run_with_findings() -> None:
    output = pip_audit.parse_output((RECORDED / "osv-finding.json").read_text())
    by_name = {dep.name: dep for dep in output.audited}
    assert set(by_name) == {"click", "h11", "idna"}
    assert by_name["h11"].advisories == ()
    click = by_name["click"].advisories[0]
    assert (click.id, click.fix_versions) == ("PYSEC-2026-9001", ("8.5.2",))
    assert "GHSA-9999-9999-9999" in click.aliases
    assert click.description.startswith("PLANTED")
    assert by_name["idna"].advisories[0].id == "CVE-2026-99998"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ((RECORDED / "malformed-truncated.json").read_text(), "not JSON"),
        ("[]", "no 'dependencies' list"),
        ('{"dependencies": [{"version": "1"}]}', "has no name"),
        ('{"dependencies": [{"name": "a", "version": "1"}]}', "neither a version"),
        ('{"dependencies": [{"name": "a", "version": "1", "vulns": [{}]}]}', "without an id"),
        (
            '{"dependencies": [{"name": "a", "version": "1", '
            '"vulns": [{"id": "X", "aliases": 3}]}]}',
            "are not strings",
        ),
        ('{"dependencies": [{"name": "a", "skip_reason": 1}]}', "skip_reason is not text"),
    ],
)
def test_malformed_output_is_one_clear_error(text: str, message: str) -> None:
    with pytest.raises(pip_audit.MalformedOutputError, match=message) as caught:
        pip_audit.parse_output(text)
    assert "\n" not in str(caught.value)


def test_parse_version() -> None:
    assert pip_audit.parse_version("pip-audit 2.10.1\n") == "2.10.1"
    with pytest.raises(ToolFailedError):
        pip_audit.parse_version("pip 24.0")


def test_check_jsonschema_argv_and_errors() -> None:
    argv = check_jsonschema.builtin_argv("cj", "vendor.dependabot", Path("d.yml"))
    assert argv == [
        "cj",
        "--builtin-schema",
        "vendor.dependabot",
        "--output-format",
        "json",
        "d.yml",
    ]
    error = {"path": "$.updates[0]", "message": "bad", "filename": "d.yml"}
    text = json.dumps({"status": "fail", "errors": [error, error], "parse_errors": []})
    assert [str(e) for e in check_jsonschema.parse_errors(text)] == ["$.updates[0]: bad"]
    with pytest.raises(ToolFailedError, match="check-jsonschema: not JSON"):
        check_jsonschema.parse_errors("Traceback ...")
