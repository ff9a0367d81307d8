"""Reading and validating what clients send, the same way in both services (pure but the read)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from vibevoice_platform.tts.errors import InputError
from vibevoice_platform.tts.text import has_lone_surrogate


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
        raise InputError(
            415, f"send the request as application/json (got {content_type or 'nothing'})"
        )
    body = bytearray()
    async for piece in request.stream():
        body += piece
        if len(body) > max_bytes:
            raise InputError(413, f"request body over {max_bytes} bytes; {limit_note}")
    return bytes(body)


def parse_object(raw: bytes | str) -> dict[str, Any]:
    """A JSON object, or :class:`InputError` 400."""
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(400, f"malformed JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise InputError(400, "the JSON body must be an object")
    return payload


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
        raise InputError(
            422, f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )
