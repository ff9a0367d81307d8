"""Whatever a pyproject.toml holds at whatever key of ``[tool.vibevoice-ci]``, reading it ends
in a config or in one ``ConfigError`` line that names the file and the key: never a
traceback, never another exception."""

from __future__ import annotations

import copy
import json
import re
import tomllib
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.core.config import PipelineConfig, parse_config
from vibevoice_ci.core.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[4]


def _full_table() -> dict[str, Any]:
    """The real table, with an entry in each allow-list too, so every key is present."""
    document = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    table: dict[str, Any] = document["tool"]["vibevoice-ci"]
    entry = {"id": "GHSA-1", "reason": "r", "expires": date(2027, 1, 1), "package": "p"}
    table["audit"]["allow"] = [entry]
    table["trivy"]["allow"] = [dict(entry)]
    return table


FULL_TABLE = _full_table()
KeyPath = tuple[str | int, ...]


def _paths(node: Any, here: KeyPath = ()) -> Iterator[KeyPath]:
    """Every key of the table, nested tables' and array entries' keys included."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*here, key)
            yield from _paths(value, (*here, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if isinstance(value, dict):
                yield from _paths(value, (*here, index))


KNOWN_PATHS = sorted(_paths(FULL_TABLE), key=repr)

# Words some key accepts, so that a drawn value gets past the type checks now and then.
WORDS = ["", " ", "x", "HIGH", "moderate", "UNKNOWN", "1.35", "latest", "/health", "health"]
WORDS += ["https://x", "http://x", "2027-01-01", "static", "osv", "a\nb", "Bad_Name", "?!"]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(WORDS),
    st.dates(),
    st.datetimes(),
    st.times(),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.sampled_from(["id", "reason", "expires"]), inner)
    ),
    max_leaves=10,
)


def _bare_or_quoted(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


@settings(max_examples=400, deadline=None)
@given(
    path=st.sampled_from(KNOWN_PATHS),
    action=st.sampled_from(["replace", "delete", "add"]),
    value=values,
    new_key=st.text(max_size=10),
)
def test_any_malformed_value_at_any_key_is_one_config_error_line(
    path: KeyPath, action: str, value: Any, new_key: str
) -> None:
    table = copy.deepcopy(FULL_TABLE)
    parent = table
    for part in path[:-1]:
        parent = parent[part]
    if action == "replace":
        parent[path[-1]] = value
    elif action == "delete":
        del parent[path[-1]]
    elif isinstance(parent[path[-1]], dict):  # a key no table declares, in the table at path
        parent = parent[path[-1]]
        parent[new_key] = value
    else:  # ... or next to the key at path
        parent[new_key] = value

    try:
        config = parse_config(table, Path("/r"))
    except ConfigError as error:
        message = str(error)
        assert len(message.splitlines()) == 1, message
        assert re.match(r"pyproject\.toml: \[\[?tool\.vibevoice-ci\b", message), message
        # The key changed, or the top-level table it is in, is named as TOML spells it.
        new_top_level_key = action == "add" and len(path) == 1 and parent is table
        named = new_key if new_top_level_key else str(path[0])
        assert _bare_or_quoted(named) in message, message
    else:
        assert isinstance(config, PipelineConfig)


def test_a_time_of_day_is_not_a_trivy_expiry() -> None:
    table = copy.deepcopy(FULL_TABLE)
    table["trivy"]["exceptions"][0]["expires"] = datetime.combine(date(2027, 1, 1), time(12))

    with pytest.raises(
        ConfigError, match=r"#1 \(gcp-service-account\) expires: must be an unquoted"
    ):
        parse_config(table, Path("/r"))
