"""``${{ }}`` expressions as GitHub Actions evaluates them, for the subset the course's runner supports.

Contexts: ``github``, ``env``, ``steps``, ``needs``, ``secrets``, ``vars``, ``inputs``, ``job``, ``runner``
(whatever the caller hands over); literals (``'string'`` with ``''`` for a quote, numbers, ``true``,
``false``, ``null``); operators ``!``, ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``&&``, ``||`` and
parentheses; functions ``startsWith``, ``endsWith``, ``contains``, ``format``, ``toJSON`` and the status
checks ``success()``, ``failure()``, ``always()``, ``cancelled()``. Comparisons of strings ignore case and
``&&`` / ``||`` return one of their operands, as GitHub documents. Anything else is an
:class:`ExpressionError` worded like GitHub's ("Unrecognized function: 'hashFiles'").
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["ExpressionError", "evaluate", "evaluate_if", "interpolate", "truthy", "uses_status_function"]


class ExpressionError(ValueError):
    """An expression outside the supported subset, or malformed."""


TOKEN = re.compile(
    r"\s*(?:(?P<num>-?(?:0x[0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?))"
    r"|(?P<str>'(?:[^']|'')*')"
    r"|(?P<op>&&|\|\||==|!=|<=|>=|[<>!().\[\],*])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
)
STATUS_FUNCTIONS = ("success", "failure", "always", "cancelled")
EMBEDDED = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def _tokens(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExpressionError(f"Unexpected symbol: '{text[pos:].strip()[:20]}'. Located at position {pos + 1}")
        pos = m.end()
        if m.group("num") is not None:
            raw = m.group("num")
            out.append(
                ("lit", int(raw, 16) if "x" in raw.lower() else float(raw) if re.search(r"[.eE]", raw) else int(raw))
            )
        elif m.group("str") is not None:
            out.append(("lit", m.group("str")[1:-1].replace("''", "'")))
        elif m.group("op") is not None:
            out.append(("op", m.group("op")))
        else:
            name = m.group("name")
            words = {"true": True, "false": False, "null": None}
            out.append(("lit", words[name]) if name in words else ("name", name))
    return out


def truthy(value: Any) -> bool:
    """GitHub's coercion to boolean: false, 0, -0, '', null and NaN are false."""
    if isinstance(value, float) and math.isnan(value):
        return False
    return value not in (None, False, 0, "")


def _number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(int(value, 16)) if value.strip().lower().startswith("0x") else float(value.strip() or 0)
        except ValueError:
            return math.nan
    return math.nan


def _compare(a: Any, b: Any) -> tuple[Any, Any]:
    """Operands made comparable by GitHub's loose rules: strings ignore case, mixed types become numbers."""
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold(), b.casefold()
    if type(a) is type(b) or (isinstance(a, (int, float)) and isinstance(b, (int, float))):
        if isinstance(a, (dict, list)):
            return id(a), id(b)  # objects and arrays are equal only to themselves
        return a, b
    return _number(a), _number(b)


def _text(value: Any) -> str:
    """A value as it lands in a string: null is empty, booleans lower case, objects as JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, indent=2)
    return str(value)


def _format(template: str, *args: Any) -> str:
    def one(m: re.Match[str]) -> str:
        if m.group(0) in ("{{", "}}"):
            return m.group(0)[0]
        index = int(m.group(1))
        if index >= len(args):
            raise ExpressionError(
                f"The following format string references more arguments than were supplied: {template}"
            )
        return _text(args[index])

    return re.sub(r"\{\{|\}\}|\{(\d+)\}", one, template)


def _contains(haystack: Any, needle: Any) -> bool:
    if isinstance(haystack, list):
        return any(_compare(item, needle)[0] == _compare(item, needle)[1] for item in haystack)
    return _text(needle).casefold() in _text(haystack).casefold()


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "startswith": lambda a, b: _text(a).casefold().startswith(_text(b).casefold()),
    "endswith": lambda a, b: _text(a).casefold().endswith(_text(b).casefold()),
    "contains": _contains,
    "format": _format,
    "tojson": lambda v: json.dumps(v, indent=2),
}


class _Parser:
    def __init__(self, text: str, contexts: Mapping[str, Any], status: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.pos = 0
        self.contexts = contexts
        self.status = status  # "success", "failure" or "cancelled": how the job (or run) stands so far

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, op: str | None = None) -> tuple[str, Any]:
        token = self.peek()
        if token is None or (op is not None and token != ("op", op)):
            want = f"'{op}'" if op else "a value"
            raise ExpressionError(f"Unexpected end of expression: expected {want} in '{self.text.strip()}'")
        self.pos += 1
        return token

    def parse(self) -> Any:
        value = self.or_()
        if self.peek() is not None:
            raise ExpressionError(f"Unexpected symbol: '{self.peek()[1]}' in '{self.text.strip()}'")  # type: ignore[index]
        return value

    def or_(self) -> Any:
        value = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.and_()
            value = value if truthy(value) else right
        return value

    def and_(self) -> Any:
        value = self.cmp()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.cmp()
            value = right if truthy(value) else value
        return value

    def cmp(self) -> Any:
        value = self.unary()
        token = self.peek()
        if token and token[0] == "op" and token[1] in ("==", "!=", "<", "<=", ">", ">="):
            self.take()
            a, b = _compare(value, self.unary())
            op = token[1]
            if op in ("==", "!="):
                return (a == b) == (op == "==")
            if isinstance(a, float) and math.isnan(a) or isinstance(b, float) and math.isnan(b):
                return False
            return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        return value

    def unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            return not truthy(self.unary())
        return self.postfix(self.primary())

    def primary(self) -> Any:
        kind, value = self.take()
        if kind == "lit":
            return value
        if kind == "op" and value == "(":
            inner = self.or_()
            self.take(")")
            return inner
        if kind == "name":
            if self.peek() == ("op", "("):
                return self.call(value)
            if value not in self.contexts:
                raise ExpressionError(f"Unrecognized named-value: '{value}'. Located in '{self.text.strip()}'")
            return self.contexts[value]
        raise ExpressionError(f"Unexpected symbol: '{value}' in '{self.text.strip()}'")

    def call(self, name: str) -> Any:
        self.take("(")
        args: list[Any] = []
        while self.peek() != ("op", ")"):
            args.append(self.or_())
            if self.peek() == ("op", ","):
                self.take()
        self.take(")")
        key = name.lower()
        if key in STATUS_FUNCTIONS:
            return {
                "always": True,
                "success": self.status == "success",
                "failure": self.status == "failure",
                "cancelled": self.status == "cancelled",
            }[key]
        if key not in FUNCTIONS:
            raise ExpressionError(
                f"Unrecognized function: '{name}'. The course's runner supports "
                "startsWith, endsWith, contains, format, toJSON, success, failure, always, cancelled"
            )
        try:
            return FUNCTIONS[key](*args)
        except TypeError:
            raise ExpressionError(f"Wrong number of arguments to '{name}' in '{self.text.strip()}'") from None

    def postfix(self, value: Any) -> Any:
        while self.peek() in (("op", "."), ("op", "[")):
            _, op = self.take()
            if op == ".":
                kind, key = self.take()
                if kind != "name" and not (kind == "op" and key == "*"):
                    raise ExpressionError(f"Unexpected symbol after '.': '{key}' in '{self.text.strip()}'")
            else:
                key = self.or_()
                self.take("]")
            value = _index(value, key)
        return value


def _index(value: Any, key: Any) -> Any:
    """A property of an object (case-insensitive, as GitHub's contexts are) or an array's item; null when absent."""
    if key == "*":
        if isinstance(value, dict):
            return list(value.values())
        return value if isinstance(value, list) else None
    if isinstance(value, dict):
        if key in value:
            return value[key]
        lowered = {str(k).lower(): v for k, v in value.items()}
        return lowered.get(str(key).lower())
    if isinstance(value, list):
        if isinstance(key, list):  # a filter (`steps.*.outputs`): the property of every item
            return key
        try:
            return value[int(_number(key))]
        except (IndexError, ValueError, OverflowError):
            return None
    return None


def evaluate(expression: str, contexts: Mapping[str, Any], status: str = "success") -> Any:
    """The value of one expression (without ``${{ }}``)."""
    return _Parser(expression, contexts, status).parse()


def interpolate(text: str, contexts: Mapping[str, Any], status: str = "success") -> str:
    """``text`` with every ``${{ expr }}`` replaced by its value as a string."""
    return EMBEDDED.sub(lambda m: _text(evaluate(m.group(1), contexts, status)), text)


def uses_status_function(condition: str) -> bool:
    return re.search(r"\b(success|failure|always|cancelled)\s*\(", condition, re.I) is not None


def evaluate_if(condition: Any, contexts: Mapping[str, Any], status: str = "success") -> bool:
    """A job's or step's ``if:``: with or without ``${{ }}``; ``success() &&`` is implied unless the
    condition calls a status function itself, as GitHub does."""
    if condition is None or condition == "":
        return status == "success"
    if isinstance(condition, bool):
        return condition and status == "success"
    text = str(condition).strip()
    whole = re.fullmatch(r"\$\{\{(.*)\}\}", text, re.S)
    if whole and "${{" not in whole.group(1):
        text = whole.group(1)
    elif "${{" in text:
        text = interpolate(text, contexts, status)  # a string with embedded expressions: true when non-empty
        return truthy(text) and status == "success"
    value = truthy(evaluate(text, contexts, status))
    return value if uses_status_function(text) else value and status == "success"
