"""Lint the GitHub Actions workflows with actionlint and zizmor; both must report nothing."""

from __future__ import annotations

from vibevoice_ci.config import PipelineConfig
from vibevoice_ci.errors import CheckFailedError
from vibevoice_ci.report import write_text_atomic
from vibevoice_ci.tools import actionlint, zizmor
from vibevoice_ci.tools._exec import progress


def lint_workflows(config: PipelineConfig) -> None:
    """Run both linters over ``.github/``; print every finding; fail if there is one."""
    report_dir = config.report_dir("lint")
    progress("actionlint .github/workflows")
    linted = actionlint.run(config.root, expected_version=config.tools.get("actionlint"))
    progress(f"actionlint checked {linted.files_checked} workflow files")
    progress("zizmor --offline .github")
    audited = zizmor.run([".github"], cwd=config.root, expected_version=config.tools.get("zizmor"))
    write_text_atomic(report_dir / "zizmor.json", audited.raw_json)
    findings = [f"actionlint: {item}" for item in linted.findings]
    findings += [f"zizmor: {item}" for item in audited.findings]
    for line in findings:
        print(line, flush=True)
    if findings:
        raise CheckFailedError(f"{len(findings)} workflow finding(s) from actionlint and zizmor")
    progress("workflows: actionlint and zizmor report nothing")
