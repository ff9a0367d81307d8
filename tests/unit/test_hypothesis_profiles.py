"""The Hypothesis profiles (tests/hypothesis_profiles.py): CI (GitHub's or .ci/run) chooses ci,
under which a test's own example count is never lowered; under dev every test is capped."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hypothesis_profiles


@settings(max_examples=300)
@given(st.integers())
def _a_strong_property(value: int) -> None:
    assert isinstance(value, int)


@pytest.fixture
def profile() -> Iterator[None]:
    """Lets a test load a profile; the one in force before is loaded again afterwards."""
    before = settings.get_current_profile_name()
    yield
    settings.load_profile(before)


def _own_count() -> int:
    own = _a_strong_property._hypothesis_internal_use_settings  # type: ignore[attr-defined]
    assert isinstance(own, settings)
    return own.max_examples


@pytest.mark.usefixtures("profile")
def test_under_ci_a_tests_own_count_stands_and_the_default_is_at_least_hypothesis_own() -> None:
    settings.load_profile("ci")
    item = SimpleNamespace(obj=_a_strong_property)
    hypothesis_profiles.cap_examples_for_dev([item])  # type: ignore[list-item]
    assert _own_count() == 300
    assert settings.default.max_examples >= 100
    assert settings.default.derandomize


@pytest.mark.usefixtures("profile")
def test_under_dev_every_test_is_capped() -> None:
    original = _a_strong_property._hypothesis_internal_use_settings  # type: ignore[attr-defined]
    settings.load_profile("dev")
    item = SimpleNamespace(obj=_a_strong_property)
    try:
        hypothesis_profiles.cap_examples_for_dev([item])  # type: ignore[list-item]
        assert _own_count() == hypothesis_profiles.DEV_MAX_EXAMPLES
    finally:
        _a_strong_property._hypothesis_internal_use_settings = original  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "dev"),
        ({"CI": "true"}, "ci"),  # GitHub
        ({"CI": "1"}, "ci"),
        ({"CI": "false"}, "dev"),
        ({"CI": ""}, "dev"),
        ({"VIBEVOICE_REQUIRE_DOCKER": "1"}, "ci"),  # .ci/run, which sets no $CI
        ({"VIBEVOICE_REQUIRE_DOCKER": "0"}, "dev"),
    ],
)
def test_ci_is_chosen_under_github_and_under_ci_run(environ: dict[str, str], expected: str) -> None:
    assert hypothesis_profiles.chosen_profile(environ) == expected
