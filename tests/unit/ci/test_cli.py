"""``python -m vibevoice_ci``: usage errors, exit codes and one-line error messages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from release_helpers import released_image, write_release

from vibevoice_ci.cli import main
from vibevoice_ci.core.errors import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK, EXIT_TOOL_MISSING

MISSING_DOCKER = "/nonexistent/docker"


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if not line.startswith("[vibevoice-ci] ")]
    assert "Traceback" not in stderr
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    return lines[0]


# --- usage errors (argparse) ------------------------------------------------------------------


def test_unknown_command_exits_2_with_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["bogus"])

    assert caught.value.code == EXIT_BAD_INPUT == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: python -m vibevoice_ci")
    assert "error:" in err
    assert "bogus" in err


def test_no_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main([])

    assert caught.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_unknown_smoke_mode_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["smoke", "--mode", "nope"])

    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err
    assert "nope" in err


def test_unknown_flag_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["build", "--no-such-flag"])

    assert caught.value.code == 2
    assert "--no-such-flag" in capsys.readouterr().err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--help"])

    assert caught.value.code == 0
    out = capsys.readouterr().out
    for command in ("build", "smoke", "base-image", "export-requirements"):
        assert command in out


# --- export-requirements ----------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("uv") is None, reason="uv is not installed")
def test_export_requirements_check_passes_on_the_repository(
    repo_root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(repo_root)

    assert main(["export-requirements", "--check"]) == EXIT_OK
    assert "error" not in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("uv") is None, reason="uv is not installed")
def test_export_requirements_check_reports_a_stale_file_then_export_fixes_it(
    project_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if not (project_copy / "uv.lock").is_file():
        pytest.skip("the repository has no uv.lock")
    requirements = project_copy / "infra" / "docker" / "requirements" / "tts.txt"
    requirements.parent.mkdir(parents=True)
    requirements.write_text("starlette==0.1 --hash=sha256:00\n", encoding="utf-8")
    for current in _real_requirements().parent.glob("*.txt"):  # the other services' are current
        if current.name != requirements.name:
            shutil.copy(current, requirements.parent / current.name)
    monkeypatch.chdir(project_copy)

    assert main(["export-requirements", "--check"]) == EXIT_CHECK_FAILED
    line = _one_error_line(capsys.readouterr().err)
    assert "infra/docker/requirements/tts.txt is out of date with uv.lock" in line
    assert requirements.read_text(encoding="utf-8") == "starlette==0.1 --hash=sha256:00\n"

    assert main(["export-requirements"]) == EXIT_OK
    assert "wrote infra/docker/requirements/tts.txt" in capsys.readouterr().err
    written = requirements.read_text(encoding="utf-8")
    assert written.startswith("# Generated from uv.lock")
    assert "--hash=sha256:" in written
    assert written == _real_requirements().read_text(encoding="utf-8")  # same lock, same file

    assert main(["export-requirements", "--check"]) == EXIT_OK


def _real_requirements() -> Path:
    return Path(__file__).resolve().parents[3] / "infra" / "docker" / "requirements" / "tts.txt"


# --- failures become one line and a documented exit code --------------------------------------


def test_build_without_docker_exits_3_with_one_error_line(
    project_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(project_copy)
    monkeypatch.setenv("VIBEVOICE_DOCKER", MISSING_DOCKER)

    assert main(["build"]) == EXIT_TOOL_MISSING == 3

    captured = capsys.readouterr()
    line = _one_error_line(captured.err)
    assert MISSING_DOCKER in line
    assert "VIBEVOICE_DOCKER" in line
    assert captured.out == ""


@pytest.mark.parametrize(
    "pins",
    [["--release", "reports/build/release.json"], ["--image-digest", "r/tts@sha256:" + "1" * 64]],
)
def test_smoke_local_mode_with_pinned_images_is_one_usage_line(
    project_copy: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    pins: list[str],
) -> None:
    """--mode local runs no image: pinning one is bad usage (it used to be ignored)."""
    monkeypatch.chdir(project_copy)
    assert main(["smoke", "--mode", "local", *pins]) == EXIT_BAD_INPUT
    line = _one_error_line(capsys.readouterr().err)
    assert "--mode local" in line
    assert not (project_copy / "reports" / "smoke").exists()


def test_smoke_docker_mode_without_docker_exits_3(
    project_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(project_copy)
    monkeypatch.setenv("VIBEVOICE_DOCKER", MISSING_DOCKER)

    assert main(["smoke", "--mode", "docker"]) == EXIT_TOOL_MISSING

    line = _one_error_line(capsys.readouterr().err)
    assert line.startswith("error: smoke --mode docker needs a Docker engine:")
    assert MISSING_DOCKER in line


@pytest.mark.parametrize("ci", ["true", "1", "yes"])
def test_smoke_under_ci_without_docker_exits_3_and_leaves_its_report(
    project_copy: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    ci: str,
) -> None:
    # The default mode (auto) must never turn a missing engine into a green CI job.
    monkeypatch.chdir(project_copy)
    monkeypatch.setenv("VIBEVOICE_DOCKER", MISSING_DOCKER)
    monkeypatch.setenv("CI", ci)
    monkeypatch.delenv("VIBEVOICE_SMOKE_MODE", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)

    assert main(["smoke"]) == EXIT_TOOL_MISSING

    line = _one_error_line(capsys.readouterr().err)
    assert "$CI is set" in line
    report = json.loads((project_copy / "reports" / "smoke" / "smoke.json").read_text())
    assert report["status"] == "unknown"
    assert report["container"] == "unknown"


def test_a_bad_smoke_mode_in_the_environment_exits_2(
    project_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(project_copy)
    monkeypatch.setenv("VIBEVOICE_SMOKE_MODE", "kubernetes")

    assert main(["smoke"]) == EXIT_BAD_INPUT

    assert "VIBEVOICE_SMOKE_MODE='kubernetes'" in _one_error_line(capsys.readouterr().err)


def test_missing_configuration_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if any((p / "pyproject.toml").is_file() for p in tmp_path.resolve().parents):
        pytest.skip("a pyproject.toml exists above the temporary folder")
    monkeypatch.chdir(tmp_path)

    assert main(["build"]) == EXIT_BAD_INPUT

    line = _one_error_line(capsys.readouterr().err)
    assert "no pyproject.toml with [tool.vibevoice-ci]" in line


def test_malformed_configuration_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.vibevoice-ci]\nregistry = "r"\n[tool.vibevoice-ci.services]\n', "utf-8"
    )
    monkeypatch.chdir(tmp_path)

    assert main(["export-requirements", "--check"]) == EXIT_BAD_INPUT

    line = _one_error_line(capsys.readouterr().err)
    assert "pyproject.toml: [tool.vibevoice-ci] reports_dir: is required (and" in line


def test_module_entry_point_exit_code_and_message(project_copy: Path) -> None:
    env = {**os.environ, "VIBEVOICE_DOCKER": MISSING_DOCKER}

    completed = subprocess.run(
        [sys.executable, "-m", "vibevoice_ci", "build"],
        cwd=project_copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == EXIT_TOOL_MISSING, completed.stderr
    assert completed.stdout == ""
    _one_error_line(completed.stderr)


# --- the release flow's arguments ---------------------------------------------------------------


def test_platform_without_push_is_bad_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--platform", "linux/arm64"]) == EXIT_BAD_INPUT
    assert "go with --push" in _one_error_line(capsys.readouterr().err)


def test_pinned_images_come_from_digests_and_the_release_file(tmp_path: Path) -> None:
    from vibevoice_ci.core.config import load_config
    from vibevoice_ci.smoke.command import pinned_images

    config = load_config()
    digest = "sha256:" + "ab" * 32
    image = released_image("tts", repository="r:5000/v/vibevoice-tts", digest=digest)
    release = write_release(tmp_path / "release.json", image)
    assert pinned_images(config, [], release) == {"tts": f"r:5000/v/vibevoice-tts@{digest}"}
    other = "sha256:" + "cd" * 32
    # an explicit --image-digest wins over the release file
    assert pinned_images(config, [f"127.0.0.1:5000/x/vibevoice-tts@{other}"], release) == {
        "tts": f"127.0.0.1:5000/x/vibevoice-tts@{other}"
    }


def test_smoke_with_a_release_file_of_the_wrong_shape_exits_2_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    release = write_release(tmp_path / "release.json", released_image("tts"))
    document = json.loads(release.read_text())
    del document["images"][0]["digest"]
    release.write_text(json.dumps(document))

    assert main(["smoke", "--release", str(release)]) == EXIT_BAD_INPUT

    line = _one_error_line(capsys.readouterr().err)
    assert line == f"error: release file {release}: images.0.digest: Field required"


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("127.0.0.1:5000/x/vibevoice-tts:latest", "pin a digest"),
        ("127.0.0.1:5000/x/unknown@sha256:" + "ab" * 32, "no configured service"),
        ("127.0.0.1:5000/x/vibevoice-tts@sha256:12", "is not sha256"),
    ],
)
def test_smoke_image_digest_must_pin_a_configured_service(
    argument: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["smoke", "--image-digest", argument]) == EXIT_BAD_INPUT
    assert message in _one_error_line(capsys.readouterr().err)


def test_promote_without_reports_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["promote", "--release", str(tmp_path / "none.json"), "--smoke", str(tmp_path / "s.json")]
    )
    assert code == EXIT_BAD_INPUT
    assert "not found" in _one_error_line(capsys.readouterr().err)


def test_a_model_refusing_a_tools_data_is_one_line_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A writer builds its report model from what a tool answered; data the model refuses
    # (here a digest that is not sha256) ends as one line, never a traceback.
    from vibevoice_ci import cli
    from vibevoice_ci.build.reports import ReleasePlatform
    from vibevoice_ci.core.command import Command, no_arguments

    def run(args: object, config: object) -> int:
        ReleasePlatform.model_validate({"platform": "linux/amd64", "digest": "md5:00"})
        return 0

    monkeypatch.setattr(cli, "commands", lambda: [Command("probe", "", no_arguments, run)])
    assert cli.main(["probe"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: malformed ReleasePlatform data: ")
    assert err.count("\n") == 1
    assert "Traceback" not in err
