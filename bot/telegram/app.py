"""The Telegram application, built once: services, delivery, handlers in order, lifecycle, serving."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from telegram import Bot, BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    ApplicationBuilder,
    BaseRateLimiter,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    PersistenceInput,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.broadcast.outbox import Outbox
from bot.broadcast.schedule import Scheduler
from bot.broadcast.sender import Broadcaster, live_first_limiter
from bot.catalog.model import LANGS, Catalog
from bot.config import Settings
from bot.live import CatalogStore
from bot.ops.exchange import ExchangeSink
from bot.ops.operations import Operations
from bot.ops.salt import with_salt
from bot.telegram import handlers
from bot.telegram.admin import admin_registrar, moderator_sender
from bot.telegram.context import App, BlockedCheck, Registrar, Services, StoryContext, nobody_blocked
from bot.telegram.delivery import ChatOrderedProcessor, ConfirmAfterHandled, HandledQueue, RetryingRateLimiter
from bot.telegram.guard import FloodControl, gate
from bot.telegram.http import AiohttpRequest
from bot.telegram.inline import answer_inline
from bot.telegram.ledger import UpdateLedger
from bot.telegram.logging_setup import Redactor
from bot.telegram.persistence import SQLitePersistence
from bot.telegram.subscriptions import subscriptions_registrar
from bot.telegram.webhook import run_webhook

_LOGGER = logging.getLogger(__name__)
CONCURRENT_UPDATES = 256
PERSIST_EVERY = 5.0  # seconds; PTB also writes everything once more at shutdown
# Only what the bot answers; edited messages and the rest never leave Telegram.
ALLOWED_UPDATES = (Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY)
BOOTSTRAP_RETRIES = 5
POLL_TIMEOUT = 30
# Every reply is Telegram HTML; stories link out, and a preview card under each would bury the text.
DEFAULTS = Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True))


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
    blocked: BlockedCheck = nobody_blocked,
    rate_limiter: BaseRateLimiter[int] | None = None,
) -> App:
    """The bot, ready for run_polling/run_webhook (or initialize/start in tests)."""
    persistence = SQLitePersistence(
        settings.state_db,
        # bot_data holds the live services (the storyteller, sinks...), which are not JSON.
        store_data=PersistenceInput(bot_data=False, callback_data=False),
        update_interval=PERSIST_EVERY,
    )
    confirming = ConfirmAfterHandled()
    ledger = confirming.ledger = UpdateLedger()  # polling confirms each update once handled
    # Webhook: Telegram hears 200 only once the update is handled (polling: `confirming`).
    queue: asyncio.Queue[object] = HandledQueue() if settings.webhook_url else asyncio.Queue()
    handled = queue.handled if isinstance(queue, HandledQueue) else None
    builder = (
        ApplicationBuilder()
        .token(settings.token.get())
        .defaults(DEFAULTS)
        .context_types(ContextTypes(context=StoryContext, bot_data=Services))
        .get_updates_request(confirming)
        .update_queue(queue)
        .base_url(settings.base_url)
        .rate_limiter(rate_limiter or RetryingRateLimiter())
        .concurrent_updates(
            ChatOrderedProcessor(
                CONCURRENT_UPDATES,
                on_handled=handled or ledger.handled,
                seen=lambda update: _reaching_handlers(ledger, persistence, update),
                settle=lambda update: _settle(app, persistence, update),
            )
        )
        .persistence(persistence)
        .post_init(_post_init)
        .post_shutdown(_close_http)
    )
    builder = builder.request(request or AiohttpRequest())
    app: App = builder.build()
    services = app.bot_data
    services.settings = settings
    services.store = store
    services.storyteller = store.storyteller()
    services.sinks = list(sinks)
    services.blocked = blocked
    services.redactor = Redactor(secrets_of(settings))
    services.flood = FloodControl(settings.flood_limit, settings.flood_window)
    _register_handlers(app, registrars)
    return app


async def _close_http(app: App) -> None:
    """PTB closes the bot's HTTP only if the bot started: after a failed start (a rejected token)
    the connections are still open, and aiohttp would complain about them at exit."""
    await app.bot.request.shutdown()


def _reaching_handlers(ledger: UpdateLedger, persistence: SQLitePersistence, update: object) -> bool:
    """An update reaches the handlers: whether it was answered before a restart (then it is skipped)."""
    ledger.start(update)
    return persistence.was_handled(update)


async def _settle(app: App, persistence: SQLitePersistence, update: object) -> None:
    """Once an update is handled: the fans' state written at once (a kill -9 a second later keeps
    a language choice), and the update remembered so a re-sent copy is not answered again."""
    persistence.mark_handled(update)  # first: it is one small write, and a repeat is what a kill costs
    await app.update_persistence()


def _register_handlers(app: App, registrars: Iterable[Registrar]) -> None:
    # Group -1 sees every update first: what is not for us, blocked fans and flooders stop there.
    app.add_handler(TypeHandler(Update, gate), group=-1)
    # Group 0: the first handler that matches answers, so the order below matters.
    # 1. Our commands (PTB accepts /cmd and /cmd@thisbot, never /cmd@otherbot).
    for name, callback in zip(
        handlers.MENU, (handlers.start, handlers.help_, handlers.stories, handlers.language), strict=True
    ):
        app.add_handler(CommandHandler(name, callback))
    # 2. Extra handlers (operations: /stats, /reload...), ahead of the catch-alls below.
    for registrar in registrars:
        registrar(app)
    # 3. Button presses and inline queries.
    app.add_handler(CallbackQueryHandler(handlers.press))
    app.add_handler(InlineQueryHandler(answer_inline))
    # 4. Text meant for us (the guard let through only private chats, @mentions, replies to us).
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, handlers.text))
    # 5. Commands we do not know, in private chats: how to talk to us.
    app.add_handler(MessageHandler(filters.COMMAND & filters.ChatType.PRIVATE, handlers.help_))
    # 6. Stickers, photos, voice... (service messages like "X joined" are not answered).
    app.add_handler(MessageHandler(~filters.TEXT & ~filters.StatusUpdate.ALL, handlers.non_text))
    # Whatever fails is logged and recorded; the next update is handled as usual.
    app.add_error_handler(handlers.on_error)


async def _post_init(app: App) -> None:
    """Once connected: publish the commands menu."""
    await publish_commands(app.bot, app.bot_data.store.current().catalog)
    _LOGGER.info("Storybot is running as @%s", app.bot.username)


def command_menu(catalog: Catalog, lang: str) -> list[BotCommand]:
    """The menu in one language; descriptions are ui.yaml's `cmd_<command>` strings."""
    ui = catalog.ui.get(lang, {})
    return [BotCommand(name, ui.get(f"cmd_{name}", name)) for name in handlers.MENU]


async def publish_commands(bot: Bot, catalog: Catalog) -> None:
    """Set the menu: the first language for everyone, the others for fans whose app uses them."""
    try:
        await bot.set_my_commands(command_menu(catalog, LANGS[0]))
        for lang in LANGS[1:]:
            await bot.set_my_commands(command_menu(catalog, lang), language_code=lang)
    except TelegramError as exc:  # a missing menu is no reason not to answer fans
        _LOGGER.warning("Could not set the commands menu: %s", exc)


# --- production: the application plus operations, served ------------------------------------


def build_bot(settings: Settings, store: CatalogStore) -> tuple[App, Operations]:
    """Everything `storybot run` serves: operations start in post_init and stop in post_stop, after
    the last update is handled and before the HTTP client closes (so the last digest still goes out)."""
    settings = with_salt(settings)  # pseudonyms never use an empty key
    ops = Operations.open(settings, store)
    outbox = Outbox(settings.state_db)  # subscribers and broadcasts, beside the fans' state
    ops.admin.subscribers = outbox.subscribers
    app = build_application(
        settings,
        store,
        sinks=ops.sinks,
        registrars=[admin_registrar(ops.admin), subscriptions_registrar(outbox)],
        blocked=ops.blocklist.is_blocked,
        rate_limiter=live_first_limiter(settings.broadcast_rate),  # replies first, broadcasts share
    )
    broadcaster = Broadcaster.configured(settings, outbox, app.bot, app.bot_data.storyteller, ops.sinks)
    scheduler = Scheduler(outbox, lambda: store.current().catalog.schedule)  # broadcasts.yaml, live

    async def post_init(application: App) -> None:
        await _post_init(application)
        chat = settings.moderator_chat_id
        ops.start(moderator_sender(application, chat) if chat is not None else None)
        if isinstance(application.persistence, SQLitePersistence) and ops.digest is not None:
            for notice in application.persistence.damage_report():
                ops.digest.add_notice(notice)
        broadcaster.start()  # sends what `storybot broadcast` queues
        scheduler.start()  # queues broadcasts.yaml's entries when due

    async def post_stop(application: App) -> None:
        # Before the HTTP client closes: the broadcast's sends in flight and the last digest.
        await scheduler.stop()
        await broadcaster.stop()
        await ops.stop()
        outbox.close()

    app.post_init = post_init
    app.post_stop = post_stop
    return app, ops


def polling_options() -> dict[str, Any]:
    """Arguments for Application.run_polling (and Updater.start_polling)."""
    return {
        "allowed_updates": list(ALLOWED_UPDATES),
        "poll_interval": 0.0,
        "timeout": POLL_TIMEOUT,
        "bootstrap_retries": BOOTSTRAP_RETRIES,
        "drop_pending_updates": False,  # updates that arrived while we were down still count
    }


def webhook_options(settings: Settings, listen: str = "0.0.0.0") -> dict[str, Any]:
    """Arguments for Application.run_webhook (and Updater.start_webhook).

    The local path is WEBHOOK_URL's path, so a platform router forwarding that URL to PORT
    reaches the handler. Our server (webhook.py) answers 403 to any POST without the secret
    token header, before reading its body.
    """
    return {
        "listen": listen,
        "port": settings.port,
        "url_path": urlsplit(settings.webhook_url).path.strip("/"),
        "webhook_url": settings.webhook_url,
        "secret_token": settings.webhook_secret.get(),
        "allowed_updates": list(ALLOWED_UPDATES),
        "bootstrap_retries": BOOTSTRAP_RETRIES,
        "drop_pending_updates": False,
    }


def serve(app: App, settings: Settings) -> None:
    """Serve until SIGINT/SIGTERM; PTB then finishes the updates in flight and shuts down."""
    if settings.webhook_url:
        _LOGGER.info("Receiving updates by webhook on port %d", settings.port)
        asyncio.run(run_webhook(app, settings, webhook_options(settings)))
    else:
        _LOGGER.info("Receiving updates by long polling")
        app.run_polling(**polling_options())
