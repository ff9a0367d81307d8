"""``python -m vibevoice_platform.tts``: run the streaming text-to-speech service."""

from __future__ import annotations

import sys

from vibevoice_platform.tts.cli import main

if __name__ == "__main__":
    sys.exit(main())
