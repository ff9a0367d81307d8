"""Reading and validating what clients send, the same way in both services (pure but the read)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from vibevoice_platform.tts.errors import InputError
from vibevoice_platform.tts.text import has_lone_surrogate

MAX_SHOWN_CHARS = 40
"""How much of a client's own text (a field name, a content type) an error message repeats."""
MAX_SHOWN_FIELDS = 5


def shown(value: str, limit: int = MAX_SHOWN_CHARS) -> str:
    """``value`` as an error message may repeat it: quoted, cut at ``limit`` characters, and
    escaped to printable ASCII, so a line break, a control character or a lone surrogate the
    client sent can neither split the message's line nor make it unencodable."""
    quoted = json.dumps(value[:limit], ensure_ascii=True)
    return quoted + "..." if len(value) > limit else quoted


async def read_json_body(request: Request, max_bytes: int, limit_note: str) -> bytes:
    """The raw body of a JSON request, or :class:`InputError` (415 not JSON, 413 too large).

    The body is read piece by piece and refused as soon as it passes ``max_bytes``, so an
    oversized request never sits in memory whole; ``limit_note`` says what the limit is about.
    """
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        got = shown(content_type) if content_type else "nothing"
        raise InputError(415, f"send the request as application/json (got {got})")
    body = bytearray()
    async for piece in request.stream():
        body += piece
        if len(body) > max_bytes:
            raise InputError(413, f"request body over {max_bytes} bytes; {limit_note}")
    return bytes(body)


def parse_object(raw: bytes | str) -> dict[str, Any]:
    """A JSON object, or :class:`InputError` 400.

    Bytes are decoded strictly, in the encoding JSON's first bytes show (UTF-8 unless a byte
    order mark or the zero bytes of UTF-16/32 say otherwise), so an encoded lone surrogate is
    malformed, not a character. ``NaN`` and ``Infinity``, which Python's parser takes but JSON
    does not have, are malformed too, and so is nesting deeper than the parser can recurse.
    """
    try:
        text = raw if isinstance(raw, str) else raw.decode(json.detect_encoding(raw))
        payload = json.loads(text, parse_constant=_refuse_constant)
    except UnicodeDecodeError as exc:
        raise InputError(400, f"malformed JSON: not {exc.encoding} ({exc.reason})") from None
    except ValueError as exc:
        raise InputError(400, f"malformed JSON: {exc}") from None
    except RecursionError:
        raise InputError(400, "malformed JSON: nested too deeply") from None
    if not isinstance(payload, dict):
        raise InputError(400, "the JSON body must be an object")
    return payload


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def check_text(text: object, max_chars: int) -> str:
    """Text to act on, or :class:`InputError`: 422 missing, not a string, empty or bad
    Unicode; 413 over ``max_chars``."""
    if text is None:
        raise InputError(422, "text is required")
    if not isinstance(text, str):
        raise InputError(422, "text must be a string")
    if not text.strip():
        raise InputError(422, "text is empty")
    if len(text) > max_chars:
        raise InputError(413, f"text is {len(text)} characters; the limit is {max_chars}")
    if has_lone_surrogate(text):
        raise InputError(422, "text is not valid Unicode (it has a lone surrogate)")
    return text


def refuse_unknown(payload: dict[str, Any], allowed: frozenset[str]) -> None:
    """:class:`InputError` 422 naming any field of ``payload`` not in ``allowed``."""
    unknown = sorted(set(payload) - allowed)
    if unknown:
        names = ", ".join(shown(name) for name in unknown[:MAX_SHOWN_FIELDS])
        if len(unknown) > MAX_SHOWN_FIELDS:
            names += f" and {len(unknown) - MAX_SHOWN_FIELDS} more"
        raise InputError(422, f"unknown field(s) {names}; allowed: {', '.join(sorted(allowed))}")
