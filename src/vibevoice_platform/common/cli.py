"""The command-line pieces both services share: exit status 2 on bad flags, and logging."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterable

EXIT_BAD_INPUT = 2


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad flag exits with :data:`EXIT_BAD_INPUT` after a one-line error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def configure_logging(access_logger: str, quiet: Iterable[str] = ()) -> None:
    """Timestamped lines on stderr; ``access_logger``'s JSON lines bare; ``quiet`` at WARNING."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for name in quiet:
        logging.getLogger(name).setLevel(logging.WARNING)
    access = logging.getLogger(access_logger)
    access_handler = logging.StreamHandler(sys.stderr)
    access_handler.setFormatter(logging.Formatter("%(message)s"))
    access.handlers[:] = [access_handler]
    access.propagate = False
