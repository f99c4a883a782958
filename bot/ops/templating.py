"""The jinja2 environment for moderator-facing wording (bot/ops/templates/), with its filters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bot.ops.fans import handle
from bot.ops.tail import visible

TEMPLATES = Path(__file__).resolve().parent / "templates"


def when(timestamp: float | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC time for people; an empty string for none."""
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(timestamp, UTC).strftime(fmt)


def percent(share: float) -> str:
    """0.4234 → `42.3%`."""
    return f"{share * 100:.1f}%"


def cut(text: str, limit: int) -> str:
    """At most `limit` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def span(seconds: float) -> str:
    """A duration the way it is typed: 90 → `90s`, 3600 → `1h`, 604800 → `7d`."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


@cache
def environment() -> Environment:
    """Autoescaping for `*.html.j2` (pages and Telegram HTML), plain for `*.txt.j2`."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(when=when, percent=percent, cut=cut, visible=visible, span=span, handle=handle)
    return env


def render(name: str, **context: Any) -> str:
    """Render one template of bot/ops/templates/."""
    return environment().get_template(name).render(**context)


def render_fitting(name: str, layouts: Sequence[Mapping[str, Any]], limit: int, **context: Any) -> str:
    """Render with each layout's settings in turn until the text fits `limit` characters."""
    text = ""
    for layout in layouts:
        text = render(name, **context, **layout).strip()
        if len(text) <= limit:
            return text
    return cut(text, limit)
