"""``promote`` end to end over a fake registry and a real git repository in tmp_path (the
config's root): promote.json as the session writes it, checked against the committed schema,
its inputs read through their writers' models, and tags that move only forward in history."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from release_helpers import INDEX, released_image, write_release
from schema_helpers import assert_matches_schema

from git_history import History
from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.errors import EXIT_BAD_INPUT, CheckFailedError, UsageError
from vibevoice_ci.core.outcome import Outcome, Status
from vibevoice_ci.core.reports import write_report
from vibevoice_ci.promote import session as promote
from vibevoice_ci.report.read import read_session
from vibevoice_ci.smoke.session import SmokeRun
from vibevoice_ci.tools import crane

REPOSITORY = "127.0.0.1:5000/v/vibevoice-tts"
LATEST = f"{REPOSITORY}:latest"
OLDER = "sha256:" + "0" * 64  # an image built from another commit


@pytest.fixture
def revisions() -> dict[str, str]:
    """The fake registry's images' org.opencontainers.image.revision (digest -> commit)."""
    return {}


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch, revisions: dict[str, str]) -> dict[str, str]:
    """A fake registry's tags (reference -> digest), moved by crane.tag."""
    tags: dict[str, str] = {}

    def tag(source: str, new_tag: str) -> None:
        repository, _, digest = source.partition("@")
        tags[f"{repository}:{new_tag}"] = digest

    monkeypatch.setattr(promote, "current_digest", lambda reference: tags.get(reference))
    monkeypatch.setattr(crane, "tag", tag)
    monkeypatch.setattr(crane, "digest", lambda reference: tags[reference])
    monkeypatch.setattr(
        crane, "revision", lambda reference: revisions.get(reference.partition("@")[2])
    )
    return tags


@pytest.fixture
def history(tmp_path: Path) -> History:
    """A real git repository at the config's root (make_config roots it in tmp_path)."""
    return History(tmp_path)


def _smoke(path: Path, status: Status, images: dict[str, str]) -> Path:
    """smoke.json as the smoke session writes it (its ``SmokeRun``) after a docker run of
    ``images`` whose health check came out ``status``."""
    run = SmokeRun(
        requested="docker",
        mode="docker",
        target="http://127.0.0.1:18000",
        checks=[Outcome("tts GET /health", status, "HTTP 200" if status is Status.PASS else "503")],
        notes=[],
        container=status,
        images=images,
    )
    write_report(path, run.report())
    return path


SKIP = "a fake registry: these tests are about the smoke and forward-only gates"


def _promote(
    config: PipelineConfig,
    tmp_path: Path,
    smoke: Path,
    *,
    allow_rollback: bool = False,
    skip_tests: str | None = SKIP,
) -> Any:
    """The session, its tests gate skipped unless ``skip_tests`` is None (then no API is
    configured: the gate is unknown; test_tests_gate_api.py asks a stand-in API)."""
    release = write_release(tmp_path / "release.json", released_image(promote_tags=["latest"]))
    return promote.promote(
        config,
        release_file=release,
        smoke_file=smoke,
        allow_rollback=allow_rollback,
        skip_tests=skip_tests,
    )


def _report(config: PipelineConfig) -> Any:
    return assert_matches_schema(
        config.report_dir("promote") / "promote.json", "promote/promote.schema.json"
    )


def test_a_promotion_writes_a_report_that_matches_its_schema(
    make_config: Callable[..., PipelineConfig],
    registry: dict[str, str],
    revisions: dict[str, str],
    tmp_path: Path,
) -> None:
    config = make_config()
    revisions[INDEX] = "a" * 40
    smoke = _smoke(tmp_path / "smoke.json", Status.PASS, {"tts": f"{REPOSITORY}@{INDEX}"})

    [move] = _promote(config, tmp_path, smoke)

    assert registry == {f"{REPOSITORY}:latest": INDEX}
    report = assert_matches_schema(
        config.report_dir("promote") / "promote.json", "promote/promote.schema.json"
    )
    assert report == {
        "status": "pass",
        "tests": {
            "status": "skipped",
            "workflow": "CI test",
            "commit": "a" * 40,
            "run": None,
            "detail": f"--no-require-tests: {SKIP}",
        },
        "moves": [
            {
                "target": move.target,
                "before": None,
                "after": INDEX,
                "commit_before": None,
                "commit_after": "a" * 40,
                "direction": "created",
            }
        ],
        "retries": [],
    }


def test_a_refused_promotion_still_writes_a_report_that_matches_its_schema(
    make_config: Callable[..., PipelineConfig], registry: dict[str, str], tmp_path: Path
) -> None:
    config = make_config()
    smoke = _smoke(tmp_path / "smoke.json", Status.FAIL, {"tts": f"{REPOSITORY}@{INDEX}"})

    with pytest.raises(CheckFailedError, match="smoke verdict is 'fail'"):
        _promote(config, tmp_path, smoke)

    assert registry == {}
    report = assert_matches_schema(
        config.report_dir("promote") / "promote.json", "promote/promote.schema.json"
    )
    assert (report["status"], report["moves"]) == ("fail", [])


def test_a_smoke_report_of_the_wrong_shape_is_one_line_exit_2(
    make_config: Callable[..., PipelineConfig], registry: dict[str, str], tmp_path: Path
) -> None:
    config = make_config()
    smoke = tmp_path / "smoke.json"
    smoke.write_text(json.dumps({"status": "pass", "container": "pass"}), encoding="utf-8")

    with pytest.raises(UsageError) as caught:
        _promote(config, tmp_path, smoke)

    assert str(caught.value).startswith(f"smoke report {smoke}: mode_requested: Field required")
    assert "\n" not in str(caught.value)
    assert caught.value.exit_code == EXIT_BAD_INPUT
    assert registry == {}
    assert_matches_schema(
        config.report_dir("promote") / "promote.json", "promote/promote.schema.json"
    )


# --- latest only moves forward -----------------------------------------------------------------


def _tested(tmp_path: Path) -> Path:
    return _smoke(tmp_path / "smoke.json", Status.PASS, {"tts": f"{REPOSITORY}@{INDEX}"})


def test_a_move_to_a_descendant_goes_forward(
    make_config: Callable[..., PipelineConfig],
    registry: dict[str, str],
    revisions: dict[str, str],
    history: History,
    tmp_path: Path,
) -> None:
    config = make_config()
    revisions[OLDER] = history.commit("older")
    revisions[INDEX] = history.commit("released")
    registry[LATEST] = OLDER

    _promote(config, tmp_path, _tested(tmp_path))

    assert registry[LATEST] == INDEX
    [moved] = _report(config)["moves"]
    assert (moved["before"], moved["after"]) == (OLDER, INDEX)
    assert (moved["commit_before"], moved["commit_after"]) == (revisions[OLDER], revisions[INDEX])
    assert moved["direction"] == "forward"


def test_a_move_backwards_is_refused_and_latest_stays(
    make_config: Callable[..., PipelineConfig],
    registry: dict[str, str],
    revisions: dict[str, str],
    history: History,
    tmp_path: Path,
) -> None:
    config = make_config()
    revisions[INDEX] = history.commit("released")  # an old smoke run re-run ...
    revisions[OLDER] = history.commit("newer")  # ... after latest moved on to a later commit
    registry[LATEST] = OLDER

    with pytest.raises(CheckFailedError) as refused:
        _promote(config, tmp_path, _tested(tmp_path))

    assert str(refused.value) == (
        f"refusing to move {LATEST} backwards: {revisions[INDEX]} does not descend from "
        f"{revisions[OLDER]}, the commit {LATEST} holds; --allow-rollback moves it anyway"
    )
    assert registry[LATEST] == OLDER
    report = _report(config)
    assert (report["status"], report["moves"]) == ("fail", [])


def test_a_move_backwards_with_allow_rollback_moves_and_says_so(
    make_config: Callable[..., PipelineConfig],
    registry: dict[str, str],
    revisions: dict[str, str],
    history: History,
    tmp_path: Path,
) -> None:
    config = make_config()
    revisions[INDEX] = history.commit("released")
    revisions[OLDER] = history.commit("newer")
    registry[LATEST] = OLDER

    _promote(config, tmp_path, _tested(tmp_path), allow_rollback=True)

    assert registry[LATEST] == INDEX
    report = _report(config)
    assert report["status"] == "pass"
    [moved] = report["moves"]
    assert (moved["commit_before"], moved["direction"]) == (revisions[OLDER], "rollback")


def test_the_same_commit_is_a_re_promote(
    make_config: Callable[..., PipelineConfig],
    registry: dict[str, str],
    revisions: dict[str, str],
    history: History,
    tmp_path: Path,
) -> None:
    config = make_config()
    revisions[INDEX] = revisions[OLDER] = history.commit("released, built twice")
    registry[LATEST] = OLDER

    _promote(config, tmp_path, _tested(tmp_path))
    assert registry[LATEST] == INDEX
    assert _report(config)["moves"][0]["direction"] == "same"

    _promote(config, tmp_path, _tested(tmp_path))  # the same digest again: a no-op
    [moved] = _report(config)["moves"]
    assert (moved["before"], moved["after"], moved["direction"]) == (INDEX, INDEX, "same")


def test_an_old_commit_a_shallow_clone_lacks_is_refused_with_what_to_do(
    make_config: Callable[..., PipelineConfig],
    registry: dict[str, str],
    revisions: dict[str, str],
    tmp_path: Path,
) -> None:
    upstream = History(tmp_path / "upstream")
    revisions[OLDER] = upstream.commit("older")
    revisions[INDEX] = upstream.commit("released")
    upstream.shallow_clone(tmp_path / "checkout")
    config = make_config().model_copy(update={"root": tmp_path / "checkout"})
    registry[LATEST] = OLDER

    with pytest.raises(CheckFailedError, match="fetch the history") as refused:
        _promote(config, tmp_path, _tested(tmp_path))

    assert "\n" not in str(refused.value)
    assert revisions[OLDER] in str(refused.value)
    assert registry[LATEST] == OLDER


def test_the_command_line_flag_allows_the_rollback(
    make_config: Callable[..., PipelineConfig],
    registry: dict[str, str],
    revisions: dict[str, str],
    history: History,
    tmp_path: Path,
) -> None:
    from vibevoice_ci.cli import parser
    from vibevoice_ci.promote.command import COMMANDS

    config = make_config()
    revisions[INDEX] = history.commit("released")
    revisions[OLDER] = history.commit("newer")
    registry[LATEST] = OLDER
    release = write_release(tmp_path / "release.json", released_image(promote_tags=["latest"]))
    argv = ["promote", "--release", str(release), "--smoke", str(_tested(tmp_path))]
    (command,) = COMMANDS

    with pytest.raises(CheckFailedError, match="--allow-rollback moves it anyway"):
        command.run(parser(COMMANDS).parse_args(argv), config)
    assert registry[LATEST] == OLDER

    command.run(parser(COMMANDS).parse_args([*argv, "--allow-rollback"]), config)
    assert registry[LATEST] == INDEX


# --- only tested commits move ----------------------------------------------------------------


def test_a_skipped_tests_gate_is_said_with_its_reason_in_the_summary(
    make_config: Callable[..., PipelineConfig],
    registry: dict[str, str],
    revisions: dict[str, str],
    tmp_path: Path,
) -> None:
    config = make_config(CI="true")
    revisions[INDEX] = "a" * 40

    _promote(config, tmp_path, _tested(tmp_path), skip_tests="the rollback runbook, step 3")

    assert registry == {LATEST: INDEX}
    summary = (config.report_dir("promote") / "summary.md").read_text(encoding="utf-8")
    assert "tests gate SKIPPED (--no-require-tests: the rollback runbook, step 3)" in summary


def test_a_blank_skip_reason_is_bad_usage_and_nothing_moves(
    make_config: Callable[..., PipelineConfig],
    registry: dict[str, str],
    revisions: dict[str, str],
    tmp_path: Path,
) -> None:
    config = make_config()
    revisions[INDEX] = "a" * 40

    with pytest.raises(UsageError, match="--no-require-tests needs a reason") as caught:
        _promote(config, tmp_path, _tested(tmp_path), skip_tests="  ")

    assert caught.value.exit_code == EXIT_BAD_INPUT
    assert registry == {}
    assert _report(config)["tests"] is None  # refused before anything was read


def test_without_an_api_the_gate_is_unknown_which_fails_under_ci_and_nothing_moves(
    make_config: Callable[..., PipelineConfig],
    registry: dict[str, str],
    revisions: dict[str, str],
    tmp_path: Path,
) -> None:
    config = make_config(CI="true")
    revisions[INDEX] = "a" * 40

    with pytest.raises(CheckFailedError, match="GITHUB_TOKEN, GITHUB_REPOSITORY not set"):
        _promote(config, tmp_path, _tested(tmp_path), skip_tests=None)

    assert registry == {}
    report = _report(config)
    assert (report["status"], report["moves"]) == ("fail", [])
    assert (report["tests"]["status"], report["tests"]["commit"]) == ("unknown", "a" * 40)


def test_outside_ci_an_unknown_gate_moves_with_the_verdict_unknown_never_pass(
    make_config: Callable[..., PipelineConfig],
    registry: dict[str, str],
    revisions: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = make_config()
    revisions[INDEX] = "a" * 40

    _promote(config, tmp_path, _tested(tmp_path), skip_tests=None)

    assert registry == {LATEST: INDEX}
    assert _report(config)["status"] == "unknown"
    assert "WARNING: promote: the tests gate verdict is UNKNOWN" in capsys.readouterr().err
    page = read_session(config.report_dir("promote"))  # the report page's reader
    assert (page.status, page.commit) == (Status.UNKNOWN, "a" * 40)
    assert [c.name for c in page.verdict.checks if c.status is Status.UNKNOWN] == [
        f"CI test of {'a' * 12}"
    ]


def test_an_image_without_a_revision_leaves_the_commit_and_the_gate_unknown(
    make_config: Callable[..., PipelineConfig], registry: dict[str, str], tmp_path: Path
) -> None:
    config = make_config(CI="true", GITHUB_TOKEN="t", GITHUB_REPOSITORY="o/r")  # noqa: S106

    with pytest.raises(CheckFailedError, match="which commit to check is unknown"):
        _promote(config, tmp_path, _tested(tmp_path), skip_tests=None)

    assert registry == {}
    assert _report(config)["tests"]["commit"] is None
