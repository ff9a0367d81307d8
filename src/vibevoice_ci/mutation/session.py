"""The mutation session: for each module of ``[tool.vibevoice-ci.mutation]``, one mutmut run
that mutates that module alone and runs only its own tests, then the score and the verdict
(``score``), ``reports/mutation/mutation.json``, ``summary.md`` and a log per module.

mutmut reads its settings from the ``[tool.mutmut]`` table of the ``pyproject.toml`` in the
folder it runs in, and copies the project into ``mutants/`` there. So each module runs in a
workspace of its own, ``mutants/<name>/`` (ignored by git, made anew every run: no result is
carried over): ``src``, ``tests`` and the module's ``also_copy`` linked to the project's, and
the project's ``pyproject.toml`` with that module's ``[tool.mutmut]`` table added.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from vibevoice_ci.core.config import MutationModule, PipelineConfig
from vibevoice_ci.core.errors import ToolFailedError, UsageError
from vibevoice_ci.core.files import write_text_atomic
from vibevoice_ci.core.outcome import (
    Outcome,
    Status,
    overall,
    publish_summary,
    unknown_warning,
    verdict_error,
)
from vibevoice_ci.core.progress import progress
from vibevoice_ci.core.reports import write_report
from vibevoice_ci.mutation import score
from vibevoice_ci.mutation.equivalents import Equivalent, load_equivalents, unowned
from vibevoice_ci.mutation.reports import (
    EquivalentMutant,
    ModuleResult,
    MutationReport,
    UndetectedMutant,
)
from vibevoice_ci.tools import mutmut

SESSION = "mutation"
REPORT_FILE = "mutation.json"
WORKSPACES = "mutants"
# Under every mutant's test run: no cache written into the copy, and Hypothesis derandomised
# at full strength (the suite's ci profile), so a mutant's verdict does not change by chance.
PYTEST_ARGS = ("-p", "no:cacheprovider", "--hypothesis-profile", "ci")


@dataclass(frozen=True)
class ModuleRun:
    """What one module's run gave: its mutants' statuses, the changes of the undetected ones,
    mutmut's exit code and the wall time."""

    statuses: Mapping[str, mutmut.MutantStatus]
    diffs: Mapping[str, mutmut.MutantDiff]
    run_exit: int
    seconds: float


def select(modules: Sequence[MutationModule], names: Sequence[str]) -> list[MutationModule]:
    """The modules named (all of them when none is), in the table's order; an unknown name is
    a UsageError (exit 2)."""
    known = [module.name for module in modules]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise UsageError(
            f"no mutation module {', '.join(unknown)} in [tool.vibevoice-ci.mutation] "
            f"(known: {', '.join(known) or 'none'})"
        )
    return [module for module in modules if not names or module.name in names]


def run_mutation(config: PipelineConfig, *, names: Sequence[str], strict: bool | None) -> None:
    """Run every selected module, write the reports; raise when the session fails."""
    table = config.mutation
    modules = select(table.modules, names)
    equivalents = load_equivalents(table.equivalents, config.root)
    dotted = {m.name: dotted_name(config, m) for m in table.modules}
    strays = unowned(equivalents, list(dotted.values()))
    if strays:
        raise UsageError(
            f"{relative(config, table.equivalents or config.root)}: {', '.join(strays)} is a "
            "mutant of no module in [tool.vibevoice-ci.mutation]"
        )
    binary = mutmut.mutmut()
    folder = config.report_dir(SESSION)
    folder.mkdir(parents=True, exist_ok=True)
    results = []
    for module in modules:
        mine = [e for e in equivalents if e.belongs_to(dotted[module.name])]
        progress(f"mutation {module.name}: mutmut run on {relative(config, module.path)}")
        run = run_module(config, binary, module, dotted[module.name], mine, folder)
        result = module_result(config, module, run, mine)
        progress(f"mutation {module.name}: {result.detail} in {run.seconds:.0f} s")
        results.append(result)
    outcomes = [Outcome(r.name, r.status, r.detail) for r in results]
    status = overall(outcomes)
    write_report(
        folder / REPORT_FILE,
        MutationReport(status=status, mutmut=mutmut.SUPPORTED_VERSION, modules=results),
    )
    publish_summary(folder, render_summary(status, results))
    for outcome in outcomes:
        print(outcome.line(), file=sys.stderr)
    failed = ", ".join(o.name for o in outcomes if o.status is not Status.PASS)
    error = verdict_error(
        SESSION,
        status,
        ci=config.env.ci,
        strict=strict,
        detail=f"{failed} (reports/{SESSION}/summary.md)",
    )
    if error is not None:
        raise error
    warning = unknown_warning(SESSION, status)
    if warning:
        progress(warning)


def dotted_name(config: PipelineConfig, module: MutationModule) -> str:
    """The module's dotted name (mutmut's mutant names start with it); a file that is not a
    Python module under src/ is a UsageError (exit 2)."""
    try:
        return mutmut.module_of(relative(config, module.path))
    except ValueError as exc:
        raise UsageError(f"[tool.vibevoice-ci.mutation] {module.name}: {exc}") from None


def relative(config: PipelineConfig, path: Path) -> Path:
    return path.relative_to(config.root) if path.is_relative_to(config.root) else path


def run_module(
    config: PipelineConfig,
    binary: str,
    module: MutationModule,
    dotted: str,
    equivalents: Sequence[Equivalent],
    folder: Path,
) -> ModuleRun:
    """One module's mutmut run in a fresh workspace, read back."""
    path = relative(config, module.path)
    workspace = prepare_workspace(config, module)
    started = time.monotonic()
    run_exit = mutmut.run(
        binary,
        workspace,
        max_children=config.mutation.max_children,
        patterns=[mutmut.mutant_pattern(dotted, f) for f in module.functions],
        timeout=config.mutation.timeout,
        log=folder / f"{module.name}.log",
    )
    seconds = time.monotonic() - started
    meta = workspace / "mutants" / f"{path}.meta"
    try:
        codes = mutmut.parse_meta(meta.read_text(encoding="utf-8")) if meta.exists() else {}
    except mutmut.MalformedOutputError as exc:
        raise ToolFailedError(f"{meta}: {exc}") from None
    statuses = {
        name: mutmut.status_of(code)
        for name, code in codes.items()
        if not module.functions or mutmut.function_of(name, dotted) in module.functions
    }
    listed = {e.mutant for e in equivalents}
    diffs = {}
    for name, status in statuses.items():
        if score.needs_diff(status) or (name in listed and status == "survived"):
            try:
                diffs[name] = mutmut.show(binary, workspace, name)
            except mutmut.MalformedOutputError as exc:
                raise ToolFailedError(f"mutmut show {name}: {exc}") from None
    return ModuleRun(statuses, diffs, run_exit, seconds)


def prepare_workspace(config: PipelineConfig, module: MutationModule) -> Path:
    """``mutants/<name>/``, made anew: links to ``src``, ``tests`` and the module's
    ``also_copy``, and ``pyproject.toml`` with the module's ``[tool.mutmut]`` table."""
    workspace = config.root / WORKSPACES / module.name
    shutil.rmtree(workspace, ignore_errors=True)
    workspace.mkdir(parents=True)
    extra = [relative(config, path) for path in module.also_copy]
    nested = [str(path) for path in extra if len(path.parts) != 1]
    if nested:
        # mutmut copies each also_copy entry into mutants/ without making its parent folders.
        raise UsageError(
            f"[tool.vibevoice-ci.mutation] {module.name}: also_copy takes files or folders at "
            f"the project root, not {', '.join(nested)}"
        )
    for entry in [Path("src"), Path("tests"), *extra]:
        link = workspace / entry
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(config.root / entry)
    pyproject = (config.root / "pyproject.toml").read_text(encoding="utf-8")
    table = mutmut.config_table(
        mutate=str(relative(config, module.path)),
        tests=[str(relative(config, test)) for test in module.tests],
        also_copy=[str(path) for path in extra],
        pytest_args=PYTEST_ARGS,
    )
    write_text_atomic(workspace / "pyproject.toml", pyproject.rstrip() + "\n\n" + table)
    return workspace


def module_result(
    config: PipelineConfig,
    module: MutationModule,
    run: ModuleRun,
    equivalents: Sequence[Equivalent],
) -> ModuleResult:
    """The module's document: its tally, verdict and undetected mutants."""
    counted = score.tally(run.statuses, equivalents, run.diffs)
    min_score = module.min_score or config.mutation.min_score
    outcome = score.judge(module.name, counted, min_score, run_exit=run.run_exit)
    excluded = set(counted.equivalent)
    value = counted.score
    return ModuleResult(
        name=module.name,
        path=str(relative(config, module.path)),
        functions=list(module.functions),
        tests=[str(relative(config, test)) for test in module.tests],
        status=outcome.status,
        detail=outcome.detail,
        score=None if value is None else round(float(value), 4),
        min_score=min_score,
        total=counted.total,
        detected=counted.detected,
        undetected=counted.undetected,
        undecided=counted.undecided,
        counts=dict(sorted(counted.counts.items())),
        seconds=round(run.seconds, 1),
        undetected_mutants=[
            UndetectedMutant(
                name=name,
                status=status,
                removed=list(run.diffs[name].removed),
                added=list(run.diffs[name].added),
            )
            for name, status in sorted(run.statuses.items(), key=lambda item: _order(item[0]))
            if score.needs_diff(status) and name not in excluded and name in run.diffs
        ],
        equivalents=[
            EquivalentMutant(name=e.mutant, change=e.change, why=e.why)
            for e in equivalents
            if e.mutant in excluded
        ],
        stale_equivalents=list(counted.stale),
    )


def _order(name: str) -> tuple[str, int]:
    """Mutants in source order of function, then by number (``..._mutmut_10`` after ``_9``)."""
    function, _, number = name.rpartition("__mutmut_")
    return (function, int(number) if number.isdigit() else 0)


def render_summary(status: Status, results: Sequence[ModuleResult]) -> str:
    """``summary.md``: a verdict line, the score per module, then each module's undetected
    mutants (what they change) and its listed equivalents."""
    lines = [
        "## Mutation testing",
        "",
        f"**{status.value.upper()}**: {len(results)} modules (mutmut {mutmut.SUPPORTED_VERSION})",
        "",
        "| module | result | score | minimum | detected | undetected | equivalent | mutants "
        "| seconds |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        counted = r.detected + r.undetected
        shown = score.percent(Fraction(r.detected, counted)) if counted else "-"
        lines.append(
            f"| {r.name} (`{r.path}`) | {r.status.value} | {shown} | {r.min_score:.0%} | "
            f"{r.detected} | {r.undetected} | {len(r.equivalents)} | {r.total} | {r.seconds:.0f} |"
        )
    for r in results:
        if not (r.undetected_mutants or r.equivalents or r.stale_equivalents) and (
            r.status is Status.PASS
        ):
            continue
        lines += ["", f"### {r.name}", "", r.detail]
        for m in r.undetected_mutants:
            change = " / ".join(f"`{a}`" for a in m.added) or "(line deleted)"
            was = " / ".join(f"`{a}`" for a in m.removed) or "(nothing)"
            lines.append(f"- {m.status}: `{m.name}`: {was} → {change}")
        for e in r.equivalents:
            lines.append(f"- equivalent: `{e.name}` (`{e.change}`): {e.why}")
        for stale in r.stale_equivalents:
            lines.append(f"- out-of-date equivalent entry: {stale}")
    if any(r.undetected_mutants for r in results):
        lines += [
            "",
            "Kill an undetected mutant with a test of the behaviour it changes; list one that "
            "changes no behaviour in the equivalents file, with why (docs/ci-cd.md, "
            '"Mutation testing").',
        ]
    return "\n".join(lines) + "\n"
