"""The SBOM referrer is attached to a registry that demands a bearer token, as ghcr.io does,
with the credentials `docker login` stored, and a wrong password is one line naming the
registry (no traceback, never retried).

The registry is real (Debian's docker-registry with ``auth: token``) behind a token service
of ours on 127.0.0.1 (token_registry.py); the credentials come only from a Docker config
folder ($DOCKER_CONFIG), written as docker/login-action writes it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from token_registry import TokenRegistry, docker_config, running_token_registry

from vibevoice_ci.build import referrers
from vibevoice_ci.core.environment import run_environment
from vibevoice_ci.core.errors import EXIT_BAD_INPUT
from vibevoice_ci.core.image_reference import parse_reference
from vibevoice_ci.core.retry import RetryLog, RetryPolicy
from vibevoice_ci.tools.registry_auth import RegistryAuthError

pytestmark = pytest.mark.integration

USER, PASSWORD = "ci-bot", "correct horse battery staple"
READER, READER_PASSWORD = "reader", "read-only-password"
FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)
SBOM = b'{"spdxVersion": "SPDX-2.3", "name": "probe"}'


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenRegistry]:
    with running_token_registry(
        tmp_path_factory.mktemp("token-registry"),
        {USER: PASSWORD, READER: READER_PASSWORD},
        grants={USER: {"*": ("pull", "push")}, READER: {"*": ("pull",)}},
    ) as running:
        yield running


def _login(tmp_path: Path, registry: str, user: str, password: str) -> Path | None:
    """What docker/login-action leaves, read back as the run's settings read $DOCKER_CONFIG."""
    folder = docker_config(tmp_path / "docker", registry, user, password)
    return run_environment({"DOCKER_CONFIG": str(folder)}).docker_config


def _client(
    registry: TokenRegistry, docker_config: Path | None, log: RetryLog | None = None
) -> referrers.RegistryClient:
    return referrers.RegistryClient(
        registry.address, log=log or RetryLog(), policy=FAST, docker_config=docker_config
    )


def _push_subject(client: referrers.RegistryClient, repository: str) -> referrers.Descriptor:
    """A tiny image manifest to hang the SBOM on (pushed through the same client)."""
    config = client.put_blob(repository, b'{"architecture":"amd64","os":"linux"}')
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": referrers.OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config.digest,
                "size": config.size,
            },
            "layers": [],
        },
        separators=(",", ":"),
    ).encode()
    digest = client.put_manifest(repository, "v1", manifest, referrers.OCI_MANIFEST)
    return referrers.Descriptor(referrers.OCI_MANIFEST, digest, len(manifest))


def test_the_sbom_is_attached_with_docker_logins_credentials(
    registry: TokenRegistry, tmp_path: Path
) -> None:
    login = _login(tmp_path, registry.address, USER, PASSWORD)
    image = parse_reference(f"{registry.address}/vibevoice/tts")
    with _client(registry, login) as client:
        subject = _push_subject(client, image.repository)
        artifact = referrers.attach(
            client,
            image,
            subject=subject,
            document=SBOM,
            artifact_type="application/spdx+json",
            title="tts-linux-amd64.spdx.json",
            created="2026-12-07T00:00:00Z",
        )
        listed = client.referrers(image.repository, subject.digest)
    assert [entry["digest"] for entry in listed] == [artifact]
    assert listed[0]["artifactType"] == "application/spdx+json"
    # Every token was asked for with the user's credentials, push included; one per scope.
    asked = [(user, scopes) for user, scopes, status in registry.token_requests if status == 200]
    assert asked
    assert {user for user, _ in asked} == {USER}
    assert any("push" in scope for _, scopes in asked for scope in scopes)
    assert len(asked) <= 3


def test_a_wrong_password_is_one_line_naming_the_registry(
    registry: TokenRegistry, tmp_path: Path
) -> None:
    login = _login(tmp_path, registry.address, USER, "not the password")
    image = parse_reference(f"{registry.address}/vibevoice/agent")
    before = len(registry.token_requests)
    with (
        _client(registry, login, log := RetryLog()) as client,
        pytest.raises(RegistryAuthError) as raised,
    ):
        client.put_blob(image.repository, b"{}")
    message = str(raised.value)
    assert "\n" not in message
    assert registry.address in message
    assert repr(USER) in message
    assert "config.json" in message  # where the credentials came from
    assert "not the password" not in message
    assert raised.value.exit_code == EXIT_BAD_INPUT
    # A refusal is not retried: one token request, no retry recorded.
    assert len(registry.token_requests) == before + 1
    assert log.to_json() == []


def test_no_credentials_at_all_says_how_to_log_in(registry: TokenRegistry, tmp_path: Path) -> None:
    empty = tmp_path / "docker"
    empty.mkdir()
    with (
        _client(registry, empty) as client,
        pytest.raises(RegistryAuthError, match=r"has no credentials for it \(docker login "),
    ):
        client.blob_exists("vibevoice/tts", "sha256:" + "0" * 64)


def test_a_user_without_push_is_told_so_in_one_line(
    registry: TokenRegistry, tmp_path: Path
) -> None:
    login = _login(tmp_path, registry.address, READER, READER_PASSWORD)
    with (
        _client(registry, login) as client,
        pytest.raises(RegistryAuthError, match="no permission for that repository") as raised,
    ):
        client.put_blob("vibevoice/tts", b'{"a blob": "not there yet"}')
    assert "\n" not in str(raised.value)


def test_a_wrong_password_fails_the_release_build_in_one_line(
    registry: TokenRegistry, tmp_path: Path
) -> None:
    # The build as the CI job runs it, with what a docker login with the wrong token would
    # have stored: it stops before building anything, one line naming the registry.
    login = docker_config(tmp_path / "docker", registry.address, USER, "not the password")
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "vibevoice_ci",
            "build",
            "--push",
            "--registry",
            f"{registry.address}/vibevoice",
        ],
        cwd=root,
        env={
            **os.environ,
            "DOCKER_CONFIG": str(login),
            "VIBEVOICE_REPORTS_DIR": str(tmp_path / "reports"),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == EXIT_BAD_INPUT, result.stderr
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert registry.address in lines[0]
    assert "refused the credentials" in lines[0]
    assert "not the password" not in result.stderr + result.stdout
    release = json.loads((tmp_path / "reports" / "build" / "release.json").read_text())
    assert release["status"] == "fail"


def test_the_front_passes_every_accept_header_on(registry: TokenRegistry, tmp_path: Path) -> None:
    # Docker sends one Accept header per media type; the front must not keep only the last,
    # or the registry refuses an OCI manifest or index that docker pull asked for.
    login = _login(tmp_path, registry.address, USER, PASSWORD)
    with _client(registry, login) as client:
        subject = _push_subject(client, "vibevoice/accept")
        response = client.client.get(
            f"{client.base}/v2/vibevoice/accept/manifests/{subject.digest}",
            headers=[
                ("Accept", referrers.OCI_MANIFEST),
                ("Accept", "application/vnd.docker.distribution.manifest.v2+json"),
            ],
        )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == referrers.OCI_MANIFEST
