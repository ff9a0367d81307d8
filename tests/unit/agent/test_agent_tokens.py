"""Bearer tokens: parsing, loading for rotation, and the constant-time check."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_platform.agent.tokens import (
    TokenChecker,
    TokenError,
    bearer_from_header,
    bearer_from_subprotocols,
    load_tokens,
    parse_tokens,
    subprotocols,
)

TOKEN = st.text(alphabet="ABCxyz0189._~+-", min_size=16, max_size=40)
OLD = "old-token-0123456789abcdef"
NEW = "new-token-0123456789abcdef"


@settings(max_examples=300)
@given(tokens=st.lists(TOKEN, min_size=1, max_size=4), presented=st.one_of(st.none(), TOKEN))
def test_a_token_is_accepted_exactly_when_it_is_configured(
    tokens: list[str], presented: str | None
) -> None:
    checker = TokenChecker(tokens)
    assert checker.accepts(presented) == (presented in tokens)
    for token in tokens:
        assert checker.accepts(token)
        assert not checker.accepts(token + "x")
    assert tokens[0] not in repr(checker)


@settings(max_examples=200)
@given(tokens=st.lists(TOKEN, min_size=1, max_size=5), separator=st.sampled_from([",", " ", "\n"]))
def test_tokens_are_parsed_whatever_separates_them(tokens: list[str], separator: str) -> None:
    assert parse_tokens(separator.join(tokens), source="x") == tuple(dict.fromkeys(tokens))


def test_rotation_lists_the_old_and_new_token_from_a_file_and_a_variable(tmp_path: Path) -> None:
    file = tmp_path / "tokens"
    file.write_text(f"# rotated on Monday\n{OLD}\n\n", encoding="utf-8")
    tokens = load_tokens(file, "AGENT_TOKENS", {"AGENT_TOKENS": f"{NEW}, {OLD}"})
    assert tokens == (OLD, NEW)
    assert load_tokens(None, None, {}) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "holds no token"),
        ("short", "16 to 512"),
        ("a/token/with/slashes==", "other than letters"),
        ("one-bad\u00e9token-xxxxxxxx", "other than letters"),
    ],
)
def test_bad_tokens_are_refused_without_showing_them(text: str, message: str) -> None:
    with pytest.raises(TokenError, match=message) as caught:
        parse_tokens(text, source="$T")
    assert "bad\u00e9" not in str(caught.value)


def test_a_missing_variable_or_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TokenError, match="AGENT_TOKENS is not set"):
        load_tokens(None, "AGENT_TOKENS", {})
    with pytest.raises(TokenError, match="cannot read"):
        load_tokens(tmp_path / "absent", None, {})


def test_bearer_tokens_are_read_from_the_header_or_a_subprotocol() -> None:
    assert bearer_from_header(f"Bearer {NEW}") == NEW
    assert bearer_from_header(f"bearer   {NEW} ") == NEW
    assert bearer_from_header(f"Basic {NEW}") is None
    assert bearer_from_header("Bearer ") is None
    assert bearer_from_header(None) is None
    offered = subprotocols(f"vibevoice-agent.v1, bearer.{NEW}")
    assert offered == ["vibevoice-agent.v1", f"bearer.{NEW}"]
    assert bearer_from_subprotocols(offered) == NEW
    assert bearer_from_subprotocols(["vibevoice-agent.v1"]) is None
