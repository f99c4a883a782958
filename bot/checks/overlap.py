"""Phrasings said twice: under two stories, twice in one, or under a story and small talk or off-topic.

Two phrasings that read the same to the bot (case, punctuation and width aside) can only ever get
one answer, so the one that loses is dead weight that looks alive. Each overlap is reported once,
on the file a marketer is most likely editing, naming the other place.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.catalog.model import Catalog, Story
from bot.catalog.problems import Problem
from bot.matching.text import normalise


@dataclass(frozen=True, slots=True)
class _Place:
    """Where one phrasing is written."""

    said: str
    file: Path
    line: int
    field: str
    story: Story | None = None

    def named(self) -> str:
        return f"{self.file.name}:{self.line}, {self.field}"


def phrasing_overlaps(catalog: Catalog) -> list[Problem]:
    """Errors for phrasings that small talk, off-topic examples or another story already answer."""
    problems: list[Problem] = []
    smalltalk = _smalltalk(catalog, problems)
    offtopic = _offtopic(catalog, smalltalk, problems)
    seen: dict[str, _Place] = {}
    for story in catalog.stories.values():
        for lang, phrasings in story.questions.items():
            for index, said in enumerate(phrasings):
                fld = f"questions.{lang}[{index + 1}]"
                here = _Place(said, story.path, story.lines.get(fld, story.lines.get("questions", 1)), fld, story)
                key = normalise(said)
                if not key:
                    continue
                if key in smalltalk:
                    problems.append(
                        _at(
                            here,
                            f"the question '{said}' is also small talk ({smalltalk[key].named()}); "
                            "fans asking it get the small-talk reply, never this story",
                            "remove it from this story (or from smalltalk.yaml, if it should tell this story)",
                        )
                    )
                elif key in offtopic:
                    problems.append(
                        _at(
                            here,
                            f"the question '{said}' is also an off-topic example ({offtopic[key].named()}); "
                            "fans asking it get no story",
                            "remove it from this story (or from offtopic.yaml, if it should tell this story)",
                        )
                    )
                first = seen.setdefault(key, here)
                if first is not here:
                    problems.append(_twice(first, here))
    return problems


def _smalltalk(catalog: Catalog, problems: list[Problem]) -> dict[str, _Place]:
    places: dict[str, _Place] = {}
    for intent in catalog.smalltalk.values():
        for lang, phrasings in intent.questions.items():
            for index, said in enumerate(phrasings):
                line = intent.lines.get(f"questions.{lang}[{index + 1}]", intent.line)
                fld = f"{intent.intent}.questions.{lang}[{index + 1}]"
                here = _Place(said, catalog.root / "smalltalk.yaml", line, fld)
                first = places.setdefault(normalise(said), here)
                if first is not here and first.field.split(".")[0] != intent.intent:
                    problems.append(
                        _at(
                            here,
                            f"'{said}' is also under '{first.field.split('.')[0]}' (line {first.line}); "
                            "fans saying it always get that reply",
                            "keep it under the one intent it belongs to",
                        )
                    )
    return places


def _offtopic(catalog: Catalog, smalltalk: dict[str, _Place], problems: list[Problem]) -> dict[str, _Place]:
    places: dict[str, _Place] = {}
    for lang, examples in catalog.offtopic.items():
        for index, said in enumerate(examples):
            fld = f"{lang}[{index + 1}]"
            here = _Place(said, catalog.root / "offtopic.yaml", catalog.offtopic_lines.get(fld, 1), fld)
            key = normalise(said)
            places.setdefault(key, here)
            if key in smalltalk:
                problems.append(
                    _at(
                        here,
                        f"'{said}' is also small talk ({smalltalk[key].named()}); fans saying it get the "
                        "small-talk reply",
                        "keep it in one of the two files",
                    )
                )
    return places


def _twice(first: _Place, second: _Place) -> Problem:
    """One phrasing under two stories (an error on the newer file) or twice in one (a warning)."""
    assert first.story is not None and second.story is not None
    if first.story.id == second.story.id:
        return _at(
            second,
            f"the question '{second.said}' is already on line {first.line} of this story",
            "delete one of them",
            warning=True,
        )
    edited, other = sorted((first, second), key=_edited_last, reverse=True)
    alike = "also" if edited.said == other.said else f"the same as '{other.said}', apart from case or punctuation,"
    return _at(
        edited,
        f"the question '{edited.said}' is {alike} under {other.file.name} (line {other.line}); "
        "the bot can give it only one of the two stories",
        "keep it under the one story it belongs to",
    )


def _edited_last(place: _Place) -> tuple[float, str]:
    """The file modified most recently sorts last (by name when two were saved at once)."""
    try:
        modified = place.file.stat().st_mtime
    except OSError:
        modified = 0.0
    return modified, place.file.name


def _at(place: _Place, message: str, fix: str, *, warning: bool = False) -> Problem:
    return Problem(place.file, place.line, place.field, message, fix, warning)
