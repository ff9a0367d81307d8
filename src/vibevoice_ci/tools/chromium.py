"""Headless Chromium (Debian's ``chromium``): a page's DOM as the browser built it, and a
screenshot of it. Used by the report session to check the page it rendered."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
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


# Elements that have no end tag (the serialised DOM writes <br>, never </br>).
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
    | {"track", "wbr"}
)


@dataclass(frozen=True)
class ShownText:
    """An element's text, and whether the page folds it away until a reader unfolds it."""

    text: str
    folded: bool  # inside a closed <details> (and not in its <summary>), or `hidden`


@dataclass
class _Capture:
    key: str
    depth: int
    folded: bool
    parts: list[str] = field(default_factory=list)


class _Texts(HTMLParser):
    def __init__(self, attribute: str) -> None:
        super().__init__(convert_charrefs=True)
        self.attribute = attribute
        self.stack: list[tuple[str, bool]] = []  # (tag, hides what is below it)
        self.open: list[_Capture] = []
        self.found: dict[str, ShownText] = {}

    def _folded(self) -> bool:
        """Whether an element opening now is folded away: a closed <details> above it, unless
        it is in that element's own <summary>; or a `hidden` element above it."""
        for depth, (tag, hides) in enumerate(self.stack):
            if hides and not (
                tag == "details"
                and depth + 1 < len(self.stack)
                and self.stack[depth + 1][0] == "summary"
            ):
                return True
        return False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        folded = self._folded() or "hidden" in values
        key = values.get(self.attribute)
        if tag in _VOID:
            if key is not None:
                self.found[key] = ShownText("", folded)
            return
        hides = (tag == "details" and "open" not in values) or "hidden" in values
        self.stack.append((tag, hides))
        if key is not None:
            self.open.append(_Capture(key, len(self.stack), folded))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        key = dict(attrs).get(self.attribute)
        if key is not None:
            self.found[key] = ShownText("", self._folded())

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        for depth in range(len(self.stack), 0, -1):
            if self.stack[depth - 1][0] == tag:
                while len(self.stack) >= depth:
                    if self.open and self.open[-1].depth == len(self.stack):
                        done = self.open.pop()
                        text = " ".join("".join(done.parts).split())
                        self.found[done.key] = ShownText(text, done.folded)
                    self.stack.pop()
                return

    def handle_data(self, data: str) -> None:
        for capture in self.open:
            capture.parts.append(data)


def element_texts(dom: str, attribute: str) -> dict[str, ShownText]:
    """``{element[attribute]: its text (white space collapsed), and whether it is folded away}``
    for every element of ``dom`` (the DOM as Chromium serialised it) that has ``attribute``
    (pure). What a reader sees without unfolding anything is what is not ``folded``."""
    parser = _Texts(attribute)
    parser.feed(dom)
    parser.close()
    return parser.found
