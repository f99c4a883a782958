"""Template checks: syntax, strict variables, Telegram HTML and length, each render within the render budget."""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from jinja2 import TemplateNotFound, TemplateSyntaxError
from markupsafe import Markup

from bot.catalog.model import LANGS, Catalog, Story
from bot.catalog.problems import Problem
from bot.catalog.safe_yaml import UTF8_FIX, undecodable_line
from bot.checks.story_text import story_text_problems
from bot.checks.template_wording import render_failure
from bot.replies.budget import RenderBudgetExceeded
from bot.replies.html import (
    MESSAGE_LIMIT,
    has_text,
    html_problems,
    needs_hard_cut,
    split_html,
    telegram_length,
)
from bot.replies.render import (
    NOTICE_KINDS,
    SUBSCRIPTION_KINDS,
    TEMPLATE_NAMES,
    Renderer,
    TemplateFileProblem,
    story_view,
    template_file,
)

BUTTON_LABEL_LIMIT = 64
SAMPLE_STORIES = 8
LONG_TEXT = 3000


def _render_sample(catalog: Catalog, thorough: bool) -> list[Story]:
    """Every story when thorough; else a few, plus any with its own template or a long text."""
    stories = list(catalog.stories.values())
    if thorough:
        return stories
    return [
        s
        for index, s in enumerate(stories)
        if index < SAMPLE_STORIES or s.template or max(len(t) for t in s.text.values()) > LONG_TEXT
    ]


def check_templates(catalog: Catalog, renderer: Renderer, *, thorough: bool = True) -> list[Problem]:
    """Syntax, strict variables, Telegram HTML and length, for every reply in every language."""
    problems: list[Problem] = []
    tdir = catalog.templates_dir
    names = set(TEMPLATE_NAMES) | {s.template.removesuffix(".html.j2") for s in catalog.stories.values() if s.template}
    broken: set[str] = set()
    for name in sorted(names):
        for lang in LANGS:
            file = template_file(name, lang)
            try:
                renderer.env.get_template(file)
            except TemplateNotFound:
                owner = [s for s in catalog.stories.values() if s.template and s.template.startswith(name)]
                where = owner[0].path if owner else tdir / file
                line = owner[0].lines.get("template", 1) if owner else 0
                problems.append(
                    Problem(
                        where,
                        line,
                        "template" if owner else "",
                        f"the template {file} is missing",
                        f"create stories/templates/{file} (copy the English or Chinese one)",
                    )
                )
                broken.add(file)
            except TemplateSyntaxError as exc:
                problems.append(
                    Problem(
                        tdir / file,
                        exc.lineno or 1,
                        "",
                        f"template syntax: {(exc.message or '').rstrip('.')}",
                        _syntax_fix(exc.message or ""),
                    )
                )
                broken.add(file)
            except TemplateFileProblem as exc:
                problems.append(Problem(tdir / file, 0, "", str(exc.message), exc.fix))
                broken.add(file)
            except UnicodeDecodeError as exc:
                problems.append(
                    Problem(
                        tdir / file,
                        undecodable_line(exc),
                        "",
                        "the template is not UTF-8 text",
                        UTF8_FIX,
                    )
                )
                broken.add(file)
    for story in catalog.stories.values():
        problems.extend(story_text_problems(story))
    if problems:
        return problems
    # A template that failed once fails for every story: say so once, and do not wait again.
    failed: set[Path] = set()
    sample = _render_sample(catalog, thorough)
    for lang in LANGS:
        for story in sample:
            file = template_file(story.template or "story", lang)
            if tdir / file in failed:
                continue
            html = _guarded(
                problems,
                tdir / file,
                partial(renderer.render_story, story, lang),
                f"story '{story.id}'",
            )
            if html is None:
                failed.add(tdir / file)
                continue
            if _html_checks(problems, tdir / file, html, f"story '{story.id}' ({lang})", split=True):
                failed.add(tdir / file)  # the template's fault as often as the story's: say it once
            if len(story.title[lang]) > BUTTON_LABEL_LIMIT:
                problems.append(
                    Problem(
                        story.path,
                        story.lines.get(f"title.{lang}", 1),
                        f"title.{lang}",
                        f"the title is {len(story.title[lang])} characters; buttons show about {BUTTON_LABEL_LIMIT}",
                        "shorten the title",
                        warning=True,
                    )
                )
        for name, context in _menu_contexts(catalog, lang):
            file = template_file(name, lang)
            if tdir / file in failed:
                continue
            html = _guarded(
                problems,
                tdir / file,
                partial(renderer.render, name, lang, **context),
                name,
            )
            if html is None:
                failed.add(tdir / file)
            else:
                if _html_checks(problems, tdir / file, html, f"{name} ({lang})", split=False):
                    failed.add(tdir / file)
    return problems


def _menu_contexts(catalog: Catalog, lang: str) -> list[tuple[str, dict[str, Any]]]:
    stories = list(catalog.stories.values())
    views = [story_view(s, lang) for s in stories]
    question = "<b>{{ sample & question }}</b>"
    contexts: list[tuple[str, dict[str, Any]]] = [
        ("clarify", {"question": question, "choices": views[:2]}),
        ("fallback", {"question": question, "suggestions": views[:3]}),
        ("fallback", {"question": question, "suggestions": []}),
        ("help", {"stories": views, "featured": views[:4]}),
        (
            "catalogue",
            {
                "stories": views[:6],
                "page": 1,
                "pages": max(1, (len(views) + 5) // 6),
                "total": len(views),
            },
        ),
        ("start", {"featured": [story_view(s, lang) for s in catalog.featured()]}),
        ("part", {"story": views[0], "part": 2, "parts": 4}),
    ]
    contexts.extend(("notice", {"kind": kind}) for kind in NOTICE_KINDS)
    contexts.extend(("subscription", {"kind": kind}) for kind in SUBSCRIPTION_KINDS)
    for intent in catalog.smalltalk.values():
        contexts.append(
            (
                "smalltalk",
                {
                    "intent": intent.intent,
                    "reply": Markup(intent.reply[lang]),
                    "featured": views[:4],
                },
            )
        )
    return contexts


def _html_checks(problems: list[Problem], file: Path, html: str, what: str, *, split: bool) -> bool:
    """Telegram's rules for one rendered reply; True when it broke one (problems added)."""
    before = len(problems)
    if not has_text(html):
        problems.append(
            Problem(
                file,
                0,
                "",
                f"the {what} reply has no text, and Telegram refuses an empty message",
                "write the template's wording (the other language's file shows what goes in it)",
            )
        )
        return True
    for message in html_problems(html)[:3]:
        problems.append(
            Problem(
                file,
                _html_line(file, html, message),
                "",
                f"the {what} reply is not valid Telegram HTML: {message}",
                "escape text with the template's {{ }} and use only Telegram's tags",
            )
        )
    if split:
        parts = split_html(html, MESSAGE_LIMIT)
        if needs_hard_cut(html, MESSAGE_LIMIT) or any(telegram_length(p) > MESSAGE_LIMIT for p in parts):
            problems.append(
                Problem(
                    file,
                    0,
                    "",
                    f"the {what} reply cannot be split into messages of {MESSAGE_LIMIT} characters",
                    "add paragraph breaks (blank lines) to the story text",
                )
            )
    elif telegram_length(html) > MESSAGE_LIMIT:
        problems.append(
            Problem(
                file,
                0,
                "",
                f"the {what} reply is {telegram_length(html)} characters; Telegram's limit is {MESSAGE_LIMIT}",
                "shorten the template",
            )
        )
    return len(problems) > before


_PROBLEM_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9-]*")
_PROBLEM_AT = re.compile(r"at character ([0-9]+)")


def _html_line(file: Path, html: str, message: str) -> int:
    """The template line that wrote what `message` is about (0 when it came from a variable)."""
    at = _PROBLEM_AT.search(message)
    if at is not None:
        start = int(at.group(1)) - 1
        needle = html[start : start + 12].split("\n", 1)[0]
    else:
        tag = _PROBLEM_TAG.search(message)
        needle = tag.group(0) if tag is not None else ""
    try:
        source = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return 0
    for number, line in enumerate(source.splitlines(), start=1):
        if needle and needle in line:
            return number
    return 0


def _guarded(problems: list[Problem], file: Path, render: Callable[[], str], what: str) -> str | None:
    """Render (within the render budget every render has), turning any failure into a Problem at its line."""
    try:
        html = render()
    except RenderBudgetExceeded as exc:
        problems.append(
            Problem(
                file,
                _template_line(exc, file),
                "",
                f"rendering the {what} reply {exc}",
                "remove loops that never end, loop too often or build huge text",
            )
        )
        return None
    except RecursionError as exc:
        problems.append(
            Problem(
                file,
                _template_line(exc, file),
                "",
                f"rendering the {what} reply never ends (a template calls itself)",
                "remove the macro or include that calls itself",
            )
        )
        return None
    except Exception as exc:  # whatever a marketer's template does, the checker reports it and goes on
        message, fix = render_failure(exc)
        problems.append(Problem(file, _template_line(exc, file), "", f"rendering the {what} reply {message}", fix))
        return None
    return html


def _syntax_fix(message: str) -> str:
    if "No filter named" in message or "No test named" in message:
        return "use only jinja2's built-in filters and tests (escape, upper, length, default, …)"
    return "close every {{ }} and {% %}, and end each {% if %}/{% for %} block"


def _template_line(exc: BaseException, file: Path) -> int:
    line = 0
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if Path(frame.f_code.co_filename).name == file.name:
            line = lineno
    return line
