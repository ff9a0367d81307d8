"""Headless Chromium (Debian's ``chromium``): a page's DOM as the browser built it, and a
screenshot of it. Used by the report session to check the page it rendered."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path

from vibevoice_ci.core.errors import ToolMissingError
from vibevoice_ci.tools._exec import find_tool, run_tool

INSTALL_HINT = "install it with: apt-get install chromium (Debian's package)"
# A closed network: without these Chromium keeps trying Google's hosts at every start.
QUIET_FLAGS = (
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
TIMEOUT_SECONDS = 120.0


# Debian's name first; GitHub's Ubuntu runners ship Google Chrome under its own names.
NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium() -> str:
    """The browser binary: ``$VIBEVOICE_CHROMIUM``, else the first of :data:`NAMES` on PATH."""
    try:
        return find_tool(NAMES[0], INSTALL_HINT, env_override="VIBEVOICE_CHROMIUM")
    except ToolMissingError as missing:
        for name in NAMES[1:]:
            found = shutil.which(name)
            if found is not None:
                return found
        raise missing from None


def base_argv(binary: str, profile: Path) -> list[str]:
    """The flags of every run (pure). No sandbox: Chromium refuses it as root (this machine
    and .ci/run), and Ubuntu 24.04 runners block the user namespaces it needs; what it opens
    is only the static, script-free page the report session wrote."""
    return [binary, *QUIET_FLAGS, "--no-sandbox", f"--user-data-dir={profile}"]


def dump_dom_argv(base: Sequence[str], url: str) -> list[str]:
    return [*base, "--dump-dom", url]


def screenshot_argv(
    base: Sequence[str], url: str, target: Path, *, width: int = 1280, height: int = 2400
) -> list[str]:
    return [*base, f"--screenshot={target}", f"--window-size={width},{height}", url]


def dump_dom(page: Path) -> str:
    """The DOM of ``page`` after Chromium loaded it (its serialised HTML)."""
    with tempfile.TemporaryDirectory(prefix="vibevoice-chromium-") as profile:
        base = base_argv(chromium(), Path(profile))
        result = run_tool(dump_dom_argv(base, page.resolve().as_uri()), timeout=TIMEOUT_SECONDS)
    return result.stdout


def screenshot(page: Path, target: Path) -> Path:
    """A PNG of ``page`` as Chromium shows it, written to ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="vibevoice-chromium-") as profile:
        base = base_argv(chromium(), Path(profile))
        run_tool(
            screenshot_argv(base, page.resolve().as_uri(), target.resolve()),
            timeout=TIMEOUT_SECONDS,
        )
    return target


class _Rows(HTMLParser):
    def __init__(self, attribute: str, value_attribute: str) -> None:
        super().__init__()
        self.attribute, self.value_attribute = attribute, value_attribute
        self.found: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        key, value = values.get(self.attribute), values.get(self.value_attribute)
        if key is not None and value is not None:
            self.found[key] = value


def attribute_pairs(dom: str, attribute: str, value_attribute: str) -> dict[str, str]:
    """``{element[attribute]: element[value_attribute]}`` for every element of ``dom`` that
    has both (pure)."""
    parser = _Rows(attribute, value_attribute)
    parser.feed(dom)
    parser.close()
    return parser.found
