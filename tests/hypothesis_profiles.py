"""Hypothesis profiles for the suite: ``ci`` (chosen under CI) and ``dev`` (the inner loop).

Under CI means what it means for the capabilities (tests/capabilities.py): ``$CI`` is set, as
GitHub sets it, or ``VIBEVOICE_REQUIRE_DOCKER=1``, as .ci/run sets it without ``$CI``, so
neither CI runs its property tests at the inner loop's strength.

``ci`` keeps every property test at full strength: Hypothesis's own CI profile (derandomized,
no database, a failure printed as a blob to reproduce it) at 100 examples where a test names
no count, and a test's own ``@settings(max_examples=N)`` stands. ``dev`` runs at most
``DEV_MAX_EXAMPLES`` examples per test, its own count included, and keeps the example database
so that a failure found once is replayed first. Neither applies deadlines or the too_slow
health check: they measure the machine, and on one shared by parallel workers they fail at
random. ``pytest --hypothesis-profile NAME`` overrides the choice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pytest
from hypothesis import HealthCheck, settings

CI_MAX_EXAMPLES = 100  # Hypothesis's default: what a test without a count ran before profiles
DEV_MAX_EXAMPLES = 20


def chosen_profile(environ: Mapping[str, str] | None = None) -> str:
    """``ci`` under CI (see the module), ``dev`` anywhere else."""
    # Imported here: the conftest imports this module before pytest loads the capabilities
    # plugin, which must be imported first for its asserts to be rewritten.
    from capabilities import under_ci

    return "ci" if under_ci(environ) else "dev"


def register() -> None:
    """Register both profiles and load the one :func:`chosen_profile` names."""
    settings.register_profile(
        "ci",
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
    settings.load_profile(chosen_profile())


def cap_examples_for_dev(items: Iterable[pytest.Item]) -> None:
    """Under the dev profile, cap a test's own ``@settings(max_examples=N)`` at the profile's
    count; under any other profile (ci) every test keeps its own count."""
    if settings.get_current_profile_name() != "dev":
        return
    cap = settings.default.max_examples
    for item in items:
        test = getattr(item, "obj", None)
        if getattr(test, "hypothesis", None) is None:  # not a Hypothesis test
            continue
        own = getattr(test, "_hypothesis_internal_use_settings", None)
        if isinstance(own, settings) and own.max_examples > cap:
            test._hypothesis_internal_use_settings = settings(own, max_examples=cap)
