"""The core: a question (or a button, or a command) in, a transport-free Reply out."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from bot.catalog.model import LANGS, Story
from bot.matching.decide import ALL_TOLD, Context
from bot.matching.text import detect_lang
from bot.replies.buttons import catalogue_data, chapter_data, page_data, parse_button, parse_payload, story_data
from bot.replies.conversation import Conversation
from bot.replies.model import Button, Outcome, Reply
from bot.replies.render import story_view

if TYPE_CHECKING:  # the live snapshot is built downstream of the replies; a type here only
    from bot.live import Snapshot

PAGE_SIZE = 6
SUGGESTIONS = 3


class Storyteller:
    """Answers fans. Reads the current snapshot once per call, so a reload never mixes two."""

    def __init__(self, snapshot: Callable[[], Snapshot] | Snapshot) -> None:
        self._current = snapshot if callable(snapshot) else (lambda: snapshot)

    @property
    def snapshot(self) -> Snapshot:
        """The catalogue being served right now."""
        return self._current()

    # --- questions --------------------------------------------------------------------------

    def answer(self, question: str, lang: str | None = None, conversation: Conversation | None = None) -> Reply:
        """Answer free text in a conversation; `lang` forces a language, else the question's own is used."""
        if question.lstrip().startswith("/"):
            command = self.command(question, lang)
            if command is not None:
                return replace(command, question=question)
        snap = self.snapshot
        reply_lang = _lang(lang) if lang else detect_lang(question)
        decision = snap.matcher.decide(question, self.context(conversation or Conversation()))
        if decision.outcome not in (Outcome.STORY, Outcome.CLARIFY) and not any(c.isalnum() for c in question):
            # Emoji alone (and not a story's own, like 🦆): a smile and the featured stories.
            return replace(self.playful(reply_lang), question=question, score=decision.score, rule=decision.rule)
        alternatives = tuple(c for c in decision.candidates if c.story_id != decision.story_id)
        common: dict[str, Any] = {
            "question": question,
            "score": decision.score,
            "alternatives": alternatives,
            "rule": decision.rule,
        }
        stories = snap.catalog.stories
        if decision.outcome is Outcome.STORY and decision.story_id in stories:
            return _with(self._story(snap, stories[decision.story_id], reply_lang, 0), **common)
        if decision.outcome is Outcome.CLARIFY:
            return self._clarify(snap, [stories[i] for i in decision.choices if i in stories], reply_lang, common)
        if decision.outcome is Outcome.SMALLTALK and decision.intent == ALL_TOLD:
            return self._all_told(snap, reply_lang, common)
        if decision.outcome is Outcome.SMALLTALK and decision.intent in snap.catalog.smalltalk:
            return self._smalltalk(snap, decision.intent, reply_lang, common)
        return self._fallback(snap, [stories[i] for i in decision.choices if i in stories], reply_lang, common)

    def context(self, conversation: Conversation) -> Context:
        """What the conversation brings to a decision: the story discussed, the stories not yet told."""
        catalog = self.snapshot.catalog
        order = [s.id for s in catalog.featured()] + list(catalog.stories)
        told = set(conversation.told)
        untold = tuple(i for i in dict.fromkeys(order) if i not in told)
        discussed = conversation.story_id if conversation.story_id in catalog.stories else None
        return Context(discussed, untold)

    def command(self, text: str, lang: str | None = None) -> Reply | None:
        """A slash command typed as text (`/start x`, `/help@bot`); None when it is not ours."""
        name, _, argument = text.strip().partition(" ")
        name = name[1:].split("@", 1)[0].lower()
        if name == "start":
            return self.start(argument.strip(), lang)[0]
        if name == "help":
            return self.help(lang)
        if name == "stories":
            return self.catalogue(lang)
        if name == "language":
            return self.language_menu(lang)
        return None

    def _clarify(self, snap: Snapshot, choices: list[Story], lang: str, common: dict[str, Any]) -> Reply:
        return self._offer(snap, Outcome.CLARIFY, ("clarify", "choices", "none_of_these"), choices, lang, common)

    def _smalltalk(self, snap: Snapshot, intent: str, lang: str, common: dict[str, Any]) -> Reply:
        featured = snap.catalog.featured()
        text = snap.renderer.render(
            "smalltalk",
            lang,
            intent=intent,
            reply=Markup(snap.catalog.smalltalk[intent].reply[lang]),
            featured=[story_view(s, lang) for s in featured],
        )
        buttons = _story_rows(featured, lang) if intent in {"help", "greeting"} else _all_stories(snap, lang)
        return Reply(Outcome.SMALLTALK, text, lang, intent=intent, buttons=buttons, **common)

    def _all_told(self, snap: Snapshot, lang: str, common: dict[str, Any]) -> Reply:
        featured = snap.catalog.featured()
        text = snap.renderer.render("notice", lang, kind=ALL_TOLD)
        buttons = (
            *_story_rows(featured, lang),
            *_all_stories(snap, lang),
        )
        return Reply(Outcome.SMALLTALK, text, lang, intent=ALL_TOLD, buttons=buttons, **common)

    def _fallback(self, snap: Snapshot, ranked: list[Story], lang: str, common: dict[str, Any]) -> Reply:
        suggestions = (ranked + [s for s in snap.catalog.featured() if s not in ranked])[:SUGGESTIONS]
        return self._offer(
            snap, Outcome.FALLBACK, ("fallback", "suggestions", "all_stories"), suggestions, lang, common
        )

    def _offer(
        self,
        snap: Snapshot,
        outcome: Outcome,
        wording: tuple[str, str, str],
        stories: list[Story],
        lang: str,
        common: dict[str, Any],
    ) -> Reply:
        """Stories offered as buttons under a template's lead-in; `wording` is (template, the
        template's variable for the stories, the ui key of the last button, to the catalogue)."""
        template, variable, last = wording
        views = [story_view(s, lang) for s in stories]
        text = snap.renderer.render(template, lang, question=common["question"], **{variable: views})
        buttons = (*_story_rows(stories, lang), (Button(_ui(snap, lang, last), catalogue_data(lang)),))
        offered = tuple(s.id for s in stories)
        return Reply(outcome, text, lang, buttons=buttons, offered=offered, **common)

    # --- stories and menus ------------------------------------------------------------------

    def story(self, story_id: str, lang: str, chapter: int = 0) -> Reply | None:
        """A story by id (chapter 0-based); None when there is no such story or chapter."""
        snap = self.snapshot
        story = snap.catalog.stories.get(story_id)
        if story is None:
            return None
        return self._story(snap, story, _lang(lang), chapter)

    def _story(self, snap: Snapshot, story: Story, lang: str, chapter: int) -> Reply | None:
        chapters = snap.chapters(story, lang)
        if not 0 <= chapter < len(chapters):
            return None
        last = chapter == len(chapters) - 1
        if last:
            related = [snap.catalog.stories[i] for i in story.related if i in snap.catalog.stories]
            buttons = (
                *_story_rows(related, lang),
                *_all_stories(snap, lang),
            )
        else:
            buttons = ((Button(_ui(snap, lang, "continue"), chapter_data(story.id, chapter + 1, lang)),),)
        return Reply(
            Outcome.STORY,
            chapters[chapter],
            lang,
            story_id=story.id,
            score=100.0,
            buttons=buttons,
            chapter=chapter,
            chapter_count=len(chapters),
            preview=snap.preview(story, lang) if chapter == 0 else None,
        )

    def start(self, payload: str = "", lang: str | None = None) -> tuple[Reply, str | None]:
        """/start with an optional payload `id` or `campaign__id`; also returns the campaign."""
        lang = _lang(lang)
        campaign, story_id = parse_payload(payload)
        if story_id:
            reply = self.story(story_id, lang)
            if reply is not None:
                return reply, campaign
            campaign = None  # no story opened: the link is broken, so it counts for no campaign
        snap = self.snapshot
        featured = snap.catalog.featured()
        text = snap.renderer.render("start", lang, featured=[story_view(s, lang) for s in featured])
        buttons = (
            *_story_rows(featured, lang),
            *_all_stories(snap, lang),
        )
        return Reply(Outcome.MENU, text, lang, buttons=buttons), campaign

    def help(self, lang: str | None = None) -> Reply:
        """/help."""
        lang = _lang(lang)
        snap = self.snapshot
        stories = list(snap.catalog.stories.values())
        text = snap.renderer.render(
            "help",
            lang,
            stories=[story_view(s, lang) for s in stories],
            featured=[story_view(s, lang) for s in snap.catalog.featured()],
        )
        return Reply(
            Outcome.MENU,
            text,
            lang,
            buttons=_all_stories(snap, lang),
        )

    def catalogue(self, lang: str | None = None, page: int = 0) -> Reply:
        """/stories: one page of the catalogue as buttons, with page navigation."""
        lang = _lang(lang)
        snap = self.snapshot
        stories = list(snap.catalog.stories.values())
        pages = max(1, math.ceil(len(stories) / PAGE_SIZE))
        page = min(max(page, 0), pages - 1)
        shown = stories[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
        text = snap.renderer.render(
            "catalogue",
            lang,
            stories=[story_view(s, lang) for s in shown],
            page=page + 1,
            pages=pages,
            total=len(stories),
        )
        nav: list[Button] = []
        if page > 0:
            nav.append(Button(_ui(snap, lang, "prev_page"), page_data(page - 1, lang)))
        if page < pages - 1:
            nav.append(Button(_ui(snap, lang, "next_page"), page_data(page + 1, lang)))
        buttons = (*_story_rows(shown, lang), *((tuple(nav),) if nav else ()))
        return Reply(Outcome.MENU, text, lang, buttons=buttons, chapter=page, chapter_count=pages)

    def notice(self, kind: str, lang: str | None = None) -> Reply:
        """A short notice (non-text message, flood, error...), with the way to all the stories."""
        lang = _lang(lang)
        snap = self.snapshot
        text = snap.renderer.render("notice", lang, kind=kind)
        return Reply(Outcome.MENU, text, lang, buttons=_all_stories(snap, lang))

    def playful(self, lang: str | None = None) -> Reply:
        """The answer to a sticker or a message of emoji alone: a smile and the featured stories."""
        lang = _lang(lang)
        snap = self.snapshot
        text = snap.renderer.render("notice", lang, kind="playful")
        buttons = (*_story_rows(snap.catalog.featured(), lang), *_all_stories(snap, lang))
        return Reply(Outcome.MENU, text, lang, buttons=buttons)

    def language_menu(self, lang: str | None = None) -> Reply:
        """/language: a button per language."""
        lang = _lang(lang)
        snap = self.snapshot
        text = snap.renderer.render("notice", lang, kind="language_choose")
        row = tuple(Button(_ui(snap, lang, f"lang_{code}"), f"l:{code}") for code in LANGS)
        return Reply(Outcome.MENU, text, lang, buttons=(row,))

    def ui(self, lang: str, key: str) -> str:
        """A ui.yaml string (a button's label) in `lang`."""
        return _ui(self.snapshot, _lang(lang), key)

    def press(self, data: str, lang: str | None = None) -> Reply:
        """A button press; stale or forged data gets the catalogue with a polite word."""
        action = parse_button(data)
        if action is not None:
            kind, args = action
            if kind == "s":
                reply = self.story(args[1], args[0])
            elif kind == "c":
                reply = self.story(args[1], args[0], int(args[2]))
            elif kind == "p":
                reply = self.catalogue(args[0], int(args[1]))
            elif kind == "a":
                reply = self.catalogue(args[0])
            else:
                reply = self.notice("language_set", args[0])
            if reply is not None:
                return reply
        lang = _lang(lang)
        stale = self.notice("stale", lang)
        listing = self.catalogue(lang)
        return Reply(Outcome.MENU, f"{stale.text}\n\n{listing.text}", lang, buttons=listing.buttons)


# --- helpers --------------------------------------------------------------------------------


def _lang(lang: str | None) -> str:
    return lang if lang in LANGS else LANGS[0]


def _ui(snap: Snapshot, lang: str, key: str) -> str:
    return snap.catalog.ui.get(lang, {}).get(key, key)


def _all_stories(snap: Snapshot, lang: str) -> tuple[tuple[Button, ...], ...]:
    return ((Button(_ui(snap, lang, "all_stories"), catalogue_data(lang)),),)


def _story_rows(stories: list[Story], lang: str) -> tuple[tuple[Button, ...], ...]:
    return tuple((Button(s.title[lang], story_data(s.id, lang)),) for s in stories)


def _with(reply: Reply | None, **changes: Any) -> Reply:
    assert reply is not None, "a matched story always has a first chapter"
    return replace(reply, **changes)
