"""Errors the pipeline turns into one-line messages and documented exit codes.

Exit codes (see docs/ci-cd.md):
    0  every check passed
    1  a check failed (a test, a smoke check, a build)
    2  bad usage or bad input (a flag, a missing or malformed file, an unreachable URL)
    3  a required external tool is missing or too old
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_TOOL_MISSING = 3


class PipelineError(Exception):
    """Base class: a message fit to print on one line, and the exit code that goes with it."""

    exit_code = EXIT_CHECK_FAILED


class ConfigError(PipelineError):
    """The pipeline configuration (``[tool.vibevoice-ci]``) is missing or malformed."""

    exit_code = EXIT_BAD_INPUT


class UsageError(PipelineError):
    """A flag, argument or input file is wrong."""

    exit_code = EXIT_BAD_INPUT


class ToolMissingError(PipelineError):
    """An external tool is not installed, or its version is not one we support."""

    exit_code = EXIT_TOOL_MISSING


class ToolFailedError(PipelineError):
    """An external tool ran and exited non-zero."""

    exit_code = EXIT_CHECK_FAILED


class CheckFailedError(PipelineError):
    """A check the session exists to make has failed."""

    exit_code = EXIT_CHECK_FAILED
