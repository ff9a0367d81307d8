"""The Helm chart agrees with [tool.vibevoice-ci] (services, ports, paths, images, version)."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
import yaml

from vibevoice_ci.core.config import ServiceConfig, load_config

CONFIG = load_config()
assert CONFIG.helm is not None
CHART = CONFIG.helm.chart
SERVICES = CONFIG.charted_services()


def _yaml(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((CHART / name).read_text(encoding="utf-8"))
    return document


def test_the_chart_versions_follow_the_project() -> None:
    project = tomllib.loads((CONFIG.root / "pyproject.toml").read_text(encoding="utf-8"))
    chart = _yaml("Chart.yaml")
    assert chart["appVersion"] == project["project"]["version"]
    assert chart["version"] == project["project"]["version"]


def test_the_chart_deploys_exactly_the_charted_services() -> None:
    assert sorted(_yaml("values.yaml")["services"]) == [service.name for service in SERVICES]


def test_every_charted_service_is_a_configured_one() -> None:
    assert {service.name for service in SERVICES} <= set(CONFIG.services)


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
def test_service_values_agree_with_config(service: ServiceConfig) -> None:
    values = _yaml("values.yaml")["services"][service.name]
    assert values["image"]["repository"] == service.image
    assert values["port"] == service.container_port
    assert values["paths"]["health"] == service.health_path
    assert values["paths"]["ready"] == service.ready_path
    assert values["paths"]["metrics"] == service.metrics_path


def test_network_clients_agree_with_the_chart() -> None:
    assert CONFIG.helm is not None
    services = _yaml("values.yaml")["services"]
    for name, clients in CONFIG.helm.network_clients.items():
        assert services[name]["networkPolicy"]["allowFrom"] == list(clients)


def test_the_ci_values_file_is_inside_the_chart_folder() -> None:
    assert CONFIG.helm is not None
    assert CONFIG.helm.ci_values.is_file()
    assert CONFIG.helm.ci_values.is_relative_to(CHART)
