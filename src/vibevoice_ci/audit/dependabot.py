"""The Dependabot configuration check: `.github/dependabot.yml` is schema-valid and covers the
Python dependencies (pip or uv), the Dockerfiles' base images and the action pins.

The schema part runs check-jsonschema's vendored Dependabot schema (offline); the coverage
part (:func:`coverage_problems`) is pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from vibevoice_ci.core.outcome import Outcome
from vibevoice_ci.tools import check_jsonschema

DEPENDABOT_FILE = Path(".github") / "dependabot.yml"
SCHEMA = "vendor.dependabot"
# Each requirement: a name and the ecosystems that satisfy it.
REQUIRED_ECOSYSTEMS: dict[str, frozenset[str]] = {
    "python (pip or uv)": frozenset({"pip", "uv"}),
    "docker": frozenset({"docker"}),
    "github-actions": frozenset({"github-actions"}),
}


def coverage_problems(document: Any, root: Path) -> list[str]:
    """What the configuration leaves out (pure but for checking directories exist)."""
    if not isinstance(document, Mapping) or not isinstance(document.get("updates"), list):
        return ["no `updates:` list"]
    problems: list[str] = []
    ecosystems: set[str] = set()
    for number, update in enumerate(document["updates"], 1):
        if not isinstance(update, Mapping):
            problems.append(f"update #{number} is not a mapping")
            continue
        ecosystem = str(update.get("package-ecosystem", ""))
        ecosystems.add(ecosystem)
        folders = update.get("directories") or [update.get("directory", "")]
        for folder in folders:
            text = str(folder)
            if "*" not in text and not (root / text.lstrip("/")).is_dir():
                problems.append(f"{ecosystem}: directory {text!r} does not exist")
    for name, wanted in REQUIRED_ECOSYSTEMS.items():
        if not wanted & ecosystems:
            problems.append(f"no update for {name}")
    return problems


def check(root: Path) -> list[Outcome]:
    """Two outcomes: the file is valid against the schema; it covers every ecosystem."""
    path = root / DEPENDABOT_FILE
    if not path.is_file():
        missing = f"{DEPENDABOT_FILE} does not exist"
        return [
            Outcome.of("dependabot: schema", False, missing),
            Outcome.of("dependabot: coverage", False, missing),
        ]
    errors = check_jsonschema.validate_builtin(SCHEMA, path, cwd=root)
    schema = Outcome.of(
        "dependabot: schema",
        not errors,
        f"valid against check-jsonschema's {SCHEMA}"
        if not errors
        else f"{len(errors)} error(s): " + "; ".join(str(e) for e in errors[:3]),
    )
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        return [schema, Outcome.of("dependabot: coverage", False, f"not YAML: {exc}")]
    problems = coverage_problems(document, root)
    coverage = Outcome.of(
        "dependabot: coverage",
        not problems,
        "; ".join(problems) if problems else "pip/uv, docker and github-actions updates",
    )
    return [schema, coverage]
