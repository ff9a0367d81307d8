"""Where the reply text comes from: Anthropic's Messages API (streaming) or a local responder.

A responder has a ``name`` (``anthropic`` or ``local``: reported in every reply and in the
metrics) and ``stream(messages)``, an async iterator of text pieces. Failures are
:class:`AgentError` with the upstream status where there is one, never the API key.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

from vibevoice_platform.agent.errors import (
    LLM_FAILED,
    LLM_RATE_LIMITED,
    LLM_TIMEOUT,
    LLM_UNAVAILABLE,
    AgentError,
    one_line,
)
from vibevoice_platform.agent.history import Message
from vibevoice_platform.agent.settings import Settings

# The status each documented Messages API error type has, for errors that arrive as an
# ``error`` event inside a stream that had already answered 200.
ERROR_TYPE_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}


class Responder(Protocol):
    name: str

    def stream(self, messages: Sequence[Message]) -> AsyncIterator[str]:
        """The reply to the last (user) message, in pieces as they are produced."""
        ...


class LocalResponder:
    """A small deterministic responder: the same turn and history give the same reply.

    It works offline (tests, the smoke session, no API key). It echoes the start of the turn,
    says which turn of the conversation it is, and streams the reply word by word. Its fixed
    words were chosen so that an offline recogniser hears them from Piper's voice (the smoke
    session's speech check: docs/ci-cd.md); "voice agent" and "turn 1" were often misheard.
    """

    name = "local"
    ECHO_WORDS = 12

    def reply(self, messages: Sequence[Message]) -> str:
        turn = messages[-1].content
        words = re.findall(r"[^\W_]+(?:['\u2019-][^\W_]+)*", turn)
        echo = " ".join(words[: self.ECHO_WORDS])
        if len(words) > self.ECHO_WORDS:
            echo += " and so on"
        number = sum(1 for message in messages if message.role == "user")
        said = f"You said: {echo}." if echo else "I heard you."
        return (
            f"{said} This is the local responder of this system, working without any "
            f"language model. This is message number {number} of our conversation."
        )

    async def stream(self, messages: Sequence[Message]) -> AsyncIterator[str]:
        for piece in re.findall(r"\S+\s*", self.reply(messages)):
            yield piece
            await asyncio.sleep(0)


class AnthropicResponder:
    """Streams the reply from the Messages API through the official ``anthropic`` SDK.

    Retries are the SDK's own (``max_retries``): connection errors, 408, 409, 429 and 5xx,
    honouring ``retry-after``, and only before the stream has started. A stream that fails
    after it started is not retried (the reply may already be half spoken).
    """

    name = "anthropic"

    def __init__(self, settings: Settings) -> None:
        import anthropic  # imported here: the local responder does not need it

        if not settings.api_key:
            raise ValueError("AnthropicResponder needs an API key")
        self._api_key = settings.api_key
        self._anthropic = anthropic
        self.model = settings.model
        self.max_tokens = settings.max_tokens
        self.system_prompt = settings.system_prompt
        self.timeout = settings.llm_timeout
        self.client = anthropic.AsyncAnthropic(
            api_key=settings.api_key,
            base_url=settings.anthropic_base_url,
            timeout=settings.llm_timeout,
            max_retries=settings.llm_max_retries,
        )

    def __repr__(self) -> str:
        return f"AnthropicResponder(model={self.model!r})"

    async def aclose(self) -> None:
        await self.client.close()

    async def stream(self, messages: Sequence[Message]) -> AsyncIterator[str]:
        try:
            async with self.client.messages.stream(
                model=self.model,
                max_tokens=self.max_tokens,
                system=self.system_prompt,
                messages=[message.to_api() for message in messages],  # type: ignore[misc]
            ) as stream:
                async for text in stream.text_stream:
                    if text:
                        yield text
        except AgentError:
            raise
        except Exception as exc:
            raise self._error(exc) from None

    def _error(self, exc: Exception) -> AgentError:
        sdk = self._anthropic
        if isinstance(exc, sdk.APITimeoutError):
            return self._scrub(
                AgentError(
                    LLM_TIMEOUT, 504, f"the LLM API did not answer within {self.timeout:g} s"
                )
            )
        if isinstance(exc, sdk.APIStatusError):
            body: Any = exc.body
            error = body.get("error") if isinstance(body, dict) else None
            error_type = error.get("type") if isinstance(error, dict) else None
            detail = error.get("message") if isinstance(error, dict) else None
            status = exc.status_code
            if status == 200 and isinstance(error_type, str):  # an error event mid-stream
                status = ERROR_TYPE_STATUS.get(error_type, 500)
            what = ": ".join(str(part) for part in (error_type, detail) if part) or "no detail"
            if status == 429:
                return self._scrub(
                    AgentError(
                        LLM_RATE_LIMITED,
                        503,
                        f"the LLM API is rate limiting ({status}: {one_line(what, 200)})",
                        upstream_status=status,
                        retry_after=exc.response.headers.get("retry-after"),
                    )
                )
            return self._scrub(
                AgentError(
                    LLM_FAILED,
                    502,
                    f"the LLM API answered {status}: {one_line(what, 200)}",
                    upstream_status=status,
                )
            )
        if isinstance(exc, sdk.APIConnectionError):
            return self._scrub(AgentError(LLM_UNAVAILABLE, 502, "the LLM API cannot be reached"))
        # The SDK does not wrap errors of its HTTP library while reading an open stream: a
        # read timeout, or a connection that dropped. They are told apart by name, which
        # holds for httpx and its successor alike.
        if "Timeout" in type(exc).__name__:
            return self._scrub(
                AgentError(LLM_TIMEOUT, 504, f"the LLM stream stalled for {self.timeout:g} s")
            )
        return self._scrub(
            AgentError(LLM_UNAVAILABLE, 502, f"the LLM stream broke off ({type(exc).__name__})")
        )

    def _scrub(self, error: AgentError) -> AgentError:
        error.message = error.message.replace(self._api_key, "[redacted]")
        return error


def create_responder(settings: Settings) -> LocalResponder | AnthropicResponder:
    """The Anthropic responder when an API key is set, else the local one."""
    if settings.api_key:
        return AnthropicResponder(settings)
    return LocalResponder()
