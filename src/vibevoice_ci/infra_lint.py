"""Lint what is not Python: workflows (actionlint, zizmor), Dockerfiles (hadolint) and shell
scripts (ShellCheck). Every tool must report nothing; each gets a line in the lint summary."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from vibevoice_ci.config import PipelineConfig
from vibevoice_ci.errors import CheckFailedError
from vibevoice_ci.report import Outcome, publish_summary, render_summary, write_text_atomic
from vibevoice_ci.tools import actionlint, hadolint, shellcheck, zizmor
from vibevoice_ci.tools._exec import progress

SHELL_SCRIPTS = (".ci/run", "scripts/**/*.sh")


def shell_scripts(root: Path) -> list[Path]:
    """The project's shell scripts, relative to ``root``, sorted."""
    found = {path.relative_to(root) for pattern in SHELL_SCRIPTS for path in root.glob(pattern)}
    return sorted(found)


def lint_infra(config: PipelineConfig) -> None:
    """Run every linter; print every finding; write the summary; fail if anything was found."""
    report_dir = config.report_dir("lint")
    root = config.root
    dockerfiles = sorted({s.dockerfile.relative_to(root) for s in config.services.values()})
    scripts = shell_scripts(root)

    def run_zizmor() -> Sequence[object]:
        audited = zizmor.run([".github"], cwd=root, expected_version=config.tools.get("zizmor"))
        write_text_atomic(report_dir / "zizmor.json", audited.raw_json)
        return audited.findings

    def run_actionlint() -> Sequence[object]:
        return actionlint.run(root, expected_version=config.tools.get("actionlint")).findings

    checks: list[tuple[str, str, Callable[[], Sequence[object]]]] = [
        ("actionlint", ".github/workflows", run_actionlint),
        ("zizmor", ".github (offline audits)", run_zizmor),
        ("hadolint", ", ".join(map(str, dockerfiles)), lambda: hadolint.run(dockerfiles, cwd=root)),
        ("shellcheck", ", ".join(map(str, scripts)), lambda: shellcheck.run(scripts, cwd=root)),
    ]
    outcomes: list[Outcome] = []
    for name, target, check in checks:
        progress(f"{name}: {target}")
        findings = check()
        for finding in findings:
            print(f"{name}: {finding}", flush=True)
        detail = f"{target}: " + (f"{len(findings)} finding(s)" if findings else "clean")
        outcomes.append(Outcome(name, "fail" if findings else "pass", detail))
    publish_summary(report_dir, render_summary("lint (non-Python)", outcomes))
    failed = [outcome.name for outcome in outcomes if outcome.status == "fail"]
    if failed:
        raise CheckFailedError(f"findings from {', '.join(failed)} (listed above)")
    progress("actionlint, zizmor, hadolint and shellcheck report nothing")
