"""Progress lines for long work: one place, so every session's lines look alike."""

from __future__ import annotations

import sys


def progress(message: str) -> None:
    """Print a progress line for long work (stderr, flushed, so it interleaves with tools)."""
    print(f"[vibevoice-ci] {message}", file=sys.stderr, flush=True)
