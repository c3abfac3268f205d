# Copyright: streamlit_ops.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""TOML for Streamlit's config.toml and secrets.toml: a real encoder, checked by a real parser.

Ansible has no TOML filter. The encoder writes TOML 1.0 (tables, arrays of tables, inline
tables inside arrays, every string escaped as TOML wants it, characters outside the Basic
Multilingual Plane written as themselves), then parses its own output with the standard
library's tomllib and compares: what cannot be written faithfully is reported, not written.
"""

from __future__ import annotations

import datetime
import math
import re

try:  # Python 3.11+ on the controller (ansible-core 2.19 needs 3.11).
    import tomllib
except ImportError:  # pragma: no cover
    tomllib = None

from ansible.errors import AnsibleFilterError

BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


class TomlError(ValueError):
    """A value that TOML cannot hold, with the dotted path to it."""

    def __init__(self, path, problem):
        super().__init__("%s: %s" % (path or "(top level)", problem))


def _key(key):
    text = str(key)
    return text if BARE_KEY.match(text) else _string(text)


def _string(text):
    out = []
    for char in text:
        if char in ESCAPES:
            out.append(ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append("\\u%04X" % ord(char))
        elif 0xD800 <= ord(char) <= 0xDFFF:
            raise ValueError("a lone surrogate (U+%04X) is not a Unicode character" % ord(char))
        else:
            out.append(char)
    return '"%s"' % "".join(out)


def _is_table(value):
    return isinstance(value, dict)


def _is_array_of_tables(value):
    return isinstance(value, (list, tuple)) and len(value) > 0 and all(_is_table(item) for item in value)


def _value(value, path):
    if value is None:
        raise TomlError(path, "null (TOML has no null: leave the key out)")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise TomlError(path, "integer out of TOML's 64-bit range")
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return _string(value)
        except ValueError as exc:
            raise TomlError(path, str(exc)) from exc
    if isinstance(value, (list, tuple)):
        return "[%s]" % ", ".join(_value(item, "%s[%d]" % (path, index)) for index, item in enumerate(value))
    if _is_table(value):
        items = ("%s = %s" % (_key(key), _value(item, _join(path, key))) for key, item in value.items())
        return "{%s}" % ", ".join(items)
    raise TomlError(path, "a %s, which TOML cannot hold" % type(value).__name__)


def _join(path, key):
    return "%s.%s" % (path, key) if path else str(key)


def _table(lines, header, table, path):
    simple = [(k, v) for k, v in table.items() if not _is_table(v) and not _is_array_of_tables(v)]
    nested = [(k, v) for k, v in table.items() if _is_table(v) or _is_array_of_tables(v)]
    if header is not None and (simple or not nested):
        lines.append("")
        lines.append(header)
    for key, value in simple:
        lines.append("%s = %s" % (_key(key), _value(value, _join(path, key))))
    for key, value in nested:
        dotted = _join(path, key)
        name = "%s.%s" % (header_name(header), _key(key)) if header is not None else _key(key)
        if _is_table(value):
            _table(lines, "[%s]" % name, value, dotted)
        else:
            for index, item in enumerate(value):
                lines.append("")
                lines.append("[[%s]]" % name)
                _array_item(lines, name, item, "%s[%d]" % (dotted, index))


def _array_item(lines, name, item, path):
    for key, value in item.items():
        if _is_table(value) or _is_array_of_tables(value):
            continue
        lines.append("%s = %s" % (_key(key), _value(value, _join(path, key))))
    for key, value in item.items():
        if _is_table(value):
            _table(lines, "[%s.%s]" % (name, _key(key)), value, _join(path, key))
        elif _is_array_of_tables(value):
            for index, sub in enumerate(value):
                lines.append("")
                lines.append("[[%s.%s]]" % (name, _key(key)))
                _array_item(lines, "%s.%s" % (name, _key(key)), sub, "%s[%d]" % (_join(path, key), index))


def header_name(header):
    """The table name inside a [header] or [[header]] line."""
    return header.strip("[]")


def _plain(value):
    """VALUE with Ansible's string and mapping types turned into plain ones, as tomllib returns them."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value


def _same(left, right):
    if isinstance(left, float) and isinstance(right, float) and math.isnan(left) and math.isnan(right):
        return True
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right))
    return type(left) is type(right) and left == right


def encode(data):
    """TOML text of the mapping DATA, checked by parsing it back; raises TomlError."""
    if not isinstance(data, dict):
        raise TomlError("", "the top level must be a mapping of keys to values")
    data = _plain(data)
    lines = []
    _table(lines, None, data, "")
    text = "\n".join(lines).lstrip("\n") + "\n"
    if tomllib is not None:
        try:
            parsed = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise TomlError("", "the TOML written does not parse (%s)" % exc) from exc
        if not _same(parsed, data):
            raise TomlError("", "the TOML written does not read back as the same values")
    return text


def to_toml(data):
    """Filter: DATA (a mapping) as TOML text."""
    try:
        return encode(data)
    except TomlError as exc:
        raise AnsibleFilterError("cannot be written as TOML: %s" % exc) from exc


def toml_problems(data):
    """Filter: [] when DATA can be written as TOML, else [why not]."""
    try:
        encode(data)
    except TomlError as exc:
        return [str(exc)]
    return []


class FilterModule:
    def filters(self):
        return {"to_toml": to_toml, "toml_problems": toml_problems}
