"""The ``helm`` session: the chart at three levels, each reported pass, fail or unknown.

1. ``static`` (always runs): helm lint --strict, helm template, parse, required resources,
   API schemas offline, removed and deprecated APIs, the values schema's planted bad values.
2. ``cluster``: a real API server, controller manager and scheduler with kwok's simulated
   node: helm install, upgrade and rollback, every object admitted.
3. ``pods``: a real kubelet and containerd join that control plane and run the built images:
   probes really pass, ``helm test`` and the smoke checks through port-forward.

A level that does not run is reported UNKNOWN with its reason, never passed. Checks this
machine cannot decide are listed with their reason in ``[tool.vibevoice-ci.helm]
expected_unknown``; a CI job may accept more by naming them in
``$VIBEVOICE_HELM_ACCEPT_UNKNOWN``, but only those ``job_accepted_unknown`` lists with their
reason (naming another is exit 2). Accepted unknowns stay UNKNOWN in the report and the
summary (never a pass) but do not fail the run; any other unknown fails as the one rule says
(``core.outcome.unknown_fails``: under CI, or ``--strict``). ``helm.json`` and ``summary.md``
are written on every path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vibevoice_ci.core.config import HELM_LEVELS, HelmConfig, PipelineConfig
from vibevoice_ci.core.errors import (
    CheckFailedError,
    ConfigError,
    PipelineError,
    ToolMissingError,
    UsageError,
)
from vibevoice_ci.core.outcome import (
    Outcome,
    Status,
    overall,
    publish_summary,
    render_summary,
    unknown_fails,
)
from vibevoice_ci.core.progress import progress
from vibevoice_ci.core.reports import Check, write_report
from vibevoice_ci.helm import schema, static
from vibevoice_ci.helm.reports import HelmReport, Level
from vibevoice_ci.helm.result import LevelResult
from vibevoice_ci.tools import helm

SESSION = "helm"
# What no level of this session runs, on this machine or on GitHub, and why (docs/helm.md,
# "What runs where"); written into every report so a reader never assumes it was tested.
NOT_RUN = (
    "not run anywhere yet: the seed design's kind path (an ephemeral kind cluster with "
    "cert-manager and ingress-nginx, images loaded with kind load) is not implemented; here it "
    "could not run at all (kind's node image and the add-ons' images can't be pulled: no image "
    "registry), so Ingress routing and certificate issuance are untested (ingress-addons: "
    "unknown) and NetworkPolicy enforcement is untested (networkpolicy-enforcement: unknown)",
)


@dataclass
class HelmRun:
    levels: list[LevelResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def outcomes(self) -> list[Outcome]:
        return [outcome for level in self.levels for outcome in level.outcomes]


def verdict(
    outcomes: Sequence[Outcome], expected_unknown: Mapping[str, str], *, strict: bool
) -> PipelineError | None:
    """The error the session ends with, or None (pure).

    Any failed check fails. An unknown listed in ``expected_unknown`` is accepted (it stays
    unknown in the report); any other unknown fails when ``strict`` (CI).
    """
    failed = [o.name for o in outcomes if o.status is Status.FAIL]
    if failed:
        return CheckFailedError(f"helm checks failed: {', '.join(failed)}")
    if not outcomes:
        return CheckFailedError("helm: no check ran")
    undecided = [
        o.name for o in outcomes if o.status is Status.UNKNOWN and o.name not in expected_unknown
    ]
    if undecided and strict:
        return CheckFailedError(
            f"helm checks undecided under CI: {', '.join(undecided)} (only the checks in "
            "[tool.vibevoice-ci.helm] expected_unknown may stay unknown)"
        )
    return None


def choose_levels(requested: Sequence[str], configured: Sequence[str]) -> tuple[str, ...]:
    """The levels to run: those asked for on the command line, else the configured ones."""
    chosen = tuple(requested) or tuple(configured)
    unknown = sorted(set(chosen) - set(HELM_LEVELS))
    if unknown:
        raise UsageError(
            f"unknown helm level(s) {', '.join(unknown)}: use {', '.join(HELM_LEVELS)}"
        )
    return tuple(level for level in HELM_LEVELS if level in chosen)


LevelRunner = Callable[[PipelineConfig, HelmConfig, Path, static.StaticResult], LevelResult]


def run_helm(
    config: PipelineConfig, *, levels: Sequence[str] = (), strict: bool | None = None
) -> HelmRun:
    """Run the session; raise the error it exits with (after writing the report)."""
    helm_config = config.helm
    if helm_config is None:
        raise ConfigError("pyproject.toml has no [tool.vibevoice-ci.helm] table")
    accepted = accepted_unknown(config)
    chosen = choose_levels(levels, helm_config.levels)
    report_dir = config.report_dir(SESSION)
    report_dir.mkdir(parents=True, exist_ok=True)
    run = HelmRun()
    error: PipelineError | None = None
    uncharted = sorted(set(config.services) - {s.name for s in config.charted_services()})
    if uncharted:
        run.notes.append(
            f"NOT CHARTED (not deployed or checked by this session): {', '.join(uncharted)}; "
            "[tool.vibevoice-ci.helm] services lists what the chart deploys"
        )
    run.notes += NOT_RUN
    try:
        schema.require_targets(helm_config.kubernetes_versions)  # before any tool runs
        run.notes.append(f"helm {helm.version()}")
        progress("level 1 (static): lint, render, parse, schemas, APIs")
        static_result = static.run_static(config, helm_config, report_dir)
        run.levels.append(LevelResult("static", static_result.outcomes, static_result.notes))
        for level in HELM_LEVELS[1:]:
            if level not in chosen:
                run.levels.append(_not_run(level, "not selected (--level)"))
                continue
            runner = _runners().get(level)
            if runner is None:
                run.levels.append(_not_run(level, "not implemented in this version"))
                continue
            try:
                run.levels.append(runner(config, helm_config, report_dir, static_result))
            except ToolMissingError as exc:
                run.levels.append(_not_run(level, f"tools missing: {exc}"))
    except (UsageError, ToolMissingError, ConfigError) as exc:
        run.notes.append(f"error: {exc}")
        error = exc
    finally:
        for outcome in run.outcomes:
            print(outcome.line(), flush=True)
        _write_report(report_dir, run, accepted)
    fails = unknown_fails(ci=config.env.ci, strict=strict)
    error = error or verdict(run.outcomes, accepted, strict=fails)
    if error is not None:
        raise error
    return run


def accepted_unknown(config: PipelineConfig) -> dict[str, str]:
    """The unknowns this run accepts, each with the config's reason: ``expected_unknown``
    (this machine), and those of ``job_accepted_unknown`` the CI job names in
    ``$VIBEVOICE_HELM_ACCEPT_UNKNOWN``. A name listed in neither is a ``UsageError``."""
    helm_config = config.helm
    configured = dict(helm_config.expected_unknown) if helm_config else {}
    listed = dict(helm_config.job_accepted_unknown) if helm_config else {}
    named = sorted(config.env.helm_accept_unknown)
    unlisted = [name for name in named if name not in listed and name not in configured]
    if unlisted:
        raise UsageError(
            f"VIBEVOICE_HELM_ACCEPT_UNKNOWN names {', '.join(unlisted)}, which "
            "[tool.vibevoice-ci.helm] job_accepted_unknown does not list (with its reason)"
        )
    return {**configured, **{name: listed[name] for name in named if name in listed}}


# The deploying levels (helm.deploy) by name; a level without a runner is reported unknown.
def _runners() -> dict[str, LevelRunner]:
    from vibevoice_ci.helm import deploy

    return {"cluster": deploy.run_cluster_level, "pods": deploy.run_pods_level}


def _not_run(level: str, reason: str) -> LevelResult:
    return LevelResult(level, [Outcome(level, Status.UNKNOWN, f"level not run: {reason}")])


def _write_report(report_dir: Path, run: HelmRun, expected: Mapping[str, str]) -> None:
    write_report(
        report_dir / "helm.json",
        HelmReport(
            status=overall(run.outcomes),
            levels=[
                Level(
                    level=level.level,
                    status=overall(level.outcomes),
                    checks=[Check.of(outcome) for outcome in level.outcomes],
                    notes=list(level.notes),
                )
                for level in run.levels
            ],
            accepted_unknown={
                o.name: expected[o.name]
                for o in run.outcomes
                if o.status is Status.UNKNOWN and o.name in expected
            },
            notes=run.notes,
        ),
    )
    outcomes = [
        Outcome(f"{level.level}: {o.name}", o.status, o.detail)
        for level in run.levels
        for o in level.outcomes
    ]
    notes = list(run.notes)
    for level in run.levels:
        notes += list(level.notes)
    for outcome in run.outcomes:
        if outcome.status is Status.UNKNOWN and outcome.name in expected:
            notes.append(
                f"ACCEPTED UNKNOWN (not a pass): {outcome.name} ({expected[outcome.name]})"
            )
    publish_summary(report_dir, render_summary("helm", outcomes, notes))
