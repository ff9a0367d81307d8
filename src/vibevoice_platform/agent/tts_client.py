"""The agent's client of the tts service: one sentence in, PCM chunks out, faults as AgentError.

Every wait is bounded: connecting and each read (the first audio and every chunk after it)
by ``timeout`` seconds. A tts that refuses (429, 503) or cannot be reached is
``tts_unavailable``, one that stalls ``tts_timeout``, one that breaks off or answers an
unexpected status ``tts_failed``. Nothing is cached between calls: a tts that recovers is used
again on the next sentence.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

from vibevoice_platform.agent.errors import (
    TTS_FAILED,
    TTS_TIMEOUT,
    TTS_UNAVAILABLE,
    AgentError,
    one_line,
)


@dataclass(frozen=True)
class AudioStart:
    """What the tts response said about its audio (sent before the first chunk)."""

    sample_rate: int


class TTSClient:
    """Talks to ``POST /v1/tts`` and ``GET /ready`` of one tts service."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        voice: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """``transport`` replaces the network (tests pass an ``httpx.ASGITransport`` of a
        tts app, to run it in-process)."""
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.voice = voice
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout),
            trust_env=False,
            limits=httpx.Limits(max_keepalive_connections=8, keepalive_expiry=5.0),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def ready(self) -> tuple[bool, str]:
        """Whether tts answers ``/ready`` with 200 (within a second), and what it said."""
        try:
            response = await self._client.get("/ready", timeout=1.0)
        except httpx.HTTPError as exc:
            return False, f"tts at {self.base_url} unreachable ({type(exc).__name__})"
        if response.status_code == 200:
            return True, "ready"
        return False, f"tts /ready answered {response.status_code}"

    async def synthesize(self, text: str) -> AsyncIterator[AudioStart | bytes]:
        """An :class:`AudioStart`, then the PCM of ``text`` in chunks of whole samples."""
        payload: dict[str, str] = {"text": text, "format": "pcm"}
        if self.voice is not None:
            payload["voice"] = self.voice
        carry = b""
        try:
            async with self._client.stream("POST", "/v1/tts", json=payload) as response:
                if response.status_code != 200:
                    await response.aread()
                    raise _refusal(response)
                yield AudioStart(_sample_rate(response))
                async for chunk in response.aiter_raw():
                    data = carry + chunk
                    cut = len(data) - len(data) % 2
                    carry = data[cut:]
                    if cut:
                        yield data[:cut]
        except httpx.TimeoutException as exc:
            raise AgentError(
                TTS_TIMEOUT,
                504,
                f"tts did not answer within {self.timeout:g} s ({type(exc).__name__})",
            ) from None
        except (httpx.ConnectError, httpx.PoolTimeout) as exc:
            raise AgentError(
                TTS_UNAVAILABLE,
                502,
                f"tts at {self.base_url} cannot be reached ({type(exc).__name__})",
            ) from None
        except httpx.HTTPError as exc:
            raise AgentError(
                TTS_FAILED, 502, f"tts broke off the audio stream ({type(exc).__name__})"
            ) from None


def _sample_rate(response: httpx.Response) -> int:
    try:
        rate = int(response.headers.get("x-sample-rate", ""))
    except ValueError:
        rate = 0
    if rate <= 0:
        raise AgentError(TTS_FAILED, 502, "tts sent audio without a valid X-Sample-Rate")
    return rate


def _refusal(response: httpx.Response) -> AgentError:
    status = response.status_code
    try:
        detail = str(response.json().get("error", ""))
    except (ValueError, AttributeError):
        detail = response.text
    detail = one_line(detail, 200) or "no detail"
    if status in (429, 503):
        return AgentError(
            TTS_UNAVAILABLE,
            503,
            f"tts refused the sentence ({status}: {detail})",
            upstream_status=status,
            retry_after=response.headers.get("retry-after"),
        )
    return AgentError(TTS_FAILED, 502, f"tts answered {status}: {detail}", upstream_status=status)
