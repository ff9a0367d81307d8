"""Reading what a tool printed: its version by a pattern, a JSON document of the kind it
promises. Anything else is a one-line ``ToolFailedError`` naming what was read (``what``: the
command, or the part of its output) and quoting the start of it, so a tool that did not really
answer never reads as an empty result."""

from __future__ import annotations

import json
import re
from typing import Any

from vibevoice_ci.core.errors import ToolFailedError


def read_version(pattern: re.Pattern[str], output: str, what: str) -> str:
    """The first group of ``pattern`` in ``output``, what ``what`` printed (pure)."""
    found = pattern.search(output)
    if found is None:
        raise ToolFailedError(f"{what}: no version in {_start(output)}")
    return found.group(1)


def json_object(output: str | bytes, what: str) -> dict[str, Any]:
    """``output``, what ``what`` printed, as a JSON object (pure)."""
    document = _json(output, what)
    if not isinstance(document, dict):
        raise ToolFailedError(f"{what}: a JSON {_kind(document)}, not an object")
    return document


def json_list(output: str | bytes, what: str) -> list[Any]:
    """``output``, what ``what`` printed, as a JSON list (pure)."""
    document = _json(output, what)
    if not isinstance(document, list):
        raise ToolFailedError(f"{what}: a JSON {_kind(document)}, not a list")
    return document


def _json(output: str | bytes, what: str) -> Any:
    try:
        return json.loads(output)
    except ValueError as exc:
        raise ToolFailedError(f"{what}: not JSON ({exc}): {_start(output)}") from None


def _kind(document: Any) -> str:
    names = {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(document), "number")


def _start(output: str | bytes) -> str:
    text = output.decode("utf-8", "replace") if isinstance(output, bytes) else output
    return repr(text.strip()[:200])
