"""``nox -s mutation``'s code path end to end: real mutmut runs on a two-function module in a
scratch project, ``mutation.json`` (checked against its committed schema) and ``summary.md``
as the session writes them, the verdict, and an equivalent left out of the score."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from vibevoice_ci.core.config import (
    MutationConfig,
    MutationModule,
    PipelineConfig,
    load_config,
)
from vibevoice_ci.core.environment import RunEnvironment
from vibevoice_ci.core.errors import CheckFailedError
from vibevoice_ci.mutation.session import run_mutation

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "src" / "vibevoice_ci" / "mutation" / "mutation.schema.json"

RULE = """\
def passes(score: float, minimum: float) -> bool:
    if minimum <= 0:
        return True
    return score >= minimum


def label(passed: bool) -> str:
    return "pass" if passed else "fail"
"""
# The boundary (score == minimum) and label(False) are not tested: two mutants survive.
TESTS = """\
from gate.rule import label, passes


def test_passes() -> None:
    assert passes(0.95, 0.9)
    assert not passes(0.5, 0.9)
    assert passes(-1.0, 0.0)


def test_label() -> None:
    assert label(True) == "pass"
"""
BOUNDARY = "gate.rule.x_passes__mutmut_4"  # score >= minimum: score > minimum


def project(
    tmp_path: Path,
    *,
    functions: tuple[str, ...] = (),
    minimum: float = 0.9,
    equivalents: str | None = None,
) -> PipelineConfig:
    root = tmp_path / "project"
    (root / "src" / "gate").mkdir(parents=True, exist_ok=True)
    (root / "tests").mkdir(exist_ok=True)
    (root / "src" / "gate" / "__init__.py").write_text("", encoding="utf-8")
    (root / "src" / "gate" / "rule.py").write_text(RULE, encoding="utf-8")
    (root / "tests" / "test_rule.py").write_text(TESTS, encoding="utf-8")
    (root / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\naddopts = ["--strict-markers"]\n', encoding="utf-8"
    )
    listed = None
    if equivalents is not None:
        listed = root / "equivalents.toml"
        listed.write_text(equivalents, encoding="utf-8")
    module = MutationModule(
        name="gate-rule",
        path=root / "src" / "gate" / "rule.py",
        functions=functions,
        tests=(root / "tests" / "test_rule.py",),
    )
    return load_config(REPO).model_copy(
        update={
            "root": root,
            "reports_dir": root / "reports",
            "env": RunEnvironment(),
            "mutation": MutationConfig(
                min_score=minimum,
                max_children=2,
                timeout=600,
                equivalents=listed,
                modules=(module,),
            ),
        }
    )


def written(config: PipelineConfig) -> dict[str, object]:
    document = json.loads((config.root / "reports" / "mutation" / "mutation.json").read_text())
    jsonschema.validate(document, json.loads(SCHEMA.read_text(encoding="utf-8")))
    return document  # type: ignore[no-any-return]


def test_a_module_below_its_minimum_fails_and_lists_what_survived(tmp_path: Path) -> None:
    config = project(tmp_path)
    with pytest.raises(CheckFailedError, match=r"^mutation: fail: gate-rule \(reports/"):
        run_mutation(config, names=[], strict=None)
    document = written(config)
    assert document["status"] == "fail"
    [module] = document["modules"]  # type: ignore[attr-defined]
    assert module["status"] == "fail"
    assert module["path"] == "src/gate/rule.py"
    assert module["undecided"] == 0
    assert module["total"] == module["detected"] + module["undetected"]
    assert module["undetected"] >= 2
    changes = {(tuple(m["removed"]), tuple(m["added"])) for m in module["undetected_mutants"]}
    assert (("return score >= minimum",), ("return score > minimum",)) in changes
    assert any(m["name"] == BOUNDARY for m in module["undetected_mutants"])
    summary = (config.root / "reports" / "mutation" / "summary.md").read_text(encoding="utf-8")
    assert "| gate-rule (`src/gate/rule.py`) | fail |" in summary
    assert f"- survived: `{BOUNDARY}`: `return score >= minimum` → `return score > minimum`" in (
        summary
    )
    log = (config.root / "reports" / "mutation" / "gate-rule.log").read_text(encoding="utf-8")
    assert "mutations/second" in log
    assert "⠋" not in log


def test_a_listed_equivalent_is_left_out_and_a_function_narrows_the_module(
    tmp_path: Path,
) -> None:
    entry = (
        f'[[equivalent]]\nmutant = "{BOUNDARY}"\nchange = "return score > minimum"\n'
        'why = "(for this test) no caller passes a score equal to its minimum"\n'
    )
    config = project(tmp_path, functions=("passes",), minimum=0.5, equivalents=entry)
    run_mutation(config, names=["gate-rule"], strict=True)
    [module] = written(config)["modules"]  # type: ignore[index]
    assert module["status"] == "pass"
    assert module["functions"] == ["passes"]
    assert module["equivalents"] == [
        {
            "name": BOUNDARY,
            "change": "return score > minimum",
            "why": "(for this test) no caller passes a score equal to its minimum",
        }
    ]
    assert module["undetected_mutants"] == [
        m for m in module["undetected_mutants"] if m["name"].startswith("gate.rule.x_passes_")
    ]
    assert module["total"] == module["detected"] + module["undetected"] + 1
    summary = (config.root / "reports" / "mutation" / "summary.md").read_text(encoding="utf-8")
    assert f"- equivalent: `{BOUNDARY}` (`return score > minimum`)" in summary


def test_an_entry_whose_change_no_longer_matches_fails_the_module(tmp_path: Path) -> None:
    entry = f'[[equivalent]]\nmutant = "{BOUNDARY}"\nchange = "return True"\nwhy = "stale"\n'
    config = project(tmp_path, functions=("passes",), minimum=0.1, equivalents=entry)
    with pytest.raises(CheckFailedError):
        run_mutation(config, names=[], strict=None)
    [module] = written(config)["modules"]  # type: ignore[index]
    assert module["status"] == "fail"
    assert module["stale_equivalents"] == [
        f"{BOUNDARY}: the mutant now changes to 'return score > minimum', the entry says "
        "'return True'"
    ]
