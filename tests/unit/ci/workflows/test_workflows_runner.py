"""Who act runs as (runner.py): the ``sudo`` prefix and act's own environment (pure)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.workflows.runner import PASSED_THROUGH, Runner, act_environment, as_user_prefix

RUNNER = Runner("runner", Path("/home/runner"), True, Path("/opt/hostedtoolcache"))
SELF = Runner("me", Path("/home/me"), False, Path("/home/me/hostedtoolcache"))


def test_root_starts_act_through_sudo_keeping_only_the_passed_variables() -> None:
    assert as_user_prefix(RUNNER, ("SSL_CERT_FILE", "TOKEN")) == [
        "sudo",
        "--user",
        "runner",
        "--set-home",
        "--preserve-env=SSL_CERT_FILE,TOKEN",
        "--",
    ]


def test_no_prefix_when_act_already_runs_as_that_user() -> None:
    assert as_user_prefix(SELF, PASSED_THROUGH) == []


def test_the_tls_variables_are_passed_through() -> None:
    assert {"SSL_CERT_FILE", "PIP_CERT", "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE"} <= set(
        PASSED_THROUGH
    )
    environ = {
        "SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt",
        "PIP_INDEX_URL": "https://pypi.example/simple",
        "HOME": "/root",
        "PATH": "/root/.pyenv/shims:/root/.cargo/bin:/usr/bin",
        "VIRTUAL_ENV": "/work/.venv",
        "AWS_SECRET_ACCESS_KEY": "nope",
    }
    result = act_environment(RUNNER, environ, PASSED_THROUGH)
    assert result["SSL_CERT_FILE"] == "/etc/ssl/certs/ca-certificates.crt"
    assert result["PIP_INDEX_URL"] == "https://pypi.example/simple"
    assert result["HOME"] == "/home/runner"
    assert result["USER"] == "runner"
    assert "/root" not in result["PATH"]
    assert "VIRTUAL_ENV" not in result
    assert "AWS_SECRET_ACCESS_KEY" not in result


variable = st.from_regex(r"[A-Z][A-Z0-9_]{0,20}", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(environ=st.dictionaries(variable, st.text(max_size=20), max_size=20))
def test_nothing_else_of_roots_environment_reaches_act(environ: dict[str, str]) -> None:
    result = act_environment(RUNNER, environ, PASSED_THROUGH)
    own = {"PATH", "HOME", "USER", "LANG"}
    assert set(result) <= own | set(PASSED_THROUGH)
    for name in set(result) - own:
        assert result[name] == environ[name]
    assert result["HOME"] == "/home/runner"
