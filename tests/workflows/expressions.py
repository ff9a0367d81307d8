"""GitHub Actions expressions (``${{ ... }}``) evaluated against a context we write, so a test
can ask what a workflow does for one event: which cache key a step uses, whether a step runs.

Covers the language the workflows use: literals, context paths (``github.event.x``,
``a['b']``, ``a.*.b``), ``! < <= > >= == != && ||``, parentheses, and the functions
``contains startsWith endsWith format join toJSON fromJSON`` and the status functions
(``always`` and ``success`` are true, ``failure`` and ``cancelled`` false, unless the context
says otherwise). As on GitHub, ``&&`` and ``||`` return an operand, not a boolean, and
strings compare case-insensitively. Pure: no files, no network.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<number>-?\d+(?:\.\d+)?)
      | '(?P<string>(?:[^']|'')*)'
      | (?P<op>==|!=|<=|>=|&&|\|\||[<>!()\[\],.*])
      | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
    )""",
    re.VERBOSE,
)
_TEMPLATE_RE = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


class ExpressionError(ValueError):
    """Not an expression this evaluator understands."""


@dataclass(frozen=True)
class _Token:
    kind: str  # number, string, op, name, end
    value: str


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN_RE.match(text, position)
        if match is None or match.end() == position:
            raise ExpressionError(f"cannot read {text[position:]!r} in {text!r}")
        kind = next(k for k in ("number", "string", "op", "name") if match[k] is not None)
        value = match[kind].replace("''", "'") if kind == "string" else match[kind]
        tokens.append(_Token(kind, value))
        position = match.end()
    tokens.append(_Token("end", ""))
    return tokens


def _truthy(value: object) -> bool:
    return value not in (None, False, 0, "", 0.0)


def _comparable(value: object) -> object:
    if isinstance(value, str):
        return value.lower()
    if value is None:
        return 0
    return value


def to_string(value: object) -> str:
    """How GitHub writes a value into text: booleans as true/false, null as empty."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, indent=2)
    return str(value)


def _format(template: str, *args: object) -> str:
    def replace(match: re.Match[str]) -> str:
        if match[0] in ("{{", "}}"):
            return match[0][0]
        return to_string(args[int(match[1])])

    return re.sub(r"\{\{|\}\}|\{(\d+)\}", replace, template)


def _contains(haystack: object, needle: object) -> bool:
    if isinstance(haystack, list):
        return any(_comparable(item) == _comparable(needle) for item in haystack)
    return to_string(needle).lower() in to_string(haystack).lower()


class _Parser:
    def __init__(self, text: str, context: Mapping[str, Any], functions: Mapping[str, Any]):
        self.tokens = _tokens(text)
        self.index = 0
        self.context = context
        self.functions = functions
        self.text = text

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self, value: str | None = None) -> _Token:
        token = self.tokens[self.index]
        if value is not None and token.value != value:
            raise ExpressionError(f"expected {value!r}, found {token.value!r} in {self.text!r}")
        self.index += 1
        return token

    def parse(self) -> object:
        value = self.or_()
        if self.peek().kind != "end":
            raise ExpressionError(f"unexpected {self.peek().value!r} in {self.text!r}")
        return value

    def or_(self) -> object:
        value = self.and_()
        while self.peek().value == "||":
            self.take()
            right = self.and_()
            value = value if _truthy(value) else right
        return value

    def and_(self) -> object:
        value = self.comparison()
        while self.peek().value == "&&":
            self.take()
            right = self.comparison()
            value = right if _truthy(value) else value
        return value

    def comparison(self) -> object:
        value = self.unary()
        while self.peek().value in {"==", "!=", "<", "<=", ">", ">="}:
            op = self.take().value
            left, right = _comparable(value), _comparable(self.unary())
            if op == "==":
                value = left == right
            elif op == "!=":
                value = left != right
            else:
                try:
                    value = {
                        "<": left < right,  # type: ignore[operator]
                        "<=": left <= right,  # type: ignore[operator]
                        ">": left > right,  # type: ignore[operator]
                        ">=": left >= right,  # type: ignore[operator]
                    }[op]
                except TypeError:
                    value = False
        return value

    def unary(self) -> object:
        if self.peek().value == "!":
            self.take()
            return not _truthy(self.unary())
        return self.postfix(self.primary())

    def primary(self) -> object:
        token = self.take()
        if token.kind == "number":
            return float(token.value) if "." in token.value else int(token.value)
        if token.kind == "string":
            return token.value
        if token.value == "(":
            value = self.or_()
            self.take(")")
            return value
        if token.kind != "name":
            raise ExpressionError(f"unexpected {token.value!r} in {self.text!r}")
        if token.value in {"true", "false", "null"}:
            return {"true": True, "false": False, "null": None}[token.value]
        if self.peek().value == "(":
            self.take()
            args: list[object] = []
            while self.peek().value != ")":
                args.append(self.or_())
                if self.peek().value == ",":
                    self.take()
            self.take(")")
            function = self.functions.get(token.value.lower())
            if function is None:
                raise ExpressionError(f"unknown function {token.value}() in {self.text!r}")
            return function(*args)
        return self.context.get(token.value)

    def postfix(self, value: object) -> object:
        while self.peek().value in {".", "["}:
            if self.take().value == ".":
                name = self.take()
                if name.value == "*":
                    value = list(value.values()) if isinstance(value, dict) else value
                    continue
                value = _member(value, name.value)
            else:
                key = self.or_()
                self.take("]")
                if isinstance(value, list) and isinstance(key, int | float):
                    index = int(key)
                    value = value[index] if 0 <= index < len(value) else None
                else:
                    value = _member(value, to_string(key))
        return value


def _member(value: object, name: str) -> object:
    if isinstance(value, dict):
        return {k.lower(): v for k, v in value.items()}.get(name.lower())
    if isinstance(value, list):  # after `.*`: the member of each element
        return [_member(item, name) for item in value]
    return None


def _functions(status: str) -> dict[str, Callable[..., object]]:
    return {
        "contains": _contains,
        "startswith": lambda a, b: to_string(a).lower().startswith(to_string(b).lower()),
        "endswith": lambda a, b: to_string(a).lower().endswith(to_string(b).lower()),
        "format": _format,
        "join": lambda items, sep=",": to_string(sep).join(map(to_string, items or [])),
        "tojson": lambda value: json.dumps(value, indent=2),
        "fromjson": lambda text: json.loads(to_string(text)),
        "hashfiles": lambda *patterns: "hash(" + ",".join(map(to_string, patterns)) + ")",
        "always": lambda: True,
        "success": lambda: status == "success",
        "failure": lambda: status == "failure",
        "cancelled": lambda: status == "cancelled",
    }


def evaluate(expression: str, context: Mapping[str, Any], *, status: str = "success") -> object:
    """The value of one expression (without its ``${{ }}``)."""
    inner = expression.strip()
    if inner.startswith("${{") and inner.endswith("}}"):
        inner = inner[3:-2]
    return _Parser(inner, context, _functions(status)).parse()


def render(text: str, context: Mapping[str, Any], *, status: str = "success") -> str:
    """``text`` with every ``${{ ... }}`` replaced by its value, as in a ``with:`` input."""
    return _TEMPLATE_RE.sub(lambda m: to_string(evaluate(m[1], context, status=status)), text)


def step_runs(
    condition: str | None, context: Mapping[str, Any], *, status: str = "success"
) -> bool:
    """Whether a step with this ``if:`` runs. As on GitHub, a condition without a status
    function runs only when the job has been successful so far."""
    if condition is None or not condition.strip():
        return status == "success"
    text = condition.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    if not re.search(r"\b(?:always|success|failure|cancelled)\s*\(", text):
        text = f"success() && ({text})"
    return _truthy(evaluate(text, context, status=status))
