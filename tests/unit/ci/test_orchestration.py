"""``build.native.build_images`` and ``lint.infra.lint_infra`` end to end, over fake tools.

The docker CLI, git and the linters are replaced by fakes that record calls, so every path
(no engine, a push whose tags disagree, an unlisted platform, a linter that finds something,
crashes, or is missing locally or under CI) can be produced on demand. The real tools are
exercised by tests/integration and by `.ci/run`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from schema_helpers import assert_matches_schema

from vibevoice_ci.build import native as build
from vibevoice_ci.build.metadata import metadata_problems
from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.errors import (
    EXIT_TOOL_MISSING,
    CheckFailedError,
    ToolFailedError,
    ToolMissingError,
)
from vibevoice_ci.core.outcome import Outcome, Status
from vibevoice_ci.lint import infra as infra_lint
from vibevoice_ci.tools import actionlint, docker, git, hadolint, shellcheck, zizmor

SHA = "0123456789abcdef0123456789abcdef01234567"
IMAGE_ID = "sha256:" + "1" * 64
DIGEST = "sha256:" + "d" * 64


# --- build_images ----------------------------------------------------------------------------


@dataclass
class FakeDocker:
    engine: bool = True
    architecture: str = "amd64"
    digests: dict[str, str] = field(default_factory=dict)
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def install(
        self, monkeypatch: pytest.MonkeyPatch, *, ref: str = "refs/heads/feature/x"
    ) -> None:
        def engine_status() -> docker.EngineStatus:
            if self.engine:
                return docker.EngineStatus(True, server_version="28.2.2")
            return docker.EngineStatus(False, reason="no Docker engine reachable: refused")

        def build_image(*, tags: Sequence[str], iidfile: Path, **kwargs: Any) -> str:
            self.calls.append(("build", *tags, kwargs["build_args"]["BASE_IMAGE"]))
            return IMAGE_ID

        def inspect_image(reference: str) -> docker.ImageInfo:
            return docker.ImageInfo(IMAGE_ID, (), (), 123_000_000, "", self.architecture, "linux")

        def tag(source: str, target: str) -> None:
            self.calls.append(("tag", source, target))

        def push(reference: str) -> str:
            self.calls.append(("push", reference))
            return self.digests.get(reference.rpartition(":")[2], DIGEST)

        monkeypatch.setattr(docker, "engine_status", engine_status)
        monkeypatch.setattr(docker, "build", build_image)
        monkeypatch.setattr(docker, "inspect_image", inspect_image)
        monkeypatch.setattr(docker, "tag", tag)
        monkeypatch.setattr(docker, "push", push)
        monkeypatch.setattr(
            git, "state", lambda root: git.GitState(SHA, ref, False, "2026-11-30T12:00:00Z")
        )


def test_build_without_an_engine_is_a_missing_tool_and_builds_nothing(
    make_config: Callable[..., PipelineConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeDocker(engine=False)
    fake.install(monkeypatch)

    with pytest.raises(ToolMissingError) as caught:
        build.build_images(make_config())

    assert caught.value.exit_code == EXIT_TOOL_MISSING
    assert fake.calls == []


def test_a_local_build_records_valid_metadata_and_a_summary(
    make_config: Callable[..., PipelineConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeDocker()
    fake.install(monkeypatch)
    config = make_config()

    [image] = build.build_images(config)

    assert fake.calls == [("build", "example-tts:0123456789ab", "base:1")]
    assert image.pushed_reference is None
    written = config.report_dir("build") / "build-metadata.json"
    [record] = assert_matches_schema(written, "build/build-metadata.schema.json")
    assert metadata_problems(record) == []
    assert record["digest"] == IMAGE_ID
    assert record["digest_kind"] == "image-id"
    assert record["platform"] == "linux/amd64"
    summary = (config.report_dir("build") / "summary.md").read_text()
    assert "**PASSED**" in summary
    assert "release platforms are linux/amd64, linux/arm64" in summary


def test_a_push_goes_to_the_registry_from_the_environment_with_the_ref_tags(
    make_config: Callable[..., PipelineConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeDocker()
    fake.install(monkeypatch)
    config = make_config(VIBEVOICE_REGISTRY="127.0.0.1:5000/ci", GITHUB_REF="refs/tags/v1.2.3")

    [image] = build.build_images(config, push=True)

    repository = "127.0.0.1:5000/ci/example-tts"
    assert ("push", f"{repository}:0123456789ab") in fake.calls
    assert ("push", f"{repository}:1.2.3") in fake.calls
    assert image.metadata.digest == DIGEST
    assert image.metadata.git_ref == "refs/tags/v1.2.3"
    assert image.metadata.pushed_tags == [f"{repository}:0123456789ab", f"{repository}:1.2.3"]
    written = config.report_dir("build") / "build-metadata.json"
    [record] = assert_matches_schema(written, "build/build-metadata.schema.json")
    assert record["digest_kind"] == "manifest"


def test_an_explicit_registry_beats_the_environment(
    make_config: Callable[..., PipelineConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeDocker()
    fake.install(monkeypatch)

    build.build_images(make_config(VIBEVOICE_REGISTRY="env.example"), push=True, registry="r.io")

    assert [call[1] for call in fake.calls if call[0] == "push"] == [
        "r.io/example-tts:0123456789ab"
    ]


def test_a_release_tag_pushed_with_another_digest_fails(
    make_config: Callable[..., PipelineConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeDocker(digests={"latest": "sha256:" + "e" * 64})
    fake.install(monkeypatch, ref="refs/heads/main")

    with pytest.raises(CheckFailedError, match="different digest"):
        build.build_images(make_config(), push=True)


def test_a_platform_the_config_does_not_list_fails(
    make_config: Callable[..., PipelineConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeDocker(architecture="riscv64")
    fake.install(monkeypatch)

    with pytest.raises(CheckFailedError, match=r"linux/riscv64, which \[tool.vibevoice-ci\]"):
        build.build_images(make_config())


def test_a_failed_docker_build_stops_the_session(
    make_config: Callable[..., PipelineConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    FakeDocker().install(monkeypatch)

    def broken(**_: Any) -> str:
        raise ToolFailedError("docker build exited 1")

    monkeypatch.setattr(docker, "build", broken)

    with pytest.raises(ToolFailedError, match="docker build exited 1"):
        build.build_images(make_config())


# --- lint_infra ------------------------------------------------------------------------------


@dataclass
class FakeLinters:
    """Each linter returns its findings, or raises what it is told to."""

    findings: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, Exception] = field(default_factory=dict)
    ran: list[str] = field(default_factory=list)

    def _lint(self, name: str) -> list[str]:
        self.ran.append(name)
        if name in self.errors:
            raise self.errors[name]
        return self.findings.get(name, [])

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        @dataclass(frozen=True)
        class Audited:
            findings: list[str]
            raw_json: str = "[]"

        monkeypatch.setattr(actionlint, "run", lambda *a, **k: Audited(self._lint("actionlint")))
        monkeypatch.setattr(zizmor, "run", lambda *a, **k: Audited(self._lint("zizmor")))
        monkeypatch.setattr(hadolint, "run", lambda *a, **k: self._lint("hadolint"))
        monkeypatch.setattr(shellcheck, "run", lambda *a, **k: self._lint("shellcheck"))


ALL_LINTERS = ["actionlint", "zizmor", "hadolint", "shellcheck"]


def _summary(config: PipelineConfig) -> str:
    return (config.report_dir("lint") / "summary.md").read_text(encoding="utf-8")


def test_lint_clean(
    make_config: Callable[..., PipelineConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    linters = FakeLinters()
    linters.install(monkeypatch)
    config = make_config()

    infra_lint.lint_infra(config)

    assert linters.ran == ALL_LINTERS
    assert "**PASSED**: 4 checks" in _summary(config)


def test_lint_findings_fail_after_every_linter_ran(
    make_config: Callable[..., PipelineConfig],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    linters = FakeLinters(findings={"hadolint": ["DL3008 pin versions in apt-get install"]})
    linters.install(monkeypatch)
    config = make_config()

    with pytest.raises(CheckFailedError, match="findings from hadolint"):
        infra_lint.lint_infra(config)

    assert linters.ran == ALL_LINTERS
    assert "hadolint: DL3008" in capsys.readouterr().out
    assert "| hadolint | FAIL |" in _summary(config)


def test_a_linter_that_crashes_is_a_failure_never_clean(
    make_config: Callable[..., PipelineConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    linters = FakeLinters(errors={"zizmor": ToolFailedError("zizmor exited 2")})
    linters.install(monkeypatch)
    config = make_config()

    with pytest.raises(CheckFailedError, match="zizmor"):
        infra_lint.lint_infra(config)

    assert linters.ran == ALL_LINTERS
    assert "| zizmor | FAIL |" in _summary(config)


def test_a_missing_linter_locally_is_unknown_and_loud_not_a_pass(
    make_config: Callable[..., PipelineConfig],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    linters = FakeLinters(errors={"actionlint": ToolMissingError("actionlint not found on PATH")})
    linters.install(monkeypatch)
    config = make_config()

    infra_lint.lint_infra(config)

    summary = _summary(config)
    assert "**UNKNOWN**" in summary
    assert "| actionlint | UNKNOWN |" in summary
    assert "NOT RUN (verdict unknown): actionlint" in capsys.readouterr().err


def test_a_missing_linter_under_ci_is_exit_3(
    make_config: Callable[..., PipelineConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    linters = FakeLinters(errors={"actionlint": ToolMissingError("actionlint not found on PATH")})
    linters.install(monkeypatch)

    with pytest.raises(ToolMissingError, match="actionlint not run") as caught:
        infra_lint.lint_infra(make_config(CI="true"))

    assert caught.value.exit_code == EXIT_TOOL_MISSING
    assert linters.ran == ALL_LINTERS


def test_findings_beat_a_missing_linter(
    make_config: Callable[..., PipelineConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    linters = FakeLinters(
        findings={"shellcheck": ["SC2086"]},
        errors={"actionlint": ToolMissingError("actionlint not found on PATH")},
    )
    linters.install(monkeypatch)

    with pytest.raises(CheckFailedError, match="shellcheck"):
        infra_lint.lint_infra(make_config())


@pytest.mark.parametrize("strict", [True, False])
def test_lint_verdict_with_nothing_run_is_never_silent(strict: bool) -> None:
    outcomes = [Outcome(name, Status.UNKNOWN, "not run") for name in ALL_LINTERS]

    error = infra_lint.lint_verdict(outcomes, strict=strict)

    assert (error is not None) == strict
