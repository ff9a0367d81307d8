"""``vibevoice_ci.core.environment``: what the run's environment variables say."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vibevoice_ci.core.environment import RunEnvironment, run_environment
from vibevoice_ci.core.errors import ConfigError


def test_an_empty_environment_is_the_default_run_environment() -> None:
    assert run_environment({}) == RunEnvironment()
    assert RunEnvironment().ci is False
    assert RunEnvironment().smoke_mode == "auto"
    assert RunEnvironment().extra_ca_certs is None


@pytest.mark.parametrize(
    ("value", "ci"),
    [
        ("true", True),
        ("1", True),
        ("yes", True),
        ("TRUE", True),
        ("", False),
        ("false", False),
        ("0", False),
        ("no", False),
        ("False", False),
        ("  ", False),
    ],
)
def test_ci_is_set_by_any_value_but_an_explicit_no(value: str, ci: bool) -> None:
    assert run_environment({"CI": value}).ci is ci


def test_run_environment_reads_every_variable_it_documents() -> None:
    run = run_environment(
        {
            "CI": "true",
            "VIBEVOICE_SMOKE_MODE": "docker",
            "VIBEVOICE_BASE_IMAGE": " debian:12 ",
            "VIBEVOICE_EXTRA_CA_CERTS": os.pathsep.join(["/a.crt", "", "b"]),
            "GITHUB_REF": "refs/tags/v1.2.3",
            "GITHUB_ACTIONS": "true",
            "GITHUB_RUN_ID": "42",
        }
    )

    assert run == RunEnvironment(
        ci=True,
        smoke_mode="docker",
        base_image="debian:12",
        extra_ca_certs=(Path("/a.crt"), Path("b")),
        git_ref="refs/tags/v1.2.3",
        github_actions=True,
        github_run_id="42",
    )


def test_an_empty_ca_variable_means_no_extra_certificates_not_the_default() -> None:
    assert run_environment({"VIBEVOICE_EXTRA_CA_CERTS": ""}).extra_ca_certs == ()


@pytest.mark.parametrize("mode", ["k8s", "Docker", "auto,docker"])
def test_a_bad_smoke_mode_is_a_config_error(mode: str) -> None:
    with pytest.raises(ConfigError, match="VIBEVOICE_SMOKE_MODE"):
        run_environment({"VIBEVOICE_SMOKE_MODE": mode})


def test_no_module_reads_the_environment_for_a_setting_but_config(repo_root: Path) -> None:
    # Settings come from with_environment alone. Allowed elsewhere: _exec merges a child's
    # environment and names a tool's binary override; outcome appends to the step summary.
    package = repo_root / "src" / "vibevoice_ci"
    allowed = {"core/environment.py", "tools/_exec.py", "core/outcome.py", "cli.py"}
    readers = sorted(
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if str(path.relative_to(package)) not in allowed
        and "os.environ" in path.read_text(encoding="utf-8")
    )
    assert readers == []
