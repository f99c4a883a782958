"""Safe YAML loading that remembers line numbers and refuses what could hurt us."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_FILE_BYTES = 512 * 1024


class LocDict(dict[str, Any]):
    """A mapping that knows the line of each key (1-based)."""

    __slots__ = ("line", "lines")
    line: int
    lines: dict[str, int]


class LocList(list[Any]):
    """A sequence that knows the line of each item (1-based)."""

    __slots__ = ("line", "lines")
    line: int
    lines: list[int]


class YamlProblem(Exception):
    """A YAML file that cannot be read, with the line and the fix."""

    def __init__(self, line: int, message: str, fix: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.fix = fix


_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


# A plain scalar can only be a number, bool, null, date, merge key or value when it starts with
# one of these (PyYAML's implicit resolvers are keyed by first character); anything else is text.
_MAYBE_NOT_TEXT = frozenset("yYnNtTfFoO-+0123456789.<~=")
# Of the plain scalars that start with a letter, only these are booleans or null (YAML 1.1).
_WORDS_NOT_TEXT = frozenset(
    {"yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE"}
    | {"on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL"}
)


class _Loader(_BaseLoader):  # type: ignore[misc]
    """A safe loader (libyaml when present); `_to_python` builds the values from its nodes."""

    def resolve(self, kind: type, value: str, implicit: tuple[bool, bool]) -> str:
        # Most scalars are words: skip PyYAML's regular-expression round for them. Untagged
        # lists and mappings are what they look like (no path resolvers are registered).
        if kind is ScalarNode:
            if implicit[0] and value:
                first = value[0]
                if first not in _MAYBE_NOT_TEXT or (first.isalpha() and value not in _WORDS_NOT_TEXT):
                    return _STR
        elif kind is SequenceNode:
            return _SEQ
        elif kind is MappingNode:
            return _MAP
        return super().resolve(kind, value, implicit)  # type: ignore[no-any-return]

    # libyaml's composer asks for these around every node; with no path resolvers they do nothing.
    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None


def _construct_str(loader: _Loader, node: ScalarNode) -> str:
    return str(loader.construct_scalar(node))


# Timestamps and binary become plain text: a marketer's "2003-01-01" is words, not a date object.
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_str)
_Loader.add_constructor("tag:yaml.org,2002:binary", _construct_str)


def _to_python(node: Node | None, loader: _Loader, seen: set[int] | None) -> Any:
    """Turn composed nodes into LocDict/LocList/scalars: much faster than PyYAML's constructor.

    `seen` tracks visited nodes when the text could hold an alias (it has a `*`): an alias is a
    node reached twice, and refusing it stops "billion laughs". Without one, None skips that work.
    """
    if node is None:
        return None
    if seen is not None:
        if id(node) in seen:
            raise YamlProblem(
                node.start_mark.line + 1,
                "anchors and aliases (&name / *name) are not supported",
                "write the value out in full instead of referring to it with *name",
            )
        seen.add(id(node))
    cls = node.__class__
    if cls is ScalarNode:
        # Plain text needs no constructor; numbers, booleans, dates and tags go through the safe one.
        if node.tag == _STR:
            return node.value
        try:
            return loader.construct_object(node, deep=True)
        except ValueError:  # an integer of thousands of digits: Python refuses to read it
            raise YamlProblem(
                node.start_mark.line + 1,
                f"the number is {len(node.value):,} characters long, too long to read",
                "write it shorter, or put it in quotes if it is text",
            ) from None
    if cls is MappingNode and node.tag == _MAP:
        result = LocDict()
        result.line = node.start_mark.line + 1
        lines: dict[str, int] = {}
        result.lines = lines
        for key_node, value_node in node.value:
            key = _to_python(key_node, loader, seen)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str | int | float | bool) or key is None:
                raise YamlProblem(line, "a key must be a plain word", "write the key as text")
            key = str(key)
            if key in result:
                raise YamlProblem(
                    line,
                    f"the key '{key}' appears twice (first on line {lines[key]})",
                    "keep one of them and delete the other",
                )
            if value_node.__class__ is ScalarNode and value_node.tag == _STR and seen is None:
                result[key] = value_node.value  # the common case, without a call
            else:
                result[key] = _to_python(value_node, loader, seen)
            lines[key] = line
        return result
    if cls is SequenceNode and node.tag == _SEQ:
        items = LocList()
        items.line = node.start_mark.line + 1
        items.lines = [child.start_mark.line + 1 for child in node.value]
        for child in node.value:
            if child.__class__ is ScalarNode and child.tag == _STR and seen is None:
                items.append(child.value)
            else:
                items.append(_to_python(child, loader, seen))
        return items
    problem = f"could not determine a constructor for the tag '{node.tag}'"
    raise YamlProblem(node.start_mark.line + 1, f"YAML syntax: {problem}", _syntax_fix(problem))


UTF8_FIX = "save the file as UTF-8 (in most editors: Save As → Encoding → UTF-8)"


def undecodable_line(exc: UnicodeDecodeError) -> int:
    """The line (1-based) of the first byte that is not UTF-8, from the bytes the error holds."""
    return exc.object[: exc.start].count(b"\n") + 1


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise YamlProblem(undecodable_line(exc), "the file is not UTF-8 text", UTF8_FIX) from None


def parse_yaml(text: str) -> Any:
    """Parse YAML text safely; raise YamlProblem with a line and a fix."""
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise YamlProblem(line, "the file contains a NUL byte", "save it again as plain UTF-8 text")
    try:
        loader = _Loader(text)
        try:
            return _to_python(loader.get_single_node(), loader, set() if "*" in text else None)
        finally:
            loader.dispose()
    except YamlProblem:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        context = exc.context or ""
        if exc.context_mark is not None and ("quoted scalar" in context or "flow" in context):
            mark = exc.context_mark  # a quote or bracket never closed: where it opened
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or "the YAML is not valid"
        opened = line if "quoted scalar" in context else _open_quote_line(text, line)
        if opened is not None:
            raise YamlProblem(
                opened,
                f"YAML syntax: the quote opened on line {opened} is not closed on that line",
                'close the quote on the same line (a " inside quoted text is written \\")',
            ) from None
        lines = text.splitlines()
        source = lines[line - 1] if 0 < line <= len(lines) else ""
        if "\t" in source[: len(source) - len(source.lstrip())] or "\t" in problem:
            problem = "a tab is used for indentation"
        raise YamlProblem(line, f"YAML syntax: {problem}", _syntax_fix(problem)) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(1, f"YAML syntax: {exc}", "check the file's indentation") from None


_KEY_LINE = re.compile(r"\n[ ]*[A-Za-z0-9_-]+:[ \n]")


def _open_quote_line(text: str, line: int) -> int | None:
    """Where a quoted value began that swallowed the next lines up to the error, if one did."""
    last: Any = None
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if token.start_mark.line + 1 >= line:
                break
            last = token
    except yaml.YAMLError:
        pass
    if not isinstance(last, yaml.ScalarToken) or last.style not in ("'", '"'):
        return None
    source = text[last.start_mark.index : last.end_mark.index]
    # Quoted text may run over lines, but not over what looks like the next field.
    return last.start_mark.line + 1 if _KEY_LINE.search(source) else None


def _syntax_fix(problem: str) -> str:
    if "\\t" in problem or "tab" in problem.lower():
        return "indent with spaces, not tabs"
    if "nesting depth" in problem:
        return "a story nests only a few levels (field, language, list): remove the extra brackets or indentation"
    if "could not determine a constructor" in problem:
        return "remove the '!!' tag: stories hold plain text, lists and mappings only"
    if "expected ',' or ']'" in problem or "expected ',' or '}'" in problem:
        return "close the [ with ] (or the { with }) on the line it opens, commas between items"
    if "mapping values are not allowed" in problem:
        return "put text that contains ': ' inside double quotes"
    if "found unexpected end of stream" in problem or "found unexpected" in problem:
        return "check quotes and brackets are closed on that line"
    return "check the indentation and quoting on that line (and the line above)"


def _too_big(size: int) -> YamlProblem:
    return YamlProblem(
        1,
        f"the file is {size // 1024} KiB; the limit is {MAX_FILE_BYTES // 1024} KiB",
        "split it or shorten it: a story should be a few KiB",
    )


NOT_REGULAR_FIX = "replace it with a plain text file inside the catalogue folder, or remove it"


def read_limited(path: Path) -> bytes:
    """A regular file's bytes; a YamlProblem when it cannot be read, is not a file or is too big.

    Opened without blocking and checked before reading, so a pipe or a device named `*.yaml`
    (a FIFO would wait forever, /dev/zero never ends) is refused instead of hanging a reload.
    A symbolic link is refused without being followed: a link to /proc/self/environ would
    otherwise serve the bot's own secrets as a story or a template.
    """
    if os.path.islink(path):
        raise YamlProblem(0, "this is a symbolic link, not a regular file of the catalogue", NOT_REGULAR_FIX)
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0))
        try:
            status = os.fstat(handle)
            if not stat.S_ISREG(status.st_mode):
                raise YamlProblem(0, "this is not a regular file", NOT_REGULAR_FIX)
            if status.st_size > MAX_FILE_BYTES:
                raise _too_big(status.st_size)
            data = os.read(handle, MAX_FILE_BYTES + 1)
            while len(data) < status.st_size:  # a short read: rare, but allowed
                more = os.read(handle, MAX_FILE_BYTES + 1 - len(data))
                if not more:
                    break
                data += more
            if data and not status.st_size:  # /proc and /sys files say they are empty, then are not
                raise YamlProblem(0, "this is not a regular file (a system file)", NOT_REGULAR_FIX)
        finally:
            os.close(handle)
    except OSError as exc:
        raise YamlProblem(0, f"cannot read the file: {exc.strerror}", "check the file exists") from None
    if len(data) > MAX_FILE_BYTES:  # it grew after the check
        raise _too_big(len(data))
    return data


def load_yaml(path: Path) -> Any:
    """Read and parse a YAML file with limits on size, encoding and aliases."""
    return parse_yaml(_decode(read_limited(path)))
