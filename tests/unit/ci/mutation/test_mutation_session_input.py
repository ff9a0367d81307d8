"""The mutation session's input checks, made before mutmut runs: which modules, a module that
is no Python file under src/, an equivalent of no listed module (each one line, exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vibevoice_ci.core.config import (
    MutationConfig,
    MutationModule,
    PipelineConfig,
    load_config,
)
from vibevoice_ci.core.errors import EXIT_BAD_INPUT, UsageError
from vibevoice_ci.mutation.session import run_mutation, select


def module(name: str, path: str, root: Path) -> MutationModule:
    return MutationModule(name=name, path=root / path, tests=(root / "tests" / "t.py",))


def config_with(
    repo_root: Path, tmp_path: Path, *modules: MutationModule, equivalents: str | None = None
) -> PipelineConfig:
    listed = None
    if equivalents is not None:
        listed = tmp_path / "equivalents.toml"
        listed.write_text(equivalents, encoding="utf-8")
    return load_config(repo_root).model_copy(
        update={
            "root": tmp_path,
            "reports_dir": tmp_path / "reports",
            "mutation": MutationConfig(equivalents=listed, modules=modules),
        }
    )


def test_named_modules_run_in_the_tables_order_and_none_named_is_all(tmp_path: Path) -> None:
    a, b, c = (module(n, f"src/p/{n}.py", tmp_path) for n in "abc")
    assert select([a, b, c], []) == [a, b, c]
    assert select([a, b, c], ["c", "a"]) == [a, c]


def test_an_unknown_module_name_is_bad_usage(tmp_path: Path) -> None:
    a = module("a", "src/p/a.py", tmp_path)
    with pytest.raises(UsageError) as raised:
        select([a], ["a", "zz"])
    assert str(raised.value) == ("no mutation module zz in [tool.vibevoice-ci.mutation] (known: a)")
    assert raised.value.exit_code == EXIT_BAD_INPUT


def test_a_module_outside_src_is_bad_input_before_anything_runs(
    repo_root: Path, tmp_path: Path
) -> None:
    config = config_with(repo_root, tmp_path, module("odd", "lib/p/a.py", tmp_path))
    with pytest.raises(UsageError, match=r"^\[tool.vibevoice-ci.mutation\] odd: lib/p/a.py: "):
        run_mutation(config, names=[], strict=None)
    assert not (tmp_path / "reports").exists()
    assert not (tmp_path / "mutants").exists()


def test_an_equivalent_of_no_listed_module_is_bad_input(repo_root: Path, tmp_path: Path) -> None:
    entry = '[[equivalent]]\nmutant = "q.b.x_f__mutmut_1"\nchange = "x"\nwhy = "w"\n'
    config = config_with(
        repo_root, tmp_path, module("a", "src/p/a.py", tmp_path), equivalents=entry
    )
    with pytest.raises(UsageError) as raised:
        run_mutation(config, names=[], strict=None)
    assert str(raised.value) == (
        "equivalents.toml: q.b.x_f__mutmut_1 is a mutant of no module in "
        "[tool.vibevoice-ci.mutation]"
    )
