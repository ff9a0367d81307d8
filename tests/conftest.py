"""Shared test configuration: Hypothesis profiles, and what happens to Docker tests where no
engine answers.

Hypothesis runs under one of two profiles (tests/hypothesis_profiles.py): ``ci`` at full
strength under CI (``$CI``, or ``VIBEVOICE_REQUIRE_DOCKER=1`` as .ci/run sets), ``dev`` for the
inner loop.

Tests marked ``docker`` need a reachable Docker engine. Where none answers they are skipped
with the engine's own reason, loudly, unless ``VIBEVOICE_REQUIRE_DOCKER=1`` (set by .ci/run),
which turns that skip into a failure so CI can never pass without exercising containers.
"""

from __future__ import annotations

import os

import pytest

import hypothesis_profiles
from vibevoice_ci.tools import docker

# Missing tools, root or daemons: skip locally, fail under CI unless the job accepts them as
# unknown (tests/capabilities.py), listed at the end of the run.
pytest_plugins = ["capabilities"]


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # Here, not at import: the capabilities plugin (whose rule chooses the profile) is loaded
    # by now, with its asserts rewritten; and before Hypothesis's own pytest_configure, which
    # loads --hypothesis-profile NAME over this choice.
    hypothesis_profiles.register()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    hypothesis_profiles.cap_examples_for_dev(items)
    docker_items = [item for item in items if item.get_closest_marker("docker")]
    if not docker_items:
        return
    status = docker.engine_status()
    if status.available:
        return
    if os.environ.get("VIBEVOICE_REQUIRE_DOCKER") == "1":
        message = f"VIBEVOICE_REQUIRE_DOCKER=1 but {status.reason}"
        if not hasattr(config, "workerinput"):
            raise pytest.UsageError(message)
        # Under xdist a worker's usage error only crashes it, and the run reports an internal
        # error that never says why: each Docker test fails with the reason instead.
        for item in docker_items:
            item.stash[DOCKER_REQUIRED] = message
        return
    for item in docker_items:
        item.add_marker(pytest.mark.skip(reason=f"Docker test skipped: {status.reason}"))


DOCKER_REQUIRED = pytest.StashKey[str]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Fail a Docker test that must run (``VIBEVOICE_REQUIRE_DOCKER=1``) where no engine is,
    before its fixtures try the engine."""
    message = item.stash.get(DOCKER_REQUIRED, None)
    if message is not None:
        pytest.fail(message, pytrace=False)
