"""Group -1, before any handler: is the update for us, is its fan blocked, is the fan flooding.

Every update meets the guard once. What is not meant for the bot (group chatter, edited
messages) stops here, so the handlers after it need no audience filters of their own.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Hashable
from enum import Enum

from telegram import Message, MessageEntity, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, filters

from bot.telegram.context import StoryContext
from bot.telegram.outbox import kind_of, record, show, stop_spinner

_LOGGER = logging.getLogger(__name__)
_SWEEP_EVERY = 1024
TAP_FACTOR = 4  # button taps allowed per window, as a multiple of the message limit
_TAP = "tap"


# --- who a message is for ---------------------------------------------------------------------


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


# In private chats everything is for us; in groups only what names us or answers us. Commands
# pass too: PTB's CommandHandler then takes /cmd and /cmd@thisbot, never /cmd@otherbot.
# Edited messages and channel posts are never answered.
FOR_US = filters.UpdateType.MESSAGE & (
    filters.ChatType.PRIVATE | MentionsMe(name="MentionsMe") | RepliesToMe(name="RepliesToMe") | filters.COMMAND
)


def is_addressed(update: Update) -> bool:
    """Whether the bot would answer this update (a button press, or a message meant for it)."""
    if update.callback_query is not None:
        return True
    return update.message is not None and bool(FOR_US.check_update(update))


# --- flooding ---------------------------------------------------------------------------------


class FloodVerdict(Enum):
    """What to do with one incoming message."""

    PASS = "pass"  # answer it
    NOTICE = "notice"  # too many: tell the fan once that this one and the next are skipped
    DROP = "drop"  # still too many: skipped, as the notice said


class FloodControl:
    """At most `limit` answered messages per fan within `window` seconds; pure, clock injected.

    Button taps (`check(fan, tap=True)`) count apart from messages, against `tap_limit`
    (TAP_FACTOR times the message limit unless given): flipping through pages once a second
    is reading, not flooding.
    """

    def __init__(
        self,
        limit: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
        tap_limit: int | None = None,
    ) -> None:
        self.limit = max(1, limit)
        self.tap_limit = max(1, tap_limit if tap_limit is not None else limit * TAP_FACTOR)
        self.window = window
        self._clock = clock
        self._accepted: dict[Hashable, deque[float]] = {}
        self._noticed: set[Hashable] = set()
        self._checks = 0

    def check(self, fan: Hashable, *, tap: bool = False) -> FloodVerdict:
        """Count one message (or button tap) from `fan` and decide; skipped ones do not extend the wait."""
        if tap:
            fan = (_TAP, fan)
        now = self._clock()
        self._checks += 1
        if self._checks % _SWEEP_EVERY == 0:
            self._sweep(now)
        accepted = self._accepted.setdefault(fan, deque())
        while accepted and accepted[0] <= now - self.window:
            accepted.popleft()
        if len(accepted) < (self.tap_limit if tap else self.limit):
            accepted.append(now)
            self._noticed.discard(fan)
            return FloodVerdict.PASS
        if fan in self._noticed:
            return FloodVerdict.DROP
        self._noticed.add(fan)
        return FloodVerdict.NOTICE

    def __len__(self) -> int:
        return len(self._accepted)

    def _sweep(self, now: float) -> None:
        # Forget fans who have been quiet for a whole window, so memory follows active fans only.
        quiet = [fan for fan, times in self._accepted.items() if not times or times[-1] <= now - self.window]
        for fan in quiet:
            del self._accepted[fan]
            self._noticed.discard(fan)


# --- the gate ---------------------------------------------------------------------------------


async def gate(update: Update, context: StoryContext) -> None:
    """Let the update through, or stop it: not for us, a blocked fan (recorded), a flood (recorded)."""
    started = time.perf_counter()
    user = update.effective_user
    inline = update.inline_query is not None
    if user is None or not (inline or is_addressed(update)):
        raise ApplicationHandlerStop  # not meant for the bot: no handler answers it
    if context.is_blocked:
        _LOGGER.info("Ignoring an update from blocked fan %s", context.user_key)
        if update.callback_query is not None:
            await stop_spinner(update.callback_query)
        # A blocked fan's words are never stored: the record says only that they were ignored.
        record(context, update, kind=kind_of(update), started=started, outcome="blocked", question="")
        raise ApplicationHandlerStop
    if inline:
        return  # Telegram sends one per keystroke; they are cheap and never flood a chat
    verdict = context.flood.check(user.id, tap=update.callback_query is not None)
    if verdict is FloodVerdict.PASS:
        return
    if update.callback_query is not None:
        await stop_spinner(update.callback_query)
    reply = None
    if verdict is FloodVerdict.NOTICE and update.effective_chat is not None:
        # The notice says plainly that messages over the limit are skipped (notice "flood").
        _LOGGER.info("Fan %s is flooding; telling them once", context.user_key)
        reply = context.storyteller.notice("flood", context.lang)
        try:
            await show(update, context, reply)
        except TelegramError as exc:  # the update must stop here all the same
            _LOGGER.warning("Could not send the flood notice: %s", exc)
    record(context, update, kind=kind_of(update), started=started, reply=reply, outcome="flood", lang=context.lang)
    raise ApplicationHandlerStop
