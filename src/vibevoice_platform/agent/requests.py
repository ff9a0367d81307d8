"""Validating what clients send: a turn (``POST /v1/reply`` body or a WebSocket message)."""

from __future__ import annotations

from vibevoice_platform.common.requests import check_text, parse_object, refuse_unknown
from vibevoice_platform.tts.errors import InputError

REPLY_FIELDS = frozenset({"text"})
TURN_FIELDS = frozenset({"type", "text"})


def parse_reply_body(raw: bytes, max_chars: int) -> str:
    """The text of a ``POST /v1/reply`` body ``{"text": ...}``."""
    payload = parse_object(raw)
    refuse_unknown(payload, REPLY_FIELDS)
    return check_text(payload.get("text"), max_chars)


def parse_turn_message(raw: str, max_chars: int) -> str:
    """The text of a WebSocket turn message ``{"type": "turn", "text": ...}``."""
    payload = parse_object(raw)
    refuse_unknown(payload, TURN_FIELDS)
    if payload.get("type") != "turn":
        raise InputError(422, 'a message must have "type": "turn"')
    return check_text(payload.get("text"), max_chars)
