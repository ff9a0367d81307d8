"""The notifications' one HTTP client: JSON over urllib, retried when transient, and never a
secret in what it prints or raises.

A URL that carries a secret (a Slack webhook's path is its credential) is named by its host
alone; every message this module makes also has each secret's value replaced by ``***``.
Plain HTTP is refused except to a loopback address (the tests' stand-in servers).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from vibevoice_ci.core.environment import Secret
from vibevoice_ci.core.errors import PipelineError, ToolFailedError, UsageError
from vibevoice_ci.core.retry import RetryLog, RetryPolicy, is_transient_status, with_retries

TIMEOUT_SECONDS = 15.0
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
USER_AGENT = "vibevoice-ci-notify"
POLICY = RetryPolicy(attempts=3, base_delay=1.0, max_delay=4.0, budget_seconds=60.0)


class HttpError(ToolFailedError):
    """A request failed; the message names the method, where (redacted) and the status."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Response:
    status: int
    body: Any  # the parsed JSON, or None for an empty or non-JSON body
    headers: Mapping[str, str]


def redact(text: str, secrets: Sequence[Secret | None]) -> str:
    """``text`` with every secret's value (and its URL path) replaced by ``***`` (pure)."""
    for secret in secrets:
        if secret is None:
            continue
        value = secret.reveal()
        if value:
            text = text.replace(value, "***")
            path = urlsplit(value).path
            if len(path) > 1:
                text = text.replace(path, "/***")
    return text


def check_url(url: str, what: str) -> None:
    """HTTPS, or plain HTTP to a loopback host only (pure); else a UsageError naming ``what``
    (never the URL itself, which may be the secret)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return
    raise UsageError(f"{what} must be an https:// URL (plain http only to a loopback address)")


def shown_url(url: str, *, secret_url: bool) -> str:
    """How a URL appears in messages: a secret one as ``scheme://host/***`` (pure)."""
    if not secret_url:
        return url
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/***"


def request_json(
    method: str,
    url: str,
    *,
    payload: Any = None,
    token: Secret | None = None,
    secret_url: Secret | None = None,
    log: RetryLog | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Send ``payload`` as JSON; the parsed response. 2xx is success; 408, 429 and 5xx and
    connection errors are retried (``POLICY``); anything else is an :class:`HttpError`."""
    what = f"{method} {shown_url(url, secret_url=secret_url is not None)}"
    check_url(url, "the webhook URL" if secret_url is not None else what)
    secrets = (token, secret_url)
    data = None if payload is None else json.dumps(payload).encode("utf-8")
    all_headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
    if data is not None:
        all_headers["Content-Type"] = "application/json; charset=utf-8"
    if token is not None:
        all_headers["Authorization"] = f"Bearer {token.reveal()}"

    def once() -> Response:
        # The scheme was checked above (https, or http to loopback): S310's concern.
        request = urllib.request.Request(url, data=data, method=method, headers=all_headers)  # noqa: S310
        try:
            with _opener(url).open(request, timeout=TIMEOUT_SECONDS) as answer:
                return Response(answer.status, _parse(answer.read()), dict(answer.headers))
        except urllib.error.HTTPError as exc:
            detail = _error_detail(exc)
            message = redact(f"{what}: HTTP {exc.code}{detail}", secrets)
            raise HttpError(message, exc.code) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise HttpError(redact(f"{what}: connection failed ({reason})", secrets)) from None

    def transient(exc: PipelineError) -> bool:
        status = getattr(exc, "status", None)
        return status is None or is_transient_status(status)

    return with_retries(what, once, log=log or RetryLog(), policy=POLICY, transient=transient)


def _opener(url: str) -> urllib.request.OpenerDirector:
    """A loopback address is reached directly, never through a configured proxy."""
    if urlsplit(url).hostname in LOOPBACK_HOSTS:
        return urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener()


def _parse(body: bytes) -> Any:
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _error_detail(exc: urllib.error.HTTPError) -> str:
    try:
        body = exc.read(2000).decode("utf-8", "replace")
    except OSError:
        return ""
    parsed = _parse(body.encode())
    if isinstance(parsed, dict) and isinstance(parsed.get("message"), str):
        return f": {parsed['message'][:200]}"
    return f": {body.strip()[:200]}" if body.strip() else ""
