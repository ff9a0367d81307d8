"""``vibevoice_ci.tools._output``: a tool's version and JSON documents read from what it
printed, and a one-line error naming the tool when it printed something else."""

from __future__ import annotations

import re

import pytest

from vibevoice_ci.core.errors import ToolFailedError
from vibevoice_ci.tools._output import json_list, json_object, read_version


def test_a_version_is_read_by_its_pattern_or_the_output_is_quoted() -> None:
    pattern = re.compile(r"^Version:\s*v?(\S+)", re.MULTILINE)
    assert (
        read_version(pattern, "Version: v0.76.0\nDB:\n  Version: 2\n", "trivy --version")
        == "0.76.0"
    )
    with pytest.raises(ToolFailedError, match=r"^trivy --version: no version in 'oops'$"):
        read_version(pattern, "  oops\n", "trivy --version")


def test_json_of_the_promised_kind_is_returned() -> None:
    assert json_object('{"a": [1]}', "crane config") == {"a": [1]}
    assert json_object(b'{"a": 1}', "a payload") == {"a": 1}
    assert json_list("[]", "zizmor") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "Error: no such image\n",
            r"^crane manifest: not JSON \(.*\): 'Error: no such image'$",
        ),
        ("", r"^crane manifest: not JSON \(.*\): ''$"),
        ("[1, 2]", r"^crane manifest: a JSON list, not an object$"),
        ("null", r"^crane manifest: a JSON null, not an object$"),
        ("3", r"^crane manifest: a JSON number, not an object$"),
    ],
)
def test_anything_else_is_one_line_naming_the_tool(text: str, message: str) -> None:
    with pytest.raises(ToolFailedError, match=message) as caught:
        json_object(text, "crane manifest")
    assert "\n" not in str(caught.value)


def test_a_list_is_refused_where_an_object_is_promised_and_the_other_way() -> None:
    with pytest.raises(ToolFailedError, match=r"^zizmor: a JSON object, not a list$"):
        json_list("{}", "zizmor")
    with pytest.raises(ToolFailedError, match=r"^kubectl: a JSON string, not an object$"):
        json_object('"x"', "kubectl")
