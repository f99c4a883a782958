"""The catalogue's models: stories, small talk, off-topic examples and UI strings, and their field names."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

LANGS: tuple[str, ...] = ("en", "zh")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
SCHEDULE_FILE = "broadcasts.yaml"
SPECIAL_FILES = ("smalltalk.yaml", "offtopic.yaml", "ui.yaml", SCHEDULE_FILE)
STORY_REQUIRED = ("id", "title", "questions", "keywords", "text", "related", "sources")
STORY_OPTIONAL = ("tags", "featured", "template")
# /start and small talk show featured stories as buttons, one a row: a handful reads well, and
# Telegram refuses a keyboard of more than 100 buttons.
FEATURED_LIMIT = 6
SMALLTALK_FIELDS = ("questions", "reply")
SCHEDULE_FIELDS = ("story", "at", "lang")
UI_KEYS = (
    "continue",
    "all_stories",
    "next_page",
    "prev_page",
    "lang_en",
    "lang_zh",
    "cmd_start",
    "cmd_help",
    "cmd_stories",
    "cmd_language",
    "inline_featured",
    "answered",
    "none_of_these",
    "open_bot",
)
# Strings a catalogue may leave out (catalogues older than them): the button shows the key instead.
UI_OPTIONAL = ("subscribe", "unsubscribe")


@dataclass(frozen=True, slots=True)
class Source:
    """Where a story's facts come from."""

    title: str
    url: str = ""


@dataclass(frozen=True, slots=True)
class Story:
    """One curated story, in every language."""

    id: str
    title: dict[str, str]
    questions: dict[str, tuple[str, ...]]
    keywords: dict[str, tuple[str, ...]]
    text: dict[str, str]
    related: tuple[str, ...]
    sources: tuple[Source, ...]
    tags: tuple[str, ...] = ()
    featured: bool = False
    template: str | None = None
    path: Path = Path()
    lines: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SmallTalk:
    """A small-talk intent: how fans say it and what the bot says back."""

    intent: str
    questions: dict[str, tuple[str, ...]]
    reply: dict[str, str]
    line: int = 0
    lines: dict[str, int] = field(default_factory=dict)  # 'questions.en[1]' → its line


@dataclass(frozen=True, slots=True)
class Scheduled:
    """A broadcast a marketer scheduled in broadcasts.yaml: a story, a moment, a language or everyone."""

    story: str
    at: datetime  # always with its offset, as written
    lang: str | None = None
    line: int = 0

    @property
    def moment(self) -> str:
        """The moment in UTC, the same however the offset was written (how the state records it)."""
        return self.at.astimezone(UTC).isoformat()

    @property
    def key(self) -> tuple[str, str, str]:
        """What makes an entry the same entry: story, moment, language ('' for everyone)."""
        return (self.story, self.moment, self.lang or "")


@dataclass(frozen=True, slots=True)
class Catalog:
    """Everything the core needs, validated and immutable."""

    root: Path
    stories: dict[str, Story]
    smalltalk: dict[str, SmallTalk] = field(default_factory=dict)
    offtopic: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ui: dict[str, dict[str, str]] = field(default_factory=dict)
    offtopic_lines: dict[str, int] = field(default_factory=dict)  # 'en[1]' → its line in offtopic.yaml
    schedule: tuple[Scheduled, ...] = ()  # broadcasts.yaml, earliest first

    @property
    def templates_dir(self) -> Path:
        """Where the wording lives."""
        return self.root / "templates"

    def featured(self) -> list[Story]:
        """Featured stories (the first FEATURED_LIMIT), or the first few when none is marked."""
        chosen = [s for s in self.stories.values() if s.featured]
        return chosen[:FEATURED_LIMIT] or list(self.stories.values())[:4]
