"""broadcasts.yaml: the broadcasts a marketer schedules (story, moment, language), checked line by line."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from bot.catalog.model import LANGS, SCHEDULE_FIELDS, Scheduled
from bot.catalog.problems import Problem
from bot.catalog.reader import Reader, kind_of, read_yaml
from bot.catalog.safe_yaml import LocDict, LocList

EXAMPLE_AT = "2025-09-01T09:00:00+08:00"
SHAPE_FIX = f"write 'broadcasts:' then one entry a broadcast: '- story: <id>', 'at: {EXAMPLE_AT}', optional 'lang: zh'"


def load_schedule(
    path: Path, stories: Collection[str], unusable: Collection[str] = ()
) -> tuple[tuple[Scheduled, ...], list[Problem]]:
    """The scheduled broadcasts, earliest first; a missing or comment-only file schedules nothing.

    `stories` are the catalogue's ids; `unusable` the ids of story files with errors of their own
    (an entry naming one is not reported again).
    """
    reader = Reader(path)
    data = read_yaml(path, reader) if path.exists() else None
    if data is None:
        return (), reader.problems
    if not isinstance(data, LocDict):
        reader.problem(1, "", f"must be a mapping with 'broadcasts:', not {kind_of(data)}", SHAPE_FIX)
        return (), reader.problems
    reader.unknown_fields(data, ("broadcasts",))
    entries = data.get("broadcasts")
    if entries is None:
        return (), reader.problems
    if not isinstance(entries, LocList):
        reader.problem(
            reader.line_of(data, "broadcasts"), "broadcasts", f"must be a list, not {kind_of(entries)}", SHAPE_FIX
        )
        return (), reader.problems
    found: list[tuple[str, Scheduled]] = []
    for index, item in enumerate(entries):
        where = f"broadcasts[{index + 1}]"
        entry = _entry(reader, item, entries.lines[index], where, stories, unusable)
        if entry is not None:
            found.append((where, entry))
    _repeats(reader, found)
    if any(not p.warning for p in reader.problems):
        return (), reader.problems
    return tuple(sorted((entry for _, entry in found), key=lambda e: (e.at, e.line))), reader.problems


def _entry(
    reader: Reader, item: Any, line: int, where: str, stories: Collection[str], unusable: Collection[str]
) -> Scheduled | None:
    if not isinstance(item, LocDict):
        reader.problem(line, where, f"must be a broadcast (story, at, lang), not {kind_of(item)}", SHAPE_FIX)
        return None
    reader.unknown_fields(item, SCHEDULE_FIELDS, f"{where}.")
    for key in ("story", "at"):
        if key not in item:
            example = "story: <story id>" if key == "story" else f"at: {EXAMPLE_AT}"
            reader.problem(line, f"{where}.{key}", f"the required field '{key}' is missing", f"add '{example}'")
    story = reader.text(item["story"], reader.line_of(item, "story"), f"{where}.story") if "story" in item else None
    if story is not None and story not in stories and story not in unusable:
        close = get_close_matches(story, list(stories), n=1)
        reader.problem(
            reader.line_of(item, "story"),
            f"{where}.story",
            f"there is no story '{story}'",
            f"did you mean '{close[0]}'? Write a story's id (its file name without .yaml)"
            if close
            else "write a story's id (its file name without .yaml), or remove the entry",
        )
    at = _moment(reader, item["at"], reader.line_of(item, "at"), f"{where}.at") if "at" in item else None
    lang = item.get("lang")
    if lang is not None and lang not in LANGS:
        reader.problem(
            reader.line_of(item, "lang"),
            f"{where}.lang",
            f"'{lang}' is not a language of the bot",
            "write " + " or ".join(f"'lang: {code}'" for code in LANGS) + ", "
            "or leave 'lang' out to send it to every subscriber in their own language",
        )
        return None
    if story is None or at is None:
        return None
    return Scheduled(story, at, lang, line)


def _moment(reader: Reader, value: Any, line: int, fld: str) -> datetime | None:
    """A date and time with its offset from UTC; a time without one is refused (which 09:00?)."""
    text = value.strip() if isinstance(value, str) else None
    if not text:
        reader.problem(line, fld, f"must be a date and time, not {kind_of(value)}", f"write it like 'at: {EXAMPLE_AT}'")
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        reader.problem(
            line,
            fld,
            f"'{text}' is not a date and time",
            f"write year-month-day, 'T', hours:minutes and the offset from UTC, like {EXAMPLE_AT}",
        )
        return None
    if at.tzinfo is None:
        if ":" not in text:  # a day alone
            fix = f"add the time and the offset from UTC: '{text}T09:00:00+08:00' is 9 in the morning in China"
            reader.problem(line, fld, f"'{text}' gives a day but no time", fix)
        else:
            reader.problem(
                line,
                fld,
                f"'{text}' has no offset from UTC, so it could be any time zone's {at:%H:%M}",
                f"add the offset: '{text}+08:00' for China time, '{text}Z' for UTC",
            )
        return None
    return at


def _repeats(reader: Reader, entries: list[tuple[str, Scheduled]]) -> None:
    """The same broadcast twice, or to everyone and to one language at the same moment: fans would get it twice."""
    seen: dict[tuple[str, str], list[Scheduled]] = {}
    for where, entry in entries:
        earlier = seen.setdefault((entry.story, entry.moment), [])
        for other in earlier:
            if other.lang == entry.lang:
                reader.problem(
                    entry.line,
                    where,
                    f"the same broadcast as line {other.line}: '{entry.story}' at the same moment ({_utc(entry)})"
                    + (f" to the same language ({entry.lang})" if entry.lang else " to everyone"),
                    "delete one of the two entries",
                )
                break
            if other.lang is None or entry.lang is None:
                one = entry.lang or other.lang
                reader.problem(
                    entry.line,
                    where,
                    f"line {other.line} sends '{entry.story}' at the same moment ({_utc(entry)}) to "
                    + ("everyone" if other.lang is None else f"the {one} subscribers")
                    + f", so the {one} subscribers would get it twice",
                    "keep either the entry for everyone or the ones with a language",
                )
                break
        else:
            earlier.append(entry)


def _utc(entry: Scheduled) -> str:
    """The moment as UTC reads it, so entries written with different offsets can be compared by eye."""
    return entry.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
