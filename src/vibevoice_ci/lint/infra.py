"""Lint what is not Python: workflows (actionlint, zizmor), Dockerfiles (hadolint) and shell
scripts (ShellCheck). Every tool must report nothing; each gets a line in the lint summary."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.errors import (
    CheckFailedError,
    PipelineError,
    ToolFailedError,
    ToolMissingError,
)
from vibevoice_ci.core.files import write_text_atomic
from vibevoice_ci.core.outcome import Outcome, Status, publish_summary, render_summary
from vibevoice_ci.core.progress import progress
from vibevoice_ci.tools import actionlint, hadolint, shellcheck, zizmor

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
        try:
            findings = check()
        except ToolMissingError as exc:
            progress(f"{name} COULD NOT RUN: {exc}")
            outcomes.append(Outcome(name, Status.UNKNOWN, f"not run: {exc}"))
            continue
        except ToolFailedError as exc:  # it ran and crashed: never a clean result
            print(f"{name}: {exc}", flush=True)
            outcomes.append(Outcome.of(name, False, f"{target}: the linter failed: {exc}"))
            continue
        for finding in findings:
            print(f"{name}: {finding}", flush=True)
        detail = f"{target}: " + (f"{len(findings)} finding(s)" if findings else "clean")
        outcomes.append(Outcome.of(name, not findings, detail))
    publish_summary(report_dir, render_summary("lint (non-Python)", outcomes))
    verdict_error = lint_verdict(outcomes, strict=config.env.ci)
    if verdict_error is not None:
        raise verdict_error
    progress(_closing_line(outcomes))


def lint_verdict(outcomes: Sequence[Outcome], *, strict: bool) -> PipelineError | None:
    """The error the lint ends with, or None (pure). Findings fail. A linter that could not
    run leaves the verdict unknown: an error under CI (``strict``), a loud warning elsewhere."""
    failed = [outcome.name for outcome in outcomes if outcome.status is Status.FAIL]
    if failed:
        return CheckFailedError(f"findings from {', '.join(failed)} (listed above)")
    unknown = [outcome for outcome in outcomes if outcome.status is Status.UNKNOWN]
    if unknown and strict:
        return ToolMissingError("; ".join(f"{o.name} {o.detail}" for o in unknown))
    return None


def _closing_line(outcomes: Sequence[Outcome]) -> str:
    clean = [outcome.name for outcome in outcomes if outcome.passed]
    unknown = [outcome.name for outcome in outcomes if outcome.status is Status.UNKNOWN]
    line = f"{', '.join(clean)} report nothing" if clean else "no linter ran"
    if unknown:
        line += f"; NOT RUN (verdict unknown): {', '.join(unknown)}"
    return line
