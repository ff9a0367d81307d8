"""``python -m vibevoice_platform.agent``: run the voice agent service."""

import sys

from vibevoice_platform.agent.cli import main

if __name__ == "__main__":
    sys.exit(main())
