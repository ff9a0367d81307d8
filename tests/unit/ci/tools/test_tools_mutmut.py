"""mutmut's output as mutmut 3.8.1 writes it (tools/mutmut.py): a ``.meta`` file and
``mutmut show`` diffs recorded from real runs on this repository (data/), mutant names, the
``[tool.mutmut]`` table a module's run gets."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vibevoice_ci.tools.mutmut import (
    STATUS_BY_EXIT_CODE,
    MalformedOutputError,
    MutantDiff,
    config_table,
    function_of,
    module_of,
    mutant_pattern,
    parse_meta,
    parse_show,
    run_argv,
    status_of,
    without_spinner,
)

DATA = Path(__file__).parent / "data"
SENTENCES = "vibevoice_platform.agent.sentences"


def test_a_recorded_meta_file_gives_every_mutant_its_exit_code() -> None:
    codes = parse_meta((DATA / "mutmut_sentences.py.meta").read_text(encoding="utf-8"))
    assert len(codes) == 49
    assert {status_of(code) for code in codes.values()} == {"killed", "survived"}
    assert codes[f"{SENTENCES}.x_split_all__mutmut_1"] == 0
    assert codes[f"{SENTENCES}.xǁSentenceSplitterǁ__init____mutmut_5"] == 0
    functions = {function_of(name, SENTENCES) for name in codes}
    assert {"split_all", "SentenceSplitter.__init__", "SentenceSplitter.feed"} <= functions


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "is not JSON"),
        ("[]", "no exit_code_by_key object"),
        ('{"exit_code_by_key": []}', "no exit_code_by_key object"),
        ('{"exit_code_by_key": {"m.x_f__mutmut_1": "1"}}', "gives m.x_f__mutmut_1 the exit"),
        ('{"exit_code_by_key": {"m.x_f__mutmut_1": true}}', "gives m.x_f__mutmut_1 the exit"),
    ],
)
def test_a_meta_file_of_another_shape_is_one_line(text: str, problem: str) -> None:
    with pytest.raises(MalformedOutputError, match=problem):
        parse_meta(text)


def test_a_mutant_not_run_has_no_exit_code() -> None:
    assert parse_meta('{"exit_code_by_key": {"m.x_f__mutmut_1": null}}') == {
        "m.x_f__mutmut_1": None
    }


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (0, "survived"),
        (1, "killed"),
        (3, "killed"),
        (5, "no tests"),
        (33, "no tests"),
        (36, "timeout"),
        (-24, "timeout"),
        (152, "timeout"),
        (37, "caught by type check"),
        (-9, "segfault"),
        (None, "not checked"),
        (2, "interrupted"),
        (34, "skipped"),
        (35, "suspicious"),
        (99, "suspicious"),
        (-1, "suspicious"),
    ],
)
def test_exit_codes_mean_what_mutmut_says(code: int | None, status: str) -> None:
    assert status_of(code) == status


def test_the_status_table_is_mutmuts_own() -> None:
    from mutmut.stats import status_by_exit_code  # the mutation extra, in the tests session

    assert dict(STATUS_BY_EXIT_CODE) == {
        code: ("interrupted" if status == "check was interrupted by user" else status)
        for code, status in status_by_exit_code.items()
    }


def test_a_recorded_diff_gives_the_changed_lines() -> None:
    assert parse_show((DATA / "mutmut_show.txt").read_text(encoding="utf-8")) == MutantDiff(
        removed=("used_statistics = False",), added=("used_statistics = None",)
    )
    assert parse_show((DATA / "mutmut_show_method.txt").read_text(encoding="utf-8")) == (
        MutantDiff(
            removed=('if char in "\\n\\r\\u2028\\u2029" or self._after_terminator:',),
            added=('if char in "XX\\n\\r\\u2028\\u2029XX" or self._after_terminator:',),
        )
    )


def test_a_diff_that_deletes_a_line_has_no_added_line() -> None:
    text = "# m: survived\n--- a.py\n+++ a.py\n@@ -1,2 +1,1 @@\n def f():\n-    g()\n"
    assert parse_show(text) == MutantDiff(removed=("g()",), added=())


@pytest.mark.parametrize("text", ["", "# m: survived\n--- a.py\n+++ a.py\n", "@@ -1 +1 @@\n x\n"])
def test_show_output_without_a_changed_line_is_malformed(text: str) -> None:
    with pytest.raises(MalformedOutputError):
        parse_show(text)


@pytest.mark.parametrize(
    ("path", "module"),
    [
        ("src/vibevoice_ci/perf/regression.py", "vibevoice_ci.perf.regression"),
        ("src/vibevoice_platform/agent/sentences.py", "vibevoice_platform.agent.sentences"),
        ("src/pkg/__init__.py", "pkg"),
    ],
)
def test_a_file_under_src_is_its_dotted_module(path: str, module: str) -> None:
    assert module_of(Path(path)) == module


@pytest.mark.parametrize("path", ["lib/pkg/a.py", "src/pkg/a.txt", "src"])
def test_a_file_outside_src_is_no_module(path: str) -> None:
    with pytest.raises(ValueError, match="not a Python module under src/"):
        module_of(Path(path))


identifiers = st.from_regex(r"\A[a-z_][a-z0-9_]{0,12}\Z", fullmatch=True).filter(
    lambda name: "__mutmut" not in name and not name.endswith("_")
)


@given(
    st.lists(identifiers, min_size=1, max_size=3).map(".".join),
    st.one_of(
        identifiers,
        st.tuples(st.from_regex(r"\A[A-Z][A-Za-z0-9]{0,10}\Z", fullmatch=True), identifiers).map(
            ".".join
        ),
    ),
    st.integers(min_value=1, max_value=500),
)
def test_a_functions_pattern_selects_its_mutants_and_names_the_function_back(
    module: str, function: str, number: int
) -> None:
    if "." in function:
        cls, method = function.split(".")
        mutant = f"{module}.xǁ{cls}ǁ{method}__mutmut_{number}"
    else:
        mutant = f"{module}.x_{function}__mutmut_{number}"
    assert fnmatch.fnmatchcase(mutant, mutant_pattern(module, function))
    assert function_of(mutant, module) == function
    assert not fnmatch.fnmatchcase(mutant, mutant_pattern(module, function + "x"))


def test_a_dunder_method_is_named_back() -> None:
    mutant = f"{SENTENCES}.xǁSentenceSplitterǁ__init____mutmut_5"
    assert function_of(mutant, SENTENCES) == "SentenceSplitter.__init__"
    assert function_of(f"{SENTENCES}.x__private__mutmut_2", SENTENCES) == "_private"


@pytest.mark.parametrize("mutant", ["other.x_f__mutmut_1", f"{SENTENCES}.f__mutmut_1", SENTENCES])
def test_a_name_of_another_module_is_refused(mutant: str) -> None:
    with pytest.raises(ValueError, match="is not a mutant of"):
        function_of(mutant, SENTENCES)


def test_a_modules_table_is_the_toml_mutmut_reads() -> None:
    text = config_table(
        mutate="src/pkg/rule.py",
        tests=["tests/test_rule.py", 'tests/odd "name".py'],
        also_copy=["docs/ci-cd.md"],
        pytest_args=["-p", "no:cacheprovider"],
    )
    assert tomllib.loads(text) == {
        "tool": {
            "mutmut": {
                "source_paths": ["src"],
                "only_mutate": ["src/pkg/rule.py"],
                "also_copy": ["docs/ci-cd.md"],
                "pytest_add_cli_args": ["-p", "no:cacheprovider"],
                "pytest_add_cli_args_test_selection": [
                    "tests/test_rule.py",
                    'tests/odd "name".py',
                ],
                "use_git_change_detection": False,
            }
        }
    }


def test_the_run_is_bounded_in_children_and_mutants() -> None:
    assert run_argv("mutmut", max_children=2) == ["mutmut", "run", "--max-children", "2"]
    assert run_argv("mutmut", max_children=1, patterns=["m.x_f__mutmut_*"])[-1] == (
        "m.x_f__mutmut_*"
    )


def test_the_log_keeps_the_lines_and_the_last_progress_not_the_spinner() -> None:
    output = (
        "⠋ Generating mutants\r⠙ Generating mutants\n    done in 1133ms\n"
        "⠸ 1/3  🎉 1 🙁 0\r⠼ 3/3  🎉 2 🙁 1\n11.27 mutations/second\n"
    )
    assert without_spinner(output) == (
        "Generating mutants\n    done in 1133ms\n3/3  🎉 2 🙁 1\n11.27 mutations/second\n"
    )
