"""``vibevoice_ci.tools.docker``: argument lists and output parsing (pure)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vibevoice_ci.core.errors import ToolFailedError
from vibevoice_ci.tools._exec import ToolResult
from vibevoice_ci.tools.docker import (
    EngineStatus,
    ImageInfo,
    build_argv,
    parse_engine_status,
    parse_image_inspect,
    parse_push_digest,
)

IMAGE_ID = "sha256:" + "3f" * 32
MANIFEST = "sha256:" + "c0ffee" * 10 + "abcd"

# Trimmed from a real `docker image inspect vibevoice-tts:...` (engine 24/26).
INSPECT = json.dumps(
    [
        {
            "Id": IMAGE_ID,
            "RepoTags": ["vibevoice-tts:0123456789ab", "ghcr.io/org/vibevoice-tts:0123456789ab"],
            "RepoDigests": [f"ghcr.io/org/vibevoice-tts@{MANIFEST}"],
            "Parent": "",
            "Comment": "buildkit.dockerfile.v0",
            "Created": "2024-12-04T12:00:00.123456789Z",
            "DockerVersion": "",
            "Author": "",
            "Config": {
                "User": "10001:10001",
                "ExposedPorts": {"8000/tcp": {}},
                "Env": ["PATH=/opt/venv/bin:/usr/bin"],
                "Cmd": ["python", "-m", "vibevoice_platform.tts"],
                "WorkingDir": "/app",
                "Labels": {
                    "org.opencontainers.image.revision": "0123456789abcdef" * 2 + "01234567",
                    "org.opencontainers.image.title": "vibevoice-tts",
                },
            },
            "Architecture": "arm64",
            "Variant": "v8",
            "Os": "linux",
            "Size": 412345678,
            "GraphDriver": {"Data": {}, "Name": "overlay2"},
            "RootFS": {"Type": "layers", "Layers": ["sha256:" + "1" * 64]},
            "Metadata": {"LastTagTime": "2024-12-04T12:00:01Z"},
        }
    ],
    indent=4,
)

PUSH_OUTPUT = f"""\
The push refers to repository [ghcr.io/org/vibevoice-tts]
5f70bf18a086: Preparing
a1b2c3d4e5f6: Preparing
5f70bf18a086: Layer already exists
a1b2c3d4e5f6: Pushed
0123456789ab: digest: {MANIFEST} size: 1784
"""


# --- build_argv -------------------------------------------------------------------------------


def test_build_argv_full() -> None:
    argv = build_argv(
        "/usr/bin/docker",
        context=Path("/repo"),
        dockerfile=Path("/repo/infra/docker/tts.Dockerfile"),
        tags=["vibevoice-tts:0123456789ab", "vibevoice-tts:latest"],
        build_args={"PYTHON": "3.11", "BASE_IMAGE": "python:3.11-slim"},
        labels={"org.opencontainers.image.title": "t", "org.opencontainers.image.created": "c"},
        iidfile=Path("/repo/reports/build/tts.iid"),
        platform="linux/arm64",
        pull=True,
    )

    assert argv == [
        "/usr/bin/docker",
        "build",
        "--file",
        "/repo/infra/docker/tts.Dockerfile",
        "--tag",
        "vibevoice-tts:0123456789ab",
        "--tag",
        "vibevoice-tts:latest",
        "--build-arg",
        "BASE_IMAGE=python:3.11-slim",
        "--build-arg",
        "PYTHON=3.11",
        "--label",
        "org.opencontainers.image.created=c",
        "--label",
        "org.opencontainers.image.title=t",
        "--iidfile",
        "/repo/reports/build/tts.iid",
        "--platform",
        "linux/arm64",
        "--pull",
        "/repo",
    ]


def test_build_argv_minimal() -> None:
    argv = build_argv("docker", context=Path(), dockerfile=Path("Dockerfile"), tags=["x:1"])

    assert argv == ["docker", "build", "--file", "Dockerfile", "--tag", "x:1", "."]


def test_build_argv_values_with_spaces_and_equals_stay_one_argument() -> None:
    argv = build_argv(
        "docker",
        context=Path("/c"),
        dockerfile=Path("/c/D"),
        tags=["x:1"],
        build_args={"NOTE": "a b=c"},
        labels={"desc": "hello world"},
    )

    assert "NOTE=a b=c" in argv
    assert "desc=hello world" in argv
    assert argv[-1] == "/c"
    assert argv[argv.index("NOTE=a b=c") - 1] == "--build-arg"


def test_build_argv_context_is_always_last() -> None:
    argv = build_argv(
        "docker",
        context=Path("/ctx"),
        dockerfile=Path("/ctx/D"),
        tags=[],
        iidfile=Path("/i"),
        platform="linux/amd64",
    )

    assert argv[-1] == "/ctx"
    assert argv.count("/ctx") == 1
    assert "--pull" not in argv
    assert "--tag" not in argv


# --- parse_image_inspect ----------------------------------------------------------------------


def test_parse_image_inspect_realistic() -> None:
    info = parse_image_inspect(INSPECT)

    assert info == ImageInfo(
        id=IMAGE_ID,
        repo_tags=("vibevoice-tts:0123456789ab", "ghcr.io/org/vibevoice-tts:0123456789ab"),
        repo_digests=(f"ghcr.io/org/vibevoice-tts@{MANIFEST}",),
        size_bytes=412345678,
        created="2024-12-04T12:00:00.123456789Z",
        architecture="arm64",
        os="linux",
        labels={
            "org.opencontainers.image.revision": "0123456789abcdef" * 2 + "01234567",
            "org.opencontainers.image.title": "vibevoice-tts",
        },
    )


def test_parse_image_inspect_with_null_lists_and_labels() -> None:
    document = [{"Id": IMAGE_ID, "RepoTags": None, "RepoDigests": None, "Config": {"Labels": None}}]

    info = parse_image_inspect(json.dumps(document))

    assert info.id == IMAGE_ID
    assert info.repo_tags == ()
    assert info.repo_digests == ()
    assert info.labels == {}
    assert info.size_bytes == 0
    assert (info.os, info.architecture, info.created) == ("", "", "")


def test_parse_image_inspect_without_config() -> None:
    info = parse_image_inspect(json.dumps([{"Id": IMAGE_ID, "Config": None, "Size": 10}]))

    assert info.labels == {}
    assert info.size_bytes == 10


@pytest.mark.parametrize(
    "output",
    [
        "",
        "not json",
        "Error: No such image: vibevoice-tts:nope",
        "[]",
        "{}",
        "null",
        '"text"',
        "[{}]",
        '[{"RepoTags": []}]',
        '[{"Id": "x", "Size": "big"}]',
        '[{"Id": "x", "Config": "not an object"}]',
        '[{"Id": "x", "Config": {"Labels": ["a=b"]}}]',
        "[1]",
        INSPECT[:-20],
    ],
)
def test_parse_image_inspect_malformed(output: str) -> None:
    with pytest.raises(ToolFailedError, match="docker image inspect printed unexpected output"):
        parse_image_inspect(output)


# --- parse_push_digest ------------------------------------------------------------------------


def test_parse_push_digest_from_real_output() -> None:
    assert parse_push_digest(PUSH_OUTPUT) == MANIFEST


def test_parse_push_digest_takes_the_last_digest() -> None:
    other = "sha256:" + "0" * 64
    output = f"v1: digest: {other} size: 1\n{PUSH_OUTPUT}"

    assert parse_push_digest(output) == MANIFEST


@pytest.mark.parametrize(
    "output",
    [
        "",
        "The push refers to repository [ghcr.io/org/x]\n5f70bf18a086: Pushed\n",
        "denied: permission_denied: write_package\n",
        "latest: digest: sha256:abc size: 1\n",
        f"latest: digest: {MANIFEST.upper()} size: 1\n",
    ],
)
def test_parse_push_digest_absent(output: str) -> None:
    assert parse_push_digest(output) is None


# --- parse_engine_status ----------------------------------------------------------------------

ARGV = ("docker", "version", "--format", "{{.Server.Version}}")


def test_engine_available() -> None:
    status = parse_engine_status(ToolResult(ARGV, 0, "26.1.4\n", ""))

    assert status == EngineStatus(True, server_version="26.1.4", reason="")


def test_engine_unreachable_reports_the_last_error_line() -> None:
    stderr = (
        "Client: Docker Engine - Community\n\n"
        "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
        "Is the docker daemon running?\n"
    )

    status = parse_engine_status(ToolResult(ARGV, 1, "", stderr))

    assert not status.available
    assert status.server_version == ""
    assert status.reason == (
        "no Docker engine reachable: Cannot connect to the Docker daemon at "
        "unix:///var/run/docker.sock. Is the docker daemon running?"
    )


def test_engine_exit_zero_without_server_version_is_unavailable() -> None:
    status = parse_engine_status(ToolResult(ARGV, 0, "  \n", ""))

    assert not status.available
    assert status.reason.startswith("no Docker engine reachable")


def test_engine_failure_without_output_names_the_exit_code() -> None:
    status = parse_engine_status(ToolResult(ARGV, 125, "", ""))

    assert status == EngineStatus(
        False, reason="no Docker engine reachable: docker version exited 125"
    )


def test_engine_failure_falls_back_to_stdout() -> None:
    status = parse_engine_status(ToolResult(ARGV, 1, "permission denied on socket\n", ""))

    assert not status.available
    assert status.reason.endswith("permission denied on socket")
