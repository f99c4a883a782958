"""Each language's text in its own language: no English under `zh:`, no Chinese under `en:`, and
Simplified characters only in Chinese (the bot's fans read Simplified)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path

from bot.catalog.model import Catalog
from bot.catalog.problems import Problem
from bot.checks.text_lines import line_in_file
from bot.matching.text import CJK_CHAR

# Markup, entities and links are not prose: only words a fan reads are weighed.
_NOT_PROSE = re.compile(r"<[^>]*>|&#?[A-Za-z0-9]+;|https?://\S+")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")
_PARAGRAPH = re.compile(r"\n\s*\n")
# A name or two in the other script is normal (eBay, Taobao, IOC, Alibaba Cloud in Chinese; 淘宝 in
# English): only a passage mostly in the other language, and more than a name long, is wrong.
FOREIGN_WORDS = {"zh": 3, "en": 2}  # English words in Chinese; Chinese characters in English
SIMPLIFIED_FIX = (
    "write them in Simplified characters (switch the input method to Simplified, "
    "or convert the text with a Traditional-to-Simplified converter)"
)


@cache
def traditional_characters() -> frozenset[str]:
    """Traditional characters that Simplified Chinese writes differently (data/traditional.zh.txt)."""
    text = resources.files(__package__).joinpath("data", "traditional.zh.txt").read_text(encoding="utf-8")
    return frozenset("".join(line.strip() for line in text.splitlines() if not line.startswith("#")))


def language_problems(catalog: Catalog) -> list[Problem]:
    """Errors for text in the wrong language or in Traditional characters, at the line of each."""
    problems: list[Problem] = []
    for file, line, fld, lang, text in _prose(catalog):
        for start, passage in _passages(text):
            at = line if start == 0 else line_in_file(file, line, text, start)
            wrong = _wrong_language(passage, lang)
            if wrong is not None:
                problems.append(Problem(file, at, fld, *wrong))
                break  # one passage says it: the fix is the same for the rest
        if lang == "zh":
            found = sorted(set(text) & traditional_characters(), key=text.index)
            if found:
                first = line_in_file(file, line, text, text.index(found[0]))
                shown = " ".join(found[:8]) + (" …" if len(found) > 8 else "")
                message = f"Traditional characters in the Simplified Chinese text: {shown}"
                problems.append(Problem(file, first, fld, message, SIMPLIFIED_FIX))
    return problems


def _wrong_language(passage: str, lang: str) -> tuple[str, str] | None:
    prose = _NOT_PROSE.sub(" ", passage)
    latin = len(_LATIN_WORD.findall(prose))
    chinese = len(CJK_CHAR.findall(prose))
    if lang == "zh" and latin >= FOREIGN_WORDS["zh"] and latin > chinese:
        return (
            f"the Chinese version reads as English ({latin} English words, {chinese} Chinese characters)",
            "write it in Chinese (a name such as eBay or Taobao inside Chinese text is fine), or move it to 'en:'",
        )
    if lang == "en" and chinese >= FOREIGN_WORDS["en"] and chinese > latin:
        return (
            f"the English version reads as Chinese ({chinese} Chinese characters, {latin} English words)",
            "write it in English, or move it to 'zh:'",
        )
    return None


def _passages(text: str) -> Iterator[tuple[int, str]]:
    """Each paragraph of a text with where it starts: one English paragraph in a Chinese story is wrong too."""
    start = 0
    for gap in _PARAGRAPH.finditer(text):
        yield start, text[start : gap.start()]
        start = gap.end()
    yield start, text[start:]


def _prose(catalog: Catalog) -> Iterator[tuple[Path, int, str, str, str]]:
    """(file, line, field, language, text) for every title, question, keyword, story text and reply."""
    for story in catalog.stories.values():
        for name in ("title", "text"):
            for lang, value in getattr(story, name).items():
                fld = f"{name}.{lang}"
                yield story.path, story.lines.get(fld, 1), fld, lang, value
        for name in ("questions", "keywords"):
            for lang, values in getattr(story, name).items():
                for index, value in enumerate(values):
                    fld = f"{name}.{lang}[{index + 1}]"
                    yield story.path, story.lines.get(fld, story.lines.get(name, 1)), fld, lang, value
    smalltalk = catalog.root / "smalltalk.yaml"
    for intent in catalog.smalltalk.values():
        for lang, values in intent.questions.items():
            for index, value in enumerate(values):
                key = f"questions.{lang}[{index + 1}]"
                yield smalltalk, intent.lines.get(key, intent.line), f"{intent.intent}.{key}", lang, value
        for lang, value in intent.reply.items():
            key = f"reply.{lang}"
            yield smalltalk, intent.lines.get(key, intent.line), f"{intent.intent}.{key}", lang, value
