"""The streaming text-to-speech service: engines, segmentation, the HTTP/WebSocket app.

Run it with ``python -m vibevoice_platform.tts``; see docs/tts-service.md.
"""

from __future__ import annotations

from vibevoice_platform.tts.settings import Settings, SettingsError

__all__ = ["Settings", "SettingsError"]
