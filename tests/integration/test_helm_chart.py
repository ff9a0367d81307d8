"""The real helm binary on the real chart: level 1 passes, and each planted defect fails it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from capabilities import under_ci
from vibevoice_ci.core.config import PipelineConfig, load_config
from vibevoice_ci.core.errors import CheckFailedError, ToolMissingError
from vibevoice_ci.core.outcome import Status
from vibevoice_ci.helm import static
from vibevoice_ci.helm.session import run_helm
from vibevoice_ci.tools import helm

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", autouse=True)
def _helm_installed() -> None:
    try:
        helm.version()
    except ToolMissingError as exc:
        if under_ci():
            pytest.fail(f"helm is required under CI: {exc}")
        pytest.skip(f"helm not installed (scripts/ci/install-kubernetes.sh): {exc}")


@pytest.fixture
def config(tmp_path: Path) -> PipelineConfig:
    """The project's config with the chart copied into tmp_path (so a test may break it)."""
    real = load_config()
    assert real.helm is not None
    chart = tmp_path / "chart"
    shutil.copytree(real.helm.chart, chart)
    helm_config = real.helm.model_copy(
        update={
            "chart": chart,
            "ci_values": chart / real.helm.ci_values.relative_to(real.helm.chart),
            "levels": ("static",),
        }
    )
    return real.model_copy(update={"helm": helm_config, "reports_dir": tmp_path / "reports"})


def _statuses(config: PipelineConfig, tmp_path: Path) -> dict[str, Status]:
    assert config.helm is not None
    result = static.run_static(config, config.helm, tmp_path / "out")
    return {outcome.name: outcome.status for outcome in result.outcomes}


def test_the_real_chart_passes_level_1(config: PipelineConfig, tmp_path: Path) -> None:
    found = _statuses(config, tmp_path)
    assert {name for name, status in found.items() if status is not Status.PASS} == set()
    assert "ci/api-schemas" in found
    assert "values-schema" in found
    assert (tmp_path / "out" / "rendered" / "ci.yaml").is_file()


def test_a_removed_api_fails_level_1(config: PipelineConfig, tmp_path: Path) -> None:
    assert config.helm is not None
    (config.helm.chart / "templates" / "legacy-ingress.yaml").write_text(
        "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: legacy\n"
        '  labels:\n    {{- include "vibevoice.labels" (dict "root" $ "name" "tts") '
        "| nindent 4 }}\nspec:\n  backend:\n    serviceName: x\n    servicePort: 80\n",
        encoding="utf-8",
    )
    found = _statuses(config, tmp_path)
    assert found["ci/removed-apis"] is Status.FAIL
    assert found["ci/api-schemas"] is Status.FAIL
    with pytest.raises(CheckFailedError, match="removed-apis"):
        run_helm(config)


def test_a_container_without_probes_fails_level_1(config: PipelineConfig, tmp_path: Path) -> None:
    assert config.helm is not None
    deployment = config.helm.chart / "templates" / "deployment.yaml"
    text = deployment.read_text(encoding="utf-8")
    stripped = re.sub(
        r"\n          readinessProbe:.*?(?=\n          resources:)", "", text, flags=re.DOTALL
    )
    assert stripped != text
    deployment.write_text(stripped, encoding="utf-8")
    found = _statuses(config, tmp_path)
    assert found["ci/probes"] is Status.FAIL
    assert found["defaults/probes"] is Status.FAIL
    with pytest.raises(CheckFailedError, match="probes"):
        run_helm(config)


@pytest.mark.parametrize(
    "bad",
    [
        "tts:\n    replicas: two",
        "tts:\n    engine: klingon",
        "tts:\n    limits: {maxTextChars: -5}",
        "agent:\n    auth: {existingSecret: Not_A_Name, secretKey: tokens}",
        "agent:\n    tts: {service: tts, url: not-a-url}",
        "agent:\n    paths: {turn: v1/reply}",
        "agent:\n    auth: null",
    ],
)
def test_a_bad_value_fails_level_1(config: PipelineConfig, tmp_path: Path, bad: str) -> None:
    assert config.helm is not None
    values = config.helm.ci_values
    values.write_text(f"services:\n  {bad}\n", encoding="utf-8")
    found = _statuses(config, tmp_path)
    assert found["lint/ci"] is Status.FAIL
    assert found["template/ci"] is Status.FAIL
    with pytest.raises(CheckFailedError, match="template/ci"):
        run_helm(config)


def test_a_schema_that_accepts_bad_values_fails_level_1(
    config: PipelineConfig, tmp_path: Path
) -> None:
    assert config.helm is not None
    (config.helm.chart / "values.schema.json").unlink()
    assert _statuses(config, tmp_path)["values-schema"] is Status.FAIL


def test_an_embedded_agent_token_fails_level_1(config: PipelineConfig, tmp_path: Path) -> None:
    assert config.helm is not None
    secret = config.helm.chart / "templates" / "secret.yaml"
    text = secret.read_text(encoding="utf-8")
    planted = text.replace("randAlphaNum 43", '"a-token-written-into-the-chart"')
    assert planted != text
    secret.write_text(planted, encoding="utf-8")
    found = _statuses(config, tmp_path)
    assert found["generated-secrets"] is Status.FAIL
    with pytest.raises(CheckFailedError, match="generated-secrets"):
        run_helm(config)


def test_agent_tokens_not_from_a_secret_fail_level_1(
    config: PipelineConfig, tmp_path: Path
) -> None:
    assert config.helm is not None
    deployment = config.helm.chart / "templates" / "deployment.yaml"
    text = deployment.read_text(encoding="utf-8")
    planted = re.sub(
        r"(- name: \{\{ \$prefix \}\}TOKENS\n)\s+valueFrom:.*?key: [^\n]+\n",
        r'\1              value: "a-plain-token-value"\n',
        text,
        flags=re.DOTALL,
    )
    assert planted != text
    deployment.write_text(planted, encoding="utf-8")
    found = _statuses(config, tmp_path)
    assert found["ci/secrets"] is Status.FAIL
    assert found["defaults/secrets"] is Status.FAIL


def test_a_wrong_token_secret_name_fails_level_1(config: PipelineConfig, tmp_path: Path) -> None:
    assert config.helm is not None
    secret = config.helm.chart / "templates" / "secret.yaml"
    text = secret.read_text(encoding="utf-8")
    planted = text.replace("name: {{ $secretName }}", "name: {{ $secretName }}-typo")
    assert planted != text
    secret.write_text(planted, encoding="utf-8")
    found = _statuses(config, tmp_path)
    assert found["ci/secret-refs"] is Status.FAIL


def test_the_tts_policy_refuses_the_ingress_controller(
    config: PipelineConfig, tmp_path: Path
) -> None:
    """The Ingress routes to the agent: tts admits only the agent (and the test pod)."""
    assert config.helm is not None
    values = config.helm.ci_values
    text = values.read_text(encoding="utf-8")
    values.write_text(text.replace("ingress:\n", "ingress:\n  service: tts\n"), encoding="utf-8")
    found = _statuses(config, tmp_path)
    assert found["ci/network-policy"] is Status.PASS  # routed to tts: the controller admitted
    values.write_text(text, encoding="utf-8")
    policy = config.helm.chart / "templates" / "networkpolicy.yaml"
    policy.write_text(
        policy.read_text(encoding="utf-8").replace("(eq $.Values.ingress.service $name)", "true"),
        encoding="utf-8",
    )
    assert _statuses(config, tmp_path)["ci/network-policy"] is Status.FAIL
