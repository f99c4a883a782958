"""Rendering replies from the marketers' jinja2 templates, safely, as Telegram HTML."""

from __future__ import annotations

import functools
import html as html_lib
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError, TemplateNotFound, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.loaders import split_template_path
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from bot.catalog.model import Catalog, Story
from bot.catalog.safe_yaml import (  # a template is held to a story file's limit
    MAX_FILE_BYTES,
    NOT_REGULAR_FIX,
    YamlProblem,
    read_limited,
)
from bot.replies.budget import within_budget

TEMPLATE_NAMES = (
    "story",
    "clarify",
    "fallback",
    "smalltalk",
    "help",
    "catalogue",
    "start",
    "notice",
    "subscription",
    "part",
)
SUBSCRIPTION_KINDS = ("subscribed", "already_subscribed", "unsubscribed", "not_subscribed")
NOTICE_KINDS = (
    "non_text",
    "playful",
    "sent_private",
    "open_private",
    "flood",
    "stale",
    "language_choose",
    "language_set",
    "all_told",
    "error",
)
# A template asks for a link preview under its message with `{% set link_preview = "https://…" %}`;
# otherwise previews stay off (the Telegram application's Defaults).
LINK_PREVIEW = "link_preview"
_BLANK_LINES = re.compile(r"\n{3,}")
_TAGS = re.compile(r"<[^>]+>")
# One operator may not build more than this: `'x' * 10**9` or `7 ** 10**9` is a single C call
# that no time budget can interrupt, and jinja2 would even fold it while compiling.
MAX_BUILT = 1_000_000
_FORMAT_WIDTH = re.compile(r"%[-#0 +]*(\*|[0-9]+)?(?:\.(\*|[0-9]+))?")


def template_file(name: str, lang: str) -> str:
    """The file holding template `name` in `lang` (`story` → `story.en.html.j2`)."""
    base = name.removesuffix(".html.j2")
    return f"{base}.{lang}.html.j2"


def plain(html: str, *, keep_lines: bool = False) -> str:
    """Visible text of Telegram HTML (tags dropped, entities decoded) for previews and consoles."""
    text = html_lib.unescape(_TAGS.sub("", html))
    if keep_lines:
        return "\n".join(" ".join(line.split()) for line in text.splitlines()).strip()
    return " ".join(text.split())


def story_view(story: Story, lang: str) -> dict[str, Any]:
    """What a template sees of a story: checked marketer HTML as markup, the rest escaped."""
    return {
        "id": story.id,
        "title": story.title[lang],
        "text": Markup(story.text[lang].strip()),
        "sources": [{"title": s.title, "url": s.url} for s in story.sources],
        "tags": list(story.tags),
        "featured": story.featured,
    }


class _Generator(CodeGenerator):
    """jinja2's compiler, with every `~` join checked: doubling a string 30 times is 30 steps."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.checked_join(")
        super().visit_Concat(node, frame)
        self.write(")")


class _Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, also refusing operators, methods and filters that would build
    something huge in one C call, where no step budget can interrupt them."""

    code_generator_class = _Generator
    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """Apply `operator` unless its result would be enormous."""
        if _too_big(operator, left, right):
            raise SecurityError(f"'{operator}' would build more than {MAX_BUILT:,} characters")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """Call `__obj` unless it is a string method that would build something enormous."""
        if _builds_too_much(__obj, args, kwargs):
            raise SecurityError(f"this call would build more than {MAX_BUILT:,} characters")
        return super().call(__context, __obj, *args, **kwargs)

    @staticmethod
    def checked_join(joined: str) -> str:
        """A `~` join, refused when it is enormous (its parts were each checked already)."""
        if len(joined) > MAX_BUILT:
            raise SecurityError(f"'~' would build more than {MAX_BUILT:,} characters")
        return joined


def _too_big(operator: str, left: Any, right: Any) -> bool:
    if operator == "+":
        sized = (str, list, tuple)
        return isinstance(left, sized) and isinstance(right, sized) and len(left) + len(right) > MAX_BUILT
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(times, int):
                return len(seq) * times > MAX_BUILT
        return False
    if operator == "**":
        if isinstance(left, int) and isinstance(right, int) and abs(left) > 1:
            return right * abs(left).bit_length() > MAX_BUILT * 4
        return False
    if operator == "%" and isinstance(left, str):
        for match in _FORMAT_WIDTH.finditer(left):
            for width in match.groups():
                if width == "*" or (width is not None and int(width) > MAX_BUILT):
                    return True
    return False


_PADDING_METHODS = frozenset({"ljust", "rjust", "center", "zfill"})
_SPEC_NUMBER = re.compile(r"\{[^{}]*[:!][^{}]*?([0-9]+)")


def _builds_too_much(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether calling a string's method (`'a'.ljust(10**9)`, `'{:>999999999}'.format`) would be huge."""
    obj = getattr(obj, "__wrapped__", obj)  # the sandbox hands out str.format wrapped
    text = getattr(obj, "__self__", None)
    if not isinstance(text, str):
        return False
    name = getattr(obj, "__name__", "")
    numbers = [v for v in (*args, *kwargs.values()) if isinstance(v, int)]
    if name in _PADDING_METHODS:
        return any(n > MAX_BUILT for n in numbers[:1])
    if name == "expandtabs":
        tab = numbers[0] if numbers else 8
        return len(text) + text.count("\t") * tab > MAX_BUILT
    if name in ("format", "format_map"):
        # A width in the format string, or one passed in as an argument ('{:{}}'.format(x, 10**9)).
        widths = [int(n) for n in _SPEC_NUMBER.findall(text)]
        return any(n > MAX_BUILT for n in widths + numbers)
    if name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        return len(text) + (text.count(args[0]) + 1) * len(args[1]) > MAX_BUILT
    return False


def _guard_filter(name: str, filter_: Callable[..., Any], too_big: Callable[..., bool]) -> Callable[..., Any]:
    """A filter that refuses arguments that would make it build something enormous."""

    @functools.wraps(filter_)  # keeps jinja2's pass_eval_context marks
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if too_big(*args, **kwargs):
            raise SecurityError(f"the filter '{name}' would build more than {MAX_BUILT:,} characters")
        return filter_(*args, **kwargs)

    return guarded


def _lines(value: Any) -> int:
    return str(value).count("\n") + 1


_SIZED_FILTERS: dict[str, Callable[..., bool]] = {
    "center": lambda value, width=80: isinstance(width, int) and width > MAX_BUILT,
    "indent": lambda value, width=4, *_, **__: (
        (width if isinstance(width, int) else len(str(width))) * _lines(value) > MAX_BUILT
    ),
    "format": lambda value, *args, **kwargs: _too_big("%", str(value), args or kwargs),
    "replace": lambda eval_ctx, value, old, new, count=None: (
        len(str(value)) + (str(value).count(str(old)) + 1) * len(str(new)) > MAX_BUILT
    ),
}


class TemplateFileProblem(TemplateError):
    """A template file that must not be read: not a plain file, or far too big."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


class _TemplateFiles(FileSystemLoader):
    """The templates folder, read only from regular files inside it, of a sensible size.

    Checked before reading: a pipe would wait forever, /dev/zero or a huge file would fill the
    memory, and a symbolic link (to /proc/self/environ, say) would serve the bot's secrets.
    """

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        for folder in self.searchpath:
            path = os.path.join(folder, *split_template_path(template))
            if not os.path.lexists(path):
                continue
            inside = os.path.realpath(folder) + os.sep
            if not os.path.realpath(path).startswith(inside):
                raise TemplateFileProblem(
                    f"the template {template} lies outside the templates folder (a symbolic link)",
                    NOT_REGULAR_FIX,
                )
            size = os.lstat(path).st_size
            if size > MAX_FILE_BYTES:
                raise TemplateFileProblem(
                    f"the template {template} is {size // 1024} KiB; the limit is {MAX_FILE_BYTES // 1024} KiB",
                    "a template holds wording and layout: move long text into the stories",
                )
            try:
                data = read_limited(Path(path))
            except YamlProblem as exc:
                raise TemplateFileProblem(f"the template {template}: {exc.message}", exc.fix) from None
            return data.decode("utf-8"), path, _always_current  # the store reloads, never jinja2
        raise TemplateNotFound(template)


def _always_current() -> bool:
    return True


class Renderer:
    """A sandboxed, autoescaping, strict jinja2 environment over one templates folder."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.env = _Sandbox(
            loader=_TemplateFiles(str(catalog.templates_dir)),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        self.env.globals["plain"] = plain
        for name, too_big in _SIZED_FILTERS.items():
            self.env.filters[name] = _guard_filter(name, self.env.filters[name], too_big)

    def render(self, name: str, lang: str, **context: Any) -> str:
        """Render template `name` in `lang`; user text in `context` is escaped as data."""
        return self._render(name, lang, **context)[0]

    def _render(self, name: str, lang: str, **context: Any) -> tuple[str, str | None]:
        # Template.render's own steps, keeping the context: what the template sets at its top level
        # (`link_preview`) is read from it. handle_exception points errors at the template's lines.
        template = self.env.get_template(template_file(name, lang))
        rendering = template.new_context({"lang": lang, "ui": self.catalog.ui.get(lang, {}), **context})
        try:
            html = within_budget(lambda: template.root_render_func(rendering))
        except Exception:
            self.env.handle_exception()  # the error with the template's own lines (budget ones too)
        asked = rendering.vars.get(LINK_PREVIEW)
        preview = asked if isinstance(asked, str) and asked.startswith("https://") else None
        return _BLANK_LINES.sub("\n\n", html).strip(), preview

    def render_story(self, story: Story, lang: str) -> str:
        """A story in its own template when it has one, else `story`."""
        return self.render_story_asking(story, lang)[0]

    def render_story_asking(self, story: Story, lang: str) -> tuple[str, str | None]:
        """The story, and the https link the template asks Telegram to preview (`link_preview`), if any."""
        name = story.template or "story"
        return self._render(name, lang, story=story_view(story, lang), related=self.related(story, lang))

    def related(self, story: Story, lang: str) -> list[dict[str, Any]]:
        """The related stories a template may mention."""
        stories = self.catalog.stories
        return [story_view(stories[i], lang) for i in story.related if i in stories]
