"""Files a session writes and reads: atomic writes (a reader sees the old file or the new one,
never half), and reading another session's JSON document with one-line errors."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from vibevoice_ci.core.errors import UsageError


def write_text_atomic(path: Path, text: str, *, durable: bool = False) -> None:
    """Write ``text`` to ``path`` so a reader sees the old file or the new one, never half.

    ``durable`` also fsyncs the file before the rename and the folder after it, so the new
    file survives a crash of the machine too (state that later runs depend on, such as the
    perf baseline)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file 0600; give it the mode an ordinary write would have (the
        # existing file's, else 0666 less the umask) so readers, and image layer caches that
        # hash file modes, see no difference.
        os.fchmod(fd, _mode_for(path))
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        Path(tmp).replace(path)
        if durable:
            _fsync_folder(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_json_atomic(path: Path, document: Any, *, durable: bool = False) -> None:
    write_text_atomic(path, json.dumps(document, indent=2, sort_keys=True) + "\n", durable=durable)


def read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{what} {path} not found") from None
    except ValueError as exc:
        raise UsageError(f"{what} {path} is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise UsageError(f"{what} {path} is not a JSON object")
    return document
