"""``vibevoice_ci.tools``: compose, mmdebstrap and uv argument lists and parsers (pure)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vibevoice_ci.core.errors import ToolFailedError
from vibevoice_ci.tools import compose, mmdebstrap
from vibevoice_ci.tools.compose import ServiceState, compose_argv, parse_ps
from vibevoice_ci.tools.mmdebstrap import rootfs_argv
from vibevoice_ci.tools.uv import export_argv

# --- compose_argv -----------------------------------------------------------------------------


def test_compose_argv() -> None:
    argv = compose_argv(
        "/usr/bin/docker",
        Path("/repo/infra/docker/compose.yaml"),
        "vibevoice-ci",
        "up",
        "--detach",
        "--wait",
    )

    assert argv == [
        "/usr/bin/docker",
        "compose",
        "--file",
        "/repo/infra/docker/compose.yaml",
        "--project-name",
        "vibevoice-ci",
        "up",
        "--detach",
        "--wait",
    ]


def test_compose_argv_without_subcommand() -> None:
    assert compose_argv("docker", Path("c.yaml"), "p") == [
        "docker",
        "compose",
        "--file",
        "c.yaml",
        "--project-name",
        "p",
    ]


@pytest.mark.parametrize(("services", "tail"), [((), ["120"]), (("tts",), ["120", "tts"])])
def test_up_starts_the_named_services_or_all(
    monkeypatch: pytest.MonkeyPatch, services: tuple[str, ...], tail: list[str]
) -> None:
    ran: list[list[str]] = []
    monkeypatch.setattr(compose.docker, "docker", lambda: "docker")
    monkeypatch.setattr(compose, "run_tool", lambda argv, **_: ran.append(list(argv)))
    compose.up(compose.Stack(Path("c.yaml"), "p", {}, services), wait_timeout=120)
    assert ran[0][-len(tail) :] == tail
    assert ran[0][6:10] == ["up", "--detach", "--wait", "--wait-timeout"]


# --- parse_ps ---------------------------------------------------------------------------------

TTS_ROW = {
    "Command": '"python -m vibevoice_platform.tts"',
    "CreatedAt": "2024-12-04 12:00:00 +0000 UTC",
    "ExitCode": 0,
    "Health": "healthy",
    "ID": "4f1b2c3d4e5f",
    "Image": "vibevoice-tts:0123456789ab",
    "Labels": "com.docker.compose.project=vibevoice-ci",
    "Name": "vibevoice-ci-tts-1",
    "Project": "vibevoice-ci",
    "Publishers": [
        {"URL": "127.0.0.1", "TargetPort": 8000, "PublishedPort": 18000, "Protocol": "tcp"}
    ],
    "Service": "tts",
    "State": "running",
    "Status": "Up 12 seconds (healthy)",
}
EXITED_ROW = {
    "ExitCode": 137,
    "Health": "",
    "ID": "9a8b7c6d5e4f",
    "Image": "busybox",
    "Name": "vibevoice-ci-init-1",
    "Project": "vibevoice-ci",
    "Service": "init",
    "State": "exited",
    "Status": "Exited (137) 3 seconds ago",
}
EXPECTED = [
    ServiceState("tts", "vibevoice-ci-tts-1", "running", "healthy", 0),
    ServiceState("init", "vibevoice-ci-init-1", "exited", "", 137),
]


def test_parse_ps_json_array() -> None:
    assert parse_ps(json.dumps([TTS_ROW, EXITED_ROW])) == EXPECTED


def test_parse_ps_pretty_printed_json_array() -> None:
    assert parse_ps(json.dumps([TTS_ROW, EXITED_ROW], indent=2) + "\n") == EXPECTED


def test_parse_ps_ndjson() -> None:
    output = "\n".join(json.dumps(row) for row in (TTS_ROW, EXITED_ROW)) + "\n"

    assert parse_ps(output) == EXPECTED


def test_parse_ps_ndjson_with_blank_lines() -> None:
    output = f"\n{json.dumps(TTS_ROW)}\n\n{json.dumps(EXITED_ROW)}\n\n"

    assert parse_ps(output) == EXPECTED


@pytest.mark.parametrize("output", ["", "\n", "   ", "[]"])
def test_parse_ps_no_containers(output: str) -> None:
    assert parse_ps(output) == []


def test_parse_ps_defaults_for_missing_optional_fields() -> None:
    assert parse_ps('{"Service": "tts", "Name": "c"}') == [ServiceState("tts", "c", "", "", 0)]


@pytest.mark.parametrize(
    "output",
    [
        "{not json",
        "[{]",
        "no configuration file provided: not found",
        '{"Name": "c"}',
        '[{"Service": "tts"}]',
        '{"Service": "tts", "Name": "c", "ExitCode": "lots"}',
        '{"Service": "tts", "Name": "c", "ExitCode": null}',
        "[1, 2]",
        "null",
        f"{json.dumps(TTS_ROW)}\nnot json",
    ],
)
def test_parse_ps_malformed(output: str) -> None:
    with pytest.raises(ToolFailedError, match="docker compose ps printed unexpected output"):
        parse_ps(output)


# --- mmdebstrap.rootfs_argv -------------------------------------------------------------------

MIRRORS = [
    "deb http://deb.debian.org/debian bookworm main",
    "deb http://deb.debian.org/debian-security bookworm-security main",
]


def test_rootfs_argv_ends_with_suite_output_and_mirrors_in_order() -> None:
    argv = rootfs_argv(
        "/usr/bin/mmdebstrap",
        suite="bookworm",
        packages=["python3", "python3-venv", "ca-certificates"],
        mirrors=MIRRORS,
        output=Path("/tmp/scratch/rootfs.tar"),
    )

    assert argv[0] == "/usr/bin/mmdebstrap"
    assert argv[-4:] == ["bookworm", "/tmp/scratch/rootfs.tar", *MIRRORS]
    assert "--include=python3,python3-venv,ca-certificates" in argv
    assert "--variant=minbase" in argv
    assert "--format=tar" in argv
    assert not any(arg.startswith("--architectures") for arg in argv)
    # every option comes before the positional arguments
    assert all(arg.startswith("--") for arg in argv[1:-4])


def test_rootfs_argv_with_architecture() -> None:
    argv = rootfs_argv(
        "mmdebstrap",
        suite="trixie",
        packages=["python3"],
        mirrors=[],
        output=Path("out.tar"),
        architecture="arm64",
    )

    assert "--architectures=arm64" in argv
    assert argv[-2:] == ["trixie", "out.tar"]
    assert argv.index("--architectures=arm64") < argv.index("trixie")


def test_rootfs_argv_merged_usr_hook_only_when_present(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def hooks(folder: Path) -> list[str]:
        monkeypatch.setattr(mmdebstrap, "MERGED_USR_HOOKS", folder)
        argv = rootfs_argv("m", suite="s", packages=["p"], mirrors=["x"], output=Path("o"))
        return [arg for arg in argv if arg.startswith("--hook-dir")]

    assert hooks(tmp_path) == [f"--hook-dir={tmp_path}"]
    assert hooks(tmp_path / "absent") == []


def test_rootfs_argv_cleans_apt_lists_in_the_image() -> None:
    argv = rootfs_argv("m", suite="s", packages=["p"], mirrors=["x"], output=Path("o"))

    hooks = [arg for arg in argv if arg.startswith("--customize-hook=")]
    assert len(hooks) == 1
    assert "/var/lib/apt/lists/*" in hooks[0]


# --- uv.export_argv ---------------------------------------------------------------------------


def test_export_argv() -> None:
    assert export_argv("/usr/local/bin/uv", extra="tts") == [
        "/usr/local/bin/uv",
        "export",
        "--frozen",
        "--format",
        "requirements-txt",
        "--no-dev",
        "--no-emit-project",
        "--no-header",
        "--extra",
        "tts",
    ]


def test_export_argv_never_resolves_or_includes_dev_or_project() -> None:
    argv = export_argv("uv", extra="agent")

    assert argv[:2] == ["uv", "export"]
    assert {"--frozen", "--no-dev", "--no-emit-project"} <= set(argv)
    assert "--all-extras" not in argv
    assert argv[argv.index("--extra") + 1] == "agent"
