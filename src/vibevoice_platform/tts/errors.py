"""How the service refuses a request: :class:`InputError` and the JSON error responses."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import JSONResponse

RETRY_AFTER_SECONDS = 1


class InputError(Exception):
    """A request the service refuses: the HTTP status and a one-line reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(
    status: int, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The JSON error body ``{"error": message}`` (schema: ``errors.schema.json``)."""
    return JSONResponse({"error": printable(message)}, status_code=status, headers=headers)


def printable(message: str) -> str:
    """``message`` as one line of valid UTF-8: line breaks become spaces and a lone surrogate
    a replacement character. Messages that repeat what a client sent escape it first
    (``common.requests.shown``); this is the net under them, so that an error can never turn
    into a 500 (a lone surrogate cannot be encoded) or a second line."""
    line = " ".join(message.splitlines()) or "error"
    return line.encode("utf-8", "replace").decode("utf-8")


def retry_headers() -> dict[str, str]:
    return {"Retry-After": str(RETRY_AFTER_SECONDS)}
