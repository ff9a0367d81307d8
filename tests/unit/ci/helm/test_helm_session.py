"""The helm session's verdict rule, level choice, config table and helm argument builders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from schema_helpers import assert_matches_schema

from vibevoice_ci.core.config import (
    HELM_LEVELS,
    PipelineConfig,
    RunEnvironment,
    load_config,
    parse_config,
    run_environment,
)
from vibevoice_ci.core.errors import (
    CheckFailedError,
    ConfigError,
    ToolFailedError,
    ToolMissingError,
    UsageError,
)
from vibevoice_ci.core.outcome import Outcome, Status
from vibevoice_ci.helm import session as helm_session
from vibevoice_ci.helm import static
from vibevoice_ci.helm.result import LevelResult
from vibevoice_ci.helm.session import choose_levels, verdict
from vibevoice_ci.tools import helm

EXPECTED = {"ingress-addons": "no registry access here"}


def test_a_failed_check_fails_whatever_else() -> None:
    outcomes = [Outcome.of("a", True, ""), Outcome.of("b", False, "broken")]
    error = verdict(outcomes, EXPECTED, strict=False)
    assert isinstance(error, CheckFailedError)
    assert "b" in str(error)


def test_an_expected_unknown_is_accepted_even_under_ci() -> None:
    outcomes = [Outcome.of("a", True, ""), Outcome("ingress-addons", Status.UNKNOWN, "x")]
    assert verdict(outcomes, EXPECTED, strict=True) is None


def test_any_other_unknown_fails_under_ci_only() -> None:
    outcomes = [Outcome.of("a", True, ""), Outcome("cluster", Status.UNKNOWN, "not run")]
    error = verdict(outcomes, EXPECTED, strict=True)
    assert isinstance(error, CheckFailedError)
    assert "cluster" in str(error)
    assert verdict(outcomes, EXPECTED, strict=False) is None


def test_no_check_at_all_is_a_failure() -> None:
    assert isinstance(verdict([], EXPECTED, strict=False), CheckFailedError)


def test_levels_come_from_the_command_line_else_the_config_in_order() -> None:
    assert choose_levels([], HELM_LEVELS) == HELM_LEVELS
    assert choose_levels(["pods", "static"], HELM_LEVELS) == ("static", "pods")
    with pytest.raises(UsageError, match="kind"):
        choose_levels(["kind"], HELM_LEVELS)


def test_the_helm_table_parses(valid_table: dict[str, Any], tmp_path: Path) -> None:
    valid_table["helm"] = {
        "chart": "infra/k8s/vibevoice",
        "ci_values": "infra/k8s/vibevoice/ci/ci-values.yaml",
        "kubernetes_versions": ["1.29", "1.35"],
        "network_clients": {"tts": ["agent"], "agent": []},
        "secret_env": {"agent": ["VIBEVOICE_AGENT_TOKENS"]},
        "expected_unknown": {"ingress-addons": "no registry"},
    }
    config = parse_config(valid_table, tmp_path)
    assert config.helm is not None
    assert config.helm.chart == tmp_path / "infra/k8s/vibevoice"
    assert config.helm.network_clients == {"tts": ("agent",), "agent": ()}
    assert config.helm.secret_env == {"agent": ("VIBEVOICE_AGENT_TOKENS",)}
    assert config.helm.expected_unknown == {"ingress-addons": "no registry"}
    assert config.helm.levels == HELM_LEVELS


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"kubernetes_versions": ["latest"]},
            'kubernetes_versions #1: must be a minor version like "1.35"',
        ),
        ({"levels": ["kind"]}, "levels #1: Input should be 'static', 'cluster' or 'pods'"),
        ({"release": "Bad_Name"}, "not a DNS label"),
        ({"expected_unknown": {"x": ""}}, "non-empty string"),
        ({"surprise": 1}, "unknown key"),
        ({"network_clients": {"tts": "agent"}}, r"network_clients\] tts: must be an array"),
        ({"secret_env": {"agent": [""]}}, r"secret_env\] agent #1: must be a non-empty string"),
        ({"secret_env": ["agent"]}, "must be a table"),
    ],
)
def test_a_bad_helm_table_is_a_config_error(
    valid_table: dict[str, Any], tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    valid_table["helm"] = {"chart": "c", "ci_values": "c/v.yaml", **change}
    with pytest.raises(ConfigError, match=message):
        parse_config(valid_table, tmp_path)


RELEASE = helm.Release("rel", "ns", Path("/k/config"))


def test_helm_argument_builders() -> None:
    assert helm.lint_argv("helm", Path("c"), values=[Path("v.yaml")], kube_version="1.35") == [
        "helm", "lint", "c", "--strict", "--values", "v.yaml", "--kube-version", "1.35",
    ]  # fmt: skip
    assert helm.template_argv(
        "helm", "rel", Path("c"), namespace="ns", settings={"b": "2", "a": "1"}
    ) == [
        "helm", "template", "rel", "c", "--namespace", "ns",
        "--set", "a=1", "--set", "b=2",
    ]  # fmt: skip
    install = helm.upgrade_install_argv(
        "helm", RELEASE, Path("c"), values=[Path("v")], timeout_seconds=90, install=True
    )
    assert install[:5] == ["helm", "install", "rel", "c", "--create-namespace"]
    assert install[-3:] == ["--wait", "--timeout", "90s"]
    assert install[7:9] == ["--kubeconfig", "/k/config"]
    upgrade = helm.upgrade_install_argv(
        "helm", RELEASE, Path("c"), settings={"x": "y"}, timeout_seconds=5, install=False
    )
    assert upgrade[:4] == ["helm", "upgrade", "rel", "c"]
    assert "--set" in upgrade
    assert helm.rollback_argv("helm", RELEASE, 1, timeout_seconds=9)[:4] == [
        "helm", "rollback", "rel", "1",
    ]  # fmt: skip
    assert "--logs" in helm.test_argv("helm", RELEASE, timeout_seconds=9)
    assert helm.history_argv("helm", RELEASE)[-2:] == ["--output", "json"]
    assert helm.uninstall_argv("helm", RELEASE, timeout_seconds=9)[1] == "uninstall"


def test_helm_output_parsers() -> None:
    assert helm.parse_version("v3.22.0+gabc") == "3.22.0"
    assert helm.parse_version("v3.22") == "3.22"
    assert helm.parse_version("nonsense") is None
    lint = "==> Linting c\n[INFO] Chart.yaml: icon is recommended\n[ERROR] templates/: boom\n"
    assert [(m.severity, m.text) for m in helm.parse_lint(lint)] == [
        ("INFO", "Chart.yaml: icon is recommended"),
        ("ERROR", "templates/: boom"),
    ]
    history = '[{"revision":1,"status":"superseded"},{"revision":2,"status":"deployed"}]'
    assert [(r.revision, r.status) for r in helm.parse_history(history)] == [
        (1, "superseded"),
        (2, "deployed"),
    ]
    with pytest.raises(ToolFailedError):
        helm.parse_history("not json")


# --- helm.json as the session writes it -------------------------------------------------------


def _config(repo_root: Path, tmp_path: Path) -> PipelineConfig:
    return load_config(repo_root).model_copy(
        update={"reports_dir": tmp_path / "reports", "env": RunEnvironment()}
    )


def test_the_report_of_a_static_run_matches_its_schema(
    repo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def run_static(*_: Any) -> static.StaticResult:
        return static.StaticResult(
            outcomes=[
                Outcome.of("lint/ci", True, "helm lint --strict clean"),
                Outcome("ingress-addons", Status.UNKNOWN, "no ingress controller here"),
            ],
            notes=["rendered with the CI values"],
        )

    monkeypatch.setattr(helm, "version", lambda: "3.19.0")
    monkeypatch.setattr(static, "run_static", run_static)
    config = _config(repo_root, tmp_path)

    helm_session.run_helm(config, levels=["static"])

    report = assert_matches_schema(config.report_dir("helm") / "helm.json", "helm/helm.schema.json")
    assert report["status"] == "unknown"
    assert [(level["level"], level["status"]) for level in report["levels"]] == [
        ("static", "unknown"),
        ("cluster", "unknown"),
        ("pods", "unknown"),
    ]
    assert report["levels"][0]["checks"][0] == {
        "name": "lint/ci",
        "status": "pass",
        "detail": "helm lint --strict clean",
    }
    assert list(report["accepted_unknown"]) == ["ingress-addons"]


def test_the_report_of_a_run_without_helm_matches_its_schema(
    repo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing() -> str:
        raise ToolMissingError("helm 3 not available")

    monkeypatch.setattr(helm, "version", missing)
    config = _config(repo_root, tmp_path)

    with pytest.raises(ToolMissingError):
        helm_session.run_helm(config)

    report = assert_matches_schema(config.report_dir("helm") / "helm.json", "helm/helm.schema.json")
    assert (report["status"], report["levels"]) == ("unknown", [])
    assert report["notes"][-1] == "error: helm 3 not available"


def _env_config(repo_root: Path, tmp_path: Path, accept: str) -> PipelineConfig:
    env = run_environment({"CI": "true", "VIBEVOICE_HELM_ACCEPT_UNKNOWN": accept})
    return _config(repo_root, tmp_path).model_copy(update={"env": env})


def test_a_job_accepts_only_unknowns_the_config_lists_with_their_reason(
    repo_root: Path, tmp_path: Path
) -> None:
    """ci-helm-validate.yml's `pods` is listed in job_accepted_unknown: accepted with the
    config's reason. A name the config does not list is one usage line (exit 2)."""
    config = _env_config(repo_root, tmp_path, "pods: no root on this runner")
    accepted = helm_session.accepted_unknown(config)
    assert accepted["pods"].startswith("level 3 needs root")
    assert set(accepted) == {"pods", "ingress-addons", "networkpolicy-enforcement"}
    stray = _env_config(repo_root, tmp_path, "helm-test: it is slow")
    with pytest.raises(UsageError, match=r"names helm-test, which .* does not list") as refused:
        helm_session.accepted_unknown(stray)
    assert refused.value.exit_code == 2
    assert "\n" not in str(refused.value)
    # Without the job naming it, a level not run is an unknown that fails under CI.
    assert "pods" not in helm_session.accepted_unknown(_env_config(repo_root, tmp_path, ""))


def test_a_run_of_level_3_alone_accepts_level_2_only_when_named(
    repo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """.ci/run runs levels 1 and 2 through ci-helm-validate.yml (act), then level 3 alone
    (`--level pods`) naming `cluster`: level 2 is reported UNKNOWN (not run, never a pass) with
    the config's reason, and does not fail under CI; unnamed, it fails."""

    def run_static(*_: Any) -> static.StaticResult:
        return static.StaticResult(outcomes=[Outcome.of("lint/ci", True, "clean")], notes=[])

    def run_pods(*_: Any) -> LevelResult:
        return LevelResult("pods", [Outcome.of("helm-test", True, "passed")])

    monkeypatch.setattr(helm, "version", lambda: "3.19.0")
    monkeypatch.setattr(static, "run_static", run_static)
    monkeypatch.setattr(helm_session, "_runners", lambda: {"pods": run_pods})
    unnamed = _env_config(repo_root, tmp_path, "")
    with pytest.raises(CheckFailedError, match="undecided under CI: cluster"):
        helm_session.run_helm(unnamed, levels=["pods"])
    named = _env_config(repo_root, tmp_path, "cluster: ran in ci-helm-validate")
    helm_session.run_helm(named, levels=["pods"])
    report = json.loads((named.report_dir("helm") / "helm.json").read_text(encoding="utf-8"))
    assert [(level["level"], level["status"]) for level in report["levels"]] == [
        ("static", "pass"),
        ("cluster", "unknown"),
        ("pods", "pass"),
    ]
    assert report["accepted_unknown"]["cluster"].startswith("level 2 ran in ci-helm-validate")


def test_an_accepted_unknown_shows_as_unknown_in_the_report_and_summary(
    repo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def run_static(*_: Any) -> static.StaticResult:
        return static.StaticResult(
            outcomes=[
                Outcome.of("lint/ci", True, "clean"),
                Outcome("ingress-addons", Status.UNKNOWN, "no ingress controller here"),
            ],
            notes=[],
        )

    monkeypatch.setattr(helm, "version", lambda: "3.19.0")
    monkeypatch.setattr(static, "run_static", run_static)
    config = _env_config(repo_root, tmp_path, "pods: no root")
    config = config.model_copy(update={"helm": config.helm.model_copy(update={"levels": []})})
    # cluster is not accepted: under CI the run fails on it ...
    with pytest.raises(CheckFailedError, match="cluster"):
        helm_session.run_helm(config, levels=["static"])
    # ... unless --no-strict; the accepted ones are unknown in helm.json and summary.md.
    helm_session.run_helm(config, levels=["static"], strict=False)
    report = assert_matches_schema(config.report_dir("helm") / "helm.json", "helm/helm.schema.json")
    assert report["status"] == "unknown"
    assert set(report["accepted_unknown"]) == {"ingress-addons", "pods"}
    summary = (config.report_dir("helm") / "summary.md").read_text(encoding="utf-8")
    assert summary.splitlines()[2].startswith("**UNKNOWN**")
    assert "| static: ingress-addons | UNKNOWN |" in summary
    assert "| pods: pods | UNKNOWN |" in summary
    assert "ACCEPTED UNKNOWN (not a pass): pods (level 3 needs root" in summary
