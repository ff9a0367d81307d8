"""``vibevoice_ci.tools.http`` in this process against the stand-in webhook and GitHub API on
127.0.0.1: JSON both ways, retries, timeouts, redirects, proxies, and no secret in any error,
retry line or log line, even when the server echoes it back."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from notify_server import FakeGitHub, running_stand_in

from loopback import closed_port_url
from vibevoice_ci.core.environment import Secret
from vibevoice_ci.core.errors import UsageError
from vibevoice_ci.core.retry import RetriesExhaustedError, RetryLog, RetryPolicy
from vibevoice_ci.tools import http
from vibevoice_ci.tools.http import HttpError, request_json

pytestmark = pytest.mark.integration

TOKEN = "ghs_TOKENVALUE1234567890secret"  # noqa: S105 (a test value)
HOOK_PATH = "/services/T000/B000/HOOKSECRETxyz987"
SECRET_WORDS = (TOKEN, HOOK_PATH, "HOOKSECRETxyz987")


@pytest.fixture(autouse=True)
def short_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """The policy's shape (three attempts) as shipped; its waits shortened for the tests."""
    monkeypatch.setattr(http, "POLICY", RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.01))


@pytest.fixture
def stand_in() -> Iterator[tuple[str, FakeGitHub]]:
    with running_stand_in(TOKEN, HOOK_PATH) as found:
        yield found


def assert_secret_free(text: str) -> None:
    for word in SECRET_WORDS:
        assert word not in text


def post_to_webhook(base: str, log: RetryLog | None = None) -> http.Response:
    url = base + HOOK_PATH
    return request_json("POST", url, payload={"text": "hi"}, secret_url=Secret(url), log=log)


def test_json_goes_out_and_comes_back(stand_in: tuple[str, FakeGitHub]) -> None:
    base, state = stand_in
    response = post_to_webhook(base)
    assert (response.status, response.body) == (200, {"ok": True})
    assert response.headers["content-type"] == "application/json"
    (sent,) = state.requests
    assert sent.body == {"text": "hi"}
    assert sent.headers["content-type"].startswith("application/json")
    assert sent.headers["user-agent"] == "vibevoice-ci"
    assert "authorization" not in sent.headers


def test_the_github_calls_carry_the_token_and_read_the_answer(
    stand_in: tuple[str, FakeGitHub],
) -> None:
    base, state = stand_in
    state.comments[3] = [{"id": 1, "body": "hello", "html_url": "x"}]
    url = f"{base}/repos/o/r/issues/3/comments"
    response = request_json("GET", url, token=Secret(TOKEN))
    assert response.body == [{"id": 1, "body": "hello", "html_url": "x"}]
    assert state.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_transient_statuses_are_retried_until_an_answer(stand_in: tuple[str, FakeGitHub]) -> None:
    base, state = stand_in
    state.webhook_statuses = [429, 503]
    log = RetryLog()
    assert post_to_webhook(base, log=log).body == {"ok": True}
    assert len(state.webhook_posts()) == 3
    assert [r.attempt for r in log.retries] == [1, 2]
    assert "HTTP 429: no hook at /*** just now" in log.retries[0].reason
    assert_secret_free(repr(log.to_json()))


def test_a_transient_status_that_stays_exhausts_the_attempts(
    stand_in: tuple[str, FakeGitHub], capsys: pytest.CaptureFixture[str]
) -> None:
    base, state = stand_in
    state.webhook_status = 502
    with pytest.raises(RetriesExhaustedError) as raised:
        post_to_webhook(base)
    assert len(state.webhook_posts()) == 3
    assert "failed 3 times" in str(raised.value)
    assert "HTTP 502: no hook at /*** just now" in str(raised.value)
    assert_secret_free(str(raised.value))
    assert_secret_free(capsys.readouterr().err)  # the retry lines


def test_a_permanent_status_is_not_retried(stand_in: tuple[str, FakeGitHub]) -> None:
    base, state = stand_in
    with pytest.raises(HttpError) as raised:
        request_json("PATCH", f"{base}/repos/o/r/issues/comments/5", token=Secret(TOKEN))
    assert raised.value.status == 404
    assert not raised.value.transient
    assert str(raised.value).endswith("/repos/o/r/issues/comments/5: HTTP 404: Not Found")
    assert len(state.requests) == 1


def test_a_token_the_server_echoes_is_not_in_the_error(stand_in: tuple[str, FakeGitHub]) -> None:
    base, state = stand_in
    state.echo_credentials = True
    wrong = "ghs_WRONGtoken999"
    with pytest.raises(HttpError) as raised:
        request_json("GET", f"{base}/repos/o/r/issues?state=open", token=Secret(wrong))
    assert str(raised.value).endswith("HTTP 401: Bad credentials (Bearer ***)")
    assert wrong not in str(raised.value)
    assert len(state.requests) == 1


def test_a_webhook_that_cannot_be_reached_is_named_by_its_host_alone() -> None:
    url = closed_port_url() + HOOK_PATH
    with pytest.raises(RetriesExhaustedError) as raised:
        request_json("POST", url, payload={}, secret_url=Secret(url))
    message = str(raised.value)
    assert "connection failed" in message
    assert f"POST {closed_port_url().rsplit(':', 1)[0]}" in message
    assert_secret_free(message)


def test_a_late_answer_is_a_timeout_and_retried(
    stand_in: tuple[str, FakeGitHub], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, state = stand_in
    monkeypatch.setattr(http, "TIMEOUT_SECONDS", 0.2)
    state.delay_seconds = 0.6
    with pytest.raises(RetriesExhaustedError) as raised:
        post_to_webhook(base)
    assert "failed 3 times" in str(raised.value)
    assert "timed out" in str(raised.value)
    assert_secret_free(str(raised.value))


def test_a_redirect_to_plain_http_elsewhere_is_refused_not_followed(
    stand_in: tuple[str, FakeGitHub],
) -> None:
    base, state = stand_in
    elsewhere = "http://hooks.example.invalid/services/T000/B000/HOOKSECRETxyz987"
    state.redirects[HOOK_PATH] = (307, elsewhere)
    with pytest.raises(HttpError) as raised:
        post_to_webhook(base)
    message = str(raised.value)
    assert "redirected to http://hooks.example.invalid/***, refused" in message
    assert not raised.value.transient
    assert len(state.requests) == 1  # not retried, and nothing reached elsewhere
    assert_secret_free(message)


def test_a_redirect_on_loopback_is_followed_with_the_token_kept_at_home(
    stand_in: tuple[str, FakeGitHub],
) -> None:
    base, state = stand_in
    state.comments[7] = [{"id": 1, "body": "b", "html_url": "x"}]
    # The same origin: followed, with the token (GitHub's renamed repository answers so).
    state.redirects["/repos/o/old/issues/7/comments"] = (301, "/repos/o/r/issues/7/comments")
    response = request_json("GET", f"{base}/repos/o/old/issues/7/comments", token=Secret(TOKEN))
    assert response.body == [{"id": 1, "body": "b", "html_url": "x"}]
    assert state.requests[1].headers["authorization"] == f"Bearer {TOKEN}"
    # Another origin (localhost, not 127.0.0.1): followed, but the token stays behind.
    port = base.rsplit(":", 1)[1]
    other = f"http://localhost:{port}/repos/o/r/issues/7/comments"
    state.redirects["/repos/o/moved/issues/7/comments"] = (302, other)
    with pytest.raises(HttpError) as raised:
        request_json("GET", f"{base}/repos/o/moved/issues/7/comments", token=Secret(TOKEN))
    assert raised.value.status == 401
    assert "authorization" not in state.requests[-1].headers


def test_a_plain_http_url_elsewhere_is_refused_before_sending() -> None:
    url = "http://hooks.example.invalid/services/SECRETPATH"
    with pytest.raises(UsageError, match="the webhook URL must be an https:// URL") as raised:
        request_json("POST", url, payload={}, secret_url=Secret(url))
    assert "SECRETPATH" not in str(raised.value)


def test_loopback_is_reached_directly_whatever_the_proxy_settings(
    stand_in: tuple[str, FakeGitHub], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, state = stand_in
    dead_proxy = closed_port_url()
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, dead_proxy)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert post_to_webhook(base).body == {"ok": True}
    assert len(state.webhook_posts()) == 1


def test_no_log_line_carries_a_secret(
    stand_in: tuple[str, FakeGitHub], caplog: pytest.LogCaptureFixture
) -> None:
    base, state = stand_in
    state.webhook_statuses = [503]
    state.echo_credentials = True
    caplog.set_level(logging.DEBUG)
    post_to_webhook(base)
    with pytest.raises(HttpError):
        request_json("GET", f"{base}/repos/o/r/issues", token=Secret("ghs_WRONGtoken999"))
    # httpx logged each request; the webhook's URL, all of it the secret, as ***.
    assert 'HTTP Request: POST *** "HTTP/1.0 503 Service Unavailable"' in caplog.text
    assert f"HTTP Request: GET {base}/repos/o/r/issues" in caplog.text
    assert_secret_free(caplog.text)
    assert "ghs_WRONGtoken999" not in caplog.text
    # Once the call is over, httpx's log lines are its own again.
    assert not logging.getLogger("httpx").filters
