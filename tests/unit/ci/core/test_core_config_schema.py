"""The JSON Schema of ``[tool.vibevoice-ci]``, generated from the config models, describes the
table the project really has: the real table passes it, and it refuses what the models refuse.

(An editor or a linter can check pyproject.toml with it; it is not written to a file.)
"""

from __future__ import annotations

import copy
import json
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from vibevoice_ci.core.config import PipelineConfig, parse_config
from vibevoice_ci.core.errors import ConfigError

SCHEMA = Draft202012Validator(PipelineConfig.model_json_schema(), format_checker=FormatChecker())


def as_json(table: dict[str, Any]) -> Any:
    """The TOML table as JSON holds it (a TOML date becomes its ISO string)."""
    return json.loads(json.dumps(table, default=date.isoformat))


def schema_problems(table: dict[str, Any]) -> list[str]:
    return [f"{list(error.absolute_path)}: {error.message}" for error in SCHEMA.iter_errors(table)]


def test_the_schema_is_valid_json_schema() -> None:
    Draft202012Validator.check_schema(PipelineConfig.model_json_schema())


def test_the_real_table_passes_the_schema(repo_root: Path) -> None:
    document = tomllib.loads((repo_root / "pyproject.toml").read_text(encoding="utf-8"))
    table = document["tool"]["vibevoice-ci"]

    assert schema_problems(as_json(table)) == []


def test_the_test_table_passes_the_schema(valid_table: dict[str, Any]) -> None:
    assert schema_problems(as_json(valid_table)) == []


def test_the_schema_leaves_out_what_is_not_a_key() -> None:
    schema = PipelineConfig.model_json_schema()

    assert {"root", "env", "speech"}.isdisjoint(schema["properties"])
    assert "smoke" in schema["required"]
    assert "name" not in schema["$defs"]["ServiceConfig"]["properties"]


ENTRY = {"id": "KSV-1", "reason": "r", "expires": date(2027, 1, 1)}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("colour",), "red"),
        (("registry",), ""),
        (("platforms",), []),
        (("services", "tts", "host_port"), 0),
        (("services", "tts", "host_port"), 65536),
        (("services", "tts", "health_path"), 7),
        (("services", "tts", "colour"), "red"),
        (("smoke", "min_recall", "piper"), 0),
        (("smoke", "agent", "min_recall", "piper"), 1.5),
        (("perf",), {"alpha": 1}),
        (("perf",), {"requests": 0}),
        (("helm",), {"chart": "c", "ci_values": "v", "release": "Bad_Name"}),
        (("helm",), {"chart": "c", "ci_values": "v", "kubernetes_versions": ["latest"]}),
        (("helm",), {"chart": "c", "ci_values": "v", "levels": ["kind"]}),
        (("helm",), {"chart": "c"}),
        (("audit",), {"fail_at": "SEVERE"}),
        (("audit",), {"service": "esms"}),
        (("audit",), {"timeout": 0}),
        (("trivy",), {"fail_on": "UNKNOWN"}),
        (("trivy",), {"exceptions": [{"id": "X", "reason": "r"}]}),
        (("trivy",), {"allow": [{**ENTRY, "why": 1}]}),
        (("sign",), {"identity": "x"}),
    ],
    ids=repr,
)
def test_the_schema_refuses_what_the_models_refuse(
    valid_table: dict[str, Any], path: tuple[str, ...], value: Any
) -> None:
    table = copy.deepcopy(valid_table)
    node = table
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value

    with pytest.raises(ConfigError):
        parse_config(table, Path("/r"))
    assert schema_problems(as_json(table)) != []
