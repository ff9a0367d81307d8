"""The expression evaluator the workflow tests use (expressions.py) reads GitHub's language
as GitHub does: operands from && and ||, case-insensitive comparison, `.*` filters, status
functions, and `if:` conditions with the implicit success()."""

from __future__ import annotations

import pytest
from expressions import ExpressionError, evaluate, render, step_runs

CONTEXT = {
    "github": {
        "event_name": "pull_request",
        "base_ref": "main",
        "ref_name": "7/merge",
        "run_id": 42,
        "event": {
            "pull_request": {"labels": [{"name": "perf"}, {"name": "docs"}]},
            "workflow_run": {"pull_requests": [{"number": 12}]},
        },
    },
}


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("github.base_ref || github.ref_name", "main"),
        ("github.missing || github.ref_name", "7/merge"),
        ("github.event_name == 'pull_request' && 'yes' || 'no'", "yes"),
        ("github.event_name == 'PULL_REQUEST'", True),
        ("github.event_name != 'pull_request'", False),
        ("!github.missing", True),
        ("contains(github.event.pull_request.labels.*.name, 'perf')", True),
        ("contains(github.event.pull_request.labels.*.name, 'bench')", False),
        ("startsWith(github.ref_name, '7/')", True),
        ("format('{0}-{1}', 'perf', github.run_id)", "perf-42"),
        ("github['event_name']", "pull_request"),
        ("(1 < 2) && (3 >= 3)", True),
        ("'it''s'", "it's"),
        ("github.event.workflow_run.pull_requests[0].number", 12),
        ("github.event.workflow_run.pull_requests[1].number", None),
    ],
)
def test_evaluate(expression: str, value: object) -> None:
    assert evaluate(expression, CONTEXT) == value


def test_render_replaces_each_template() -> None:
    assert render("k-${{ github.base_ref }}-${{ github.run_id }}", CONTEXT) == "k-main-42"


def test_if_conditions_carry_the_implicit_success() -> None:
    assert step_runs(None, CONTEXT)
    assert not step_runs(None, CONTEXT, status="failure")
    assert not step_runs("github.event_name == 'pull_request'", CONTEXT, status="failure")
    assert step_runs("always() && github.event_name == 'pull_request'", CONTEXT, status="failure")
    assert step_runs("${{ failure() }}", CONTEXT, status="failure")


def test_unreadable_expressions_are_errors() -> None:
    with pytest.raises(ExpressionError):
        evaluate("github.x ===", CONTEXT)
    with pytest.raises(ExpressionError):
        evaluate("nosuchfunction()", CONTEXT)
