"""The list of equivalent mutants (vibevoice_ci.mutation.equivalents): the committed file reads,
and a malformed one is one line (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vibevoice_ci.core.config import load_config
from vibevoice_ci.core.errors import EXIT_BAD_INPUT, UsageError
from vibevoice_ci.mutation.equivalents import (
    Equivalent,
    load_equivalents,
    parse_equivalents,
    unowned,
)
from vibevoice_ci.tools.mutmut import module_of

ENTRY = '[[equivalent]]\nmutant = "pkg.rule.x_f__mutmut_3"\nchange = "{change}"\nwhy = "{why}"\n'


def test_the_committed_list_reads_and_names_only_mutants_of_the_listed_modules(
    repo_root: Path,
) -> None:
    config = load_config(repo_root)
    entries = load_equivalents(config.mutation.equivalents, repo_root)
    modules = [module_of(m.path.relative_to(repo_root)) for m in config.mutation.modules]
    assert unowned(entries, modules) == []
    assert all(entry.why for entry in entries)


def test_an_entry_reads_with_its_change_stripped() -> None:
    text = ENTRY.format(change="  return a >= b ", why="a == b is handled above")
    assert parse_equivalents(text, "eq.toml") == [
        Equivalent("pkg.rule.x_f__mutmut_3", "return a >= b", "a == b is handled above")
    ]


def test_a_multi_line_change_is_one_stripped_line_each() -> None:
    text = (
        '[[equivalent]]\nmutant = "m.x_f__mutmut_1"\nchange = """\n  a = 1\n  b = 2\n"""\n'
        'why = "w"\n'
    )
    assert parse_equivalents(text, "eq.toml")[0].change == "a = 1\nb = 2"


def test_no_entry_is_an_empty_list() -> None:
    assert parse_equivalents("# nothing yet\n", "eq.toml") == []
    assert load_equivalents(None, Path("/")) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[equivalent]\n", "eq.toml is not valid TOML: "),
        (ENTRY.format(change="x", why="  "), "eq.toml: equivalent.0.why: Value error, must not"),
        (
            '[[equivalent]]\nmutant = "m.x_f__mutmut_1"\nwhy = "w"\n',
            "eq.toml: equivalent.0.change: Field",
        ),
        (ENTRY.format(change="x", why="w") + 'extra = "?"\n', "eq.toml: equivalent.0.extra: Extra"),
        ('[[equivalents]]\nmutant = "m"\n', "eq.toml: equivalents: Extra inputs"),
        (ENTRY.format(change="x", why="w") * 2, "eq.toml: pkg.rule.x_f__mutmut_3 is listed twice"),
    ],
)
def test_a_malformed_list_is_one_line_and_bad_input(text: str, message: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse_equivalents(text, "eq.toml")
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)
    assert raised.value.exit_code == EXIT_BAD_INPUT


def test_a_missing_list_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"^eq.toml \(the mutation session's equivalents\)"):
        load_equivalents(tmp_path / "eq.toml", tmp_path)


def test_an_entry_belongs_to_its_module_only() -> None:
    entry = Equivalent("pkg.rule.x_f__mutmut_3", "x", "w")
    assert entry.belongs_to("pkg.rule")
    assert not entry.belongs_to("pkg")
    assert not entry.belongs_to("pkg.rules")
    assert unowned([entry], ["pkg.other"]) == ["pkg.rule.x_f__mutmut_3"]
