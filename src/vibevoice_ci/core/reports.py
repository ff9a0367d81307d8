"""Every JSON document a session writes is a typed model; its JSON Schema is generated from it.

A session package that writes JSON declares its documents in ``<package>/reports.py``:
pydantic models deriving from :class:`ReportModel`, and ``SCHEMAS``, which maps the schema
file's name (``smoke.schema.json``, committed next to that ``reports.py``) to its model.
``python -m vibevoice_ci schemas`` writes those files from the models and
``schemas --check`` (``nox -s lint``) fails when one is stale, so a schema is never edited by
hand and never drifts from what the writer writes.

Writers call :func:`write_report` (atomic, sorted keys, as every report is written);
readers of another session's document call :func:`read_report`, so a document of the wrong
shape is one line naming the file and the field (``UsageError``, exit 2), never a silent
default.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from vibevoice_ci.core.errors import UsageError
from vibevoice_ci.core.files import write_json_atomic
from vibevoice_ci.core.outcome import Outcome, Status

SCHEMA_SUFFIX = ".schema.json"
SCHEMA_DRAFT = "https://json-schema.org/draft/2020-12/schema"

Model = TypeVar("Model", bound=BaseModel)


class ReportModel(BaseModel):
    """The base of every report model: immutable, and no field it does not declare."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Check(ReportModel):
    """One check's verdict and what it saw (``core.outcome.Outcome``)."""

    name: str
    status: Status
    detail: str

    @classmethod
    def of(cls, outcome: Outcome) -> Check:
        return cls(name=outcome.name, status=outcome.status, detail=outcome.detail)


def report_json(report: BaseModel) -> Any:
    """The JSON value of ``report`` as written to disk (aliases applied)."""
    return report.model_dump(mode="json", by_alias=True)


def write_report(path: Path, report: BaseModel, *, durable: bool = False) -> None:
    """Write ``report`` to ``path`` atomically (``write_json_atomic``: sorted, indented)."""
    write_json_atomic(path, report_json(report), durable=durable)


def read_report(path: Path, model: type[Model], what: str) -> Model:
    """Read and validate ``path`` as ``model``; every problem is one ``UsageError`` line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{what} {path} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{what} {path} is not readable: {exc}") from None
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        raise UsageError(f"{what} {path}: {validation_message(exc)}") from None


def validate_report(document: Any, model: type[Model], what: str) -> Model:
    """``document`` (decoded JSON) validated as ``model``; problems as one ``UsageError``."""
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise UsageError(f"{what}: {validation_message(exc)}") from None


def validation_message(error: ValidationError) -> str:
    """The first problem of ``error`` as ``<dotted.location>: <message>`` (plus a count)."""
    problems = error.errors(include_url=False)
    first = problems[0]
    where = ".".join(str(part) for part in first["loc"]) or "(document)"
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{where}: {first['msg']}{more}"


def schema_text(model: type[BaseModel]) -> str:
    """The committed form of ``model``'s JSON Schema (serialization mode: what is written)."""
    schema = {"$schema": SCHEMA_DRAFT, **model.model_json_schema(mode="serialization")}
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
