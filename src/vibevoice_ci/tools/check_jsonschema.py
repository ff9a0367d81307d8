"""check-jsonschema: validate a file against one of the schemas it vendors (offline).

``--builtin-schema vendor.dependabot`` is SchemaStore's Dependabot v2 schema as shipped in the
check-jsonschema wheel: no download, so it works here. Exit 0 valid, 1 invalid (errors in its
JSON output); anything else means it did not run properly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vibevoice_ci.core.errors import ToolFailedError
from vibevoice_ci.tools._exec import failure_message, find_tool, run_tool
from vibevoice_ci.tools._output import json_object

INSTALL_HINT = (
    "install check-jsonschema with: uv sync --extra audit "
    "(or python -m pip install check-jsonschema==0.39.0)"
)


@dataclass(frozen=True)
class SchemaError:
    """One validation error: where in the document (a JSON path) and what is wrong."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def check_jsonschema() -> str:
    return find_tool("check-jsonschema", INSTALL_HINT, env_override="VIBEVOICE_CHECK_JSONSCHEMA")


def builtin_argv(binary: str, schema: str, document: Path) -> list[str]:
    """Validate ``document`` against the vendored schema ``schema``, JSON output (pure)."""
    return [binary, "--builtin-schema", schema, "--output-format", "json", str(document)]


def parse_errors(text: str) -> list[SchemaError]:
    """check-jsonschema's JSON output -> its errors, duplicates dropped, in order (pure)."""
    document = json_object(text, "check-jsonschema")
    found: list[SchemaError] = []
    for entry in [*document.get("errors", []), *document.get("parse_errors", [])]:
        if not isinstance(entry, dict):
            continue
        error = SchemaError(str(entry.get("path", "$")), str(entry.get("message", entry)))
        if error not in found:
            found.append(error)
    return found


def validate_builtin(schema: str, document: Path, *, cwd: Path) -> list[SchemaError]:
    """Validate; return the errors (empty: valid). A run that did not work raises."""
    result = run_tool(
        builtin_argv(check_jsonschema(), schema, document), cwd=cwd, check=False, timeout=120
    )
    if result.returncode not in (0, 1):
        raise ToolFailedError(failure_message(result))
    errors = parse_errors(result.stdout)
    if result.returncode == 1 and not errors:
        raise ToolFailedError(failure_message(result))
    if result.returncode == 0 and errors:
        raise ToolFailedError(f"check-jsonschema exited 0 but reported {errors[0]}")
    return errors
