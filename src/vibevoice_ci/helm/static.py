"""Level 1, static: lint, render, parse, required resources, schemas, removed APIs.

Always runs; needs only the helm binary (the schemas are bundled, nothing is downloaded).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vibevoice_ci.core.config import HelmConfig, PipelineConfig
from vibevoice_ci.core.files import write_text_atomic
from vibevoice_ci.core.outcome import Outcome
from vibevoice_ci.helm import apis, checks, schema
from vibevoice_ci.helm.manifests import Manifest, ManifestError, parse_documents
from vibevoice_ci.tools import helm

# Values the chart's values.schema.json must reject: each is rendered and must fail.
BAD_VALUES: Mapping[str, Mapping[str, Any]] = {
    "replicas-as-string": {"services": {"tts": {"replicas": "two"}}},
    "unknown-engine": {"services": {"tts": {"engine": "klingon"}}},
    "negative-limit": {"services": {"tts": {"limits": {"maxConcurrency": -1}}}},
    "plain-secret-value": {
        "services": {"tts": {"secretEnv": [{"name": "ANTHROPIC_API_KEY", "value": "sk-plain"}]}}
    },
    "agent-token-in-env": {"services": {"agent": {"env": {"VIBEVOICE_AGENT_TOKENS": "plain"}}}},
    "agent-without-auth": {"services": {"agent": {"auth": None}}},
}


@dataclass
class StaticResult:
    outcomes: list[Outcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # The CI render, parsed (what the cluster levels deploy); empty when it did not render.
    ci_manifests: list[Manifest] = field(default_factory=list)


def expectations(
    config: PipelineConfig, helm_config: HelmConfig
) -> list[checks.ServiceExpectation]:
    """What every configured service must look like in the chart (from the one config)."""
    return [
        checks.ServiceExpectation(
            name=service.name,
            port=service.container_port,
            health_path=service.health_path,
            ready_path=service.ready_path,
            clients=tuple(helm_config.network_clients.get(service.name, ())),
            secret_env=tuple(helm_config.secret_env.get(service.name, ())),
        )
        for service in config.charted_services()
    ]


def ingress_namespace(chart: Path) -> str:
    values = yaml.safe_load((chart / "values.yaml").read_text(encoding="utf-8")) or {}
    return str((values.get("ingress") or {}).get("controllerNamespace", "ingress-nginx"))


def run_static(config: PipelineConfig, helm_config: HelmConfig, report_dir: Path) -> StaticResult:
    """Run every static check; write the renders under ``report_dir/rendered``."""
    result = StaticResult()
    chart = helm_config.chart
    expected = expectations(config, helm_config)
    newest = helm_config.kubernetes_versions[-1]
    renders = {"defaults": (), "ci": (helm_config.ci_values,)}
    for label, values in renders.items():
        passed, messages, raw = helm.lint(chart, values=values, kube_version=newest)
        shown = [f"[{m.severity}] {m.text}" for m in messages if m.severity != "INFO"]
        result.outcomes.append(
            Outcome.of(
                f"lint/{label}",
                passed,
                "; ".join(shown) or ("helm lint --strict clean" if passed else _tail(raw.stderr)),
            )
        )
    for label, values in renders.items():
        manifests = _render(result, helm_config, label, values, newest, report_dir)
        if manifests is None:
            continue
        if label == "ci":
            result.ci_manifests = manifests
        for outcome in checks.run_all(
            manifests, expected, ingress_namespace=ingress_namespace(chart)
        ):
            result.outcomes.append(
                Outcome(f"{label}/{outcome.name}", outcome.status, outcome.detail)
            )
        result.outcomes.append(_schemas(manifests, label, helm_config.kubernetes_versions))
        result.outcomes.append(_apis(manifests, label, helm_config.kubernetes_versions, result))
    result.outcomes.append(_generated_secrets(helm_config, newest, renders["ci"]))
    result.outcomes.append(_bad_values(helm_config, report_dir))
    return result


def _generated_secrets(
    helm_config: HelmConfig, kube_version: str, values: Sequence[Path]
) -> Outcome:
    """Two renders of the same values: a Secret with the same data in both is embedded."""
    parsed = []
    for _ in range(2):
        rendered = helm.template(
            helm_config.release,
            helm_config.chart,
            namespace=helm_config.namespace,
            values=values,
            kube_version=kube_version,
        )
        if not rendered.ok:
            return Outcome.of("generated-secrets", False, _tail(rendered.stderr))
        try:
            parsed.append(parse_documents(rendered.stdout))
        except ManifestError as exc:
            return Outcome.of("generated-secrets", False, str(exc))
    return checks.generated_secrets(parsed[0], parsed[1])


def _render(
    result: StaticResult,
    helm_config: HelmConfig,
    label: str,
    values: Sequence[Path],
    kube_version: str,
    report_dir: Path,
) -> list[Manifest] | None:
    rendered = helm.template(
        helm_config.release,
        helm_config.chart,
        namespace=helm_config.namespace,
        values=values,
        kube_version=kube_version,
    )
    if not rendered.ok:
        result.outcomes.append(Outcome.of(f"template/{label}", False, _tail(rendered.stderr)))
        return None
    write_text_atomic(report_dir / "rendered" / f"{label}.yaml", rendered.stdout)
    try:
        manifests = parse_documents(rendered.stdout)
    except ManifestError as exc:
        result.outcomes.append(Outcome.of(f"template/{label}", False, str(exc)))
        return None
    kinds = sorted({m.kind for m in manifests})
    result.outcomes.append(
        Outcome.of(
            f"template/{label}",
            bool(manifests),
            f"{len(manifests)} documents parsed ({', '.join(kinds)})",
        )
    )
    return manifests


def _schemas(manifests: Sequence[Manifest], label: str, targets: Sequence[str]) -> Outcome:
    problems = [
        problem.line() for target in targets for problem in schema.validate(manifests, target)
    ]
    return Outcome.of(
        f"{label}/api-schemas",
        not problems,
        "; ".join(problems[:10])
        or f"{len(manifests)} objects valid against Kubernetes {', '.join(targets)} (strict)",
    )


def _apis(
    manifests: Sequence[Manifest], label: str, targets: Sequence[str], result: StaticResult
) -> Outcome:
    findings = apis.check_api_versions(manifests, targets)
    removed = [f.message() for f in findings if f.removed]
    deprecated = [f.message() for f in findings if not f.removed]
    result.notes += [f"warning ({label}): {message}" for message in deprecated]
    detail = "; ".join(removed) or (
        f"no removed API in Kubernetes {', '.join(targets)}"
        + (f"; {len(deprecated)} deprecated (warnings below)" if deprecated else "")
    )
    return Outcome.of(f"{label}/removed-apis", not removed, detail)


def _bad_values(helm_config: HelmConfig, report_dir: Path) -> Outcome:
    """Each planted bad value must make the render fail on values.schema.json."""
    accepted = []
    for name, values in BAD_VALUES.items():
        path = report_dir / "bad-values" / f"{name}.yaml"
        write_text_atomic(path, yaml.safe_dump(dict(values), sort_keys=True))
        rendered = helm.template(
            helm_config.release,
            helm_config.chart,
            namespace=helm_config.namespace,
            values=(helm_config.ci_values, path),
        )
        if rendered.ok or "schema" not in rendered.stderr.lower():
            accepted.append(name)
    return Outcome.of(
        "values-schema",
        not accepted,
        f"accepted bad values: {', '.join(accepted)}"
        if accepted
        else f"values.schema.json rejected all {len(BAD_VALUES)} planted bad values "
        f"({', '.join(BAD_VALUES)})",
    )


def _tail(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " / ".join(lines[-3:]) or "no output"
