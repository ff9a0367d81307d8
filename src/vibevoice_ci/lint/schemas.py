"""The committed JSON Schemas of the sessions' reports, generated from their models.

Each session package that writes JSON has a ``reports.py`` whose ``SCHEMAS`` maps a schema
file name to its model (``vibevoice_ci.core.reports``); the file lives next to that module.
``schemas`` writes them all; ``schemas --check`` lists the ones that are missing or differ.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path

import vibevoice_ci
from vibevoice_ci.core.errors import ConfigError
from vibevoice_ci.core.files import write_text_atomic
from vibevoice_ci.core.reports import SCHEMA_SUFFIX, schema_text


@dataclass(frozen=True)
class SchemaFile:
    path: Path
    text: str


def schema_files() -> list[SchemaFile]:
    """Every session package's schema files, as the models generate them (sorted by path)."""
    found: list[SchemaFile] = []
    for package in pkgutil.iter_modules(vibevoice_ci.__path__):
        if not package.ispkg:
            continue
        folder = Path(vibevoice_ci.__path__[0]) / package.name
        if not (folder / "reports.py").is_file():
            continue
        module = importlib.import_module(f"vibevoice_ci.{package.name}.reports")
        for name, model in getattr(module, "SCHEMAS", {}).items():
            if not name.endswith(SCHEMA_SUFFIX) or "/" in name:
                raise ConfigError(
                    f"{module.__name__}.SCHEMAS: {name!r} is not a file name ending in "
                    f"{SCHEMA_SUFFIX}"
                )
            found.append(SchemaFile(folder / name, schema_text(model)))
    return sorted(found, key=lambda schema: schema.path)


def stale_schemas(files: list[SchemaFile]) -> list[Path]:
    """The schema files that are missing or differ from what their models generate."""
    stale = []
    for schema in files:
        try:
            current = schema.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            current = None
        if current != schema.text:
            stale.append(schema.path)
    return stale


def write_schemas(files: list[SchemaFile]) -> list[Path]:
    """Write the stale ones; return what was written."""
    written = stale_schemas(files)
    by_path = {schema.path: schema.text for schema in files}
    for path in written:
        write_text_atomic(path, by_path[path])
    return written
