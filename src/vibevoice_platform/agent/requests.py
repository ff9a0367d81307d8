"""Validating what clients send: a turn (``POST /v1/reply`` body or a WebSocket message)."""

from __future__ import annotations

import json
from typing import Any

from vibevoice_platform.tts.errors import InputError
from vibevoice_platform.tts.text import has_lone_surrogate

REPLY_FIELDS = frozenset({"text"})
TURN_FIELDS = frozenset({"type", "text"})


def check_turn_text(text: object, max_chars: int) -> str:
    """The turn's text, or :class:`InputError` (422 malformed/empty, 413 too long)."""
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


def parse_object(raw: bytes | str) -> dict[str, Any]:
    """A JSON object, or :class:`InputError` 400."""
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(400, f"malformed JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise InputError(400, "the JSON body must be an object")
    return payload


def refuse_unknown(payload: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(payload) - allowed)
    if unknown:
        raise InputError(
            422, f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )


def parse_reply_body(raw: bytes, max_chars: int) -> str:
    """The text of a ``POST /v1/reply`` body ``{"text": ...}``."""
    payload = parse_object(raw)
    refuse_unknown(payload, REPLY_FIELDS)
    return check_turn_text(payload.get("text"), max_chars)


def parse_turn_message(raw: str, max_chars: int) -> str:
    """The text of a WebSocket turn message ``{"type": "turn", "text": ...}``."""
    payload = parse_object(raw)
    refuse_unknown(payload, TURN_FIELDS)
    if payload.get("type") != "turn":
        raise InputError(422, 'a message must have "type": "turn"')
    return check_turn_text(payload.get("text"), max_chars)
