"""The live catalogue: a checked Snapshot (catalogue, matcher, renderer), built in one way and
replaced whole by a successful reload."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.catalog.load import load_catalog
from bot.catalog.model import Catalog, Story
from bot.catalog.problems import CatalogError, Problem
from bot.checks.confusion import confusable_phrasings
from bot.checks.language import language_problems
from bot.checks.overlap import phrasing_overlaps
from bot.checks.templates import check_templates
from bot.matching.matcher import Matcher
from bot.matching.meaning import DEFAULT_MEANING, MeaningIndex, embedder_named
from bot.replies.html import MESSAGE_LIMIT, split_html, telegram_length
from bot.replies.render import Renderer, story_view
from bot.replies.storyteller import Storyteller


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One consistent catalogue with its matcher and renderer; swapped whole on reload."""

    catalog: Catalog
    matcher: Matcher
    renderer: Renderer
    # A story's chapters never change within one snapshot: render each (story, language) once.
    rendered: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)
    previews: dict[tuple[str, str], str | None] = field(default_factory=dict, compare=False, repr=False)

    def chapters(self, story: Story, lang: str) -> tuple[str, ...]:
        """The story rendered and split into messages Telegram accepts."""
        key = (story.id, lang)
        found = self.rendered.get(key)
        if found is None:
            found = self._split(story, lang)
            self.rendered[key] = found
        return found

    def preview(self, story: Story, lang: str) -> str | None:
        """The link the story's template asks Telegram to preview under its first part, if any."""
        self.chapters(story, lang)
        return self.previews.get((story.id, lang))

    def _split(self, story: Story, lang: str) -> tuple[str, ...]:
        # Parts after the first open with the `part` template's heading; room is kept for it.
        html, self.previews[(story.id, lang)] = self.renderer.render_story_asking(story, lang)
        heading = self.renderer.render("part", lang, story=story_view(story, lang), part=9999, parts=9999)
        parts = split_html(html, MESSAGE_LIMIT - telegram_length(heading) - 2)
        if len(parts) == 1:
            return (html,)
        return (
            parts[0],
            *(
                self.renderer.render("part", lang, story=story_view(story, lang), part=n, parts=len(parts))
                + "\n\n"
                + part
                for n, part in enumerate(parts[1:], start=2)
            ),
        )


def build_snapshot(
    root: Path, *, confusion: bool = False, thorough: bool = False, meaning_model: str = DEFAULT_MEANING
) -> tuple[Snapshot | None, list[Problem]]:
    """Load, check and prepare a catalogue; None when any error means it must not be served.

    `thorough` (what `storybot check` does) renders every story in every language; otherwise
    (start-up and hot reload) every template is rendered with a sample of stories, and every
    story's own HTML is still checked, which keeps loading 1,000 stories well under a second.
    `meaning_model` names the sentence-embedding model of the semantic stage ("none": words only);
    nothing is embedded until a question first needs it.
    """
    catalog, problems = load_catalog(root)
    if catalog is None:
        return None, problems
    problems.extend(phrasing_overlaps(catalog))
    problems.extend(language_problems(catalog))
    renderer = Renderer(catalog)
    problems.extend(check_templates(catalog, renderer, thorough=thorough))
    if confusion:
        problems.extend(confusable_phrasings(catalog))
    # One mistake can surface twice (an opening and a closing tag): say it once.
    problems = list(dict.fromkeys(problems))
    if any(not p.warning for p in problems):
        return None, problems
    embedder = embedder_named(meaning_model)
    meaning = MeaningIndex.of(catalog, embedder) if embedder is not None else None
    return Snapshot(catalog, Matcher(catalog, meaning=meaning), renderer), problems


class CatalogStore:
    """Holds the last good snapshot; a broken edit never replaces it."""

    def __init__(self, root: Path, snapshot: Snapshot, meaning_model: str = DEFAULT_MEANING) -> None:
        self.root = root
        self.meaning_model = meaning_model
        self._snapshot = snapshot
        self._lock = threading.Lock()
        self.generation = 1

    @classmethod
    def open(cls, root: Path, meaning_model: str = DEFAULT_MEANING) -> CatalogStore:
        """Load the catalogue or raise CatalogError with every problem."""
        snapshot, problems = build_snapshot(root, meaning_model=meaning_model)
        if snapshot is None:
            raise CatalogError(problems)
        return cls(root, snapshot, meaning_model)

    def warm(self) -> threading.Thread | None:
        """Load the semantic stage's model and embed the catalogue in a background thread, so the
        first unsure question does not wait for it (a reload re-embeds only what changed)."""
        meaning = self._snapshot.matcher.meaning
        if meaning is None:
            return None
        thread = threading.Thread(target=meaning.ready, name="meaning-warm-up", daemon=True)
        thread.start()
        return thread

    def current(self) -> Snapshot:
        """The snapshot to answer with (a plain attribute read: no lock on the hot path)."""
        return self._snapshot

    def storyteller(self) -> Storyteller:
        """A storyteller that always reads the current snapshot."""
        return Storyteller(self.current)

    def reload(self, unchanged: Callable[[], bool] | None = None) -> tuple[bool, list[Problem]]:
        """Rebuild from disk; swap only when clean (and, given `unchanged`, when the files did not
        change while they were read: a half-written file must not go live). Returns (swapped, problems)."""
        with self._lock:
            snapshot, problems = build_snapshot(self.root, meaning_model=self.meaning_model)
            if unchanged is not None and not unchanged():
                return False, []
            if snapshot is None:
                return False, problems
            self._snapshot = snapshot
            self.generation += 1
            return True, problems
