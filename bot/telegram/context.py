"""What every handler is given: the shared services and this fan's state, as typed attributes.

PTB's `examples/contexttypesbot.py` shape: `Services` is the application's `bot_data` and
`StoryContext` the `CallbackContext` of every handler, both registered through `ContextTypes`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar

from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot

from bot.broadcast.outbox import Outbox
from bot.catalog.model import LANGS
from bot.config import Settings
from bot.live import CatalogStore
from bot.ops.exchange import ExchangeSink, pseudonym
from bot.replies.conversation import Conversation
from bot.replies.storyteller import Storyteller
from bot.telegram.logging_setup import Redactor

if TYPE_CHECKING:
    from bot.telegram.guard import FloodControl  # guard.py imports this module

BlockedCheck: TypeAlias = Callable[[str], bool]
Data: TypeAlias = dict[Any, Any]
T = TypeVar("T")

# Keys of the persisted (JSON) user_data and chat_data.
LANG = "lang"  # user_data: the language the fan chose with /language
LAST_STORY = "last_story"  # user_data: the last story the fan was told
CONVERSATIONS = "conversations"  # chat_data: {str(fan id): Conversation.to_json()}


def nobody_blocked(user_key: str) -> bool:
    """The default block list: empty."""
    return False


class Services:
    """The long-lived services all handlers share (the application's bot_data; never persisted).

    PTB creates it empty when the application is built; build_application fills it at once.
    """

    settings: Settings
    store: CatalogStore
    storyteller: Storyteller  # always reads the store's current catalogue
    sinks: list[ExchangeSink]  # every handled update's Exchange goes to each
    blocked: BlockedCheck  # (user_key) -> bool, checked before any reply
    redactor: Redactor  # scrubs secrets out of text bound for logs
    flood: FloodControl  # per-fan message counts
    subscriptions: Outbox | None = None  # subscribers and broadcasts, when the bot broadcasts


class _Shared(Generic[T]):
    """A read-only context attribute: the application's service of the same name."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, context: StoryContext, owner: type | None = None) -> T:
        value: T = getattr(context.bot_data, self.name)
        return value


class StoryContext(CallbackContext[ExtBot[Any], Data, Data, Services]):
    """The handlers' context: services, the fan's language and conversation, without string keys."""

    __slots__ = ("_fan_update",)

    def __init__(self, application: App, chat_id: int | None = None, user_id: int | None = None) -> None:
        super().__init__(application, chat_id=chat_id, user_id=user_id)
        self._fan_update: Update | None = None

    @classmethod
    def from_update(
        cls, update: object, application: Application[Any, StoryContext, Any, Any, Any, Any]
    ) -> StoryContext:
        """PTB's context for `update`, keeping the update for the fan's language and conversation."""
        context = super().from_update(update, application)
        context._fan_update = update if isinstance(update, Update) else None
        return context

    # --- the services, as typed attributes (each the Services attribute of the same name) ------

    settings = _Shared["Settings"]()
    storyteller = _Shared["Storyteller"]()
    sinks = _Shared["list[ExchangeSink]"]()
    flood = _Shared["FloodControl"]()
    redactor = _Shared["Redactor"]()

    # --- the fan ------------------------------------------------------------------------------

    def pseudonym(self, kind: str, value: int | None) -> str:
        """A chat's or fan's key for the exchange log (never the id itself)."""
        return pseudonym(self.settings.log_salt.get().encode(), kind, value)

    @property
    def user_key(self) -> str:
        """The fan's pseudonym ("" when the update has no user)."""
        user = self._fan_update.effective_user if self._fan_update else None
        return self.pseudonym("user", user.id if user else None)

    @property
    def is_blocked(self) -> bool:
        """Whether moderators blocked this fan."""
        key = self.user_key
        return bool(key) and self.bot_data.blocked(key)

    @property
    def chosen_lang(self) -> str | None:
        """The language the fan picked with /language, if any."""
        lang = self.user_data.get(LANG) if self.user_data is not None else None
        return lang if lang in LANGS else None

    @chosen_lang.setter
    def chosen_lang(self, lang: str | None) -> None:
        if self.user_data is not None and lang in LANGS:
            self.user_data[LANG] = lang

    @property
    def lang(self) -> str:
        """Language for menus: the fan's choice, else their Telegram app's language, else English."""
        user = self._fan_update.effective_user if self._fan_update else None
        app_lang = ((user.language_code or "") if user else "").split("-")[0].lower()
        return self.chosen_lang or (app_lang if app_lang in LANGS else LANGS[0])

    @property
    def conversation(self) -> Conversation:
        """The fan's conversation in this chat; a new one after CONVERSATION_TTL seconds of quiet."""
        stored = self._conversations().get(self._fan())
        return Conversation.restore(stored, time.time(), self.settings.conversation_ttl)

    @conversation.setter
    def conversation(self, conversation: Conversation) -> None:
        fan, table = self._fan(), self._conversations()
        if not fan or self.chat_data is None:
            return  # an inline message's press: no chat, so no conversation to keep
        now, ttl = time.time(), self.settings.conversation_ttl
        # Quiet fans' conversations are dropped as others talk, so a busy group's data stays small.
        kept = {k: v for k, v in table.items() if k != fan and Conversation.restore(v, now, ttl).at}
        kept[fan] = conversation.to_json()
        self.chat_data[CONVERSATIONS] = kept

    @property
    def last_story(self) -> str | None:
        """The last story the fan was told, in any chat."""
        story = self.user_data.get(LAST_STORY) if self.user_data is not None else None
        return story if isinstance(story, str) else None

    @last_story.setter
    def last_story(self, story_id: str | None) -> None:
        if self.user_data is not None and story_id:
            self.user_data[LAST_STORY] = story_id

    def _fan(self) -> str:
        # JSON (the persistence) turns keys into strings, so they are strings from the start.
        user = self._fan_update.effective_user if self._fan_update else None
        return str(user.id) if user else ""

    def _conversations(self) -> Data:
        # Kept in chat_data: in a group each fan has their own, and a chat's updates are handled
        # one at a time (delivery.ChatOrderedProcessor), so no two turns write it at once.
        table = self.chat_data.get(CONVERSATIONS) if self.chat_data is not None else None
        return table if isinstance(table, dict) else {}


App: TypeAlias = Application[ExtBot[Any], StoryContext, Data, Data, Services, Any]
Registrar: TypeAlias = Callable[[App], None]
