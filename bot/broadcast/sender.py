"""The sender: drains the outbox within a rate, live replies first, each outcome recorded.

The running bot drains it (so broadcasts and replies share the bot's one rate budget); with no
bot running, `storybot broadcast` drains it itself. A lease in the state keeps it to one sender.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import math
import time
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter

from bot.broadcast.outbox import BLOCKED, FAILED, MAX_ATTEMPTS, PENDING, SENT, Delivery, Outbox
from bot.config import Settings
from bot.ops.exchange import Exchange, ExchangeSink, pseudonym
from bot.replies.model import Reply
from bot.replies.storyteller import Storyteller
from bot.replies.subscriptions import broadcast_reply
from bot.telegram.delivery import Result, RetryingRateLimiter
from bot.telegram.outbox import keyboard

_LOGGER = logging.getLogger(__name__)
SENDERS = 4  # sends in flight at once at the default pace: also the most a kill can leave in doubt
ROUND_TRIP = 0.15  # seconds a send to Telegram may take: a faster paid pace needs more in flight
IDLE_POLL = 1.0  # seconds between looks for newly queued broadcasts (another process may queue)
LIVE_HEADROOM = 5.0  # messages a second always left to live replies under the overall limit
# Set while a broadcast message is being sent, so the shared rate limiter can tell it from a reply.
BROADCASTING: contextvars.ContextVar[bool] = contextvars.ContextVar("broadcasting", default=False)
OUTCOME = {SENT: "delivered", BLOCKED: "bot_blocked", FAILED: "failed"}


class LiveFirstRateLimiter(RetryingRateLimiter):
    """The bot's one rate budget: a broadcast message waits while any live reply is on its way.

    Live requests keep the network retries; a broadcast message that fails goes back to the outbox
    instead (its sender tries others meanwhile). 429s are waited out for both, as Telegram asks.
    """

    __slots__ = ("_live", "_quiet")

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._live = 0
        self._quiet = asyncio.Event()
        self._quiet.set()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        """Broadcast messages wait for quiet; replies count themselves in and out."""
        if BROADCASTING.get():
            while self._live:
                await self._quiet.wait()
            return await AIORateLimiter.process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args)
        self._live += 1
        self._quiet.clear()
        try:
            return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
        finally:
            self._live -= 1
            if not self._live:
                self._quiet.set()


def live_first_limiter(broadcast_rate: float) -> LiveFirstRateLimiter:
    """The limiter for a bot that broadcasts at `broadcast_rate` (0: no limit at all, for local servers)."""
    if broadcast_rate <= 0:
        return LiveFirstRateLimiter(overall_max_rate=0, group_max_rate=0)
    return LiveFirstRateLimiter(overall_max_rate=max(30.0, broadcast_rate + LIVE_HEADROOM))


def in_flight(rate: float) -> int:
    """How many sends to keep in flight to hold `rate` a second (0: no limit) when each takes up to
    ROUND_TRIP: SENDERS at Telegram's free pace, more only for a paid one."""
    return max(SENDERS, math.ceil(rate * ROUND_TRIP))


class Pace:
    """At most `rate` starts a second, evenly spaced (0: no limit)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1 / rate if rate > 0 else 0.0
        self._next = 0.0

    async def wait(self) -> None:
        """Wait for the next slot."""
        if not self.interval:
            return
        now = time.monotonic()
        at = max(self._next, now)
        self._next = at + self.interval
        if at > now:
            await asyncio.sleep(at - now)


class Broadcaster:
    """Sends what the outbox holds: one message per delivery, each outcome committed and logged."""

    def __init__(
        self,
        outbox: Outbox,
        bot: Bot,
        storyteller: Storyteller,
        *,
        salt: bytes,
        rate: float,
        paid: bool = False,
        sinks: Iterable[ExchangeSink] = (),
        senders: int | None = None,
    ) -> None:
        self.outbox = outbox
        self.bot = bot
        self.storyteller = storyteller
        self.salt = salt
        self.pace = Pace(rate)
        self.paid = paid
        self.sinks = list(sinks)
        self.senders = senders or in_flight(rate)
        self.doubtful = 0
        self._task: asyncio.Task[None] | None = None
        self._renewed = time.monotonic()
        self._replies: dict[tuple[str, str], Reply | None] = {}

    @classmethod
    def configured(
        cls, settings: Settings, outbox: Outbox, bot: Bot, storyteller: Storyteller, sinks: Iterable[ExchangeSink]
    ) -> Broadcaster:
        """The sender as the settings ask (pace, sends in flight, paid), for the bot and the command alike."""
        return cls(
            outbox,
            bot,
            storyteller,
            salt=settings.log_salt.get().encode(),
            rate=settings.broadcast_rate,
            senders=settings.broadcast_in_flight or None,
            paid=settings.broadcast_paid,
            sinks=sinks,
        )

    # --- lifecycle in a running bot ---------------------------------------------------------

    def start(self) -> None:
        """Drain in the background for as long as the bot runs (in post_init)."""
        self._task = asyncio.create_task(self.drain(until_idle=False), name="broadcasts")

    async def stop(self) -> None:
        """Stop sending (in post_shutdown); what was in flight stays `sending` and goes again."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.outbox.release_lease()

    # --- draining -----------------------------------------------------------------------------

    async def drain(self, *, until_idle: bool = True) -> None:
        """Send until nothing is left (`until_idle`) or forever, holding the sender's lease."""
        BROADCASTING.set(True)  # this task and the senders it starts send broadcast messages only
        while not self.outbox.take_lease():
            if until_idle:
                return
            await asyncio.sleep(IDLE_POLL)
        self.doubtful += self.outbox.recover()
        while True:
            await asyncio.gather(*(self._sender() for _ in range(self.senders)))
            self._renew()
            if until_idle and not self.outbox.has_pending():
                self.outbox.release_lease()
                return
            await asyncio.sleep(IDLE_POLL if not self.outbox.has_pending() else 0)

    async def _sender(self) -> None:
        # The pace first, then the claim: a row is `sending` (in doubt at a kill) only while its
        # request is really on its way.
        while True:
            await self.pace.wait()
            claimed = self.outbox.claim(1)
            if not claimed:
                return
            self._renew()
            await self._deliver(claimed[0])

    async def _deliver(self, delivery: Delivery) -> None:
        started = time.perf_counter()
        reply = self._reply(delivery.story, delivery.lang)
        if reply is None:
            self._done(delivery, FAILED, started, error="no such story in the catalogue")
            return
        try:
            message = await self.bot.send_message(
                delivery.chat_id,
                reply.text,
                reply_markup=keyboard(reply),
                allow_paid_broadcast=self.paid or None,
            )
        except Forbidden as exc:  # the fan blocked the bot (or left the group): no more broadcasts
            self.outbox.unsubscribe(delivery.chat_id)
            self._done(delivery, BLOCKED, started, error=str(exc))
        except BadRequest as exc:  # chat not found, deactivated...: trying again cannot help
            self._done(delivery, FAILED, started, error=str(exc))
        except (NetworkError, RetryAfter) as exc:  # lost, 5xx, timed out, or still 429 after waiting
            if delivery.attempts >= MAX_ATTEMPTS:
                self._done(delivery, FAILED, started, error=str(exc))
            else:
                self.outbox.finish(delivery, PENDING, error=str(exc))
                await asyncio.sleep(min(0.05 * 2 ** (delivery.attempts - 1), 5.0))
        except TelegramError as exc:
            self._done(delivery, FAILED, started, error=str(exc))
        else:
            self._done(delivery, SENT, started, message_id=message.message_id)

    def _renew(self) -> None:
        if time.monotonic() - self._renewed > IDLE_POLL:
            self.outbox.take_lease()
            self._renewed = time.monotonic()

    def _reply(self, story: str, lang: str) -> Reply | None:
        # One rendering per story and language: every subscriber of a language gets the same message.
        key = (story, lang)
        if key not in self._replies:
            self._replies[key] = broadcast_reply(self.storyteller, story, lang)
        return self._replies[key]

    def _done(
        self, delivery: Delivery, state: str, started: float, *, message_id: int | None = None, error: str | None = None
    ) -> None:
        # The log line first, then the commit: a kill between the two sends the message again (it
        # is still `sending`) and logs it again, which the report counts once per chat; the other
        # order would lose the line of a delivery the outbox already counts.
        exchange = delivery_exchange(self.salt, delivery, OUTCOME[state], (time.perf_counter() - started) * 1000)
        for sink in self.sinks:
            try:
                sink.record(exchange)
            except Exception:
                _LOGGER.exception("Exchange sink %r failed", sink)
        self.outbox.finish(delivery, state, message_id=message_id, error=error)


def broadcast_campaign(broadcast: int) -> str:
    """How the exchange log names a broadcast."""
    return f"broadcast-{broadcast}"


def delivery_exchange(salt: bytes, delivery: Delivery, outcome: str, latency_ms: float) -> Exchange:
    """A delivery as an exchange: the chat's pseudonym only, so subscribers do not count as fans who asked."""
    return Exchange(
        update_id=None,
        chat_type="private" if delivery.chat_id > 0 else "group",
        chat_key=pseudonym(salt, "chat", delivery.chat_id),
        user_key="",
        lang=delivery.lang,
        question="",
        outcome=outcome,
        story=delivery.story,
        campaign=broadcast_campaign(delivery.broadcast),
        latency_ms=latency_ms,
        kind="broadcast",
    )
