"""The Dockerfiles, the compose file and the workflows agree with [tool.vibevoice-ci] (the one
source of truth)."""

from __future__ import annotations

import re

import pytest
import yaml

from vibevoice_ci.core.config import PipelineConfig, ServiceConfig, load_config

CONFIG = load_config()
SERVICES = sorted(CONFIG.services.values(), key=lambda service: service.name)


def _ids(service: ServiceConfig) -> str:
    return service.name


@pytest.fixture(scope="module")
def compose_services() -> dict[str, dict[str, object]]:
    document = yaml.safe_load(CONFIG.compose_file.read_text(encoding="utf-8"))
    services: dict[str, dict[str, object]] = document["services"]
    return services


def test_every_configured_file_exists() -> None:
    assert CONFIG.compose_file.is_file()
    for service in SERVICES:
        assert service.dockerfile.is_file(), service.dockerfile
        assert service.requirements.is_file(), service.requirements


@pytest.mark.parametrize("service", SERVICES, ids=_ids)
def test_dockerfile_agrees_with_config(service: ServiceConfig) -> None:
    text = service.dockerfile.read_text(encoding="utf-8")
    # The default base is a literal FROM line (the form Dependabot bumps) of the stage that
    # BASE_IMAGE defaults to; the pipeline passes [tool.vibevoice-ci.base_image].default.
    default_from = re.search(r"^FROM (\S+) AS (\S+)$", text, re.MULTILINE)
    assert default_from is not None, "no `FROM <image> AS <stage>` line for the default base"
    assert default_from[1] == CONFIG.base_image.default, (
        f"{service.dockerfile.name} builds FROM {default_from[1]} by default, pyproject.toml's "
        f"[tool.vibevoice-ci.base_image].default is {CONFIG.base_image.default}: after "
        "Dependabot bumps the Dockerfiles, set the same tag there"
    )
    assert f"ARG BASE_IMAGE={default_from[2]}\n" in text
    assert text.index(f"ARG BASE_IMAGE={default_from[2]}\n") < default_from.start()
    requirements = service.requirements.relative_to(CONFIG.root).as_posix()
    assert f"COPY {requirements} " in text
    assert f"ARG SERVICE_PORT={service.container_port}\n" in text
    assert re.search(r"^HEALTHCHECK\b", text, re.MULTILINE)
    assert f"/{service.ready_path.lstrip('/')}'" in text
    assert re.search(rf"^CMD \[.*\"{re.escape(service.module)}\"\]$", text, re.MULTILINE)
    assert re.search(r"^USER (?!root|0\b)\S+", text, re.MULTILINE)


@pytest.mark.parametrize("service", SERVICES, ids=_ids)
def test_compose_agrees_with_config(
    service: ServiceConfig, compose_services: dict[str, dict[str, object]]
) -> None:
    entry = compose_services[service.name]
    assert entry["pull_policy"] == "never"
    image_var = f"VIBEVOICE_{service.name.upper()}_IMAGE"
    assert str(entry["image"]).startswith(f"${{{image_var}:?")
    host_var = f"VIBEVOICE_{service.name.upper()}_HOST_PORT"
    expected_port = f"127.0.0.1:${{{host_var}:-{service.host_port}}}:{service.container_port}"
    assert entry["ports"] == [expected_port]
    healthcheck = entry["healthcheck"]
    assert isinstance(healthcheck, dict)
    probe = " ".join(healthcheck["test"])
    assert f":{service.container_port}{service.ready_path}'" in probe


def test_every_published_port_is_loopback_only(
    compose_services: dict[str, dict[str, object]],
) -> None:
    for name, entry in compose_services.items():
        for port in entry.get("ports", []):  # type: ignore[attr-defined]
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"


def test_config_lists_only_declared_services(compose_services: dict[str, object]) -> None:
    assert set(CONFIG.services) <= set(compose_services)


def test_reports_live_under_one_folder_per_session() -> None:
    config: PipelineConfig = CONFIG
    assert config.report_dir("smoke") == config.root / "reports" / "smoke"


def test_the_agent_reaches_tts_over_the_compose_network(
    compose_services: dict[str, dict[str, object]],
) -> None:
    agent, tts = CONFIG.service("agent"), CONFIG.service("tts")
    entry = compose_services[agent.name]
    environment = entry["environment"]
    assert isinstance(environment, dict)
    assert environment["VIBEVOICE_AGENT_TTS_URL"] == f"http://{tts.name}:{tts.container_port}"
    assert environment["VIBEVOICE_AGENT_PORT"] == str(agent.container_port)
    assert entry["depends_on"] == {tts.name: {"condition": "service_healthy"}}


def test_the_agent_in_compose_requires_tokens(
    compose_services: dict[str, dict[str, object]],
) -> None:
    environment = compose_services["agent"]["environment"]
    assert isinstance(environment, dict)
    assert environment["VIBEVOICE_AGENT_TOKENS_ENV"] == "VIBEVOICE_AGENT_TOKENS"
    assert str(environment["VIBEVOICE_AGENT_TOKENS"]).startswith("${VIBEVOICE_AGENT_TOKENS:?")
    assert "VIBEVOICE_AGENT_ALLOW_UNAUTHENTICATED" not in environment


@pytest.mark.parametrize("service", SERVICES, ids=_ids)
def test_the_smoke_recogniser_stays_out_of_the_service_images(service: ServiceConfig) -> None:
    """PocketSphinx is the pipeline's (the ci extra), never shipped in an image."""
    requirements = service.requirements.read_text(encoding="utf-8").lower()

    assert not re.search(r"^(pocketsphinx|sounddevice)\b", requirements, re.MULTILINE)


def test_promote_and_sign_require_the_workflow_ci_test_yml_is_named() -> None:
    """The tests gate looks runs up by the workflow's name: a renamed ci-test.yml would leave
    every commit untested (and nothing would move) unless the config follows."""
    workflow = CONFIG.root / ".github" / "workflows" / "ci-test.yml"
    name = yaml.safe_load(workflow.read_text(encoding="utf-8"))["name"]
    assert CONFIG.promote.required_workflow == name
    assert CONFIG.sign.required_workflow == name
