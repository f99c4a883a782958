"""An offline Bot API request: answers PTB from memory, records every call, never opens a socket.

PTB's own test idea, shared by the Telegram tests, the ops admin tests and the pipeline bench.
It stays cheap (one shallow dict per call, no deep copies) so the bench's figures mean something.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from telegram.request import BaseRequest, RequestData

from .server import BOT_USERNAME, TOKEN

BOT_ID = int(TOKEN.split(":")[0])
BOT_USER: dict[str, Any] = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Storybot Test",
    "username": BOT_USERNAME,
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": True,
}


@dataclass
class ApiCall:
    """One Bot API call the offline request answered."""

    method: str
    params: dict[str, Any]
    result: Any = None  # what it answered (None for a queued failure)


class OfflineRequest(BaseRequest):
    """Answers every call in process: getMe the bot user, sendMessage/editMessageText a Message,
    anything else True (or a queued failure); keeps every call in `calls`."""

    def __init__(self, bot_user: dict[str, Any] | None = None) -> None:
        self.bot_user = BOT_USER if bot_user is None else bot_user
        self.calls: list[ApiCall] = []
        self.failures: dict[str, deque[tuple[int, str]]] = {}
        self._ids = itertools.count(1)

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def fail_next(self, method: str, code: int, description: str) -> None:
        """Answer the next call to `method` with an error."""
        self.failures.setdefault(method, deque()).append((code, description))

    def to(self, method: str) -> list[dict[str, Any]]:
        """Parameters of every call to `method`."""
        return [c.params for c in self.calls if c.method == method]

    def sent_texts(self) -> list[str]:
        """Text of every sendMessage."""
        return [str(p["text"]) for p in self.to("sendMessage")]

    def texts_to(self, chat_id: int) -> list[str]:
        """Text of every sendMessage to one chat."""
        return [str(p["text"]) for p in self.to("sendMessage") if int(p["chat_id"]) == chat_id]

    def messages_to(self, chat_id: int) -> list[dict[str, Any]]:
        """Every message sendMessage answered with in one chat, as Telegram would (a fan taps these)."""
        return [
            c.result
            for c in self.calls
            if c.method == "sendMessage" and c.result and int(c.params["chat_id"]) == chat_id
        ]

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        endpoint = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data else {}  # a fresh (shallow) dict each time
        call = ApiCall(endpoint, params)
        self.calls.append(call)
        queue = self.failures.get(endpoint)
        if queue:
            code, description = queue.popleft()
            body = {"ok": False, "error_code": code, "description": description}
            return code, json.dumps(body).encode()
        call.result = self._result(endpoint, params)
        return 200, json.dumps({"ok": True, "result": call.result}).encode()

    def _result(self, endpoint: str, params: dict[str, Any]) -> Any:
        if endpoint == "getMe":
            return self.bot_user
        if endpoint in ("sendMessage", "editMessageText"):
            chat_id = int(params["chat_id"]) if "chat_id" in params else int(self.bot_user["id"])
            message_id = params.get("message_id") or next(self._ids)
            chat: dict[str, Any] = {"id": chat_id, "type": "private" if chat_id > 0 else "group"}
            return {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": chat,
                "from": self.bot_user,
                "text": params.get("text", ""),
            }
        return True
