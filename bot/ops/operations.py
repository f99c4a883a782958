"""The operations services of a running bot, built from the settings in one place."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.config import Settings
from bot.live import CatalogStore
from bot.ops.admin import AdminCommands
from bot.ops.blocklist import Blocklist, blocklist_path
from bot.ops.digest import Digest, Send
from bot.ops.exchange import ExchangeSink, pseudonym
from bot.ops.logfile import close_sinks, open_sinks
from bot.ops.reload import Watcher


@dataclass
class Operations:
    """Exchange sinks, the moderators' digest, the catalogue watcher, the block list, admin."""

    settings: Settings
    sinks: list[ExchangeSink]
    watcher: Watcher
    blocklist: Blocklist
    admin: AdminCommands
    digest: Digest | None = None
    _send: Send | None = field(default=None, repr=False)

    @classmethod
    def open(cls, settings: Settings, store: CatalogStore) -> Operations:
        """Everything wired together; the digest only when MODERATOR_CHAT_ID is set.

        Pass settings through bot.ops.salt.with_salt first, so pseudonyms never use an empty key.
        """
        digest = None
        if settings.moderator_chat_id is not None:
            digest = Digest(interval=settings.digest_interval, root=settings.stories_dir.parent)
        sinks = open_sinks(settings) + ([digest] if digest is not None else [])
        watcher = Watcher(
            store,
            interval=settings.reload_interval,
            on_problems=digest.add_problems if digest is not None else None,
        )
        blocklist = Blocklist(blocklist_path(settings))
        admin = AdminCommands(
            settings.admin_ids,
            store=store,
            blocklist=blocklist,
            log_path=settings.exchange_log,
            watcher=watcher,
            admin_keys=[pseudonym(settings.log_salt.get().encode(), "user", a) for a in settings.admin_ids],
        )
        return cls(settings, sinks, watcher, blocklist, admin, digest)

    def start(self, send_to_moderators: Send | None = None) -> None:
        """Start watching the catalogue and sending digests (in the app's post_init)."""
        self.watcher.start()
        if self.digest is not None and send_to_moderators is not None:
            self._send = send_to_moderators
            self.digest.start(send_to_moderators)

    async def stop(self) -> None:
        """Stop both loops, send what is left, close the log (in the app's post_shutdown)."""
        await self.watcher.stop()
        if self.digest is not None:
            await self.digest.stop(self._send)
        close_sinks(self.sinks)
