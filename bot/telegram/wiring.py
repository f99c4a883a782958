"""The production bot: the application plus operations (log, reload, digests, admin, block list)."""

from __future__ import annotations

from bot.config import Settings
from bot.live import CatalogStore
from bot.ops.operations import Operations
from bot.ops.salt import with_salt
from bot.telegram.admin import admin_registrar, moderator_sender
from bot.telegram.app import build_application
from bot.telegram.services import App


def build_bot(settings: Settings, store: CatalogStore) -> tuple[App, Operations]:
    """Everything `storybot run` serves, with operations started and stopped with the app."""
    settings = with_salt(settings)  # pseudonyms never use an empty key
    ops = Operations.open(settings, store)
    app = build_application(
        settings,
        store,
        sinks=ops.sinks,
        registrars=[admin_registrar(ops.admin)],
        blocked=ops.blocklist.is_blocked,
    )
    first_post_init = app.post_init

    async def post_init(application: App) -> None:
        if first_post_init is not None:
            await first_post_init(application)
        chat = settings.moderator_chat_id
        ops.start(moderator_sender(application, chat) if chat is not None else None)

    async def post_shutdown(application: App) -> None:
        await ops.stop()

    app.post_init = post_init
    app.post_shutdown = post_shutdown
    return app, ops
