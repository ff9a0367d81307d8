"""Shared test configuration: Hypothesis profiles, and what happens to Docker tests where no
engine answers.

Hypothesis runs under one of two profiles, chosen by ``$CI`` (``--hypothesis-profile NAME``
overrides): ``ci`` keeps every property test at full strength (at least 100 examples where a
test names no count, and a test's own ``@settings(max_examples=N)`` is never lowered);
``dev``, the inner loop on a contributor's machine, runs at most ``DEV_MAX_EXAMPLES`` examples
per test, its own count included, and keeps Hypothesis's example database so that a failure
found once is replayed first the next time.

Tests marked ``docker`` need a reachable Docker engine. Where none answers they are skipped
with the engine's own reason, loudly, unless ``VIBEVOICE_REQUIRE_DOCKER=1`` (set by .ci/run),
which turns that skip into a failure so CI can never pass without exercising containers.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from vibevoice_ci.tools import docker

# Missing tools, root or daemons: skip locally, fail under CI unless the job accepts them as
# unknown (tests/capabilities.py), listed at the end of the run.
pytest_plugins = ["capabilities"]

CI_MAX_EXAMPLES = 100  # Hypothesis's own default: a test without a count ran this many
DEV_MAX_EXAMPLES = 20
_FALSE_WORDS = {"", "0", "false", "no", "off"}

# Deadlines and the too_slow health check measure the machine, not the code: on a machine
# shared by parallel workers they fail at random, so neither profile applies them.
settings.register_profile(
    "ci",
    # Hypothesis's built-in CI profile (derandomized, no database, failures printed as a
    # blob to reproduce them) at the default count.
    settings.get_profile("ci"),
    max_examples=CI_MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    max_examples=DEV_MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
IN_CI = os.environ.get("CI", "").strip().lower() not in _FALSE_WORDS
settings.load_profile("ci" if IN_CI else "dev")


def _cap_examples_for_dev(items: list[pytest.Item]) -> None:
    """Under the dev profile, a test's own ``@settings(max_examples=N)`` is capped at the
    profile's count; under any other profile (ci) every test keeps its own count."""
    if settings.get_current_profile_name() != "dev":
        return
    cap = settings.default.max_examples
    for item in items:
        test = getattr(getattr(item, "obj", None), "hypothesis", None)
        if test is None:  # not a Hypothesis test
            continue
        wrapped = item.obj
        own = getattr(wrapped, "_hypothesis_internal_use_settings", None)
        if isinstance(own, settings) and own.max_examples > cap:
            wrapped._hypothesis_internal_use_settings = settings(own, max_examples=cap)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _cap_examples_for_dev(items)
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
