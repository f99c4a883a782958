"""Outgoing requests: Telegram's rate limits, RetryAfter honoured, network failures retried."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, NetworkError
from telegram.ext import AIORateLimiter

_LOGGER = logging.getLogger(__name__)
JSONDict = dict[str, Any]
Result = bool | JSONDict | list[JSONDict]


class RetryingRateLimiter(AIORateLimiter):
    """AIORateLimiter that also retries a request lost to the network (500s, drops, timeouts).

    PTB retries only RetryAfter (through AIORateLimiter); a NetworkError goes straight to the
    handler, so a reply would be lost to one dropped connection. BadRequest is a NetworkError
    subclass in PTB but is the request's own fault, so it is never retried.
    """

    __slots__ = ("_backoff", "_network_retries")

    def __init__(
        self,
        *,
        max_retries: int = 3,
        network_retries: int = 3,
        backoff: float = 0.5,
        **limits: float,
    ) -> None:
        super().__init__(max_retries=max_retries, **limits)
        self._network_retries = network_retries
        self._backoff = backoff

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        """Rate-limit the request; on a network failure try again, waiting longer each time."""
        for attempt in range(self._network_retries + 1):
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
            except BadRequest:
                raise
            except NetworkError as exc:
                if attempt == self._network_retries:
                    raise
                delay = self._backoff * 2**attempt
                _LOGGER.warning(
                    "%s failed (%s); retry %d of %d in %.2fs",
                    endpoint,
                    exc,
                    attempt + 1,
                    self._network_retries,
                    delay,
                )
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # the loop always returns or raises
