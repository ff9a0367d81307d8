"""The report schemas: generated from the models, committed, and a stale one is caught."""

from __future__ import annotations

from pathlib import Path

from vibevoice_ci.cli import main
from vibevoice_ci.core.reports import ReportModel, schema_text
from vibevoice_ci.lint.schemas import SchemaFile, schema_files, stale_schemas, write_schemas


class _Example(ReportModel):
    status: str
    count: int = 0


def test_every_committed_schema_is_what_its_model_generates() -> None:
    files = schema_files()
    assert stale_schemas(files) == []
    for schema in files:
        assert schema.path.parent.joinpath("reports.py").is_file()


def test_the_check_command_passes_on_the_tree() -> None:
    assert main(["schemas", "--check"]) == 0


def test_a_missing_or_edited_schema_is_stale_and_rewritten(tmp_path: Path) -> None:
    text = schema_text(_Example)
    missing = SchemaFile(tmp_path / "missing.schema.json", text)
    edited = SchemaFile(tmp_path / "edited.schema.json", text)
    current = SchemaFile(tmp_path / "current.schema.json", text)
    edited.path.write_text(text.replace('"count"', '"total"'), encoding="utf-8")
    current.path.write_text(text, encoding="utf-8")
    files = [missing, edited, current]
    assert stale_schemas(files) == [missing.path, edited.path]
    assert write_schemas(files) == [missing.path, edited.path]
    assert stale_schemas(files) == []
    assert missing.path.read_text(encoding="utf-8") == text


def test_the_generated_schema_names_the_fields_and_forbids_others() -> None:
    import json

    schema = json.loads(schema_text(_Example))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema["properties"]) == {"status", "count"}
    assert schema["additionalProperties"] is False
