"""The pure parts of registry authentication: where docker login's credentials are found and
how a registry's challenge reads (the flow itself runs against a real token-auth registry in
tests/integration/test_registry_token_auth.py)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from vibevoice_ci.core.environment import Secret
from vibevoice_ci.tools.registry_auth import (
    DOCKER_HUB_KEY,
    Credentials,
    DockerConfig,
    RegistryAuthError,
    credentials_for,
    docker_config_path,
    load_docker_config,
    parse_challenge,
    parse_docker_config,
    parse_helper_output,
    registry_key,
)

CONFIG_PATH = Path("/home/runner/.docker/config.json")


def _auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def _config(document: object) -> DockerConfig:
    return parse_docker_config(json.dumps(document), CONFIG_PATH)


@pytest.mark.parametrize(
    ("server", "key"),
    [
        ("ghcr.io", "ghcr.io"),
        ("https://ghcr.io", "ghcr.io"),
        ("https://GHCR.io/v2/", "ghcr.io"),
        ("ghcr.io/owner/image", "ghcr.io"),
        ("127.0.0.1:5000", "127.0.0.1:5000"),
        ("http://127.0.0.1:5000/v2/", "127.0.0.1:5000"),
        (DOCKER_HUB_KEY, "docker.io"),
        ("registry-1.docker.io", "docker.io"),
    ],
)
def test_registry_key(server: str, key: str) -> None:
    assert registry_key(server) == key


def test_what_docker_login_action_writes_is_found() -> None:
    config = _config({"auths": {"ghcr.io": {"auth": _auth("octocat", "ghs_token:with:colons")}}})
    found = credentials_for("ghcr.io", config)
    assert found is not None
    assert (found.username, found.password.reveal()) == ("octocat", "ghs_token:with:colons")
    assert found.source == f"{CONFIG_PATH} (auths)"
    assert "ghs_token" not in repr(found)


def test_username_and_password_fields_and_url_shaped_keys() -> None:
    config = _config({"auths": {"https://127.0.0.1:5000/v1/": {"username": "u", "password": "p"}}})
    found = credentials_for("127.0.0.1:5000", config)
    assert found is not None
    assert (found.username, found.password.reveal()) == ("u", "p")


def test_no_entry_is_none() -> None:
    config = _config({"auths": {"ghcr.io": {"auth": _auth("a", "b")}}})
    assert credentials_for("quay.io", config) is None
    assert credentials_for("ghcr.io", _config({})) is None


def test_a_credential_helper_comes_first_then_auths_then_the_store() -> None:
    asked: list[tuple[str, str]] = []

    def helper(name: str, server: str) -> Credentials | None:
        asked.append((name, server))
        return Credentials("from-" + name, Secret("s"), f"docker-credential-{name}")

    config = _config(
        {
            "auths": {"ghcr.io": {"auth": _auth("file", "p")}, "docker.io": {}},
            "credHelpers": {"ghcr.io": "gh"},
            "credsStore": "desktop",
        }
    )
    ghcr = credentials_for("ghcr.io", config, helper)
    hub = credentials_for("docker.io", config, helper)
    assert ghcr is not None
    assert ghcr.username == "from-gh"
    assert hub is not None
    assert hub.username == "from-desktop"
    assert asked == [("gh", "ghcr.io"), ("desktop", DOCKER_HUB_KEY)]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"auths": {"ghcr.io": {"auth": "%%%not-base64"}}}, "not base64 user:password"),
        ({"auths": {"ghcr.io": {"auth": base64.b64encode(b"nocolon").decode()}}}, "not base64"),
        ({"auths": {"ghcr.io": {"identitytoken": "x"}}}, "identity token"),
    ],
)
def test_unusable_entries_are_one_line_errors(document: object, expected: str) -> None:
    with pytest.raises(RegistryAuthError, match=expected) as raised:
        credentials_for("ghcr.io", _config(document))
    assert "\n" not in str(raised.value)


def test_malformed_config_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(RegistryAuthError, match=str(path)):
        load_docker_config(path)
    assert load_docker_config(tmp_path / "absent.json").auths == {}


def test_config_path_follows_docker_config() -> None:
    assert docker_config_path(Path("/x")) == Path("/x/config.json")
    assert docker_config_path() == Path.home() / ".docker" / "config.json"


def test_helper_output() -> None:
    found = parse_helper_output('{"ServerURL":"ghcr.io","Username":"u","Secret":"s"}', "h")
    assert found is not None
    assert (found.username, found.password.reveal()) == ("u", "s")
    assert parse_helper_output('{"Username":"u","Secret":""}', "h") is None
    with pytest.raises(RegistryAuthError, match="identity token"):
        parse_helper_output('{"Username":"<token>","Secret":"t"}', "h")
    with pytest.raises(RegistryAuthError, match="not JSON"):
        parse_helper_output("credentials not found", "h")


@pytest.mark.parametrize(
    ("header", "scheme", "params"),
    [
        (
            'Bearer realm="https://ghcr.io/token",service="ghcr.io",'
            'scope="repository:owner/img:pull,push"',
            "bearer",
            {
                "realm": "https://ghcr.io/token",
                "service": "ghcr.io",
                "scope": "repository:owner/img:pull,push",
            },
        ),
        ('Basic realm="Registry Realm"', "basic", {"realm": "Registry Realm"}),
        (
            "Bearer realm=https://x/token, service=x",
            "bearer",
            {"realm": "https://x/token", "service": "x"},
        ),
        ('Bearer realm="a \\"quoted\\" realm"', "bearer", {"realm": 'a "quoted" realm'}),
    ],
)
def test_parse_challenge(header: str, scheme: str, params: dict[str, str]) -> None:
    challenge = parse_challenge(header)
    assert challenge is not None
    assert (challenge.scheme, dict(challenge.params)) == (scheme, params)


def test_an_empty_challenge_is_none() -> None:
    assert parse_challenge("") is None
