"""The Telegram application, assembled in one place: services, handlers in order, lifecycle."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from telegram import Update
from telegram.ext import (
    ApplicationBuilder,
    BaseRateLimiter,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    PersistenceInput,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.config import Settings
from bot.live import CatalogStore
from bot.ops.exchange import ExchangeSink
from bot.telegram import callbacks, commands, messages, services
from bot.telegram.audience import ADDRESSED, NEW_MESSAGE
from bot.telegram.confirm import ConfirmAfterHandled, HandledQueue
from bot.telegram.errors import on_error
from bot.telegram.gate import gate
from bot.telegram.inline import answer_inline
from bot.telegram.logging_setup import Redactor
from bot.telegram.menu import publish_commands
from bot.telegram.ordering import ChatOrderedProcessor
from bot.telegram.persistence import SQLitePersistence
from bot.telegram.retry import RetryingRateLimiter
from bot.telegram.services import App, BlockedCheck, Registrar

_LOGGER = logging.getLogger(__name__)
CONCURRENT_UPDATES = 256
PERSIST_EVERY = 5.0  # seconds; PTB also writes everything once more at shutdown


def secrets_of(settings: Settings) -> list[str]:
    """Every secret the logs must never show."""
    return [s.get() for s in (settings.token, settings.webhook_secret, settings.log_salt) if s]


def build_application(
    settings: Settings,
    store: CatalogStore,
    *,
    sinks: Iterable[ExchangeSink] = (),
    registrars: Iterable[Registrar] = (),
    request: BaseRequest | None = None,
    blocked: BlockedCheck = services.nobody_blocked,
    rate_limiter: BaseRateLimiter[int] | None = None,
) -> App:
    """The bot, ready for run_polling/run_webhook (or initialize/start in tests)."""
    persistence = SQLitePersistence(
        settings.state_db,
        # bot_data holds live services (the storyteller, sinks...), which are not JSON.
        store_data=PersistenceInput(bot_data=False, callback_data=False),
        update_interval=PERSIST_EVERY,
    )
    confirming = ConfirmAfterHandled()
    # Webhook: Telegram hears 200 only once the update is handled (polling: `confirming`).
    queue: asyncio.Queue[object] = HandledQueue() if settings.webhook_url else asyncio.Queue()
    handled = queue.handled if isinstance(queue, HandledQueue) else None
    builder = (
        ApplicationBuilder()
        .token(settings.token.get())
        .get_updates_request(confirming)
        .update_queue(queue)
        .base_url(settings.base_url)
        .rate_limiter(rate_limiter or RetryingRateLimiter())
        .concurrent_updates(ChatOrderedProcessor(CONCURRENT_UPDATES, on_handled=handled))
        .persistence(persistence)
        .post_init(_post_init)
    )
    if request is not None:
        builder = builder.request(request)
    app: App = builder.build()
    confirming.gate = app.update_queue.join  # confirm updates to Telegram only once handled
    services.install(
        app.bot_data,
        settings,
        store,
        sinks=list(sinks),
        blocked=blocked,
        redactor=Redactor(secrets_of(settings)),
    )
    _register_handlers(app, registrars)
    return app


def _register_handlers(app: App, registrars: Iterable[Registrar]) -> None:
    # Group -1 sees every update first: blocked fans and flooders stop there.
    app.add_handler(TypeHandler(Update, gate), group=-1)
    # Group 0: the first handler that matches answers, so the order below matters.
    # 1. Our commands, new messages only (PTB accepts /cmd and /cmd@thisbot, never @otherbot).
    for name, callback in (
        ("start", commands.start),
        ("help", commands.help_),
        ("stories", commands.stories),
        ("language", commands.language),
    ):
        app.add_handler(CommandHandler(name, callback, filters=NEW_MESSAGE))
    # 2. Extra handlers (operations: /stats, /reload...), ahead of the catch-alls below.
    for registrar in registrars:
        registrar(app)
    # 3. Button presses and inline queries.
    app.add_handler(CallbackQueryHandler(callbacks.press))
    app.add_handler(InlineQueryHandler(answer_inline))
    # 4. Text meant for us: any in private chats; in groups, @mentions and replies to the bot.
    app.add_handler(MessageHandler(NEW_MESSAGE & filters.TEXT & ~filters.COMMAND & ADDRESSED, messages.text))
    # 5. Commands we do not know, in private chats: how to talk to us.
    app.add_handler(MessageHandler(NEW_MESSAGE & filters.COMMAND & filters.ChatType.PRIVATE, commands.help_))
    # 6. Stickers, photos, voice... meant for us (service messages like "X joined" are not).
    app.add_handler(
        MessageHandler(NEW_MESSAGE & ~filters.TEXT & ~filters.StatusUpdate.ALL & ADDRESSED, messages.non_text)
    )
    # Whatever fails is logged and recorded; the next update is handled as usual.
    app.add_error_handler(on_error)


async def _post_init(app: App) -> None:
    """Once connected: publish the commands menu."""
    store: CatalogStore = app.bot_data[services.STORE]
    await publish_commands(app.bot, store.current().catalog)
    _LOGGER.info("Storybot is running as @%s", app.bot.username)
