"""``promote`` end to end over a fake registry: promote.json as the session writes it, checked
against the committed schema, and its inputs read through their writers' models."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from release_helpers import INDEX, released_image, write_release
from schema_helpers import assert_matches_schema

from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.errors import EXIT_BAD_INPUT, CheckFailedError, UsageError
from vibevoice_ci.core.outcome import Status
from vibevoice_ci.core.reports import write_report
from vibevoice_ci.promote import session as promote
from vibevoice_ci.smoke.reports import SmokeReport
from vibevoice_ci.tools import crane

REPOSITORY = "127.0.0.1:5000/v/vibevoice-tts"


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A fake registry's tags (reference -> digest), moved by crane.tag."""
    tags: dict[str, str] = {}

    def tag(source: str, new_tag: str) -> None:
        repository, _, digest = source.partition("@")
        tags[f"{repository}:{new_tag}"] = digest

    monkeypatch.setattr(promote, "current_digest", lambda reference: tags.get(reference))
    monkeypatch.setattr(crane, "tag", tag)
    monkeypatch.setattr(crane, "digest", lambda reference: tags[reference])
    return tags


def _smoke(path: Path, status: Status, images: dict[str, str]) -> Path:
    write_report(
        path,
        SmokeReport(
            status=status,
            mode_requested="docker",
            mode="docker",
            target="http://127.0.0.1:18000",
            container=status,
            checks=[],
            notes=[],
            images=images,
            speech=[],
        ),
    )
    return path


def _promote(config: PipelineConfig, tmp_path: Path, smoke: Path) -> Any:
    release = write_release(tmp_path / "release.json", released_image(promote_tags=["latest"]))
    return promote.promote(config, release_file=release, smoke_file=smoke)


def test_a_promotion_writes_a_report_that_matches_its_schema(
    make_config: Callable[..., PipelineConfig], registry: dict[str, str], tmp_path: Path
) -> None:
    config = make_config()
    smoke = _smoke(tmp_path / "smoke.json", Status.PASS, {"tts": f"{REPOSITORY}@{INDEX}"})

    [move] = _promote(config, tmp_path, smoke)

    assert registry == {f"{REPOSITORY}:latest": INDEX}
    report = assert_matches_schema(
        config.report_dir("promote") / "promote.json", "promote/promote.schema.json"
    )
    assert report == {
        "status": "pass",
        "moves": [{"target": move.target, "before": None, "after": INDEX}],
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
