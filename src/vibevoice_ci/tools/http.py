"""The pipeline's one JSON-over-HTTP client (the notifications' webhook and GitHub's REST API,
for notify, promote and sign): httpx, retried when transient, and never a secret in what it
prints, logs or raises.

A URL that carries a secret (a Slack webhook's path is its credential) is named by its host
alone; every message this module makes, and every line httpx logs while it sends, also has
each secret's value replaced by ``***``. Plain HTTP is refused except to a loopback address
(the tests' stand-in servers), for the URL given and for every redirect httpx would follow;
a loopback address is reached directly, never through a configured proxy. A token is sent
only to the URL's own origin (httpx drops ``Authorization`` on a redirect elsewhere).
"""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from vibevoice_ci.core.environment import Secret
from vibevoice_ci.core.errors import PipelineError, ToolFailedError, UsageError
from vibevoice_ci.core.retry import RetryLog, RetryPolicy, is_transient_status, with_retries

TIMEOUT_SECONDS = 15.0
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
USER_AGENT = "vibevoice-ci"
POLICY = RetryPolicy(attempts=3, base_delay=1.0, max_delay=4.0, budget_seconds=60.0)
# httpx logs each request's full URL (a webhook's secret path) at INFO; httpcore's DEBUG lines
# name the host and port only.
_LOGGER = "httpx"
# No proxy for a loopback address, whatever HTTP(S)_PROXY says (the pattern httpx gives
# NO_PROXY hosts).
_DIRECT = {f"all://{host}": None for host in ("127.0.0.1", "localhost", "[::1]")}


class HttpError(ToolFailedError):
    """A request failed; the message names the method, where (redacted) and the status.

    ``transient``: whether another attempt may help (no answer, or 408, 429, 5xx).
    """

    def __init__(
        self, message: str, status: int | None = None, *, transient: bool | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.transient = (
            (status is None or is_transient_status(status)) if transient is None else transient
        )


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


def is_allowed_url(url: str) -> bool:
    """HTTPS to any host, or plain HTTP to a loopback host (pure)."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return bool(parts.hostname)
    return parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS


def check_url(url: str, what: str) -> None:
    """:func:`is_allowed_url`, else a UsageError naming ``what`` (never the URL itself, which
    may be the secret) (pure)."""
    if not is_allowed_url(url):
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
    connection errors and timeouts are retried (``POLICY``); anything else, a redirect to a
    URL :func:`is_allowed_url` refuses included, is an :class:`HttpError`."""
    what = f"{method} {shown_url(url, secret_url=secret_url is not None)}"
    check_url(url, "the webhook URL" if secret_url is not None else what)
    secrets = (token, secret_url)
    all_headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
    if token is not None:
        all_headers["Authorization"] = f"Bearer {token.reveal()}"

    def refuse_elsewhere(request: httpx.Request) -> None:
        """Every request httpx makes, each redirect's included, goes where check_url allows."""
        target = str(request.url)
        if not is_allowed_url(target):
            shown = shown_url(target, secret_url=True)
            message = f"{what}: redirected to {shown}, refused (https only, or http to loopback)"
            raise HttpError(redact(message, secrets), transient=False)

    def once(client: httpx.Client) -> Response:
        try:
            answer = client.request(method, url, json=payload, headers=all_headers)
        except httpx.TransportError as exc:  # no connection, a timeout, a broken answer
            raise HttpError(redact(f"{what}: connection failed ({exc})", secrets)) from None
        except (httpx.RequestError, httpx.InvalidURL) as exc:  # too many redirects, a bad URL
            message = redact(f"{what}: {type(exc).__name__} ({exc})", secrets)
            raise HttpError(message, transient=False) from None
        if not answer.is_success:
            detail = _error_detail(answer.content)
            message = redact(f"{what}: HTTP {answer.status_code}{detail}", secrets)
            raise HttpError(message, answer.status_code)
        return Response(answer.status_code, _parse(answer.content), answer.headers)

    def transient(exc: PipelineError) -> bool:
        return isinstance(exc, HttpError) and exc.transient

    client = httpx.Client(
        timeout=TIMEOUT_SECONDS,
        follow_redirects=True,
        # The system's trust store, as urllib had (a GitHub Enterprise Server's CA is there,
        # not in certifi's bundle); SSL_CERT_FILE and SSL_CERT_DIR still apply.
        verify=ssl.create_default_context(),
        mounts=_DIRECT,
        event_hooks={"request": [refuse_elsewhere]},
    )
    with client, _redacted_logs(secrets):
        return with_retries(
            what, lambda: once(client), log=log or RetryLog(), policy=POLICY, transient=transient
        )


class _Redacting(logging.Filter):
    def __init__(self, secrets: Sequence[Secret | None]) -> None:
        super().__init__()
        self._secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), self._secrets)
        record.args = None
        return True


@contextmanager
def _redacted_logs(secrets: Sequence[Secret | None]) -> Iterator[None]:
    """While it lasts, what httpx logs has ``secrets`` redacted."""
    redacting = _Redacting(secrets)
    logger = logging.getLogger(_LOGGER)
    logger.addFilter(redacting)
    try:
        yield
    finally:
        logger.removeFilter(redacting)


def _parse(body: bytes) -> Any:
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _error_detail(body: bytes) -> str:
    text = body[:2000].decode("utf-8", "replace")
    parsed = _parse(text.encode())
    if isinstance(parsed, dict) and isinstance(parsed.get("message"), str):
        return f": {parsed['message'][:200]}"
    return f": {text.strip()[:200]}" if text.strip() else ""
