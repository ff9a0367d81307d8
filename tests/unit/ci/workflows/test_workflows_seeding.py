"""Seeded cache entries (workflows/seeding.py): the entry a planned run finds already saved is
the one the cache stand-in itself saves for the same folder, restores as any entry does, is
never written over an entry already saved, and is refused when root's files are missing.
Real files, real tar archives, the real stand-in script."""

from __future__ import annotations

import os
import shlex
import stat
import sys
import tarfile
from pathlib import Path

import pytest
from test_workflows_standin import Job

from vibevoice_ci.core.errors import ToolFailedError, UsageError
from vibevoice_ci.workflows.plan import CacheSeed
from vibevoice_ci.workflows.seeding import archive_path, seed_cache, seed_members
from vibevoice_ci.workflows.session import seed_unrestored

FILES = ("bin/helm-3.22.0", "bin/kwok-0.8.0")
KEY = "kubernetes-tools-helm3.22.0-kwok0.8.0"


def _printing(*lines: str) -> tuple[str, ...]:
    """A command that prints ``lines`` (as the install script's --cache-key/-files do)."""
    return ("sh", "-c", "printf '%s\\n' " + " ".join(shlex.quote(line) for line in lines))


def _seed(tmp_path: Path, files: tuple[str, ...] = FILES) -> CacheSeed:
    return CacheSeed(
        key_prefix="kubernetes-tools-",
        key_command=_printing("helm3.22.0-kwok0.8.0"),
        files_command=_printing(*files),
        source=str(tmp_path / "root-cache"),
        cache_folder=str(tmp_path / "home" / ".cache" / "vibevoice"),
    )


def _built(seed: CacheSeed) -> None:
    """root's builds: an executable per file under ``seed.source``."""
    for name in FILES:
        path = Path(seed.source, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"#!/bin/sh\necho {name}\n".encode())
        path.chmod(0o755)


def _members(archive: Path) -> list[tuple[str, bool, int, bytes]]:
    with tarfile.open(archive) as opened:
        return [
            (
                member.name,
                member.isdir(),
                stat.S_IMODE(member.mode),
                b"" if member.isdir() else opened.extractfile(member).read(),  # type: ignore[union-attr]
            )
            for member in sorted(opened.getmembers(), key=lambda m: m.name)
        ]


def test_members_are_the_folders_then_the_files_named_as_the_stand_in_names_them() -> None:
    seed = CacheSeed("k-", (), ("list",), "/var/cache/vibevoice", "/home/runner/.cache/vibevoice")
    assert seed_members(seed, ["bin/helm-3.22.0", "bin/kwok-0.8.0"]) == [
        (Path("/var/cache/vibevoice/bin"), "home/runner/.cache/vibevoice/bin"),
        (
            Path("/var/cache/vibevoice/bin/helm-3.22.0"),
            "home/runner/.cache/vibevoice/bin/helm-3.22.0",
        ),
        (
            Path("/var/cache/vibevoice/bin/kwok-0.8.0"),
            "home/runner/.cache/vibevoice/bin/kwok-0.8.0",
        ),
    ]


@pytest.mark.parametrize("name", ["/etc/passwd", "../outside", "bin/../../x", "."])
def test_a_listed_file_outside_the_cached_folder_is_refused(name: str) -> None:
    seed = CacheSeed("k-", (), ("list",), "/src", "/home/runner/.cache/vibevoice")
    with pytest.raises(UsageError, match=r"not a path inside /home/runner/\.cache/vibevoice"):
        seed_members(seed, [name])


def test_a_command_that_lists_nothing_is_refused() -> None:
    with pytest.raises(UsageError, match="list: listed no file to seed"):
        seed_members(CacheSeed("k-", (), ("list",), "/src", "/dst"), [])


def test_the_seeded_entry_is_the_one_the_stand_in_saves_for_the_same_folder(
    tmp_path: Path,
) -> None:
    seed = _seed(tmp_path)
    _built(seed)
    entry = seed_cache(tmp_path / "seeded", seed, tmp_path)
    archive = entry.archive
    assert entry.written
    assert entry.key == KEY
    assert archive == archive_path(tmp_path / "seeded", KEY)
    assert archive.name == f"{KEY}.tar"

    # The job's own save after a cold run: the same files in its cache folder, the folder
    # cached (the workflow's `path`).
    job = Job(tmp_path / "job", cache=tmp_path / "saved")
    for folder in ("workspace", "files", "home"):
        (job.root / folder).mkdir(parents=True)
    cached = Path(seed.cache_folder) / "bin"
    cached.mkdir(parents=True)
    for name in FILES:
        source = Path(seed.source, name)
        (cached / source.name).write_bytes(source.read_bytes())
        (cached / source.name).chmod(0o755)
    saved = job.run("actions/cache/save", path=str(cached), key=KEY)
    assert saved.returncode == 0, saved.stdout + saved.stderr
    assert _members(archive) == _members(tmp_path / "saved" / f"{KEY}.tar")


def test_the_stand_in_restores_the_seeded_entry_as_an_exact_hit(tmp_path: Path) -> None:
    seed = _seed(tmp_path)
    _built(seed)
    seed_cache(tmp_path / "cache", seed, tmp_path)
    job = Job(tmp_path / "job", cache=tmp_path / "cache")
    for folder in ("workspace", "files", "home"):
        (job.root / folder).mkdir(parents=True)
    cached = Path(seed.cache_folder) / "bin"
    restored = job.run("actions/cache", path=str(cached), key=KEY)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert job.values("GITHUB_OUTPUT")["cache-hit"] == "true"
    helm = cached / "helm-3.22.0"
    assert helm.read_text(encoding="utf-8") == "#!/bin/sh\necho bin/helm-3.22.0\n"
    assert os.access(helm, os.X_OK)
    # An exact hit saves nothing after the job: the seeded entry stays the only one.
    post = job.run("actions/cache", "post", state=job.values("GITHUB_STATE"), path=str(cached))
    assert "Cache hit occurred on the primary key, not saving cache." in post.stdout


def test_an_entry_already_saved_under_the_key_is_kept(tmp_path: Path) -> None:
    seed = _seed(tmp_path)
    _built(seed)
    cache = tmp_path / "cache"
    cache.mkdir()
    earlier = archive_path(cache, KEY)
    earlier.write_bytes(b"the first push's entry")
    entry = seed_cache(cache, seed, tmp_path)
    assert (entry.key, entry.archive, entry.written) == (KEY, earlier, False)
    assert earlier.read_bytes() == b"the first push's entry"


def test_a_file_root_has_not_built_stops_the_seed_and_names_it(tmp_path: Path) -> None:
    seed = _seed(tmp_path, (*FILES, "bin/kube-apiserver-1.35.4"))
    _built(seed)
    with pytest.raises(UsageError) as raised:
        seed_cache(tmp_path / "cache", seed, tmp_path)
    assert f"{seed.source}/bin/kube-apiserver-1.35.4 missing" in str(raised.value)
    assert f"cannot seed the cache entry {KEY}" in str(raised.value)
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def test_a_failing_key_command_stops_the_seed(tmp_path: Path) -> None:
    seed = CacheSeed("k-", (sys.executable, "-c", "raise SystemExit(3)"), ("true",), "/s", "/d")
    with pytest.raises(ToolFailedError):
        seed_cache(tmp_path / "cache", seed, tmp_path)
    assert not (tmp_path / "cache").exists()


def test_a_seeded_entry_the_job_never_restored_fails_the_run() -> None:
    key = "kubernetes-tools-helm3.22.0-abc"
    restored = ["⭐ Run Main Restore the Go build cache", f"Cache restored from key: {key}"]
    assert seed_unrestored([key], restored) is None
    assert seed_unrestored([], []) is None  # nothing seeded, nothing to check
    cold = ["Cache not found for input keys: kubernetes-tools-helm3.22.0-abd"]
    why = seed_unrestored([key], cold)
    assert why is not None
    assert key in why
    assert "built cold" in why
    # Two entries seeded (ci-test's test job): the one not restored is named, alone.
    other = "go-tools-crane0.22.1-script0123456789abcdef"
    why = seed_unrestored([key, other], restored)
    assert why is not None
    assert other in why
    assert key not in why
    assert seed_unrestored([key, other], [*restored, f"Cache restored from key: {other}"]) is None
