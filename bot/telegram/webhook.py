"""The webhook server: Telegram's POSTs checked before their body is read, and GET /healthz.

PTB's built-in server reads a whole body before it looks at the secret and keeps any number of
connections open. This one (tornado, which PTB's webhooks extra installs; PTB documents custom
webhook servers) refuses a POST without the secret from its headers alone, caps the body and the
connections, and closes idle ones. An update is put on the application's queue; in webhook mode
that is a `HandledQueue`, so the 200 goes out only once the update is handled.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
import time
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from telegram import Update
from telegram.error import BadRequest, NetworkError, RetryAfter
from tornado.httpserver import HTTPServer
from tornado.iostream import IOStream
from tornado.web import Application, RequestHandler, stream_request_body

from bot.config import Settings
from bot.telegram.context import App
from bot.telegram.delivery import HandledQueue

_LOGGER = logging.getLogger(__name__)
MAX_BODY_BYTES = 1024 * 1024  # Telegram's updates are a few KiB; a long message is under 100 KiB
MAX_CONNECTIONS = 100  # Telegram opens at most 40 (setWebhook max_connections, default 40)
IDLE_SECONDS = 60.0  # a keep-alive connection with nothing to say is closed after this
BODY_SECONDS = 10.0  # a body that trickles in slower than this is dropped
HEALTH_PATH = "/healthz"
STALLED_SECONDS = 120.0  # updates waiting, none handled for this long: the queue is not moving
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class _LimitedServer(HTTPServer):
    """An HTTP server that closes connections beyond MAX_CONNECTIONS at once."""

    def handle_stream(self, stream: IOStream, address: tuple[Any, ...]) -> None:
        """Serve the connection, or close it when too many are open."""
        if len(self._connections) >= self.max_connections:
            stream.close()
            return
        super().handle_stream(stream, address)

    max_connections = MAX_CONNECTIONS


@stream_request_body
class _UpdateHandler(RequestHandler):
    """POST <path>: one update, 200 once handled; 403 without the secret, before any body is read."""

    def initialize(self, app: App, secret: str) -> None:
        self.app = app
        self.secret = secret
        self.chunks: list[bytes] = []

    def prepare(self) -> None:
        """Look at the headers only: the secret, then the announced size."""
        if self.request.method != "POST":
            self.send_error(405)
            return
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            self.send_error(403)
            return
        try:
            length = int(self.request.headers.get("Content-Length", "0"))
        except ValueError:
            length = MAX_BODY_BYTES + 1
        if length > MAX_BODY_BYTES:
            self.send_error(413)
            return
        self.request.connection.set_max_body_size(MAX_BODY_BYTES)  # type: ignore[union-attr]
        self.request.connection.set_body_timeout(BODY_SECONDS)  # type: ignore[union-attr]

    def data_received(self, chunk: bytes) -> None:
        """Keep the body (its size is capped by the connection)."""
        self.chunks.append(chunk)

    async def post(self) -> None:
        """Queue the update and answer once it is handled."""
        try:
            data = json.loads(b"".join(self.chunks))
            update = Update.de_json(data, self.app.bot)
        except Exception:
            # Telegram would send it again and again: log it once (never its content) and confirm it.
            _LOGGER.warning("Skipped a webhook update that cannot be read")
            self.set_status(200)
            return
        await self.app.update_queue.put(update)
        self.set_status(200)


class _HealthHandler(RequestHandler):
    """GET /healthz: 200 when the catalogue is loaded and the update queue is moving."""

    def initialize(self, app: App) -> None:
        self.app = app

    def get(self) -> None:
        """200 or 503, with one word."""
        healthy = self.app.running and is_moving(self.app.update_queue)
        self.set_status(200 if healthy else 503)
        self.finish("ok\n" if healthy else "stalled\n")


def is_moving(queue: asyncio.Queue[object]) -> bool:
    """Whether updates get handled: none waiting, or one handled lately."""
    if not isinstance(queue, HandledQueue) or not queue.waiting:
        return True
    return time.monotonic() - queue.last_handled < STALLED_SECONDS


class WebhookServer:
    """The server for one application, started and stopped around it."""

    def __init__(self, app: App, settings: Settings, path: str) -> None:
        routes: list[tuple[str, type[RequestHandler], dict[str, Any]]] = [
            (HEALTH_PATH, _HealthHandler, {"app": app}),
            (f"/{path}" if path else "/", _UpdateHandler, {"app": app, "secret": settings.webhook_secret.get()}),
        ]
        self.server = _LimitedServer(
            Application(routes),
            max_body_size=MAX_BODY_BYTES,
            max_buffer_size=MAX_BODY_BYTES,
            idle_connection_timeout=IDLE_SECONDS,
            body_timeout=BODY_SECONDS,
            xheaders=False,
        )

    def listen(self, port: int, address: str) -> None:
        """Accept connections (in the running event loop)."""
        self.server.listen(port, address)

    def stop_accepting(self) -> None:
        """Take no new connections; those open still get their answers."""
        self.server.stop()

    async def close(self) -> None:
        """Close the connections still open."""
        self.server.stop()
        await self.server.close_all_connections()


async def set_webhook(app: App, options: dict[str, Any], retries: int) -> None:
    """Tell Telegram where to send updates, trying again a few times when it is unreachable."""
    for attempt in range(retries + 1):
        try:
            await app.bot.set_webhook(
                url=options["webhook_url"],
                secret_token=options["secret_token"],
                allowed_updates=options["allowed_updates"],
                drop_pending_updates=options["drop_pending_updates"],
            )
            return
        except (RetryAfter, NetworkError) as exc:
            if attempt == retries or isinstance(exc, BadRequest):
                raise
            _LOGGER.warning("Could not set the webhook (%s); trying again", exc)
            await asyncio.sleep(1.0 + attempt)


@asynccontextmanager
async def serving(
    app: App, settings: Settings, options: dict[str, Any], stop: asyncio.Event | None = None
) -> AsyncIterator[WebhookServer]:
    """The application served by webhook inside the block, in run_webhook's order; then stopped,
    flushed and shut down (the updates in flight are handled and answered 200 first). A `stop`
    set while the webhook is being set (SIGTERM) ends that at once: a clean exit, not a failure."""
    server = WebhookServer(app, settings, options["url_path"])
    try:
        await app.initialize()
        if app.post_init is not None:
            await app.post_init(app)
        server.listen(options["port"], options["listen"])
        await app.start()
        await _unless_stopped(set_webhook(app, options, options["bootstrap_retries"]), stop)
        yield server
    finally:
        server.stop_accepting()
        if app.running:
            await app.stop()
            if app.post_stop is not None:
                await app.post_stop(app)
        await server.close()
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


async def _unless_stopped(work: Coroutine[Any, Any, None], stop: asyncio.Event | None) -> None:
    """Await `work`, or cancel it when `stop` is set first."""
    task = asyncio.ensure_future(work)
    if stop is None:
        await task
        return
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return
    task.result()


async def run_webhook(app: App, settings: Settings, options: dict[str, Any]) -> None:
    """Serve until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with serving(app, settings, options, stop):
        await stop.wait()
