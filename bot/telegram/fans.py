"""What we remember about a fan (language, last story), kept in PTB's persisted user_data."""

from __future__ import annotations

from telegram import Update

from bot.catalog.model import LANGS
from bot.replies.model import Outcome, Reply
from bot.telegram.services import Context

LANG = "lang"
LAST_STORY = "last_story"


def chosen_lang(context: Context) -> str | None:
    """The language the fan picked with /language, if any."""
    data = context.user_data
    lang = data.get(LANG) if data is not None else None
    return lang if lang in LANGS else None


def menu_lang(update: Update, context: Context) -> str:
    """Language for menus: the fan's choice, else their Telegram app's language, else English."""
    chosen = chosen_lang(context)
    if chosen:
        return chosen
    user = update.effective_user
    code = (user.language_code or "") if user else ""
    app_lang = code.split("-")[0].lower()
    return app_lang if app_lang in LANGS else LANGS[0]


def choose_lang(context: Context, lang: str) -> None:
    """Remember the fan's language."""
    if context.user_data is not None and lang in LANGS:
        context.user_data[LANG] = lang


def remember(context: Context, reply: Reply) -> None:
    """Remember the last story a fan was told."""
    if context.user_data is not None and reply.outcome is Outcome.STORY and reply.story_id:
        context.user_data[LAST_STORY] = reply.story_id
