"""What a session really wrote, checked against the JSON Schema committed next to its models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

PACKAGE = Path(__file__).resolve().parents[3] / "src" / "vibevoice_ci"


def assert_matches_schema(document: Path, schema: str) -> Any:
    """Validate the JSON file ``document`` against the committed ``src/vibevoice_ci/<schema>``
    (``build/release.schema.json``, say); return the decoded document."""
    schema_document = json.loads((PACKAGE / schema).read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema_document)
    validator_class.check_schema(schema_document)
    decoded = json.loads(document.read_text(encoding="utf-8"))
    errors = [
        f"{'/'.join(str(part) for part in error.absolute_path) or '(document)'}: {error.message}"
        for error in validator_class(schema_document).iter_errors(decoded)
    ]
    assert errors == [], f"{document} does not match {schema}"
    return decoded
