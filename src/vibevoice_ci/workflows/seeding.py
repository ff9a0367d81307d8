"""Seeded Actions cache entries: a planned run that finds its cache warm (plan.CacheSeed).

On GitHub a second push finds the entry the first push's job saved under the same key. Here
the harness writes that entry into the cache stand-in's folder before the run, in the
stand-in's own format (tests/workflows/standins/standin.py, ``cache_save``): a tar archive
named after the key (characters other than ``[A-Za-z0-9._-]`` become ``_``), whose members are
the cached paths less their leading ``/`` (the name the stand-in gives a path outside the
workspace). The stand-in then restores it as it restores any entry. The files come from
where root built the same versions earlier on this machine; the key and the list of files are
asked of the same commands the workflow asks, so the entry is the one the job would save.
"""

from __future__ import annotations

import re
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from vibevoice_ci.core.errors import UsageError
from vibevoice_ci.tools._exec import run_tool
from vibevoice_ci.workflows.plan import CacheSeed

_NOT_IN_ARCHIVE_NAMES = re.compile(r"[^A-Za-z0-9._-]")


def archive_stem(key: str) -> str:
    """The stand-in's archive name for ``key``, without ``.tar`` (pure)."""
    return _NOT_IN_ARCHIVE_NAMES.sub("_", key)


def archive_path(cache_dir: Path, key: str) -> Path:
    """Where the stand-in keeps the entry saved under ``key`` (pure)."""
    return cache_dir / f"{archive_stem(key)}.tar"


def seed_members(seed: CacheSeed, files: Sequence[str]) -> list[tuple[Path, str]]:
    """``(source path, member name)`` for each folder that holds a listed file (parents
    first), then each file, as the stand-in archives the cached folder (pure). A listed name
    that is absolute, climbs out with ``..`` or is empty is a ``UsageError``; so is no file."""
    if not files:
        raise UsageError(f"{' '.join(seed.files_command)}: listed no file to seed")
    folders: dict[PurePosixPath, None] = {}
    names: list[PurePosixPath] = []
    for text in files:
        name = PurePosixPath(text)
        if not text or name.is_absolute() or ".." in name.parts or name == PurePosixPath("."):
            raise UsageError(f"cannot seed {text!r}: not a path inside {seed.cache_folder}")
        for parent in reversed(name.parents[:-1]):  # "bin" for "bin/helm-3.22.0"
            folders[parent] = None
        names.append(name)
    cached = PurePosixPath(seed.cache_folder)
    return [
        (Path(seed.source, name), str(cached / name).lstrip("/")) for name in [*folders, *names]
    ]


def missing_sources(members: Sequence[tuple[Path, str]]) -> list[Path]:
    """The members' source paths that are not there."""
    return [source for source, _ in members if not source.exists()]


def _output(root: Path, argv: Sequence[str]) -> str:
    return run_tool(argv, cwd=root, timeout=120).stdout


def seed_key(seed: CacheSeed, root: Path) -> str:
    """The key the job saves (and restores) the entry under, asked of the workflow's command."""
    return seed.key_prefix + _output(root, seed.key_command).strip()


@dataclass(frozen=True)
class SeededEntry:
    """A seeded cache entry: its key, its archive, and whether this run wrote it (False: an
    entry of that key was already saved and is kept)."""

    key: str
    archive: Path
    written: bool


def seed_cache(cache_dir: Path, seed: CacheSeed, root: Path) -> SeededEntry:
    """Write the entry ``seed`` describes into ``cache_dir`` (the cache stand-in's folder),
    asking the commands in ``root`` for its key (once) and files. A source file
    that is missing is a ``UsageError`` naming it: the run would otherwise build cold."""
    key = seed_key(seed, root)
    target = archive_path(cache_dir, key)
    if target.is_file():
        return SeededEntry(key, target, written=False)
    members = seed_members(seed, _output(root, seed.files_command).split())
    missing = missing_sources(members)
    if missing:
        raise UsageError(
            f"cannot seed the cache entry {key}: {', '.join(map(str, missing))} missing "
            '(root builds them first: see docs/workflows.md, "Seeded cache entries")'
        )
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".seeding")
    with tarfile.open(partial, "w") as archive:
        for source, member in members:
            archive.add(source, arcname=member, recursive=False)
    partial.replace(target)
    return SeededEntry(key, target, written=True)
