"""`storybot check` on broken catalogues: each mistake a marketer can make is named with its
file, line, field and fix, with exit code 1 and never a traceback.

Every case starts from tests/fixtures/broken/base (three tiny stories, alpha, beta and gamma,
plus the shipped templates) and applies one patch. The table says what the output must name.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.catalog.safe_yaml import YamlProblem, parse_yaml
from bot.cli import main

Patch = Callable[[Path], None]


def replace(name: str, old: str, new: str) -> Patch:
    """Replace `old` (which must occur exactly once) with `new` in file `name`."""

    def patch(root: Path) -> None:
        path = root / name
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{old!r} is not exactly once in {name}"
        path.write_text(text.replace(old, new), encoding="utf-8")

    return patch


def write(name: str, content: str | bytes) -> Patch:
    """Write file `name` (created or overwritten) with `content`."""

    def patch(root: Path) -> None:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")

    return patch


def copy(source: str, target: str) -> Patch:
    """Copy a file of the catalogue under another name."""

    def patch(root: Path) -> None:
        shutil.copy(root / source, root / target)

    return patch


def fifo(name: str) -> Patch:
    """Replace file `name` with a named pipe that nobody writes to (reading it would wait forever)."""

    def patch(root: Path) -> None:
        path = root / name
        path.unlink()
        os.mkfifo(path)

    return patch


def link_to_dev_zero(name: str) -> Patch:
    """Replace file `name` with a link to /dev/zero (reading it would never end)."""

    def patch(root: Path) -> None:
        path = root / name
        path.unlink()
        path.symlink_to("/dev/zero")

    return patch


def remove_folder(root: Path) -> None:
    """Delete the whole stories folder."""
    shutil.rmtree(root)


def append(name: str, content: str) -> Patch:
    """Add `content` at the end of file `name`."""

    def patch(root: Path) -> None:
        path = root / name
        path.write_text(path.read_text(encoding="utf-8") + content, encoding="utf-8")

    return patch


ALPHA_TEXT_EN = "    He still won the race.\n"
ALPHA_TEXT_ZH = """  zh: |
    <b>从前</b>，一位赛艇手在比赛中途停下来，让大雁先过去。

    他仍然赢得了比赛。
"""
BILLION_LAUGHS = "".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n',
        *(
            f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n"
            for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
        ),
    ]
)
MARKER = "storybot-pwned-marker"


@dataclass(frozen=True)
class Case:
    """One broken catalogue and what `storybot check` must say about it."""

    name: str
    patch: Patch
    file: str  # shown relative to the catalogue's parent, as a marketer sees it
    line: int | None  # None: the problem is about a whole file or folder
    field: str | None  # None: the problem is not about one field
    message: str  # a phrase of the message
    fix: str  # a word or phrase of the fix


A = "stories/alpha.yaml"
CASES = [
    # --- YAML itself -------------------------------------------------------------------------
    Case(
        "yaml-syntax-colon",
        replace("alpha.yaml", "  en: The rower who", "  en: Geese: the rower who"),
        A,
        3,
        None,
        "mapping values are not allowed",
        "double quotes",
    ),
    Case(
        "yaml-unclosed-quote",
        replace("alpha.yaml", "  en: The rower who stopped for geese", '  en: "The rower who'),
        A,
        3,
        None,
        "quote opened on line 3 is not closed",
        "close the quote",
    ),
    Case(
        "yaml-unclosed-bracket",
        replace("alpha.yaml", "related: [beta]", "related: [beta"),
        A,
        23,
        None,
        "expected ',' or ']'",
        "close the [",
    ),
    Case(
        "tabs-for-indentation",
        replace("alpha.yaml", "title:\n  en:", "title:\n\ten:"),
        A,
        3,
        None,
        "a tab is used for indentation",
        "spaces, not tabs",
    ),
    Case(
        "duplicate-key",
        replace("alpha.yaml", "tags: [test]\n", "featured: false\ntags: [test]\n"),
        A,
        29,
        None,
        "the key 'featured' appears twice (first on line 27)",
        "delete the other",
    ),
    Case(
        "bad-encoding-latin1",
        write("alpha.yaml", "id: alpha\ntitle:\n  en: Caf\u00e9 story\n".encode("latin-1")),
        A,
        3,
        None,
        "not UTF-8",
        "UTF-8",
    ),
    Case("empty-file", write("alpha.yaml", ""), A, 1, None, "the file is empty", "write the"),
    Case(
        "comments-only-file",
        write("alpha.yaml", "# nothing here yet\n"),
        A,
        1,
        None,
        "the file is empty",
        "delete the file",
    ),
    Case(
        "nul-byte",
        replace("alpha.yaml", "He still won", "He still\x00 won"),
        A,
        18,
        None,
        "NUL byte",
        "plain UTF-8",
    ),
    Case(
        "enormous-file",
        append("alpha.yaml", "# " + "x" * (600 * 1024) + "\n"),
        A,
        1,
        None,
        "the limit is 512 KiB",
        "shorten it",
    ),
    Case(
        "nesting-too-deep",
        replace("alpha.yaml", "tags: [test]", "tags: " + "[" * 5000 + "]" * 5000),
        A,
        27,
        None,
        "exceeded maximum nesting depth",
        "nests only a few levels",
    ),
    Case(
        "named-pipe-instead-of-a-file",
        fifo("alpha.yaml"),
        A,
        None,
        None,
        "not a regular file",
        "plain text file",
    ),
    Case(
        "link-to-dev-zero",
        link_to_dev_zero("alpha.yaml"),
        A,
        None,
        None,
        "not a regular file",
        "plain text file",
    ),
    Case(
        "alias-bomb",
        write("alpha.yaml", BILLION_LAUGHS),
        A,
        1,
        None,
        "anchors and aliases",
        "write the value out in full",
    ),
    Case(
        "python-object-tag",
        replace(
            "alpha.yaml",
            "featured: true",
            f"featured: !!python/object/apply:os.system ['touch {MARKER}']",
        ),
        A,
        28,
        None,
        "could not determine a constructor",
        "remove the '!!' tag",
    ),
    Case(
        "not-a-mapping",
        write("alpha.yaml", "- id: alpha\n- title: x\n"),
        A,
        1,
        None,
        "a story must be a mapping of fields, not a list",
        "id: <story-id>",
    ),
    # --- fields ------------------------------------------------------------------------------
    Case(
        "title-is-a-list",
        replace("alpha.yaml", "  en: The rower who stopped for geese", "  en: [The, rower]"),
        A,
        3,
        "title.en",
        "must be text, not a list",
        "as text",
    ),
    Case(
        "questions-is-a-string",
        replace(
            "alpha.yaml",
            "questions:\n  en:\n    - who stopped rowing for the geese\n"
            "    - the rower and the geese\n  zh:\n    - 谁为大雁停下了赛艇\n",
            "questions: who stopped rowing for the geese\n",
        ),
        A,
        5,
        "questions",
        "must give each language (en, zh), not text",
        "'en: ...'",
    ),
    Case(
        "questions-en-is-a-string",
        replace(
            "alpha.yaml",
            "  en:\n    - who stopped rowing for the geese\n    - the rower and the geese\n",
            "  en: who stopped rowing for the geese\n",
        ),
        A,
        6,
        "questions.en",
        "must be a list, not text",
        "after '- '",
    ),
    Case(
        "featured-yes-please",
        replace("alpha.yaml", "featured: true", "featured: yes please"),
        A,
        28,
        "featured",
        "must be true or false",
        "featured: true",
    ),
    Case(
        "keywords-is-a-mapping",
        replace("alpha.yaml", "  en: [geese, rower, rowing]", "  en: {geese: rower}"),
        A,
        12,
        "keywords.en",
        "must be a list, not a mapping",
        "one item a line",
    ),
    *(
        Case(
            f"missing-{field}",
            replace("beta.yaml", old, ""),
            "stories/beta.yaml",
            1,
            field,
            f"the required field '{field}' is missing",
            f"add '{field}:'",
        )
        for field, old in [
            ("id", "id: beta\n"),
            ("title", "title:\n  en: The penguins who learned to skate\n  zh: 学会滑冰的企鹅\n"),
            (
                "questions",
                "questions:\n  en:\n    - the skating penguins\n    - can penguins skate\n  zh:\n    - 会滑冰的企鹅\n",
            ),
            ("keywords", "keywords:\n  en: [penguins, penguin, skating]\n  zh: [企鹅, 滑冰]\n"),
            (
                "text",
                "text:\n  en: |\n    A team of <i>penguins</i> practised on a frozen pond every "
                "morning until they could skate.\n  zh: |\n    一群<i>企鹅</i>每天早上在结冰"
                "的池塘上练习，直到学会了滑冰。\n",
            ),
            ("related", "related: [alpha, gamma]\n"),
            (
                "sources",
                "sources:\n  - title: Polar Notes\n    url: https://example.com/polar\n",
            ),
        ]
    ),
    Case(
        "unknown-field-typo",
        replace("alpha.yaml", "questions:", "questoins:"),
        A,
        5,
        "questoins",
        "unknown field 'questoins'",
        "did you mean one of",
    ),
    Case(
        "missing-chinese-title",
        replace("alpha.yaml", "  zh: 为大雁停桨的赛艇手\n", ""),
        A,
        2,
        "title.zh",
        "the Chinese version is missing",
        "add 'zh:' under 'title:'",
    ),
    Case(
        "missing-chinese-text",
        replace("alpha.yaml", ALPHA_TEXT_ZH, ""),
        A,
        14,
        "text.zh",
        "the Chinese version is missing",
        "add 'zh:' under 'text:'",
    ),
    Case(
        "empty-question-list",
        replace(
            "alpha.yaml",
            "  en:\n    - who stopped rowing for the geese\n    - the rower and the geese\n",
            "  en: []\n",
        ),
        A,
        6,
        "questions.en",
        "is an empty list",
        "at least one",
    ),
    Case(
        "empty-title",
        replace("alpha.yaml", "  en: The rower who stopped for geese", '  en: ""'),
        A,
        3,
        "title.en",
        "is empty",
        "write the text",
    ),
    Case(
        "invalid-id",
        replace("alpha.yaml", "id: alpha", "id: Alpha Story"),
        A,
        1,
        "id",
        "'Alpha Story' is not a valid id",
        "lowercase",
    ),
    Case(
        "id-differs-from-file-name",
        replace("alpha.yaml", "id: alpha", "id: alpha-geese"),
        A,
        1,
        "id",
        "differs from the file name 'alpha.yaml'",
        "rename the file",
    ),
    Case(
        "duplicate-id-across-files",
        copy("alpha.yaml", "alpha-copy.yaml"),
        "stories/alpha-copy.yaml",
        1,
        "id",
        "the id 'alpha' is already used by alpha.yaml",
        "its own id",
    ),
    Case(
        "source-url-not-web-address",
        replace("alpha.yaml", "url: https://example.com/rowing", "url: example.com/rowing"),
        A,
        26,
        "sources[1].url",
        "is not a web address",
        "https://",
    ),
    Case(
        "source-url-javascript",
        replace("alpha.yaml", "url: https://example.com/rowing", "url: javascript:alert(1)"),
        A,
        26,
        "sources[1].url",
        "is not a web address",
        "https://",
    ),
    Case(
        "sources-empty",
        replace(
            "beta.yaml",
            "sources:\n  - title: Polar Notes\n    url: https://example.com/polar\n",
            "sources: []\n",
        ),
        "stories/beta.yaml",
        20,
        "sources",
        "non-empty list of sources",
        "- title:",
    ),
    # --- across stories ----------------------------------------------------------------------
    Case(
        "related-id-does-not-exist",
        replace("alpha.yaml", "related: [beta]", "related: [betta]"),
        A,
        23,
        "related[1]",
        "there is no story 'betta'",
        "use one of: alpha, beta, gamma",
    ),
    Case(
        "related-to-itself",
        replace("alpha.yaml", "related: [beta]", "related: [alpha]"),
        A,
        23,
        "related[1]",
        "cannot be related to itself",
        "remove it",
    ),
    Case(
        "same-question-under-two-stories",
        replace("beta.yaml", "    - can penguins skate\n", "    - The rower and the GEESE\n"),
        "stories/beta.yaml",
        8,
        "questions.en[2]",
        "the same as 'the rower and the geese', apart from case or punctuation, under alpha.yaml (line 8)",
        "the one story it belongs to",
    ),
    Case(
        "story-question-is-small-talk",
        replace("beta.yaml", "    - can penguins skate\n", "    - Thanks!\n"),
        "stories/beta.yaml",
        8,
        "questions.en[2]",
        "the question 'Thanks!' is also small talk (smalltalk.yaml:10, thanks.questions.en[1]); "
        "fans asking it get the small-talk reply, never this story",
        "remove it from this story",
    ),
    Case(
        "story-question-is-small-talk-in-chinese",
        replace("beta.yaml", "    - 会滑冰的企鹅\n", "    - 会滑冰的企鹅\n    - 你好！\n"),
        "stories/beta.yaml",
        11,
        "questions.zh[2]",
        "the question '你好！' is also small talk (smalltalk.yaml:4, greeting.questions.zh[1])",
        "or from smalltalk.yaml",
    ),
    Case(
        "story-question-is-an-off-topic-example",
        replace("gamma.yaml", "    - the bakery in a garage\n", "    - Peking duck recipe?\n"),
        "stories/gamma.yaml",
        8,
        "questions.en[2]",
        "the question 'Peking duck recipe?' is also an off-topic example (offtopic.yaml:2, en[1]); "
        "fans asking it get no story",
        "or from offtopic.yaml",
    ),
    Case(
        "off-topic-example-is-small-talk",
        append("offtopic.yaml", "  - good morning\n"),
        "stories/offtopic.yaml",
        6,
        "zh[2]",
        "'good morning' is also small talk (smalltalk.yaml:3, greeting.questions.en[3])",
        "keep it in one of the two files",
    ),
    Case(
        "small-talk-under-two-intents",
        replace("smalltalk.yaml", "en: [thanks, thank you]", "en: [thanks, thank you, hello]"),
        "stories/smalltalk.yaml",
        10,
        "thanks.questions.en[3]",
        "'hello' is also under 'greeting' (line 3); fans saying it always get that reply",
        "the one intent it belongs to",
    ),
    # --- each language in its own language --------------------------------------------------
    Case(
        "english-title-under-zh",
        replace("alpha.yaml", "  zh: 为大雁停桨的赛艇手", "  zh: The rower who stopped for geese"),
        A,
        4,
        "title.zh",
        "the Chinese version reads as English (6 English words, 0 Chinese characters)",
        "write it in Chinese",
    ),
    Case(
        "english-paragraph-in-the-chinese-text",
        replace("alpha.yaml", "    他仍然赢得了比赛。\n", "    He still won the race, and the geese were safe.\n"),
        A,
        22,
        "text.zh",
        "the Chinese version reads as English",
        "or move it to 'en:'",
    ),
    Case(
        "english-question-under-zh",
        replace(
            "alpha.yaml", "    - 谁为大雁停下了赛艇\n", "    - 谁为大雁停下了赛艇\n    - who stopped for the geese\n"
        ),
        A,
        11,
        "questions.zh[2]",
        "the Chinese version reads as English",
        "write it in Chinese",
    ),
    Case(
        "chinese-question-under-en",
        replace("beta.yaml", "    - can penguins skate\n", "    - 企鹅会滑冰吗\n"),
        "stories/beta.yaml",
        8,
        "questions.en[2]",
        "the English version reads as Chinese (6 Chinese characters, 0 English words)",
        "write it in English, or move it to 'zh:'",
    ),
    Case(
        "chinese-small-talk-reply-under-en",
        replace("smalltalk.yaml", '    en: "You\'re welcome!"', '    en: "不客气！"'),
        "stories/smalltalk.yaml",
        13,
        "thanks.reply.en",
        "the English version reads as Chinese",
        "write it in English",
    ),
    Case(
        "traditional-characters-in-the-chinese-text",
        replace("alpha.yaml", "    他仍然赢得了比赛。\n", "    他們仍然贏得了比賽。\n"),
        A,
        22,
        "text.zh",
        "Traditional characters in the Simplified Chinese text: 們 贏 賽",
        "write them in Simplified characters",
    ),
    Case(
        "traditional-characters-in-a-keyword",
        replace("alpha.yaml", "  zh: [大雁, 赛艇]", "  zh: [大雁, 賽艇]"),
        A,
        13,
        "keywords.zh[2]",
        "Traditional characters in the Simplified Chinese text: 賽",
        "Simplified",
    ),
    # --- HTML in story text ------------------------------------------------------------------
    Case(
        "html-div-in-text",
        replace("alpha.yaml", ALPHA_TEXT_EN, "    <div>He still won the race.</div>\n"),
        A,
        18,  # the line of the mistake, not the 'en: |' line
        "text.en",
        "<div> is not allowed",
        "Telegram's tags",
    ),
    Case(
        "html-unclosed-b-in-text",
        replace("alpha.yaml", ALPHA_TEXT_EN, "    <b>He still won the race.\n"),
        A,
        18,
        "text.en",
        "<b> is never closed",
        "add </b> where the formatting should end",
    ),
    Case(
        "html-bare-ampersand-in-text",
        replace("alpha.yaml", ALPHA_TEXT_EN, "    He & the geese won the race.\n"),
        A,
        18,
        "text.en",
        "a '&' is not an entity",
        "write &amp; for the character &",
    ),
    Case(
        "html-in-the-chinese-text-points-at-its-line",
        replace("alpha.yaml", "    他仍然赢得了比赛。\n", "    他仍然赢得了比赛 <br> 。\n"),
        A,
        22,
        "text.zh",
        "<br> is not allowed",
        "use one of Telegram's tags",
    ),
    Case(
        "html-bare-less-than-in-text",
        replace("alpha.yaml", ALPHA_TEXT_EN, "    He won by < 1 second.\n"),
        A,
        18,
        "text.en",
        "a '<' is not a tag",
        "write &lt; for a plain '<'",
    ),
    Case(
        "html-closing-tag-never-opened",
        replace("alpha.yaml", ALPHA_TEXT_EN, "    He still won the race.</i>\n"),
        A,
        18,
        "text.en",
        "</i> closes a tag that is not open here",
        "open the tag before it",
    ),
    Case(
        "text-that-cannot-be-split",
        replace("alpha.yaml", ALPHA_TEXT_EN, "    " + "w" * 5000 + "\n"),
        A,
        15,
        "text.en",
        "too long to split into messages of 4096",
        "paragraph breaks",
    ),
    Case(
        "text-far-too-long",
        replace("alpha.yaml", ALPHA_TEXT_EN, "    " + "He still won the race. " * 2000 + "\n"),
        A,
        15,
        "text.en",
        "the text is 46,0",
        "tell it as two stories",
    ),
    # --- templates ---------------------------------------------------------------------------
    Case(
        "template-syntax-error",
        write("templates/clarify.en.html.j2", "Did you mean:\n{% for c in choices %}\n{{ c }}\n"),
        "stories/templates/clarify.en.html.j2",
        3,
        None,
        "template syntax",
        "close every",
    ),
    Case(
        "template-not-utf8",
        write("templates/help.en.html.j2", "<b>Help</b>\nCaf\xe9 {{ stories|length }}\n".encode("latin-1")),
        "stories/templates/help.en.html.j2",
        2,
        None,
        "not UTF-8",
        "save the file as UTF-8",
    ),
    Case(
        "template-enormous",
        write("templates/notice.en.html.j2", "{{ kind }}\n" + "x" * (600 * 1024) + "\n"),
        "stories/templates/notice.en.html.j2",
        None,
        None,
        "the limit is 512 KiB",
        "move long text into the stories",
    ),
    Case(
        "template-is-a-named-pipe",
        fifo("templates/help.zh.html.j2"),
        "stories/templates/help.zh.html.j2",
        None,
        None,
        "is not a regular file",
        "plain text file",
    ),
    Case(
        "template-empty",
        write("templates/story.zh.html.j2", "{#- nothing here yet -#}\n\n"),
        "stories/templates/story.zh.html.j2",
        None,
        None,
        "reply has no text",
        "write the template's wording",
    ),
    Case(
        "template-unknown-variable",
        write(
            "templates/story.en.html.j2",
            "<b>{{ story.title }}</b>\n\n{{ story.author }}\n\n{{ story.text }}\n",
        ),
        "stories/templates/story.en.html.j2",
        3,
        None,
        "the template uses `author`, which stories don't have; stories have: id, title, text, sources",
        "variables listed at the top",
    ),
    Case(
        "template-variable-it-is-not-given",
        write("templates/help.en.html.j2", "<b>Help</b>\n{{ headline }}\n"),
        "stories/templates/help.en.html.j2",
        2,
        None,
        "the template uses `headline`, which it is not given; it has: featured, lang, stories, ui",
        "variables listed at the top",
    ),
    Case(
        "template-tests-a-field-stories-lack",
        write(
            "templates/story.en.html.j2",
            "<b>{{ story.title }}</b>\n{% if story.subtitle %}{{ story.subtitle }}{% endif %}\n{{ story.text }}\n",
        ),
        "stories/templates/story.en.html.j2",
        2,
        None,
        "the template uses `subtitle`, which stories don't have; stories have: id, title, text",
        "variables listed at the top",
    ),
    Case(
        "template-adds-text-and-a-number",
        write("templates/story.en.html.j2", "<b>{{ story.title + 1 }}</b>\n{{ story.text }}\n"),
        "stories/templates/story.en.html.j2",
        1,
        None,
        "the template mixes text and numbers in a sum (join text with ~",
        "check the expression on that line",
    ),
    Case(
        "template-html-rejected",
        write(
            "templates/fallback.en.html.j2",
            "Sorry, no story about that.\n\n<div>Perhaps one of these?</div>\n",
        ),
        "stories/templates/fallback.en.html.j2",
        3,
        None,
        "not valid Telegram HTML: <div> is not allowed",
        "only Telegram's tags",
    ),
    Case(
        "template-missing",
        replace("alpha.yaml", "featured: true", "featured: true\ntemplate: special.html.j2"),
        A,
        29,
        "template",
        "the template special.en.html.j2 is missing",
        "create stories/templates",
    ),
    Case(
        "template-loop-too-slow",
        write(
            "templates/story.en.html.j2",
            "<b>{{ story.title }}</b>\n"
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}\n",
        ),
        "stories/templates/story.en.html.j2",
        2,
        None,
        "took over 100,000 steps",
        "loop too often",
    ),
    Case(
        "template-recursive-macro",
        write(
            "templates/story.en.html.j2",
            "<b>{{ story.title }}</b>\n{% macro tell(n) %}{{ tell(n + 1) }}{% endmacro %}\n{{ tell(1) }}\n",
        ),
        "stories/templates/story.en.html.j2",
        2,
        None,
        "never ends",
        "calls itself",
    ),
    Case(
        "template-includes-a-missing-file",
        write("templates/story.en.html.j2", "<b>{{ story.title }}</b>\n{% include 'footer.html' %}\n"),
        "stories/templates/story.en.html.j2",
        2,
        None,
        "it includes the template 'footer.html', which does not exist",
        "include or extend only files in stories/templates/",
    ),
    Case(
        "template-reaches-for-python-internals",
        write("templates/story.en.html.j2", "<b>{{ story.title }}</b>\n{{ ''.__class__.__mro__ }}\n"),
        "stories/templates/story.en.html.j2",
        2,
        None,
        "the template reaches for `__class__`, a part of Python that templates may not use",
        "names starting with _ are not allowed",
    ),
    Case(
        "template-unknown-filter",
        write("templates/story.en.html.j2", "<b>{{ story.title }}</b>\n{{ story.text|shout }}\n"),
        "stories/templates/story.en.html.j2",
        2,
        None,
        "No filter named 'shout'",
        "built-in filters",
    ),
    Case(
        "template-huge-power",
        write("templates/story.en.html.j2", "<b>{{ story.title }}</b>\n{{ 7 ** (10 ** 9) }}\n"),
        "stories/templates/story.en.html.j2",
        2,
        None,
        "'**' would build more than",
        "write the text out",
    ),
    Case(
        "template-huge-repeat",
        write("templates/story.en.html.j2", "<b>{{ story.title }}</b>\n{{ 'x' * 10 ** 10 }}\n"),
        "stories/templates/story.en.html.j2",
        2,
        None,
        "'*' would build more than",
        "write the text out",
    ),
    # --- the other files ---------------------------------------------------------------------
    Case(
        "smalltalk-reply-missing-language",
        replace("smalltalk.yaml", '    en: "You\'re welcome!"\n', ""),
        "stories/smalltalk.yaml",
        12,
        "thanks.reply.en",
        "the English version is missing",
        "add 'en:' under 'reply:'",
    ),
    Case(
        "smalltalk-syntax",
        replace("smalltalk.yaml", "thanks:\n", "thanks\n"),
        "stories/smalltalk.yaml",
        9,
        None,
        "could not find expected ':'",
        "indentation",
    ),
    Case(
        "smalltalk-intent-not-a-mapping",
        append("smalltalk.yaml", "bye: see you\n"),
        "stories/smalltalk.yaml",
        15,
        "bye",
        "must hold 'questions' and 'reply'",
        "indent",
    ),
    Case(
        "offtopic-entry-is-a-mapping",
        replace("offtopic.yaml", "  - peking duck recipe\n", "  - {peking: duck}\n"),
        "stories/offtopic.yaml",
        2,
        "en[1]",
        "must be text, not a mapping",
        "as text",
    ),
    Case(
        "offtopic-unknown-language",
        append("offtopic.yaml", "fr:\n  - recette du canard\n"),
        "stories/offtopic.yaml",
        6,
        "fr",
        "unknown field 'fr'",
        "en, zh",
    ),
    Case(
        "ui-key-missing",
        replace("ui.yaml", '  next_page: "Next ›"\n', ""),
        "stories/ui.yaml",
        2,
        "en.next_page",
        "the string 'next_page' is missing",
        "add 'next_page: ...' under 'en:'",
    ),
    Case(
        "ui-file-missing",
        lambda root: (root / "ui.yaml").unlink(),
        "stories/ui.yaml",
        None,
        None,
        "ui.yaml is missing",
        "restore",
    ),
    Case(
        "stories-folder-missing",
        remove_folder,
        "stories",
        None,
        None,
        "the stories folder does not exist",
        "--stories",
    ),
]

IDS = [case.name for case in CASES]


def test_there_are_at_least_thirty_distinct_cases() -> None:
    assert len(CASES) >= 30
    assert len(set(IDS)) == len(IDS)


def test_the_base_catalogue_is_clean(base_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--stories", str(base_copy)]) == 0
    out, err = capsys.readouterr()
    assert "✓ 3 stories OK" in out
    assert err == ""  # not even a warning: every case's output is that case's own


def _check(root: Path, case: Case, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    case.patch(root)
    code = main(["check", "--stories", str(root)])
    out, err = capsys.readouterr()
    return code, out + err


def _expected_line(case: Case) -> re.Pattern[str]:
    where = f"{case.file}:{case.line}" if case.line is not None else case.file
    field = f" {re.escape(case.field)}:" if case.field is not None else ""
    return re.compile(
        rf"^{re.escape(where)}: error:{field} .*{re.escape(case.message)}"
        rf".*\. Fix: .*{re.escape(case.fix)}",
        re.MULTILINE,
    )


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_check_names_file_line_field_and_fix(case: Case, base_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    start = time.monotonic()
    code, output = _check(base_copy, case, capsys)
    assert time.monotonic() - start < 6, "check must return within a few seconds"
    assert code == 1, output
    assert "Traceback" not in output
    assert not re.search(r"'\w+ object'|NoneType|Error:", output), "Python's words, not a marketer's"
    assert _expected_line(case).search(output), output
    assert re.search(r"✗ [1-9][0-9]* error\(s\)", output), output
    errors = [line for line in output.splitlines() if ": error:" in line]
    assert len(errors) == len(set(errors)), "each problem is said once"


def test_a_broken_story_is_reported_once_not_in_every_story_that_relates_to_it(
    base_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = next(c for c in CASES if c.name == "tabs-for-indentation")
    code, output = _check(base_copy, case, capsys)
    assert code == 1
    assert "✗ 1 error(s)" in output, output  # beta relates to alpha: no "there is no story"
    assert "there is no story" not in output


def test_a_failing_template_is_reported_once(base_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = next(c for c in CASES if c.name == "template-unknown-variable")
    code, output = _check(base_copy, case, capsys)
    assert code == 1
    assert output.count("the template uses `author`") == 1, output


def test_a_phrasing_under_two_stories_is_an_error_on_the_file_saved_last(
    base_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # beta gets alpha's phrasing in other words' clothes, then alpha is saved last: the marketer is
    # editing alpha, so that is where the error goes, naming beta; beta gets nothing.
    replace("beta.yaml", "    - can penguins skate\n", "    - Who stopped rowing, for the geese?\n")(base_copy)
    later = time.time() + 5
    os.utime(base_copy / "alpha.yaml", (later, later))
    code = main(["check", "--stories", str(base_copy)])
    output = capsys.readouterr().out
    assert code == 1
    errors = [line for line in output.splitlines() if ": error:" in line]
    assert errors == [
        "stories/alpha.yaml:7: error: questions.en[1]: the question 'who stopped rowing for the geese' is the same "
        "as 'Who stopped rowing, for the geese?', apart from case or punctuation, under beta.yaml (line 8); the bot "
        "can give it only one of the two stories. Fix: keep it under the one story it belongs to."
    ], output
    assert ": warning:" not in output  # said once, as an error, not again as "almost the same"


def test_a_phrasing_twice_in_one_story_is_a_warning(base_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    replace("beta.yaml", "    - can penguins skate\n", "    - can penguins skate\n    - Can penguins skate?\n")(
        base_copy
    )
    code = main(["check", "--stories", str(base_copy)])
    output = capsys.readouterr().out
    assert code == 0, output
    assert (
        "stories/beta.yaml:9: warning: questions.en[3]: the question 'Can penguins skate?' is already on line 8 "
        "of this story. Fix: delete one of them." in output
    ), output


def test_alias_bomb_is_refused_fast_and_small(tmp_path: Path) -> None:
    tracemalloc.start()
    cpu = time.process_time()
    with pytest.raises(YamlProblem) as caught:
        parse_yaml(BILLION_LAUGHS)
    cpu = time.process_time() - cpu
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "aliases" in caught.value.message
    assert cpu < 0.5
    assert peak < 5 * 1024 * 1024  # 9**9 "lol"s would be hundreds of MB


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system ['touch {marker}']",
        "!!python/object/apply:subprocess.call [['touch', '{marker}']]",
        "!!python/object/new:os.system ['touch {marker}']",
        "!!python/name:os.system",
        "!<tag:yaml.org,2002:python/object/apply:os.system> ['touch {marker}']",
    ],
)
def test_python_tags_are_refused_and_never_run(tag: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / MARKER
    with pytest.raises(YamlProblem) as caught:
        parse_yaml(f"id: alpha\nfeatured: {tag.format(marker=marker)}\n")
    assert caught.value.line == 2
    assert "'!!' tag" in caught.value.fix
    assert not marker.exists()


@pytest.mark.parametrize("name", ["yaml-syntax-colon", "ui-key-missing", "stories-folder-missing"])
def test_check_in_a_real_process(name: str, base_copy: Path) -> None:
    case = next(c for c in CASES if c.name == name)
    root = base_copy
    case.patch(root)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check", "--stories", str(root)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    assert _expected_line(case).search(output), output
