"""The bot's HTTP to the Bot API for every call but getUpdates: aiohttp, one JSON body per call.

PTB's own HTTPXRequest spends most of a broadcast's CPU in httpx, httpcore and anyio, and form-encodes
each message byte by byte. On this transport one process sends about twice as many messages a second
(bench/bench_broadcast.py; figures in BENCHMARKS.md), and live replies get the same shorter path.
getUpdates keeps PTB's HTTPXRequest (`ConfirmAfterHandled` in delivery.py builds on it).

Errors become PTB's: a timeout is `TimedOut`, anything else on the wire `NetworkError`. Their text
never carries the request's address, which holds the bot's token, and the aiohttp error is not
chained (a traceback would print it).
"""

from __future__ import annotations

import json
import re
import ssl
import urllib.request

import aiohttp
import certifi
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_TOKEN_IN_URL = re.compile(r"/bot[^/\s'\"]+")
JSON = {"Content-Type": "application/json"}


class AiohttpRequest(BaseRequest):
    """A `BaseRequest` on one aiohttp session (keep-alive connections, at most `connection_pool_size`).

    The timeouts mean what they mean for PTB's HTTPXRequest: `connect` to open a connection, `pool`
    to wait for a free one, `read` for the answer. aiohttp has no write timeout of its own, so the
    whole call is bounded by the sum of all four instead (a message is written in one go).
    """

    __slots__ = ("_connect", "_media_write", "_pool", "_pool_size", "_proxies", "_read", "_session", "_write")

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read, self._write, self._connect, self._pool = read_timeout, write_timeout, connect_timeout, pool_timeout
        self._media_write = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, str | None] = {}

    @property
    def read_timeout(self) -> float | None:
        """The read timeout when a call does not set one."""
        return self._read

    async def initialize(self) -> None:
        """Open the session (inside the running event loop, as aiohttp requires)."""
        if self._session is None or self._session.closed:
            # The CA bundle PTB's httpx trusts, so moving transports changes nothing about TLS.
            context = ssl.create_default_context(cafile=certifi.where())
            connector = aiohttp.TCPConnector(limit=self._pool_size, ssl=context)
            self._session = aiohttp.ClientSession(connector=connector)

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """One call: JSON when it carries no files, multipart when it does."""
        if self._session is None:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data is not None and request_data.contains_files
        read = _given(read_timeout, self._read)
        write = _given(write_timeout, self._media_write if files else self._write)
        connect = _given(connect_timeout, self._connect)
        pool = _given(pool_timeout, self._pool)
        parts = (read, write, connect, pool)
        timeout = aiohttp.ClientTimeout(
            total=None if None in parts else sum(p or 0.0 for p in parts),
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=read,
        )
        headers = {"User-Agent": self.USER_AGENT}
        body: bytes | aiohttp.FormData | None = None
        if request_data is not None:
            if files:
                body = _form(request_data)
            else:
                # The values themselves (PTB's json_payload would hold each object as a JSON string).
                body = json.dumps(request_data.parameters, ensure_ascii=False).encode()
                headers |= JSON
        proxy = self._proxy(url)
        try:
            async with self._session.request(
                method, url, data=body, headers=headers, timeout=timeout, proxy=proxy
            ) as answer:
                return answer.status, await answer.read()
        except TimeoutError as exc:  # aiohttp's own timeouts subclass it too
            raise TimedOut(_safe(exc) or "Timed out") from None
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {_safe(exc)}") from None

    def _proxy(self, url: str) -> str | None:
        """The proxy the environment names for this server (HTTPS_PROXY, NO_PROXY...), as httpx
        honoured them; looked up once per server, since aiohttp's `trust_env` reads the
        environment again on every call (half of a broadcast's time)."""
        origin = url.split("/", 3)[:3]  # scheme:, "", host[:port]
        key = "/".join(origin)
        if key not in self._proxies:
            scheme, host = origin[0].rstrip(":"), origin[2].rpartition("@")[2].split(":")[0]
            self._proxies[key] = None if urllib.request.proxy_bypass(host) else urllib.request.getproxies().get(scheme)
        return self._proxies[key]


def _given(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


def _form(request_data: RequestData) -> aiohttp.FormData:
    """A call with files as multipart/form-data: the parameters as text, the files as parts."""
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():  # a file's own parameter has no JSON value
        form.add_field(name, value)
    for name, (filename, content, mime) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mime)
    return form


def _safe(exc: BaseException) -> str:
    """An error's text with any Bot API address's token cut out."""
    return _TOKEN_IN_URL.sub("/bot<token>", str(exc))
