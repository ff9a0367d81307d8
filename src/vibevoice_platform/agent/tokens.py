"""Who may talk to the agent: bearer tokens, loaded once and compared in constant time.

Tokens come from a file (``VIBEVOICE_AGENT_TOKENS_FILE``, one a line, ``#`` comments) or from
an environment variable named by ``VIBEVOICE_AGENT_TOKENS_ENV`` (separated by commas or
whitespace). Rotation: list the old and the new token together, then drop the old one.
A token is 16 to 512 letters, digits and ``- . _ ~ +`` (the characters RFC 6750's token68 and
RFC 7230's token share), so it fits a header and a WebSocket subprotocol alike; e.g.
``python3 -c 'import secrets; print(secrets.token_urlsafe(32))'``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

SUBPROTOCOL = "vibevoice-agent.v1"
"""The WebSocket subprotocol the server selects; a browser offers it next to the token."""
SUBPROTOCOL_TOKEN_PREFIX = "bearer."  # noqa: S105 - a prefix, not a secret
"""A browser sends its token as the subprotocol ``bearer.<token>`` (never echoed back)."""
MIN_TOKEN_CHARS = 16
MAX_TOKEN_CHARS = 512
_TOKEN = re.compile(r"[A-Za-z0-9_.~+-]+")


class TokenError(ValueError):
    """The configured tokens cannot be used; the message never contains a token."""


def parse_tokens(text: str, *, source: str) -> tuple[str, ...]:
    """The tokens in ``text`` (comma/whitespace separated; ``#`` starts a comment)."""
    tokens: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        for token in re.split(r"[\s,]+", line.split("#", 1)[0]):
            if not token:
                continue
            if not _TOKEN.fullmatch(token):
                raise TokenError(
                    f"{source}, line {number}: a token has characters other than letters, "
                    "digits and - . _ ~ +"
                )
            if not MIN_TOKEN_CHARS <= len(token) <= MAX_TOKEN_CHARS:
                raise TokenError(
                    f"{source}, line {number}: a token must be {MIN_TOKEN_CHARS} to "
                    f"{MAX_TOKEN_CHARS} characters long"
                )
            tokens.append(token)
    if not tokens:
        raise TokenError(f"{source} holds no token")
    return tuple(dict.fromkeys(tokens))


def load_tokens(
    tokens_file: Path | None, tokens_env: str | None, environ: Mapping[str, str]
) -> tuple[str, ...] | None:
    """The configured tokens, or ``None`` when none are configured (the service is open)."""
    found: list[str] = []
    if tokens_file is not None:
        try:
            text = tokens_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TokenError(f"cannot read the tokens file {tokens_file}: {exc}") from None
        found += parse_tokens(text, source=str(tokens_file))
    if tokens_env is not None:
        value = environ.get(tokens_env)
        if value is None or not value.strip():
            raise TokenError(f"the tokens variable {tokens_env} is not set")
        found += parse_tokens(value, source=f"${tokens_env}")
    return tuple(dict.fromkeys(found)) if found else None


class TokenChecker:
    """Checks a presented token against every configured one in constant time."""

    def __init__(self, tokens: Sequence[str]) -> None:
        if not tokens:
            raise ValueError("TokenChecker needs at least one token")
        self._digests = tuple(_digest(token) for token in tokens)

    def __repr__(self) -> str:
        return f"TokenChecker({len(self._digests)} token(s))"

    def accepts(self, presented: str | None) -> bool:
        """Whether ``presented`` is one of the tokens. Every token is compared (no early exit),
        over fixed-length digests, so the time says nothing about the tokens."""
        candidate = _digest(presented or "")
        matched = False
        for digest in self._digests:
            matched |= hmac.compare_digest(candidate, digest)
        return matched and presented is not None


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def bearer_from_header(value: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else ``None``."""
    if value is None:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def bearer_from_subprotocols(offered: Iterable[str]) -> str | None:
    """The token offered as the WebSocket subprotocol ``bearer.<token>``, else ``None``."""
    for protocol in offered:
        protocol = protocol.strip()
        if protocol.startswith(SUBPROTOCOL_TOKEN_PREFIX):
            token = protocol[len(SUBPROTOCOL_TOKEN_PREFIX) :]
            return token or None
    return None


def subprotocols(header: str | None) -> list[str]:
    """The subprotocols listed in a ``Sec-WebSocket-Protocol`` header."""
    if not header:
        return []
    return [part.strip() for part in header.split(",") if part.strip()]
