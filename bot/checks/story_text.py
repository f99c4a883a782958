"""A story's own text: its length and its Telegram HTML, each problem at its line with a fix that fits it."""

from __future__ import annotations

import re

from bot.catalog.model import Story
from bot.catalog.problems import Problem
from bot.checks.text_lines import line_in_file
from bot.replies.html import MESSAGE_LIMIT, html_problems, needs_hard_cut

STORY_TEXT_LIMIT = 40_000  # about ten messages: past that, fans stop pressing "Continue"
_AT = re.compile(r" at character ([0-9]+)")
_NAME = re.compile(r"^(</?)([a-z0-9-]+)>")
TAGS_FIX = "use one of Telegram's tags (b, i, u, s, a href, code, pre, blockquote), or remove it"
# What html_problems says (a phrase of it) → the fix for that mistake.
_FIXES = (
    ("write &amp;", "write &amp; for the character & (or the word 'and')"),
    ("write &lt;", "write &lt; for a plain '<' (or the word 'less than')"),
    ("write &gt;", "write &gt; for a plain '>' (or the word 'more than')"),
    ("is not allowed", TAGS_FIX),
    ("is never closed", "add the closing tag where the formatting should end"),
    ("closes a tag that is not open", "remove the closing tag, or open the tag before it"),
    ("cannot have the attribute", "remove the attribute: Telegram keeps only href on <a>"),
    ("<span> is only allowed", 'write <span class="tg-spoiler"> or <tg-spoiler>'),
    ("needs href", 'write <a href="https://...">'),
)


def story_text_problems(story: Story) -> list[Problem]:
    """Length and HTML problems of each language's text, at the file line where each one is."""
    problems: list[Problem] = []
    for lang, text in story.text.items():
        fld = f"text.{lang}"
        line = story.lines.get(fld, 1)
        if len(text) > STORY_TEXT_LIMIT:
            problems.append(
                Problem(
                    story.path,
                    line,
                    fld,
                    f"the text is {len(text):,} characters; a story can be at most {STORY_TEXT_LIMIT:,} "
                    f"(about {STORY_TEXT_LIMIT // MESSAGE_LIMIT} messages)",
                    "shorten it, or tell it as two stories that point to each other under 'related'",
                )
            )
            continue
        found = html_problems(text)
        used: dict[str, int] = {}
        for said in found:
            message, fix = _worded(said)
            at = _offset(text, said, used)
            problems.append(Problem(story.path, line_in_file(story.path, line, text, at), fld, message, fix))
        if not found and needs_hard_cut(text, MESSAGE_LIMIT):
            problems.append(
                Problem(
                    story.path,
                    line,
                    fld,
                    f"the text has a passage too long to split into messages of {MESSAGE_LIMIT} "
                    "characters (no space, line break or full stop to cut at)",
                    "add spaces, full stops or paragraph breaks (blank lines) to the text",
                )
            )
    return problems


def _worded(said: str) -> tuple[str, str]:
    """The message without the position (the line says where) and the fix that fits it."""
    message = _AT.sub("", said)
    fix = next((fix for phrase, fix in _FIXES if phrase in said), TAGS_FIX)
    if "is never closed: add " in message:
        message, _, closing = message.partition(": add ")
        fix = f"add {closing} where the formatting should end"
    elif ": write " in message:
        message = message.partition(": write ")[0]
    return message, fix


def _offset(text: str, said: str, used: dict[str, int]) -> int:
    """Where in `text` the problem is: its character, or the n-th tag of its name (the last if unclosed)."""
    at = _AT.search(said)
    if at is not None:
        return int(at.group(1)) - 1
    name = _NAME.match(said)
    if name is None:
        return 0
    # An unknown tag is refused where it opens and where it closes: count both.
    opening = "</" if name.group(1) == "</" else "</?"
    places = [m.start() for m in re.finditer(rf"{opening}{re.escape(name.group(2))}(?=[\s/>])", text, re.IGNORECASE)]
    if not places:
        return 0
    if "is never closed" in said:
        return places[-1]
    seen = used.get(said, 0)
    used[said] = seen + 1
    return places[min(seen, len(places) - 1)]
