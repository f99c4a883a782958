"""Who a message is for: private chats, @mentions of the bot, replies to the bot's messages."""

from __future__ import annotations

import re

from telegram import Message, MessageEntity, Update
from telegram.ext import filters


class MentionsMe(filters.MessageFilter):
    """Messages that @mention this bot (its username is known only once the bot is running)."""

    def filter(self, message: Message) -> bool:
        """Whether a mention entity names this bot."""
        bot = message.get_bot()
        mentions = message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION])
        return any(
            (entity.user is not None and entity.user.id == bot.id)
            or text.lstrip("@").lower() == (bot.username or "").lower()
            for entity, text in mentions.items()
        )


class RepliesToMe(filters.MessageFilter):
    """Messages that reply to one of this bot's own messages."""

    def filter(self, message: Message) -> bool:
        """Whether the replied-to message is the bot's."""
        replied = message.reply_to_message
        author = replied.from_user if replied is not None else None
        return author is not None and author.id == message.get_bot().id


MENTIONS_ME = MentionsMe(name="MentionsMe")
REPLIES_TO_ME = RepliesToMe(name="RepliesToMe")
# In private chats everything is for us; in groups only what names us or answers us.
ADDRESSED = filters.ChatType.PRIVATE | MENTIONS_ME | REPLIES_TO_ME
NEW_MESSAGE = filters.UpdateType.MESSAGE  # edited messages and channel posts are never answered


def is_addressed(update: Update) -> bool:
    """Whether the bot would answer this update (a button press, or a message meant for it)."""
    if update.callback_query is not None:
        return True
    if update.message is None:
        return False
    return bool((NEW_MESSAGE & (ADDRESSED | filters.COMMAND)).check_update(update))


def without_mention(message: Message) -> str:
    """The message text with the bot's @username taken out."""
    username = message.get_bot().username or ""
    text = message.text or ""
    if username:
        text = re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE)
    return " ".join(text.split())
