"""``vibevoice_ci.build.native``: the pure parts (tags, labels, extra CA certificates)."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.build import native as build
from vibevoice_ci.build.native import (
    extra_ca_sources,
    image_tags,
    oci_labels,
    release_tags,
    stage_ca_certificates,
)
from vibevoice_ci.core.config import ServiceConfig
from vibevoice_ci.core.environment import run_environment
from vibevoice_ci.core.errors import EXIT_BAD_INPUT, UsageError
from vibevoice_ci.tools.git import GitState

SHA = "0123456789abcdef0123456789abcdef01234567"
PEM = "-----BEGIN CERTIFICATE-----\nMIIB{name}\n-----END CERTIFICATE-----\n"


def _service() -> ServiceConfig:
    return ServiceConfig(
        name="tts",
        image="vibevoice-tts",
        dockerfile=Path("/r/infra/docker/tts.Dockerfile"),
        requirements=Path("/r/infra/docker/requirements/tts.txt"),
        extra="tts",
        module="vibevoice_platform.tts",
        container_port=8000,
        host_port=18000,
        health_path="/health",
        ready_path="/ready",
        metrics_path="/metrics",
    )


def _stems(names: list[str]) -> list[str]:
    """Staged names are ``<stem>-<12 hex of the content hash>.crt``; return the stems."""
    for name in names:
        _, _, rest = name.rpartition("-")
        assert len(rest) == len("0123456789ab.crt"), name
        assert rest.endswith(".crt"), name
    return [name.rpartition("-")[0] for name in names]


def _cert(path: Path, name: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(PEM.format(name=name or path.name), encoding="utf-8")
    return path


# --- image_tags -------------------------------------------------------------------------------


def test_clean_tree_tag_is_the_short_sha() -> None:
    assert image_tags("vibevoice-tts", SHA, dirty=False) == ["vibevoice-tts:0123456789ab"]


def test_dirty_tree_tag_says_so() -> None:
    assert image_tags("vibevoice-tts", SHA, dirty=True) == ["vibevoice-tts:0123456789ab-dirty"]


@settings(max_examples=100, deadline=None)
@given(st.text("0123456789abcdef", min_size=40, max_size=40), st.booleans())
def test_tags_are_valid_docker_tags(sha: str, dirty: bool) -> None:
    (tag,) = image_tags("ghcr.io/org/vibevoice-tts", sha, dirty=dirty)

    name, _, version = tag.rpartition(":")
    assert name == "ghcr.io/org/vibevoice-tts"
    assert version.startswith(sha[:12])
    assert version.endswith("-dirty") == dirty
    assert len(version) <= 128


# --- oci_labels -------------------------------------------------------------------------------


def test_oci_labels() -> None:
    labels = oci_labels(
        _service(), GitState(sha=SHA, ref="refs/heads/main", dirty=False), "2024-12-04T12:00:00Z"
    )

    assert labels == {
        "org.opencontainers.image.revision": SHA,
        "org.opencontainers.image.created": "2024-12-04T12:00:00Z",
        "org.opencontainers.image.ref.name": "refs/heads/main",
        "org.opencontainers.image.title": "vibevoice-tts",
    }
    assert all(key.startswith("org.opencontainers.image.") for key in labels)


# --- extra_ca_sources -------------------------------------------------------------------------


def _ca_sources(environ: dict[str, str]) -> list[Path]:
    """The CA sources a run with ``environ`` uses: the variable is read by run_environment."""
    return extra_ca_sources(run_environment(environ).extra_ca_certs)


def test_ca_sources_default_to_existing_host_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    present = tmp_path / "present"
    present.mkdir()
    monkeypatch.setattr(build, "DEFAULT_CA_SOURCES", (present, tmp_path / "absent"))

    assert _ca_sources({}) == [present]
    assert _ca_sources({"OTHER": "x"}) == [present]


def test_ca_sources_default_is_the_local_share_folder() -> None:
    assert Path("/usr/local/share/ca-certificates") in build.DEFAULT_CA_SOURCES


@pytest.mark.parametrize("value", ["", "   ", os.pathsep, f" {os.pathsep} "])
def test_empty_ca_variable_means_no_extra_certificates(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build, "DEFAULT_CA_SOURCES", (tmp_path,))

    assert _ca_sources({"VIBEVOICE_EXTRA_CA_CERTS": value}) == []


def test_ca_variable_lists_paths_in_order(tmp_path: Path) -> None:
    raw = os.pathsep.join(["/etc/corp/root.crt", "", "/opt/certs", "relative/dir"])

    assert _ca_sources({"VIBEVOICE_EXTRA_CA_CERTS": raw}) == [
        Path("/etc/corp/root.crt"),
        Path("/opt/certs"),
        Path("relative/dir"),
    ]


def test_ca_variable_paths_need_not_exist_yet() -> None:
    # Existence is checked (loudly) when staging, not silently dropped here.
    assert _ca_sources({"VIBEVOICE_EXTRA_CA_CERTS": "/does/not/exist"}) == [Path("/does/not/exist")]


# --- stage_ca_certificates --------------------------------------------------------------------


def test_stage_copies_only_crt_files_recursively(tmp_path: Path) -> None:
    source = tmp_path / "certs"
    _cert(source / "a.crt")
    _cert(source / "nested" / "deeper" / "b.crt")
    _cert(source / "c.pem")
    (source / "notes.txt").write_text("not a certificate", encoding="utf-8")
    staging = tmp_path / "staging"

    staged = stage_ca_certificates([source], staging)

    assert sorted(_stems(staged)) == ["a", "b"]
    assert sorted(p.name for p in staging.iterdir()) == sorted(["README", *staged])
    [b_name] = [name for name in staged if name.startswith("b-")]
    assert (staging / b_name).read_text(encoding="utf-8") == PEM.format(name="b.crt")


def test_stage_single_files_and_folders_together(tmp_path: Path) -> None:
    single = _cert(tmp_path / "corp" / "root.crt")
    folder = tmp_path / "more"
    _cert(folder / "x.crt")
    staging = tmp_path / "staging"

    staged = stage_ca_certificates([single, folder], staging)

    assert _stems(staged) == ["root", "x"]
    assert (staging / staged[0]).read_bytes() == single.read_bytes()


def test_stage_empties_the_staging_folder_first(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    _cert(staging / "stale.crt")
    _cert(staging / "old" / "nested.crt")
    source = tmp_path / "certs"
    _cert(source / "fresh.crt")

    staged = stage_ca_certificates([source], staging)

    assert _stems(staged) == ["fresh"]
    assert sorted(p.name for p in staging.iterdir()) == ["README", staged[0]]


def test_stage_with_no_sources_leaves_only_the_readme(tmp_path: Path) -> None:
    staging = tmp_path / ".build" / "ca-certificates"
    _cert(staging / "stale.crt")

    assert stage_ca_certificates([], staging) == []
    assert [p.name for p in staging.iterdir()] == ["README"]
    assert "nox -s build" in (staging / "README").read_text(encoding="utf-8")


def test_stage_with_an_empty_folder(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()

    assert stage_ca_certificates([empty], tmp_path / "staging") == []


def test_staging_again_touches_nothing_that_is_already_right(tmp_path: Path) -> None:
    # Parallel tests build one tree at once: a second staging must not empty or rewrite the
    # folder a running build is reading.
    source = tmp_path / "certs"
    _cert(source / "a.crt")
    staging = tmp_path / "staging"
    first = stage_ca_certificates([source], staging)
    before = {p.name: p.stat().st_ino for p in staging.iterdir()}

    assert stage_ca_certificates([source], staging) == first
    assert {p.name: p.stat().st_ino for p in staging.iterdir()} == before


def test_staging_leaves_a_concurrent_writers_temporary_file_alone(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    in_flight = staging / ".README.abc123.tmp"
    in_flight.parent.mkdir()
    in_flight.write_text("being written by another build", encoding="utf-8")

    stage_ca_certificates([], staging)

    assert in_flight.is_file()


def test_a_bad_source_leaves_the_staged_folder_as_it_was(tmp_path: Path) -> None:
    source = tmp_path / "certs"
    _cert(source / "a.crt")
    staging = tmp_path / "staging"
    staged = stage_ca_certificates([source], staging)

    with pytest.raises(UsageError):
        stage_ca_certificates([source, tmp_path / "nope.crt"], staging)
    assert sorted(p.name for p in staging.iterdir()) == sorted(["README", *staged])


def test_stage_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.crt"

    with pytest.raises(UsageError, match=r"nope\.crt does not exist") as caught:
        stage_ca_certificates([missing], tmp_path / "staging")
    assert caught.value.exit_code == EXIT_BAD_INPUT


def test_stage_missing_path_after_good_ones_still_fails(tmp_path: Path) -> None:
    good = _cert(tmp_path / "good.crt")

    with pytest.raises(UsageError, match="missing-dir"):
        stage_ca_certificates([good, tmp_path / "missing-dir"], tmp_path / "staging")


def test_stage_keeps_certificates_that_share_a_file_name(tmp_path: Path) -> None:
    source = tmp_path / "certs"
    _cert(source / "team-a" / "ca.crt", "AAA")
    _cert(source / "team-b" / "ca.crt", "BBB")
    staging = tmp_path / "staging"

    staged = stage_ca_certificates([source], staging)

    assert len(set(staged)) == len(staged) == 2
    contents = {(staging / name).read_text(encoding="utf-8") for name in staged}
    assert contents == {PEM.format(name="AAA"), PEM.format(name="BBB")}


def test_stage_single_pem_file_is_usable_or_rejected(tmp_path: Path) -> None:
    pem = _cert(tmp_path / "corp-root.pem")
    staging = tmp_path / "staging"

    try:
        staged = stage_ca_certificates([pem], staging)
    except UsageError:
        return
    assert staged
    assert all(name.endswith(".crt") for name in staged)


def test_ca_staging_folder_is_git_ignored(repo_root: Path) -> None:
    """Staged host CA certificates must never be committed by accident."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    probe = str(build.CA_STAGING / "probe.crt")

    result = subprocess.run(
        [git, "check-ignore", "--quiet", "--no-index", probe],
        cwd=repo_root,
        check=False,
    )

    assert result.returncode == 0, f"{probe} is not ignored by git"


def test_stage_rejects_a_file_without_a_pem_certificate(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.crt"
    bogus.write_text("not a certificate", encoding="utf-8")

    with pytest.raises(UsageError, match="holds no PEM certificate"):
        stage_ca_certificates([bogus], tmp_path / "staging")


def test_stage_identical_certificates_once(tmp_path: Path) -> None:
    _cert(tmp_path / "a" / "ca.crt", "SAME")
    _cert(tmp_path / "b" / "ca.crt", "SAME")

    assert len(stage_ca_certificates([tmp_path], tmp_path / "staging")) == 1


# --- release_tags -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("refs/tags/v1.2.3", ["1.2.3"]),
        ("refs/tags/v10.0.1-rc.1", ["10.0.1-rc.1"]),
        ("refs/heads/main", ["latest"]),
        ("refs/heads/feature/x", []),
        ("refs/tags/v1.2", []),
        ("refs/tags/release-1.2.3", []),
        ("refs/pull/7/merge", []),
        ("0123456789abcdef0123456789abcdef01234567", []),
    ],
)
def test_release_tags(ref: str, expected: list[str]) -> None:
    assert release_tags(ref, dirty=False) == expected


@settings(max_examples=200)
@given(st.text(max_size=60))
def test_dirty_builds_never_get_release_or_latest_tags(ref: str) -> None:
    assert release_tags(ref, dirty=True) == []
    assert set(release_tags(ref, dirty=False)) <= {"latest"} | {ref.removeprefix("refs/tags/v")}


def test_image_created_is_the_commit_time_for_a_clean_tree() -> None:
    built_at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    clean = GitState(
        sha=SHA, ref="refs/heads/main", dirty=False, committed_at="2025-05-05T05:05:05Z"
    )
    assert build.image_created(clean, built_at) == "2025-05-05T05:05:05Z"
    dirty = GitState(
        sha=SHA, ref="refs/heads/main", dirty=True, committed_at="2025-05-05T05:05:05Z"
    )
    assert build.image_created(dirty, built_at) == "2026-01-02T03:04:05Z"
    unknown = GitState(sha=SHA, ref="refs/heads/main", dirty=False)
    assert build.image_created(unknown, built_at) == "2026-01-02T03:04:05Z"
