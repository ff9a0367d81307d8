"""Hypothesis strategies for the parts of a request around its body, as an attacker sends them:
any method (a made-up one too), any path (the service's own and arbitrary ones), any bytes as
the query string, any header names and values. Shared by the services' fuzz tests."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

METHODS = st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "BREW"])
RAW_QUERIES = st.binary(max_size=200)
HEADERS = st.lists(st.tuples(st.binary(min_size=1, max_size=20), st.binary(max_size=40)))


def paths(endpoints: Sequence[str]) -> st.SearchStrategy[str]:
    """One of ``endpoints``, or any other path."""
    return st.one_of(st.sampled_from(list(endpoints)), st.text(max_size=20).map(lambda p: "/" + p))
