"""Shared test configuration: what happens to Docker tests where no engine answers.

Tests marked ``docker`` need a reachable Docker engine. Where none answers they are skipped
with the engine's own reason, loudly, unless ``VIBEVOICE_REQUIRE_DOCKER=1`` (set by .ci/run),
which turns that skip into a failure so CI can never pass without exercising containers.
"""

from __future__ import annotations

import os

import pytest

from vibevoice_ci.tools import docker

# Missing tools, root or daemons: skip locally, fail under CI unless the job accepts them as
# unknown (tests/capabilities.py), listed at the end of the run.
pytest_plugins = ["capabilities"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    docker_items = [item for item in items if item.get_closest_marker("docker")]
    if not docker_items:
        return
    status = docker.engine_status()
    if status.available:
        return
    if os.environ.get("VIBEVOICE_REQUIRE_DOCKER") == "1":
        raise pytest.UsageError(f"VIBEVOICE_REQUIRE_DOCKER=1 but {status.reason}")
    for item in docker_items:
        item.add_marker(pytest.mark.skip(reason=f"Docker test skipped: {status.reason}"))
