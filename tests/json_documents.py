"""Hypothesis strategies for what a JSON parser can meet: documents of every structure, and
the bytes they travel as.

A document is built as JSON *text*, not as a Python value handed to ``json.dumps``, so it can
hold what ``json.dumps`` never writes: duplicate keys, lone surrogates (escaped, or encoded
as raw bytes), integers past Python's 4,300-digit limit, ``NaN`` and ``Infinity``, numbers
that overflow a float, nesting deeper than the parser's recursion allows, whitespace JSON
does not allow, a byte order mark, and encodings other than UTF-8. ``fields`` names the keys
a service knows, so wrong types for each of them come up often.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import strategies as st

SURROGATES = st.integers(0xD800, 0xDFFF).map(chr)
UNICODE = st.text(st.one_of(st.characters(), SURROGATES), max_size=40)  # lone surrogates too
NUMBER_TOKENS = st.sampled_from(
    [
        "NaN",
        "Infinity",
        "-Infinity",
        "1e999",
        "-1e999",
        "1e-999",
        "-0",
        "0.0e0",
        "1" * 4301,  # past int()'s default digit limit
        "-" + "9" * 5000,
        "0." + "0" * 3000 + "1",
        "1E+400",
        "01",
        "+1",
        ".5",
        "0x10",
        "1_000",
    ]
)


def _string_token(text: str, ascii_only: bool) -> str:
    # json.dumps escapes a lone surrogate as \udXXX with ensure_ascii, and leaves it raw
    # (to be encoded with surrogatepass, or refused by a strict encoder) without.
    return json.dumps(text, ensure_ascii=ascii_only)


def strings() -> st.SearchStrategy[str]:
    """JSON string tokens: any Unicode, lone surrogates included, escaped or raw."""
    return st.builds(_string_token, st.one_of(UNICODE, SURROGATES), st.booleans())


def numbers() -> st.SearchStrategy[str]:
    return st.one_of(
        st.integers().map(str),
        st.integers(min_value=-(10**400), max_value=10**400).map(str),
        st.floats(allow_nan=False, allow_infinity=False).map(repr),
        NUMBER_TOKENS,
    )


def scalars() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(["null", "true", "false"]), numbers(), strings())


def _array(items: list[str]) -> str:
    return "[" + ",".join(items) + "]"


def _object(pairs: list[tuple[str, str]]) -> str:
    return "{" + ",".join(f"{key}:{value}" for key, value in pairs) + "}"


def keys(fields: Sequence[str]) -> st.SearchStrategy[str]:
    known = st.sampled_from([json.dumps(name) for name in fields]) if fields else st.nothing()
    return st.one_of(known, known, strings())


def values(fields: Sequence[str] = ()) -> st.SearchStrategy[str]:
    """Any JSON value as text, nested a few levels (objects may repeat a key)."""
    return st.recursive(
        scalars(),
        lambda children: st.one_of(
            st.lists(children, max_size=5).map(_array),
            st.lists(st.tuples(keys(fields), children), max_size=5).map(_object),
        ),
        max_leaves=12,
    )


def nested(depth: st.SearchStrategy[int]) -> st.SearchStrategy[str]:
    """Arrays or objects nested ``depth`` deep, closed or not, alone or as a field's value."""

    def build(levels: int, opener: str, closed: bool, field: str) -> str:
        closer = {"[": "]", '{"a":': "}"}[opener]
        inner = opener * levels + "1" + (closer * levels if closed else "")
        return "{" + json.dumps(field) + ":" + inner + "}" if field else inner

    return st.builds(
        build, depth, st.sampled_from(["[", '{"a":']), st.booleans(), st.sampled_from(["", "text"])
    )


def documents(fields: Sequence[str], *, max_depth: int = 5000) -> st.SearchStrategy[str]:
    """JSON text: mostly objects with the service's ``fields`` holding values of every type;
    also any other value, deep nesting, and malformed text (cut short, stray whitespace)."""
    whitespace = st.sampled_from(["", " ", "\n\t\r ", "\u00a0", "\x0c", "\ufeff", "\x00"])
    objects = st.lists(st.tuples(keys(fields), values(fields)), max_size=6).map(_object)
    document = st.one_of(objects, objects, values(fields), nested(st.integers(1, max_depth)))

    def decorate(text: str, before: str, after: str, cut: float | None) -> str:
        text = before + text + after
        return text if cut is None else text[: int(len(text) * cut)]

    return st.builds(
        decorate,
        document,
        whitespace,
        whitespace,
        st.one_of(st.none(), st.none(), st.none(), st.floats(0, 1)),
    )


def near(good: Mapping[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[str]:
    """Objects built from ``good`` values (a field is in or out), then perhaps spoilt once:
    one field's value replaced by any JSON value, a field repeated, or an unknown one added.
    Without these, a service would mostly see bodies it refuses at the first check."""

    def spoil(chosen: dict[str, Any], how: str, field: str, value: str, key: str) -> str:
        pairs = [(json.dumps(name), json.dumps(item)) for name, item in chosen.items()]
        if how == "replace":
            pairs = [(name, value if name == json.dumps(field) else item) for name, item in pairs]
            if json.dumps(field) not in dict(pairs):
                pairs.append((json.dumps(field), value))
        elif how == "repeat":
            pairs.append((json.dumps(field), value))
        elif how == "add":
            pairs.append((key, value))
        return _object(pairs)

    return st.builds(
        spoil,
        st.fixed_dictionaries({}, optional=dict(good)),
        st.sampled_from(["keep", "keep", "replace", "repeat", "add"]),
        st.sampled_from(sorted(good)),
        values(sorted(good)),
        strings(),
    )


ENCODINGS = (
    "utf-8",
    "utf-8-sig",
    "utf-16",
    "utf-16-le",
    "utf-16-be",
    "utf-32",
    "utf-32-le",
    "latin-1",
    "cp1252",
)


def _encode(text: str, encoding: str) -> bytes:
    errors = "surrogatepass" if encoding.startswith("utf") else "replace"
    return text.encode(encoding, errors)


def encoded(text: st.SearchStrategy[str]) -> st.SearchStrategy[bytes]:
    """``text`` as bytes: UTF-8 most often (lone surrogates as their 3-byte form), else
    another encoding, a byte order mark, or a few bytes flipped to non-UTF-8."""
    plain = st.builds(_encode, text, st.sampled_from(["utf-8"] * 4 + list(ENCODINGS)))

    def corrupt(data: bytes, where: list[float], byte: int) -> bytes:
        out = bytearray(data)
        for fraction in where:
            if out:
                out[min(int(len(out) * fraction), len(out) - 1)] = byte
        return bytes(out)

    broken = st.builds(
        corrupt,
        plain,
        st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=3),
        st.sampled_from([0x80, 0xC0, 0xC3, 0xED, 0xF4, 0xF8, 0xFF, 0x00]),
    )
    return st.one_of(plain, plain, broken)


def bodies(good: Mapping[str, st.SearchStrategy[Any]], max_bytes: int) -> st.SearchStrategy[bytes]:
    """Request bodies within ``max_bytes``: encoded documents (any, and near the good values
    of each field), and arbitrary bytes."""
    texts = st.one_of(documents(sorted(good)), near(good))
    raw = st.one_of(encoded(texts), st.binary(max_size=2048))
    return raw.map(lambda data: data[:max_bytes])


def split(data: bytes) -> st.SearchStrategy[list[bytes]]:
    """``data`` cut into the pieces a server may receive it in (one, or several)."""
    if len(data) < 2:
        return st.just([data])
    cuts = st.lists(st.integers(1, len(data) - 1), max_size=4, unique=True).map(sorted)
    return cuts.map(
        lambda points: [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    )
