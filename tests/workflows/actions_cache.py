"""The GitHub Actions cache as the service keeps it: entries scoped by the ref that saved them,
searched the way actions/cache documents it ("Matching a cache key"). Pure.

A run may restore entries of its own ref and of its base or default branch, never another
branch's or another pull request's. Within the run's own ref first: the exact ``key``, then
``key`` as a prefix, then each of ``restore-keys`` in order as a prefix, the newest entry
winning among prefix matches; then the same steps in the base branch. An entry, once saved,
is never overwritten (a second save of the same key in the same scope does nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Entry:
    scope: str  # the ref whose run saved it: refs/heads/main, refs/pull/7/merge
    key: str
    saved_by: str  # what the test calls the run that saved it


@dataclass
class CacheService:
    entries: list[Entry] = field(default_factory=list)  # oldest first

    def save(self, scope: str, key: str, saved_by: str) -> None:
        if not any(e.scope == scope and e.key == key for e in self.entries):
            self.entries.append(Entry(scope, key, saved_by))

    def restore(self, scopes: Sequence[str], key: str, restore_keys: Sequence[str]) -> Entry | None:
        """What a restore in a run that may read ``scopes`` (its own ref first) gets."""
        for scope in dict.fromkeys(scopes):
            newest_first = [e for e in reversed(self.entries) if e.scope == scope]
            exact = [e for e in newest_first if e.key == key]
            if exact:
                return exact[0]
            for prefix in (key, *restore_keys):
                matches = [e for e in newest_first if e.key.startswith(prefix)]
                if matches:
                    return matches[0]
        return None


def restore_keys(value: object) -> list[str]:
    """The ``restore-keys`` input's lines (a multi-line string), blank ones dropped."""
    return [line.strip() for line in str(value or "").splitlines() if line.strip()]
