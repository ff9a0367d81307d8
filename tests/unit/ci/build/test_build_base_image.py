"""``vibevoice_ci.build.base_image.debian_mirror_lines``: apt sources to mmdebstrap mirror lines."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibevoice_ci.build.base_image import DEFAULT_MIRROR, debian_mirror_lines

# What a bookworm container's /etc/apt/sources.list.d/debian.sources looks like (deb822).
DEBIAN_SOURCES = """\
Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
# http://snapshot.debian.org/archive/debian-security/20250520T000000Z
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""

CORPORATE_SOURCES = """\
# Managed by the platform team.
Types: deb deb-src
URIs: https://mirror.corp.example/debian/
Suites: bookworm bookworm-updates bookworm-backports
Components: main contrib non-free-firmware

Types: deb
URIs: https://mirror.corp.example/debian-security/
Suites: bookworm-security
Components: main
"""

SOURCES_LIST = """\
# See sources.list(5)
deb http://ftp.de.debian.org/debian bookworm main contrib
# deb http://commented.example/debian bookworm main
deb-src http://ftp.de.debian.org/debian bookworm main
deb http://security.debian.org/debian-security bookworm-security main
deb http://ftp.de.debian.org/debian bookworm-updates main
"""


def test_deb822_debian_sources() -> None:
    assert debian_mirror_lines(DEBIAN_SOURCES, "bookworm") == [
        "deb http://deb.debian.org/debian bookworm main",
        "deb http://deb.debian.org/debian-security bookworm-security main",
    ]


def test_deb822_with_trailing_slashes_and_several_types() -> None:
    assert debian_mirror_lines(CORPORATE_SOURCES, "bookworm") == [
        "deb https://mirror.corp.example/debian bookworm main",
        "deb https://mirror.corp.example/debian-security bookworm-security main",
    ]


def test_one_line_sources_list() -> None:
    assert debian_mirror_lines(SOURCES_LIST, "bookworm") == [
        "deb http://ftp.de.debian.org/debian bookworm main",
        "deb http://security.debian.org/debian-security bookworm-security main",
    ]


def test_commented_and_source_only_entries_are_ignored() -> None:
    sources = (
        "# deb http://commented.example/debian bookworm main\n"
        "#deb http://commented2.example/debian bookworm main\n"
        "deb-src http://src.example/debian bookworm main\n"
        "Types: deb-src\nURIs: http://src822.example/debian\nSuites: bookworm\n"
    )

    assert debian_mirror_lines(sources, "bookworm") == [f"deb {DEFAULT_MIRROR} bookworm main"]


def test_first_matching_archive_wins() -> None:
    sources = (
        "deb http://first.example/debian bookworm main\n"
        "deb http://second.example/debian bookworm main\n"
    )

    assert debian_mirror_lines(sources, "bookworm") == [
        "deb http://first.example/debian bookworm main"
    ]


@pytest.mark.parametrize("sources", ["", "\n\n", "# nothing here\n", "garbage: yes\n"])
def test_no_usable_source_gives_the_default_mirror(sources: str) -> None:
    assert debian_mirror_lines(sources, "bookworm") == [f"deb {DEFAULT_MIRROR} bookworm main"]


def test_sources_for_another_suite_give_the_default_mirror() -> None:
    assert debian_mirror_lines(DEBIAN_SOURCES, "trixie") == [f"deb {DEFAULT_MIRROR} trixie main"]


def test_security_archive_alone_still_uses_the_default_main_mirror() -> None:
    sources = "deb http://sec.example/debian-security bookworm-security main\n"

    assert debian_mirror_lines(sources, "bookworm") == [
        f"deb {DEFAULT_MIRROR} bookworm main",
        "deb http://sec.example/debian-security bookworm-security main",
    ]


def test_updates_suite_is_not_mistaken_for_the_main_suite() -> None:
    sources = "deb http://updates.example/debian bookworm-updates main\n"

    assert debian_mirror_lines(sources, "bookworm") == [f"deb {DEFAULT_MIRROR} bookworm main"]


def test_one_line_entries_with_options() -> None:
    sources = (
        "deb [signed-by=/usr/share/keyrings/corp.gpg] http://mirror.corp/debian bookworm main\n"
        "deb [arch=amd64 trusted=yes] http://mirror.corp/sec bookworm-security main\n"
    )

    assert debian_mirror_lines(sources, "bookworm") == [
        "deb http://mirror.corp/debian bookworm main",
        "deb http://mirror.corp/sec bookworm-security main",
    ]


def test_deb822_disabled_stanza_is_skipped() -> None:
    sources = (
        "Types: deb\nURIs: http://disabled.example/debian\nSuites: bookworm\nEnabled: no\n\n"
        "Types: deb\nURIs: http://enabled.example/debian\nSuites: bookworm\n"
    )

    assert debian_mirror_lines(sources, "bookworm") == [
        "deb http://enabled.example/debian bookworm main"
    ]


# --- any URI and suite round-trips ------------------------------------------------------------

_label = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
uris = st.builds(
    lambda scheme, host, port, path, slash: (
        f"{scheme}://{host}{port}/{'/'.join(path)}" + ("/" if slash else "")
    ),
    st.sampled_from(["http", "https"]),
    st.lists(_label, min_size=1, max_size=3).map(".".join),
    st.sampled_from(["", ":8080", ":3142"]),
    st.lists(
        st.text("abcdefghijklmnopqrstuvwxyz0123456789-_.~", min_size=1, max_size=10).filter(
            lambda s: s not in {".", ".."}
        ),
        min_size=1,
        max_size=3,
    ),
    st.booleans(),
)
suites = st.text("abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=10)


def _deb822(main: str, security: str, suite: str) -> str:
    return (
        f"Types: deb\n# comment: {main}\nURIs: {main}\nSuites: {suite} {suite}-updates\n"
        "Components: main\n\n"
        f"Types: deb\nURIs: {security}\nSuites: {suite}-security\nComponents: main\n"
    )


def _one_line(main: str, security: str, suite: str) -> str:
    return f"# {main}\ndeb {main} {suite} main contrib\ndeb {security} {suite}-security main\n"


@settings(max_examples=200, deadline=None)
@given(main=uris, security=uris, suite=suites, fmt=st.sampled_from([_deb822, _one_line]))
def test_any_uri_and_suite_round_trip(
    main: str, security: str, suite: str, fmt: Callable[[str, str, str], str]
) -> None:
    lines = debian_mirror_lines(fmt(main, security, suite), suite)

    assert lines == [
        f"deb {main.rstrip('/')} {suite} main",
        f"deb {security.rstrip('/')} {suite}-security main",
    ]


@settings(max_examples=100, deadline=None)
@given(suite=suites, noise=st.text(max_size=200))
def test_never_raises_and_always_names_the_suite(suite: str, noise: str) -> None:
    lines = debian_mirror_lines(noise, suite)

    assert 1 <= len(lines) <= 2
    assert lines[0].startswith("deb ")
    assert lines[0].endswith(f" {suite} main")
