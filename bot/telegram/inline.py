"""Inline mode: `@bot <words>` offers up to ten story cards; an empty query, the featured ones."""

from __future__ import annotations

import time

from telegram import InlineQueryResultArticle, InlineQueryResultsButton, InputTextMessageContent, Update

from bot.catalog.model import Story
from bot.matching.decide import Outcome
from bot.matching.search import index_for
from bot.matching.text import detect_lang
from bot.replies.model import Candidate, Reply
from bot.replies.render import plain
from bot.replies.storyteller import Storyteller
from bot.telegram.context import StoryContext
from bot.telegram.outbox import keyboard, preview_options, record

MAX_RESULTS = 10
MIN_SCORE = 35.0
CACHE_SECONDS = 10
PREVIEW_CHARS = 120


def ranked_stories(teller: Storyteller, query: str) -> list[tuple[Story, float]]:
    """Stories worth offering for the query, best first; none when it is off-topic."""
    snap = teller.snapshot
    stories = snap.catalog.stories
    if not query.strip():
        return [(story, 0.0) for story in snap.catalog.featured()[:MAX_RESULTS]]
    ranked = snap.matcher.rank(query, MAX_RESULTS)
    outcome = snap.matcher.decide(query).outcome
    best = ranked[0].score if ranked else 0.0
    chosen = [(stories[c.story_id], c.score) for c in ranked if c.score >= MIN_SCORE]
    if outcome not in (Outcome.STORY, Outcome.CLARIFY) and best >= snap.matcher.config.threshold:
        chosen = []  # a story scored well, yet the decision went elsewhere (off-topic, small talk)
    # Then the stories whose words begin with what is typed (`kenya hock`, `鸭`): the fan may
    # still be typing, and every term must find something, so off-topic words find nothing.
    seen = {story.id for story, _ in chosen}
    typed = [(stories[i], score) for i, score in index_for(snap.catalog).search(query, MAX_RESULTS) if i not in seen]
    return (chosen + typed)[:MAX_RESULTS]


def preview(html: str) -> str:
    """The plain-text start of a story for the card's description."""
    text = plain(html)
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS].rstrip() + "…"


def card(teller: Storyteller, story: Story, lang: str) -> InlineQueryResultArticle | None:
    """One result: the story's first chapter as the message, its buttons below."""
    reply = teller.story(story.id, lang)
    if reply is None:
        return None
    return InlineQueryResultArticle(
        id=story.id,
        title=story.title[lang],
        description=preview(story.text[lang]),
        input_message_content=InputTextMessageContent(reply.text, **preview_options(reply)),
        reply_markup=keyboard(reply),
    )


async def answer_inline(update: Update, context: StoryContext) -> None:
    """Answer an inline query with story cards."""
    started = time.perf_counter()
    inline = update.inline_query
    if inline is None:
        return
    query = inline.query.strip()
    teller = context.storyteller
    # Results depend only on the words, so Telegram may share them between fans; an empty query
    # shows the featured stories in the fan's own language, so that answer is personal.
    lang = detect_lang(query) if query else context.lang
    chosen = ranked_stories(teller, query)
    cards = [c for c in (card(teller, story, lang) for story, _ in chosen) if c is not None]
    # Nothing found: a button that opens the chat with the bot, where any question can be asked.
    button = None if cards else InlineQueryResultsButton(text=teller.ui(lang, "open_bot"), start_parameter="inline")
    await inline.answer(cards, cache_time=CACHE_SECONDS, is_personal=not query, button=button)
    summary = Reply(
        Outcome.MENU if not query else Outcome.STORY if chosen else Outcome.FALLBACK,
        "",
        lang,
        question=query,
        story_id=chosen[0][0].id if chosen and query else None,
        score=chosen[0][1] if chosen else 0.0,
        alternatives=tuple(Candidate(story.id, score) for story, score in chosen[1:]),
    )
    record(context, update, kind="inline", started=started, reply=summary)
