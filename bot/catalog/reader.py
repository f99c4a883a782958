"""Turning parsed YAML into checked values, collecting file:line problems instead of stopping at the first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.catalog.model import LANGS, Source
from bot.catalog.problems import Problem
from bot.catalog.safe_yaml import LocDict, LocList, YamlProblem, load_yaml

LANG_NAMES = {"en": "English", "zh": "Chinese"}


class Reader:
    """Turns parsed YAML into models, collecting problems instead of stopping at the first."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def problem(self, line: int, fld: str, message: str, fix: str, warning: bool = False) -> None:
        self.problems.append(Problem(self.path, line, fld, message, fix, warning))

    def line_of(self, mapping: LocDict, key: str) -> int:
        return mapping.lines.get(key, mapping.line)

    def unknown_fields(self, mapping: LocDict, known: tuple[str, ...], where: str = "") -> None:
        for key in mapping:
            if key not in known:
                self.problem(
                    self.line_of(mapping, key),
                    f"{where}{key}",
                    f"unknown field '{key}'",
                    f"did you mean one of: {', '.join(known)}? Otherwise delete it",
                )

    def text(self, value: Any, line: int, fld: str) -> str | None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            self.problem(line, fld, f"must be text, not {kind_of(value)}", "write it as text")
            return None
        if not value.strip():
            self.problem(line, fld, "is empty", "write the text, or remove the entry")
            return None
        return value.strip()

    def text_list(self, value: Any, line: int, fld: str, allow_empty: bool = False) -> tuple[str, ...]:
        if value is None and allow_empty:
            return ()
        if not isinstance(value, list):
            self.problem(
                line,
                fld,
                f"must be a list, not {kind_of(value)}",
                "write one item a line, each after '- '",
            )
            return ()
        stripped = [item.strip() if item.__class__ is str else "" for item in value]
        if value and all(stripped):  # the common case: every item is non-empty text
            return tuple(stripped)
        items: list[str] = []
        lines = value.lines if isinstance(value, LocList) else [line] * len(value)
        for index, item in enumerate(value):
            checked = self.text(item, lines[index], f"{fld}[{index + 1}]")
            if checked is not None:
                items.append(checked)
        if not items and not allow_empty and not value:
            self.problem(line, fld, "is an empty list", "add at least one item")
        return tuple(items)

    def per_lang(self, mapping: LocDict, key: str, *, as_list: bool, where: str = "") -> dict[str, Any]:
        value = mapping.get(key)
        line = self.line_of(mapping, key)
        if not isinstance(value, dict):
            self.problem(
                line,
                f"{where}{key}",
                f"must give each language ({', '.join(LANGS)}), not {kind_of(value)}",
                f"write '{key}:' then indented lines 'en: ...' and 'zh: ...'",
            )
            return {}
        assert isinstance(value, LocDict)
        self.unknown_fields(value, LANGS, f"{where}{key}.")
        result: dict[str, Any] = {}
        for lang in LANGS:
            if lang not in value:
                self.problem(
                    line,
                    f"{where}{key}.{lang}",
                    f"the {LANG_NAMES[lang]} version is missing",
                    f"add '{lang}:' under '{key}:'",
                )
                continue
            at = self.line_of(value, lang)
            if as_list:
                result[lang] = self.text_list(value[lang], at, f"{where}{key}.{lang}")
            else:
                checked = self.text(value[lang], at, f"{where}{key}.{lang}")
                if checked is not None:
                    result[lang] = checked
        return result


def kind_of(value: Any) -> str:
    """How a wrong value is named in a problem: nothing, yes/no, a mapping, a list, a number or text."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "yes/no"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int | float):
        return "a number"
    return "text"


def read_yaml(path: Path, reader: Reader) -> Any:
    """The parsed file, or None with the YAML problem recorded on the reader."""
    try:
        return load_yaml(path)
    except YamlProblem as exc:
        reader.problem(exc.line, "", exc.message, exc.fix)
        return None


def nested_lines(data: LocDict) -> dict[str, int]:
    """Line numbers of nested fields, keyed like 'questions.en[2]'."""
    lines: dict[str, int] = {}
    for key, value in data.items():
        if isinstance(value, LocDict):
            for sub, line in value.lines.items():
                lines[f"{key}.{sub}"] = line
                inner = value[sub]
                if isinstance(inner, LocList):
                    for index, item_line in enumerate(inner.lines):
                        lines[f"{key}.{sub}[{index + 1}]"] = item_line
    return lines


def read_sources(reader: Reader, data: LocDict) -> tuple[Source, ...]:
    """A story's sources, each a title or a title and url."""
    value = data.get("sources")
    line = reader.line_of(data, "sources")
    if not isinstance(value, LocList) or not value:
        reader.problem(
            line,
            "sources",
            "must be a non-empty list of sources",
            "add '- title: ...' and 'url: ...' for each source of the story's facts",
        )
        return ()
    sources: list[Source] = []
    for index, item in enumerate(value):
        where = value.lines[index]
        fld = f"sources[{index + 1}]"
        if isinstance(item, str):
            sources.append(Source(title=item.strip()))
            continue
        if not isinstance(item, LocDict):
            reader.problem(
                where,
                fld,
                f"must be a title and url, not {kind_of(item)}",
                "write '- title: ...' and '  url: ...'",
            )
            continue
        reader.unknown_fields(item, ("title", "url"), f"{fld}.")
        title = reader.text(item.get("title"), reader.line_of(item, "title"), f"{fld}.title")
        url = item.get("url", "")
        if url and not (isinstance(url, str) and url.startswith(("http://", "https://"))):
            reader.problem(
                reader.line_of(item, "url"),
                f"{fld}.url",
                "is not a web address",
                "write the full address starting with https://",
            )
            url = ""
        if title is not None:
            sources.append(Source(title=title, url=str(url or "")))
    return tuple(sources)
