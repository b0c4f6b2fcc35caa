"""The subset of protobuf text format that TensorFlow Serving model config files use.

`parse_text_proto` turns `model_config_list { config { name: 'a' base_path: '/m/a' } }`
into nested dicts. A field seen once is a value; a field repeated is a list of values.
Scalars are strings, integers, floats or bare identifiers (enum names, `true`, `false`).
Lists in brackets (`versions: [1, 2]`) and `#` comments are accepted.
"""

from __future__ import annotations

import re
from typing import Any, NoReturn

from shipyard.errors import ConfigError

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|\#[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<number>[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<punct>[{}:\[\],;<>])
    """,
    re.VERBOSE,
)
_CLOSE = {"{": "}", "<": ">"}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}


def parse_text_proto(text: str, *, source: str = "<config>") -> dict[str, Any]:
    """Parse a text-format protobuf message into a dict.

    Args:
        text: The message, e.g. the content of a `models.config` file.
        source: The file name, used in error messages.

    Returns:
        `{field: value}`; a repeated field maps to a list.

    Raises:
        ConfigError: The text is not valid text format (with the line number).
    """
    return _Parser(_tokenize(text, source), source).message(closing=None)


class _Parser:
    def __init__(self, tokens: list[tuple[str, str, int]], source: str) -> None:
        self._tokens = tokens
        self._at = 0
        self._source = source

    def message(self, *, closing: str | None) -> dict[str, Any]:
        fields: dict[str, list[Any]] = {}
        while True:
            kind, value, line = self._peek()
            if kind == "end" or (kind == "punct" and value == closing):
                if kind == "end" and closing is not None:
                    self._fail(f"expected {closing!r} before the end of the file", line)
                if closing is not None:
                    self._at += 1
                return {name: v[0] if len(v) == 1 else v for name, v in fields.items()}
            if kind != "ident":
                self._fail(f"expected a field name, got {value!r}", line)
            self._at += 1
            fields.setdefault(value, []).append(self._field_value())
            if self._peek()[1] in (",", ";"):
                self._at += 1

    def _field_value(self) -> Any:
        _, value, line = self._peek()
        if value == ":":
            self._at += 1
            value = self._peek()[1]
            if value == "[":
                self._at += 1
                return self._list()
            if value in _CLOSE:
                self._at += 1
                return self.message(closing=_CLOSE[value])
            return self._scalar()
        if value in _CLOSE:
            self._at += 1
            return self.message(closing=_CLOSE[value])
        self._fail(f"expected ':' or '{{' after a field name, got {value!r}", line)

    def _list(self) -> list[Any]:
        items: list[Any] = []
        while True:
            value = self._peek()[1]
            if value == "]":
                self._at += 1
                return items
            if value in _CLOSE:
                self._at += 1
                items.append(self.message(closing=_CLOSE[value]))
            else:
                items.append(self._scalar())
            if self._peek()[1] == ",":
                self._at += 1

    def _scalar(self) -> Any:
        kind, value, line = self._peek()
        self._at += 1
        if kind == "string":
            return _unquote(value)
        if kind == "number":
            return float(value) if any(c in value for c in ".eE") else int(value)
        if kind == "ident":
            return {"true": True, "false": False}.get(value, value)
        self._fail(f"expected a value, got {value!r}", line)

    def _peek(self) -> tuple[str, str, int]:
        return self._tokens[self._at]

    def _fail(self, message: str, line: int) -> NoReturn:
        raise ConfigError(f"{self._source}, line {line}: {message}.")


def _tokenize(text: str, source: str) -> list[tuple[str, str, int]]:
    tokens: list[tuple[str, str, int]] = []
    position, line = 0, 1
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ConfigError(f"{source}, line {line}: unexpected {text[position]!r}.")
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append((kind, match.group(), line))
        line += match.group().count("\n")
        position = match.end()
    tokens.append(("end", "end of file", line))
    return tokens


def _unquote(token: str) -> str:
    body = token[1:-1]
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)
