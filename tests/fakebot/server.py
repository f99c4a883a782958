"""A local fake Telegram Bot API server for testing the bot through real PTB over real HTTP.

Usage (standard library only; one server per test)::

    with FakeTelegram() as tg:
        app = ApplicationBuilder().token(TOKEN).base_url(tg.base_url).base_file_url(tg.base_file_url).build()
        ...  # start the app / updater
        uid = tg.message(42, "who let the ducks cross?")
        await tg.async_wait_for(lambda: tg.sent_messages(42))  # never block the bot's event loop
        await tg.async_wait_confirmed(uid)

Behaviour follows the Bot API where it is cheap to: Telegram-HTML is checked like tdlib does
(``strict_html`` additionally rejects a bare ``&``, which Telegram would show literally), text limits
apply after entity parsing, callback_data must be 1-64 bytes, edits that change nothing fail with
"message is not modified", getUpdates conflicts with a webhook or a second poller (409).
Faults (``fail_next``/``set_fault_rate``) never count as delivered, except ``lost_response``:
the method takes effect and then the connection is closed before the answer.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import email.parser
import email.policy
import http.client
import itertools
import json
import random
import re
import select
import socket
import sys
import threading
import time
import traceback
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TypeVar, cast

JSONDict = dict[str, Any]
T = TypeVar("T")

TOKEN = "123456789:AAFakeStorybotTokenForTests_0123456789"
BOT_USERNAME = "storybot_test_bot"
BOT_FIRST_NAME = "Storybot Test"
DEFAULT_USER_ID = 1001
FAULT_KINDS = frozenset({"retry_after", "server_error", "timeout", "drop", "lost_response"})
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a content and reply markup of the current content and reply markup of "
    "the message"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
MAX_TEXT = 4096
MAX_CAPTION = 1024
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# Form values PTB sends as plain strings that must never be JSON-decoded ("123" stays "123").
TEXT_FIELDS = frozenset(
    {
        "text",
        "caption",
        "query",
        "description",
        "short_description",
        "title",
        "name",
        "url",
        "secret_token",
        "parse_mode",
        "callback_query_id",
        "inline_query_id",
        "inline_message_id",
        "next_offset",
        "switch_pm_text",
        "switch_pm_parameter",
        "emoji",
        "language_code",
        "action",
        "file_id",
        "ip_address",
        "business_connection_id",
        "message_effect_id",
        "sticker",
        "photo",
        "document",
        "audio",
        "video",
        "animation",
        "voice",
        "video_note",
        "address",
        "first_name",
        "last_name",
        "phone_number",
        "question",
        "explanation",
        "payload",
        "custom_title",
        "game_short_name",
        "foursquare_id",
        "google_place_id",
    }
)
# Fields that make an inline keyboard button do something (a button needs exactly one).
_INLINE_BUTTON_ACTIONS = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)
_TRUE_PREFIXES = (
    "set",
    "delete",
    "pin",
    "unpin",
    "leave",
    "ban",
    "unban",
    "restrict",
    "promote",
    "approve",
    "decline",
    "edit",
)
_POLLING_METHODS = frozenset({"getUpdates", "getMe"})
_PATH_RE = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z0-9_]+)/?$")
_FILE_RE = re.compile(r"^/file/bot(?P<token>[^/]+)/(?P<path>.+)$")
_INT_RE = re.compile(r"-?\d+")
_FLOAT_RE = re.compile(r"-?\d+\.\d+(?:[eE][-+]?\d+)?")
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


# --------------------------------------------------------------------------- records


@dataclass
class Call:
    """One Bot API request as the fake saw it (time is time.monotonic())."""

    method: str
    params: JSONDict
    time: float
    token: str = ""
    status: int | None = None  # HTTP status sent; 0 = connection closed without an answer
    ok: bool = False  # True if the method took effect (a sent message was delivered, ...)
    result: Any = None
    error: str | None = None
    fault: str | None = None
    content_type: str = ""  # how the body came: application/json, multipart/form-data, ...
    _conn: socket.socket | None = field(default=None, repr=False, compare=False)

    @property
    def done(self) -> bool:
        """Whether the request has been answered (or deliberately left unanswered)."""
        return self.status is not None


@dataclass
class Fault:
    """A call the fake deliberately failed."""

    method: str
    kind: str
    params: JSONDict
    time: float


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart/form-data request."""

    filename: str | None
    content_type: str
    data: bytes


@dataclass
class WebhookPost:
    """An update POSTed to the bot's webhook endpoint by post_update_to()."""

    url: str
    update: JSONDict
    secret_token: str | None
    status: int
    body: bytes


@dataclass
class _FaultSpec:
    kind: str
    retry_after: int
    delay: float


@dataclass
class _MessageMeta:
    from_bot: bool
    source: str | None = None
    parse_mode: str | None = None
    markup: JSONDict | None = None


class _ClientGone(Exception):
    """The client closed its connection while its request was waiting (e.g. a cancelled poll)."""


class ApiError(Exception):
    """A Bot API error answer: ok=false with error_code and description."""

    def __init__(self, code: int, description: str, parameters: JSONDict | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


class HTMLParseError(ValueError):
    """Text that Telegram's HTML parse mode rejects (the message follows tdlib's wording)."""


# --------------------------------------------------------------------------- Telegram HTML

_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SPACES = frozenset(b" \t\r\n\0\x0b\x0c")
_NAMED_ENTITIES = {b"lt": 0x3C, b"gt": 0x3E, b"amp": 0x26, b"quot": 0x22}
_STRICT_ENTITY_RE = re.compile(rb"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_NAMED_LIKE_RE = re.compile(rb"&#?[A-Za-z0-9]+;")


def _is_alpha(c: int) -> bool:
    return 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A


def _decode_entity(data: bytes, pos: int) -> tuple[int, int]:
    """Decode an HTML entity at data[pos] == '&' like tdlib; return (code point or 0, next pos)."""
    end = pos + 1
    res = 0
    if data[end] == 0x23:  # '#'
        end += 1
        if data[end] == 0x78:  # 'x'
            end += 1
            while chr(data[end]) in "0123456789abcdefABCDEF":
                res = res * 16 + int(chr(data[end]), 16)
                end += 1
        else:
            while 0x30 <= data[end] <= 0x39:
                res = res * 10 + data[end] - 0x30
                end += 1
        if res == 0 or res >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while _is_alpha(data[end]):
            end += 1
        res = _NAMED_ENTITIES.get(data[pos + 1 : end], 0)
        if not res:
            return 0, pos
    if data[end] == 0x3B:  # ';'
        end += 1
    return res, end


def _append_code(out: bytearray, code: int) -> None:
    if 0xD800 <= code <= 0xDFFF:
        raise HTMLParseError(
            "Text contains invalid Unicode characters after decoding HTML entities, check for "
            "unmatched surrogate code units"
        )
    out += chr(code).encode("utf-8")


def parse_telegram_html(text: str, *, strict: bool = True) -> str:
    """Parse Telegram-HTML like tdlib does and return the plain text; raise HTMLParseError."""
    data = text.encode("utf-8") + b"\0"
    size = len(data) - 1
    out = bytearray()
    stack: list[tuple[str, str]] = []
    i = 0
    while i < size:
        c = data[i]
        if c == 0x26:  # '&'
            if strict and not _STRICT_ENTITY_RE.match(data, i):
                like = _NAMED_LIKE_RE.match(data, i)
                if like:
                    name = like.group().decode("ascii")
                    raise HTMLParseError(f'Unsupported HTML entity "{name}" at byte offset {i}')
                raise HTMLParseError(f'Unescaped "&" at byte offset {i}')
            code, end = _decode_entity(data, i)
            if code:
                _append_code(out, code)
                i = end
                continue
        if c != 0x3C:  # not '<'
            out.append(c)
            i += 1
            continue
        begin = i
        i += 1
        if data[i] != 0x2F:  # start tag
            while data[i] not in _SPACES and data[i] != 0x3E:
                i += 1
            if i >= size:
                raise HTMLParseError(f"Unclosed start tag at byte offset {begin}")
            tag = data[begin + 1 : i].decode("utf-8", "replace").lower()
            if tag not in _HTML_TAGS:
                raise HTMLParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
            argument = ""
            while data[i] != 0x3E:
                while i < size and data[i] in _SPACES:
                    i += 1
                if data[i] == 0x3E:
                    break
                if i >= size:
                    raise HTMLParseError(f"Unclosed start tag at byte offset {begin}")
                attr_begin = i
                while data[i] not in _SPACES and data[i] not in b"=>":
                    i += 1
                attr = data[attr_begin:i].decode("utf-8", "replace")
                if not attr:
                    raise HTMLParseError(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
                while i < size and data[i] in _SPACES:
                    i += 1
                if data[i] != 0x3D:  # '='
                    if tag == "blockquote" and attr.lower() == "expandable":
                        continue
                    raise HTMLParseError(
                        f'Expected equal sign in declaration of an attribute of the tag "{tag}" at byte offset {begin}'
                    )
                i += 1
                while i < size and data[i] in _SPACES:
                    i += 1
                if i >= size:
                    raise HTMLParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                value = bytearray()
                if data[i] not in b"'\"":
                    token_begin = i
                    while (data[i] < 0x80 and chr(data[i]).isalnum()) or data[i] in b".-":
                        i += 1
                    value += data[token_begin:i].lower()
                    if data[i] not in _SPACES and data[i] != 0x3E:
                        raise HTMLParseError(f"Unexpected end of name token at byte offset {token_begin}")
                else:
                    quote = data[i]
                    i += 1
                    while i < size and data[i] != quote:
                        if data[i] == 0x26:
                            code, end = _decode_entity(data, i)
                            if code:
                                _append_code(value, code)
                                i = end
                                continue
                        value.append(data[i])
                        i += 1
                    if data[i] == quote:
                        i += 1
                if i >= size:
                    raise HTMLParseError(f"Unclosed start tag at byte offset {begin}")
                val = value.decode("utf-8", "replace")
                if tag == "a" and attr == "href":
                    argument = val
                elif tag == "code" and attr == "class" and val.startswith("language-"):
                    argument = val[9:]
                elif tag == "span" and attr == "class" and val.startswith("tg-"):
                    argument = val[3:]
                elif tag == "tg-emoji" and attr == "emoji-id":
                    argument = val
            if tag == "span" and argument != "spoiler":
                raise HTMLParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
            stack.append((tag, argument))
        else:  # end tag
            if not stack:
                raise HTMLParseError(f"Unexpected end tag at byte offset {begin}")
            while data[i] not in _SPACES and data[i] != 0x3E:
                i += 1
            end_tag = data[begin + 2 : i].decode("utf-8", "replace").lower()
            while i < size and data[i] in _SPACES:
                i += 1
            if data[i] != 0x3E:
                raise HTMLParseError(f"Unclosed end tag at byte offset {begin}")
            tag, argument = stack[-1]
            if end_tag and end_tag != tag:
                raise HTMLParseError(
                    f'Unmatched end tag at byte offset {begin}, expected "</{tag}>", found "</{end_tag}>"'
                )
            if tag == "tg-emoji" and not (argument.isdigit() and int(argument) > 0):
                raise HTMLParseError("Invalid custom emoji identifier specified")
            stack.pop()
        i += 1  # skip '>'
    if stack:
        raise HTMLParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.decode("utf-8")


def utf16_len(text: str) -> int:
    """Length of text in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------- request parsing


def _decode_form_value(name: str, raw: str) -> Any:
    if name in TEXT_FIELDS:
        return raw
    if raw in ("true", "false"):
        return raw == "true"
    if raw == "null":
        return None
    if _INT_RE.fullmatch(raw):
        return int(raw)
    if _FLOAT_RE.fullmatch(raw):
        return float(raw)
    if raw[:1] in ("{", "["):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _parse_body(content_type: str, body: bytes) -> JSONDict:
    ctype = content_type.split(";")[0].strip().lower()
    if not body:
        return {}
    if ctype == "application/json":
        loaded = json.loads(body.decode("utf-8"))
        if not isinstance(loaded, dict):
            raise ApiError(400, "Bad Request: request body must be a JSON object")
        return loaded
    if ctype == "multipart/form-data":
        head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1")
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        params: JSONDict = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str):
                continue
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            filename = part.get_filename()
            if filename is not None or part.get_content_type() not in ("text/plain",):
                params[name] = UploadedFile(filename, part.get_content_type(), data)
            else:
                params[name] = _decode_form_value(name, data.decode("utf-8"))
        return params
    # application/x-www-form-urlencoded (and anything else that looks like it)
    pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    return {k: _decode_form_value(k, v) for k, v in pairs}


def _norm_chat_id(value: Any) -> int | str:
    if isinstance(value, bool):
        raise ApiError(400, "Bad Request: chat not found")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INT_RE.fullmatch(value):
        return int(value)
    if isinstance(value, str) and value:
        return value
    raise ApiError(400, "Bad Request: chat_id is empty")


# --------------------------------------------------------------------------- HTTP plumbing


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False
    # A real server's accept backlog: with socketserver's default of 5, a client opening many
    # connections at once has some completed by the kernel but never accepted in time (read timeouts).
    request_queue_size = 1024

    def __init__(self, fake: FakeTelegram):
        self.fake = fake
        self.connections: set[socket.socket] = set()
        self.handler_threads: set[threading.Thread] = set()
        self.conn_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Keep handler crashes out of stderr; they are recorded in fake.errors instead."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client hung up (a poll cancelled at shutdown): not the fake's fault
        self.fake.errors.append(traceback.format_exc())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeTelegram/1.0"
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms stalls

    def setup(self) -> None:
        super().setup()
        srv = cast(_HTTPServer, self.server)
        with srv.conn_lock:
            srv.connections.add(self.request)
            srv.handler_threads.add(threading.current_thread())

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        srv = cast(_HTTPServer, self.server)
        with srv.conn_lock:
            srv.connections.discard(self.request)
            srv.handler_threads.discard(threading.current_thread())

    def do_POST(self) -> None:
        cast(_HTTPServer, self.server).fake._handle_http(self)

    def do_GET(self) -> None:
        cast(_HTTPServer, self.server).fake._handle_http(self)

    def log_message(self, format: str, *args: Any) -> None:
        return

    def read_body(self) -> bytes:
        """Read the request body (Content-Length or chunked)."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send_json(self, status: int, payload: Any) -> None:
        """Write a JSON answer; a client that went away is ignored."""
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_bytes(status, body, "application/json")

    def send_bytes(self, status: int, body: bytes, content_type: str) -> None:
        """Write a raw answer; a client that went away is ignored."""
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            self.close_connection = True

    def drop(self) -> None:
        """Close the connection without answering."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.request.shutdown(socket.SHUT_RDWR)


# --------------------------------------------------------------------------- the fake


class FakeTelegram:
    """A fake Telegram Bot API server on 127.0.0.1 (start()/stop() or a context manager)."""

    def __init__(
        self,
        token: str = TOKEN,
        *,
        username: str = BOT_USERNAME,
        first_name: str = BOT_FIRST_NAME,
        extra_tokens: Iterable[str] = (),
        strict_html: bool = True,
        hold_seconds: float = 6.0,
        require_https_webhook: bool = True,
    ):
        self.token = token
        self.tokens = {token, *extra_tokens}
        self.username = username
        self.strict_html = strict_html
        self.hold_seconds = hold_seconds
        self.require_https_webhook = require_https_webhook
        bot_id = int(token.split(":")[0]) if token.split(":")[0].isdigit() else 123456789
        self.bot_user: JSONDict = {
            "id": bot_id,
            "is_bot": True,
            "first_name": first_name,
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.errors: list[str] = []
        self.webhook_posts: list[WebhookPost] = []
        self.webhook: JSONDict = {"url": ""}
        self.commands: dict[str, list[JSONDict]] = {}
        self.files: dict[str, bytes] = {}
        self._cond = threading.Condition(threading.RLock())
        self._stop_event = threading.Event()
        self._stopping = False
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._pending: list[JSONDict] = []
        self._last_update_id = 0  # last update_id handed out (by make_* or push_update)
        self._last_pushed_id = 0  # last update_id queued or posted; ids only ever increase
        self._confirmed_below = 0
        self._poll_seq = 0
        self._parked: Call | None = None
        self._message_ids: dict[int | str, int] = {}
        self._messages: dict[tuple[int | str, int], JSONDict] = {}
        self._meta: dict[tuple[int | str, int], _MessageMeta] = {}
        self._chats: dict[int | str, JSONDict] = {}
        self._blocked: set[int | str] = set()
        self._callback_ids: set[str] = set()
        self._inline_ids: set[str] = set()
        self._ids = itertools.count(1)
        self._fail_next: dict[str, collections.deque[_FaultSpec]] = {}
        self._fault_rate = 0.0
        self._fault_kinds: tuple[str, ...] = ()
        self._fault_methods: frozenset[str] | None = None
        self._fault_rng = random.Random(0)
        self._fault_retry_after = 1
        self._fault_delay: float | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeTelegram:
        """Bind 127.0.0.1 on a free port and serve in a background thread."""
        if self._httpd is not None:
            raise RuntimeError("FakeTelegram is already running")
        self._stopping = False
        self._stop_event.clear()
        self._httpd = _HTTPServer(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="FakeTelegram",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake held/long-polling requests and close every connection."""
        httpd = self._httpd
        if httpd is None:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._stop_event.set()
        httpd.shutdown()
        with httpd.conn_lock:
            connections = list(httpd.connections)
            threads = list(httpd.handler_threads)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        for thread in threads:
            thread.join(timeout=5)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound TCP port."""
        if self._httpd is None:
            raise RuntimeError("FakeTelegram is not running; call start() first")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """PTB's base_url: PTB appends the token and then /<method>."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """PTB's base_file_url: PTB appends the token and then /<file_path>."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    def method_url(self, method: str, token: str | None = None) -> str:
        """The full URL of one Bot API method (for raw HTTP tests)."""
        return f"{self.base_url}{token or self.token}/{method}"

    # ------------------------------------------------------------------ inspection

    def calls_to(self, method: str) -> list[Call]:
        """Every recorded call to method (case-insensitive), in arrival order."""
        name = method.lower()
        with self._cond:
            return [c for c in self.calls if c.method.lower() == name]

    def sent_messages(self, chat_id: int | str | None = None) -> list[JSONDict]:
        """Params of every delivered (ok) sendMessage, optionally for one chat."""
        with self._cond:
            return [
                c.params
                for c in self.calls
                if c.method == "sendMessage"
                and c.ok
                and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))
            ]

    def sent_texts(self, chat_id: int | str | None = None) -> list[str]:
        """The text param of every delivered sendMessage, optionally for one chat."""
        return [str(p.get("text", "")) for p in self.sent_messages(chat_id)]

    def bot_messages(self, chat_id: int | str) -> list[JSONDict]:
        """Current state (after edits) of the messages the bot has in a chat, oldest first."""
        key = _norm_chat_id(chat_id)
        with self._cond:
            return [
                dict(self._messages[k])
                for k in sorted(k for k in self._messages if k[0] == key)
                if self._meta[k].from_bot
            ]

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates pushed but not yet confirmed by a getUpdates offset."""
        with self._cond:
            return [dict(u) for u in self._pending]

    def block_chat(self, chat_id: int | str, blocked: bool = True) -> None:
        """Make send* to chat_id fail with 403 'bot was blocked by the user' (or undo it)."""
        key = _norm_chat_id(chat_id)
        with self._cond:
            if blocked:
                self._blocked.add(key)
            else:
                self._blocked.discard(key)

    # ------------------------------------------------------------------ synchronisation

    def wait_for(self, predicate: Callable[[], T], timeout: float = 10, what: str | None = None) -> T:
        """Block until predicate() is truthy (re-checked on every call/update); return it."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                result = predicate()
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(self._timeout_report(what or repr(predicate), timeout))
                self._cond.wait(remaining)

    def wait_for_calls(self, method: str, n: int = 1, timeout: float = 10, *, answered: bool = True) -> list[Call]:
        """Wait until n calls to method were answered (or merely arrived); return them all."""

        def check() -> list[Call]:
            found = [c for c in self.calls_to(method) if c.done or not answered]
            return found if len(found) >= n else []

        state = "answered" if answered else "received"
        return self.wait_for(check, timeout, f"{n} {state} call(s) to {method}")

    def wait_confirmed(self, update_id: int, timeout: float = 10) -> bool:
        """Wait until a getUpdates offset (or a webhook 200) confirmed update_id."""
        return self.wait_for(
            lambda: self._confirmed_below > update_id,
            timeout,
            f"confirmation of update {update_id} (confirmed below {self._confirmed_below})",
        )

    def wait_polling(self, timeout: float = 10) -> Call:
        """Wait until a getUpdates long poll is parked waiting for updates; return that call."""
        parked = self.wait_for(lambda: self._parked, timeout, "a parked getUpdates long poll")
        assert parked is not None
        return parked

    async def async_wait_for(self, predicate: Callable[[], T], timeout: float = 10, what: str | None = None) -> T:
        """wait_for() without blocking the event loop (for tests running the bot in-loop)."""
        return await asyncio.to_thread(self.wait_for, predicate, timeout, what)

    async def async_wait_for_calls(
        self, method: str, n: int = 1, timeout: float = 10, *, answered: bool = True
    ) -> list[Call]:
        """wait_for_calls() without blocking the event loop."""
        return await asyncio.to_thread(lambda: self.wait_for_calls(method, n, timeout, answered=answered))

    async def async_wait_confirmed(self, update_id: int, timeout: float = 10) -> bool:
        """wait_confirmed() without blocking the event loop."""
        return await asyncio.to_thread(self.wait_confirmed, update_id, timeout)

    async def async_wait_polling(self, timeout: float = 10) -> Call:
        """wait_polling() without blocking the event loop."""
        return await asyncio.to_thread(self.wait_polling, timeout)

    def _timeout_report(self, what: str, timeout: float) -> str:
        with self._cond:
            calls = list(self.calls)
            faults = len(self.faults)
            pending = [u.get("update_id") for u in self._pending]
        lines = [
            f"FakeTelegram: timed out after {timeout}s waiting for {what}.",
            f"Pending update ids: {pending}; confirmed below: {self._confirmed_below}; "
            f"faults injected: {faults}; handler errors: {len(self.errors)}.",
            f"Recorded calls ({len(calls)}, last 60 shown):",
        ]
        for idx, c in enumerate(calls[-60:], start=max(0, len(calls) - 60)):
            params = repr(c.params)
            if len(params) > 240:
                params = params[:240] + "..."
            tail = f" fault={c.fault}" if c.fault else ""
            tail += f" error={c.error!r}" if c.error else ""
            lines.append(f"  #{idx} {c.method} {params} -> status={c.status} ok={c.ok}{tail}")
        for err in self.errors[-3:]:
            lines.append("Handler error:\n" + err)
        return "\n".join(lines)

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        kind: str,
        count: int = 1,
        *,
        retry_after: int = 1,
        delay: float | None = None,
    ) -> None:
        """Fail the next count calls to method with kind (retry_after/server_error/timeout/...)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        spec = _FaultSpec(kind, retry_after, self.hold_seconds if delay is None else delay)
        with self._cond:
            queue = self._fail_next.setdefault(method.lower(), collections.deque())
            queue.extend(spec for _ in range(count))

    def set_fault_rate(
        self,
        rate: float,
        kinds: Sequence[str] = ("server_error",),
        seed: int = 0,
        *,
        methods: Iterable[str] | None = None,
        retry_after: int = 1,
        delay: float | None = None,
    ) -> None:
        """Fail a deterministic random fraction of calls (getUpdates/getMe only if in methods)."""
        bad = set(kinds) - FAULT_KINDS
        if bad:
            raise ValueError(f"unknown fault kinds {sorted(bad)}")
        if rate > 0 and not kinds:
            raise ValueError("kinds must not be empty")
        with self._cond:
            self._fault_rate = rate
            self._fault_kinds = tuple(kinds)
            self._fault_rng = random.Random(seed)
            self._fault_methods = None if methods is None else frozenset(m.lower() for m in methods)
            self._fault_retry_after = retry_after
            self._fault_delay = delay

    def _pick_fault(self, method: str) -> _FaultSpec | None:
        queue = self._fail_next.get(method.lower())
        if queue:
            return queue.popleft()
        if self._fault_rate <= 0:
            return None
        if self._fault_methods is None:
            if method in _POLLING_METHODS:
                return None
        elif method.lower() not in self._fault_methods:
            return None
        if self._fault_rng.random() >= self._fault_rate:
            return None
        kind = self._fault_rng.choice(self._fault_kinds)
        delay = self.hold_seconds if self._fault_delay is None else self._fault_delay
        return _FaultSpec(kind, self._fault_retry_after, delay)

    # ------------------------------------------------------------------ pushing updates

    def push_update(self, update: JSONDict) -> int:
        """Queue an update for getUpdates; assigns an increasing update_id and returns it."""
        with self._cond:
            stored = self._prepare_update(update)
            self._pending.append(stored)
            self._cond.notify_all()
            return int(stored["update_id"])

    def _prepare_update(self, update: JSONDict) -> JSONDict:
        stored = dict(update)
        uid = stored.get("update_id")
        if not isinstance(uid, int) or isinstance(uid, bool) or uid <= self._last_pushed_id:
            uid = self._last_update_id + 1
        self._last_pushed_id = uid
        self._last_update_id = max(self._last_update_id, uid)
        stored["update_id"] = uid
        query = stored.get("callback_query")
        if isinstance(query, dict) and "id" in query:
            self._callback_ids.add(str(query["id"]))
        inline = stored.get("inline_query")
        if isinstance(inline, dict) and "id" in inline:
            self._inline_ids.add(str(inline["id"]))
        return stored

    def _next_update_id(self) -> int:
        with self._cond:
            self._last_update_id += 1
            return self._last_update_id

    def _next_message_id(self, chat_id: int | str) -> int:
        with self._cond:
            self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
            return self._message_ids[chat_id]

    def _user(
        self,
        user_id: int,
        first_name: str,
        username: str | None,
        language_code: str | None,
    ) -> JSONDict:
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        return user

    def _chat(
        self,
        chat_id: int,
        chat_type: str,
        first_name: str,
        username: str | None,
        title: str | None = None,
    ) -> JSONDict:
        if chat_type == "private":
            chat: JSONDict = {"id": chat_id, "type": "private", "first_name": first_name}
            if username:
                chat["username"] = username
        else:
            chat = {"id": chat_id, "type": chat_type, "title": title or "Storybot Fans"}
        with self._cond:
            self._chats[chat_id] = chat
        return chat

    def _chat_for(self, chat_id: int | str) -> JSONDict:
        with self._cond:
            known = self._chats.get(chat_id)
        if known is not None:
            return dict(known)
        if isinstance(chat_id, str):
            return {
                "id": -1001000000000,
                "type": "channel",
                "title": chat_id,
                "username": chat_id.lstrip("@"),
            }
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": "Fan"}
        return {"id": chat_id, "type": "supergroup", "title": "Storybot Fans"}

    def _store_message(self, msg: JSONDict, meta: _MessageMeta, chat_key: int | str | None = None) -> None:
        chat = _norm_chat_id(msg["chat"]["id"]) if chat_key is None else chat_key
        key = (chat, int(msg["message_id"]))
        with self._cond:
            self._messages[key] = dict(msg)
            self._meta[key] = meta

    def _lookup_message(self, chat_id: int | str, message_id: int) -> JSONDict | None:
        with self._cond:
            found = self._messages.get((chat_id, message_id))
            return dict(found) if found is not None else None

    def _last_message(self, chat_id: int | str, *, from_bot: bool) -> JSONDict | None:
        with self._cond:
            keys = sorted(k for k in self._messages if k[0] == chat_id and self._meta[k].from_bot == from_bot)
            return dict(self._messages[keys[-1]]) if keys else None

    def _placeholder_bot_message(self, chat_id: int, text: str = "…") -> JSONDict:
        msg: JSONDict = {
            "message_id": self._next_message_id(chat_id),
            "from": dict(self.bot_user),
            "chat": self._chat_for(chat_id),
            "date": int(time.time()),
            "text": text,
        }
        self._store_message(msg, _MessageMeta(from_bot=True, source=text))
        return dict(msg)

    def _resolve_reply(self, chat_id: int, reply: int | JSONDict | None) -> JSONDict | None:
        if reply is None or isinstance(reply, dict):
            return reply
        found = self._lookup_message(chat_id, reply)
        if found is None:
            raise ValueError(f"no message {reply} in chat {chat_id} to reply to")
        found.pop("reply_to_message", None)
        return found

    def make_message(
        self,
        chat_id: int,
        text: str | None = None,
        *,
        user_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Fan",
        username: str | None = None,
        entities: list[JSONDict] | None = None,
        reply_to_message: int | JSONDict | None = None,
        language_code: str | None = None,
        chat_title: str | None = None,
        kind: str = "message",
        message_id: int | None = None,
        extra: JSONDict | None = None,
    ) -> JSONDict:
        """Build (without queueing) an update carrying a user's message; has an update_id."""
        if user_id is None:
            user_id = chat_id if chat_type == "private" else DEFAULT_USER_ID
        msg: JSONDict = {
            "message_id": message_id or self._next_message_id(chat_id),
            "from": self._user(user_id, first_name, username, language_code),
            "chat": self._chat(chat_id, chat_type, first_name, username, chat_title),
            "date": int(time.time()),
        }
        if text is not None:
            msg["text"] = text
        if entities:
            msg["entities"] = entities
        reply = self._resolve_reply(chat_id, reply_to_message)
        if reply is not None:
            msg["reply_to_message"] = reply
        if extra:
            msg.update(extra)
        if kind == "edited_message":
            msg["edit_date"] = int(time.time())
        self._store_message(msg, _MessageMeta(from_bot=False, source=text))
        return {"update_id": self._next_update_id(), kind: msg}

    def message(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Fan",
        username: str | None = None,
        entities: list[JSONDict] | None = None,
        reply_to_message: int | JSONDict | None = None,
        language_code: str | None = None,
    ) -> int:
        """Push a text message from a user; returns the update_id."""
        return self.push_update(
            self.make_message(
                chat_id,
                text,
                user_id=user_id,
                chat_type=chat_type,
                first_name=first_name,
                username=username,
                entities=entities,
                reply_to_message=reply_to_message,
                language_code=language_code,
            )
        )

    def make_command(
        self,
        chat_id: int,
        text: str,
        **kwargs: Any,
    ) -> JSONDict:
        """Build (without queueing) a '/command payload' message with its bot_command entity."""
        if not text.startswith("/"):
            raise ValueError("a command must start with '/'")
        command = text.split(maxsplit=1)[0]
        entity = {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
        return self.make_message(chat_id, text, entities=[entity], **kwargs)

    def command(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Fan",
        username: str | None = None,
        language_code: str | None = None,
    ) -> int:
        """Push '/command payload' (with a bot_command entity); returns the update_id."""
        return self.push_update(
            self.make_command(
                chat_id,
                text,
                user_id=user_id,
                chat_type=chat_type,
                first_name=first_name,
                username=username,
                language_code=language_code,
            )
        )

    def edited_message(
        self,
        chat_id: int,
        text: str,
        *,
        message_id: int | None = None,
        user_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Fan",
        username: str | None = None,
        language_code: str | None = None,
    ) -> int:
        """Push an edit of a user's message (default: their last one); returns the update_id."""
        if message_id is None:
            last = self._last_message(chat_id, from_bot=False)
            message_id = int(last["message_id"]) if last else None
        return self.push_update(
            self.make_message(
                chat_id,
                text,
                user_id=user_id,
                chat_type=chat_type,
                first_name=first_name,
                username=username,
                language_code=language_code,
                kind="edited_message",
                message_id=message_id,
            )
        )

    def sticker(
        self,
        chat_id: int,
        *,
        emoji: str = "👍",
        set_name: str | None = "StorybotTestStickers",
        user_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Fan",
        username: str | None = None,
        language_code: str | None = None,
    ) -> int:
        """Push a sticker message; returns the update_id."""
        n = next(self._ids)
        sticker: JSONDict = {
            "file_id": f"CAACAgIAAxkBAAFakeSticker{n}",
            "file_unique_id": f"AgADFakeSticker{n}",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
            "emoji": emoji,
        }
        if set_name:
            sticker["set_name"] = set_name
        return self.push_update(
            self.make_message(
                chat_id,
                None,
                user_id=user_id,
                chat_type=chat_type,
                first_name=first_name,
                username=username,
                language_code=language_code,
                extra={"sticker": sticker},
            )
        )

    def photo(
        self,
        chat_id: int,
        *,
        caption: str | None = None,
        user_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Fan",
        username: str | None = None,
        language_code: str | None = None,
    ) -> int:
        """Push a photo message (two sizes, optional caption); returns the update_id."""
        n = next(self._ids)
        sizes = [
            {
                "file_id": f"AgACAgFakePhoto{n}s",
                "file_unique_id": f"AQADFakePhoto{n}s",
                "width": 90,
                "height": 67,
                "file_size": 1200,
            },
            {
                "file_id": f"AgACAgFakePhoto{n}m",
                "file_unique_id": f"AQADFakePhoto{n}m",
                "width": 800,
                "height": 600,
                "file_size": 48000,
            },
        ]
        extra: JSONDict = {"photo": sizes}
        if caption is not None:
            extra["caption"] = caption
        return self.push_update(
            self.make_message(
                chat_id,
                None,
                user_id=user_id,
                chat_type=chat_type,
                first_name=first_name,
                username=username,
                language_code=language_code,
                extra=extra,
            )
        )

    def group_message(
        self,
        chat_id: int,
        text: str,
        mention: bool = False,
        reply_to_bot: bool = False,
        *,
        user_id: int = DEFAULT_USER_ID,
        first_name: str = "Fan",
        username: str | None = None,
        language_code: str | None = None,
        chat_title: str = "Storybot Fans",
    ) -> int:
        """Push a supergroup message, optionally @mentioning the bot or replying to it."""
        entities: list[JSONDict] = []
        if mention:
            handle = f"@{self.username}"
            if handle not in text:
                text = f"{handle} {text}"
            offset = utf16_len(text[: text.index(handle)])
            entities.append({"type": "mention", "offset": offset, "length": utf16_len(handle)})
        reply: JSONDict | None = None
        if reply_to_bot:
            reply = self._last_message(chat_id, from_bot=True)
            if reply is None:
                self._chat(chat_id, "supergroup", first_name, None, chat_title)
                reply = self._placeholder_bot_message(chat_id)
            reply.pop("reply_to_message", None)
        return self.push_update(
            self.make_message(
                chat_id,
                text,
                user_id=user_id,
                chat_type="supergroup",
                first_name=first_name,
                username=username,
                entities=entities or None,
                reply_to_message=reply,
                language_code=language_code,
                chat_title=chat_title,
            )
        )

    def make_callback_query(
        self,
        chat_id: int,
        data: str,
        *,
        message_id: int | None = None,
        user_id: int | None = None,
        first_name: str = "Fan",
        username: str | None = None,
        language_code: str | None = None,
    ) -> JSONDict:
        """Build (without queueing) a button press on a bot message (default: the last one)."""
        if user_id is None:
            user_id = chat_id if chat_id > 0 else DEFAULT_USER_ID
        if message_id is None:
            msg = self._last_message(chat_id, from_bot=True)
        else:
            msg = self._lookup_message(chat_id, message_id)
        if msg is None:
            msg = self._placeholder_bot_message(chat_id)
        msg.pop("reply_to_message", None)
        query_id = str(4_000_000_000_000 + next(self._ids))
        with self._cond:
            self._callback_ids.add(query_id)
        return {
            "update_id": self._next_update_id(),
            "callback_query": {
                "id": query_id,
                "from": self._user(user_id, first_name, username, language_code),
                "chat_instance": f"-{abs(chat_id) * 7 + 13}",
                "message": msg,
                "data": data,
            },
        }

    def callback_query(
        self,
        chat_id: int,
        data: str,
        message_id: int | None = None,
        user_id: int | None = None,
        *,
        first_name: str = "Fan",
        username: str | None = None,
        language_code: str | None = None,
    ) -> int:
        """Push a callback query (button press); returns the update_id."""
        return self.push_update(
            self.make_callback_query(
                chat_id,
                data,
                message_id=message_id,
                user_id=user_id,
                first_name=first_name,
                username=username,
                language_code=language_code,
            )
        )

    def make_inline_query(
        self,
        user_id: int,
        query: str,
        offset: str = "",
        *,
        first_name: str = "Fan",
        username: str | None = None,
        language_code: str | None = None,
        chat_type: str | None = "sender",
    ) -> JSONDict:
        """Build (without queueing) an inline query update."""
        query_id = str(5_000_000_000_000 + next(self._ids))
        with self._cond:
            self._inline_ids.add(query_id)
        inline: JSONDict = {
            "id": query_id,
            "from": self._user(user_id, first_name, username, language_code),
            "query": query,
            "offset": offset,
        }
        if chat_type:
            inline["chat_type"] = chat_type
        return {"update_id": self._next_update_id(), "inline_query": inline}

    def inline_query(
        self,
        user_id: int,
        query: str,
        offset: str = "",
        *,
        first_name: str = "Fan",
        username: str | None = None,
        language_code: str | None = None,
        chat_type: str | None = "sender",
    ) -> int:
        """Push an inline query; returns the update_id."""
        return self.push_update(
            self.make_inline_query(
                user_id,
                query,
                offset,
                first_name=first_name,
                username=username,
                language_code=language_code,
                chat_type=chat_type,
            )
        )

    # ------------------------------------------------------------------ webhook delivery

    def post_update_to(self, url: str, update: JSONDict, secret_token: str | None = None, timeout: float = 10) -> int:
        """POST an update to the bot's local webhook like Telegram does; return the status."""
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"post_update_to only talks to local http URLs, not {url!r}")
        with self._cond:
            stored = self._prepare_update(update)
        body = json.dumps(stored, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if secret_token is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
        conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
        try:
            path = parts.path or "/"
            if parts.query:
                path += "?" + parts.query
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            status, payload = response.status, response.read()
        finally:
            conn.close()
        with self._cond:
            self.webhook_posts.append(WebhookPost(url, stored, secret_token, status, payload))
            if status == 200:
                self._confirmed_below = max(self._confirmed_below, int(stored["update_id"]) + 1)
            self._cond.notify_all()
        return status

    # ------------------------------------------------------------------ HTTP dispatch

    def _handle_http(self, handler: _Handler) -> None:
        try:
            body = handler.read_body()
        except (OSError, ValueError):
            handler.close_connection = True
            return
        split = urllib.parse.urlsplit(handler.path)
        file_match = _FILE_RE.match(urllib.parse.unquote(split.path))
        if file_match and handler.command == "GET":
            self._serve_file(handler, file_match.group("token"), file_match.group("path"))
            return
        match = _PATH_RE.match(urllib.parse.unquote(split.path))
        if match is None:
            handler.send_json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        token, raw_method = match.group("token"), match.group("method")
        method = _canonical_method(raw_method)
        params: JSONDict = {}
        call = Call(method=method, params=params, time=time.monotonic(), token=token)
        call._conn = handler.connection
        try:
            if split.query:
                for key, value in urllib.parse.parse_qsl(split.query, keep_blank_values=True):
                    params[key] = _decode_form_value(key, value)
            call.content_type = handler.headers.get("Content-Type", "")
            params.update(_parse_body(call.content_type, body))
        except ApiError as err:
            self._record(call)
            self._answer(handler, call, err.code, _error_payload(err))
            return
        except ValueError as err:
            self._record(call)
            error = ApiError(400, f"Bad Request: can't parse request body: {err}")
            self._answer(handler, call, 400, _error_payload(error))
            return
        self._record(call)
        if token not in self.tokens:
            self._answer(handler, call, 401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        with self._cond:
            spec = self._pick_fault(method)
            if spec is not None:
                call.fault = spec.kind
                self.faults.append(Fault(method, spec.kind, params, time.monotonic()))
        if spec is not None and spec.kind != "lost_response":
            self._apply_fault(handler, call, spec)
            return
        try:
            result = self._dispatch(method, params, call)
        except _ClientGone:
            self._finish(call, 0, error="client closed the connection while waiting (cancelled)")
            handler.close_connection = True
            return
        except ApiError as err:
            if spec is not None:
                self._finish(call, 0, error=err.description)
                handler.drop()
                return
            self._answer(handler, call, err.code, _error_payload(err), error=err.description)
            return
        except Exception:  # a bug in the fake: report it loudly, answer 500
            self.errors.append(traceback.format_exc())
            crash = ApiError(500, "Internal Server Error: FakeTelegram crashed, see server.errors")
            self._answer(handler, call, 500, _error_payload(crash), error=crash.description)
            return
        if spec is not None:  # lost_response: the method took effect, the answer is lost
            self._finish(call, 0, ok=True, result=result)
            handler.drop()
            return
        self._answer(handler, call, 200, {"ok": True, "result": result}, ok=True, result=result)

    def _record(self, call: Call) -> None:
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()

    def _finish(
        self,
        call: Call,
        status: int,
        *,
        ok: bool = False,
        result: Any = None,
        error: str | None = None,
    ) -> None:
        with self._cond:
            call.status = status
            call.ok = ok
            call.result = result
            call.error = error
            self._cond.notify_all()

    def _answer(
        self,
        handler: _Handler,
        call: Call,
        status: int,
        payload: JSONDict,
        *,
        ok: bool = False,
        result: Any = None,
        error: str | None = None,
    ) -> None:
        if error is None and not payload.get("ok", False):
            error = payload.get("description")
        self._finish(call, status, ok=ok, result=result, error=error)
        handler.send_json(status, payload)

    def _apply_fault(self, handler: _Handler, call: Call, spec: _FaultSpec) -> None:
        if spec.kind == "retry_after":
            err = ApiError(
                429,
                f"Too Many Requests: retry after {spec.retry_after}",
                {"retry_after": spec.retry_after},
            )
            self._answer(handler, call, 429, _error_payload(err))
        elif spec.kind == "server_error":
            err = ApiError(500, "Internal Server Error")
            self._answer(handler, call, 500, _error_payload(err))
        elif spec.kind == "timeout":
            self._stop_event.wait(spec.delay)
            self._finish(call, 0, error="fault: held past the client timeout, then closed")
            handler.drop()
        else:  # drop
            self._finish(call, 0, error="fault: connection closed without an answer")
            handler.drop()

    def _serve_file(self, handler: _Handler, token: str, path: str) -> None:
        if token not in self.tokens:
            handler.send_json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        file_id = path.rsplit("/", 1)[-1]
        with self._cond:
            data = self.files.get(file_id, f"fake file {file_id}".encode())
        handler.send_bytes(200, data, "application/octet-stream")

    # ------------------------------------------------------------------ Bot API methods

    def _dispatch(self, method: str, params: JSONDict, call: Call) -> Any:
        impl = _METHODS.get(method)
        if impl is not None:
            return impl(self, params, call)
        lowered = method.lower()
        if lowered == "sendmediagroup":
            return self._send_media_group(params)
        if lowered == "copymessage":
            return {"message_id": self._generic_send(method, params)["message_id"]}
        if lowered.startswith("send") or lowered == "forwardmessage":
            return self._generic_send(method, params)
        if lowered.startswith(_TRUE_PREFIXES):
            return True
        raise ApiError(404, "Not Found")

    def _get_me(self, params: JSONDict, call: Call) -> Any:
        return dict(self.bot_user)

    def _get_updates(self, params: JSONDict, call: Call) -> Any:
        offset = params.get("offset")
        limit = params.get("limit") or 100
        timeout = params.get("timeout") or 0
        allowed = params.get("allowed_updates")
        if not isinstance(limit, int) or not isinstance(timeout, int | float):
            raise ApiError(400, "Bad Request: wrong parameter type")
        limit = max(1, min(100, limit))
        deadline = time.monotonic() + max(0.0, float(timeout))
        with self._cond:
            if self.webhook["url"]:
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; use "
                    "deleteWebhook to delete the webhook first",
                )
            if isinstance(offset, int) and offset:
                self._apply_offset(offset)
            self._poll_seq += 1
            my_seq = self._poll_seq
            try:
                while True:
                    if self._stopping:
                        return []
                    if my_seq != self._poll_seq:
                        raise ApiError(
                            409,
                            "Conflict: terminated by other getUpdates request; make sure that "
                            "only one bot instance is running",
                        )
                    batch = [
                        dict(u)
                        for u in self._pending
                        if not allowed or any(k in allowed for k in u if k != "update_id")
                    ][:limit]
                    remaining = deadline - time.monotonic()
                    if batch or remaining <= 0:
                        return batch
                    if self._parked is not call:
                        self._parked = call
                        self._cond.notify_all()
                    # Re-check now and then whether the client gave up (PTB cancels its long poll
                    # on stop), so a cancelled poll is recorded as such instead of as a 409.
                    self._cond.wait(min(remaining, 0.05))
                    if _client_gone(call._conn):
                        raise _ClientGone
            finally:
                if self._parked is call:
                    self._parked = None

    def _apply_offset(self, offset: int) -> None:
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
            self._confirmed_below = max(self._confirmed_below, offset)
        else:
            keep = self._pending[offset:]
            if len(keep) < len(self._pending):
                first_kept = keep[0]["update_id"] if keep else self._last_update_id + 1
                self._confirmed_below = max(self._confirmed_below, first_kept)
            self._pending = keep

    def _check_markup(self, markup: Any) -> JSONDict | None:
        if markup is None or markup == "":
            return None
        if isinstance(markup, str):
            try:
                markup = json.loads(markup)
            except ValueError:
                raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object") from None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise ApiError(400, 'Bad Request: field "inline_keyboard" must be an Array')
            for row in rows:
                for button in row:
                    self._check_button(button)
        return markup

    def _check_button(self, button: Any) -> None:
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise ApiError(
                400,
                'Bad Request: can\'t parse inline keyboard button: Field "text" must be of type String',
            )
        actions = [k for k in button if k in _INLINE_BUTTON_ACTIONS]
        if not actions:
            raise ApiError(
                400,
                "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
            )
        if "callback_data" in button:
            data = button["callback_data"]
            size = len(data.encode("utf-8")) if isinstance(data, str) else 0
            if not 1 <= size <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")

    def _plain_text(self, text: str, parse_mode: Any, *, limit: int, caption: bool = False) -> str:
        mode = str(parse_mode).lower() if parse_mode else ""
        if mode == "html":
            try:
                plain = parse_telegram_html(text, strict=self.strict_html)
            except HTMLParseError as err:
                raise ApiError(400, f"Bad Request: can't parse entities: {err}") from None
        elif mode in ("", "markdown", "markdownv2"):
            plain = text
        else:
            raise ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode}")
        plain = plain.replace("\r", "").strip(" \n")
        if not plain and not caption:
            raise ApiError(400, "Bad Request: message text is empty")
        if len(plain) > limit:
            raise ApiError(
                400,
                "Bad Request: message caption is too long" if caption else "Bad Request: message is too long",
            )
        return plain

    def _target_chat(self, params: JSONDict) -> int | str:
        chat_id = _norm_chat_id(params.get("chat_id"))
        with self._cond:
            if chat_id in self._blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _new_bot_message(self, chat_id: int | str, content: JSONDict, params: JSONDict, meta: _MessageMeta) -> JSONDict:
        msg: JSONDict = {
            "message_id": self._next_message_id(chat_id),
            "from": dict(self.bot_user),
            "chat": self._chat_for(chat_id),
            "date": int(time.time()),
        }
        reply_params = params.get("reply_parameters")
        reply_id = (
            reply_params.get("message_id") if isinstance(reply_params, dict) else params.get("reply_to_message_id")
        )
        if isinstance(reply_id, int):
            replied = self._lookup_message(chat_id, reply_id)
            if replied is not None:
                replied.pop("reply_to_message", None)
                msg["reply_to_message"] = replied
        msg.update(content)
        if meta.markup and "inline_keyboard" in meta.markup:
            msg["reply_markup"] = meta.markup
        self._store_message(msg, meta, chat_id)
        return msg

    def _send_message(self, params: JSONDict, call: Call) -> Any:
        chat_id = self._target_chat(params)
        raw = params.get("text")
        if raw is None or raw == "":
            raise ApiError(400, "Bad Request: message text is empty")
        text = str(raw)
        plain = self._plain_text(text, params.get("parse_mode"), limit=MAX_TEXT)
        markup = self._check_markup(params.get("reply_markup"))
        meta = _MessageMeta(True, text, params.get("parse_mode"), markup)
        return self._new_bot_message(chat_id, {"text": plain}, params, meta)

    def _generic_send(self, method: str, params: JSONDict) -> Any:
        chat_id = self._target_chat(params)
        content: JSONDict = {}
        caption = params.get("caption")
        if caption:
            content["caption"] = self._plain_text(
                str(caption), params.get("parse_mode"), limit=MAX_CAPTION, caption=True
            )
        markup = self._check_markup(params.get("reply_markup"))
        meta = _MessageMeta(True, None, params.get("parse_mode"), markup)
        return self._new_bot_message(chat_id, content, params, meta)

    def _send_media_group(self, params: JSONDict) -> Any:
        media = params.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise ApiError(400, "Bad Request: wrong number of media specified")
        messages = []
        for item in media:
            caption = item.get("caption") if isinstance(item, dict) else None
            item_params = {"chat_id": params.get("chat_id"), "caption": caption}
            if isinstance(item, dict):
                item_params["parse_mode"] = item.get("parse_mode")
            messages.append(self._generic_send("sendMediaGroup", item_params))
        return messages

    def _edit_target(self, params: JSONDict) -> tuple[int | str, int, JSONDict, _MessageMeta]:
        chat_id = _norm_chat_id(params.get("chat_id"))
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise ApiError(400, "Bad Request: message identifier is not specified")
        with self._cond:
            key = (chat_id, message_id)
            msg, meta = self._messages.get(key), self._meta.get(key)
        if msg is None or meta is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if not meta.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited")
        return chat_id, message_id, msg, meta

    def _edit_message_text(self, params: JSONDict, call: Call) -> Any:
        raw = params.get("text")
        if raw is None or raw == "":
            raise ApiError(400, "Bad Request: text must be non-empty")
        text = str(raw)
        plain = self._plain_text(text, params.get("parse_mode"), limit=MAX_TEXT)
        markup = self._check_markup(params.get("reply_markup"))
        if params.get("inline_message_id"):
            return True
        chat_id, _message_id, msg, meta = self._edit_target(params)
        if "text" not in msg:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        same_markup = (markup or None) == (meta.markup or None)
        if text == meta.source and params.get("parse_mode") == meta.parse_mode and same_markup:
            raise ApiError(400, NOT_MODIFIED)
        edited = dict(msg)
        edited["text"] = plain
        edited["edit_date"] = int(time.time())
        edited.pop("reply_markup", None)
        if markup and "inline_keyboard" in markup:
            edited["reply_markup"] = markup
        meta = _MessageMeta(True, text, params.get("parse_mode"), markup)
        self._store_message(edited, meta, chat_id)
        return edited

    def _edit_message_reply_markup(self, params: JSONDict, call: Call) -> Any:
        markup = self._check_markup(params.get("reply_markup"))
        if params.get("inline_message_id"):
            return True
        chat_id, _message_id, msg, meta = self._edit_target(params)
        if (markup or None) == (meta.markup or None):
            raise ApiError(400, NOT_MODIFIED)
        edited = dict(msg)
        edited["edit_date"] = int(time.time())
        edited.pop("reply_markup", None)
        if markup and "inline_keyboard" in markup:
            edited["reply_markup"] = markup
        new_meta = _MessageMeta(True, meta.source, meta.parse_mode, markup)
        self._store_message(edited, new_meta, chat_id)
        return edited

    def _delete_message(self, params: JSONDict, call: Call) -> Any:
        chat_id = _norm_chat_id(params.get("chat_id"))
        message_id = params.get("message_id")
        with self._cond:
            key = (chat_id, message_id if isinstance(message_id, int) else -1)
            if key not in self._messages:
                raise ApiError(400, "Bad Request: message to delete not found")
            del self._messages[key]
            del self._meta[key]
        return True

    def _answer_callback_query(self, params: JSONDict, call: Call) -> Any:
        query_id = str(params.get("callback_query_id", ""))
        with self._cond:
            if query_id not in self._callback_ids:
                raise ApiError(400, QUERY_INVALID)
        text = params.get("text")
        if isinstance(text, str) and len(text) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    def _answer_inline_query(self, params: JSONDict, call: Call) -> Any:
        query_id = str(params.get("inline_query_id", ""))
        with self._cond:
            if query_id not in self._inline_ids:
                raise ApiError(400, QUERY_INVALID)
        results = params.get("results")
        if isinstance(results, str):
            try:
                results = json.loads(results)
            except ValueError:
                results = None
        if not isinstance(results, list):
            raise ApiError(400, "Bad Request: can't parse inline query results JSON object")
        if len(results) > 50:
            raise ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            if not isinstance(result, dict):
                raise ApiError(400, "Bad Request: can't parse inline query result")
            rid = str(result.get("id", ""))
            if not 1 <= len(rid.encode("utf-8")) <= 64:
                raise ApiError(400, "Bad Request: RESULT_ID_INVALID")
            if rid in seen:
                raise ApiError(400, "Bad Request: RESULT_ID_DUPLICATE")
            seen.add(rid)
            content = result.get("input_message_content")
            if isinstance(content, dict) and "message_text" in content:
                self._plain_text(str(content["message_text"]), content.get("parse_mode"), limit=MAX_TEXT)
            self._check_markup(result.get("reply_markup"))
        return True

    def _commands_key(self, params: JSONDict) -> str:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps([scope, params.get("language_code") or ""], sort_keys=True)

    def _set_my_commands(self, params: JSONDict, call: Call) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        for cmd in commands:
            if not isinstance(cmd, dict) or not _COMMAND_RE.fullmatch(str(cmd.get("command"))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            description = cmd.get("description")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        with self._cond:
            self.commands[self._commands_key(params)] = [dict(c) for c in commands]
        return True

    def _get_my_commands(self, params: JSONDict, call: Call) -> Any:
        with self._cond:
            return [dict(c) for c in self.commands.get(self._commands_key(params), [])]

    def _delete_my_commands(self, params: JSONDict, call: Call) -> Any:
        with self._cond:
            self.commands.pop(self._commands_key(params), None)
        return True

    def _set_webhook(self, params: JSONDict, call: Call) -> Any:
        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        if url and self.require_https_webhook and not url.startswith("https://"):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        if secret is not None and not _SECRET_RE.fullmatch(str(secret)):
            raise ApiError(400, "Bad Request: bad webhook: Secret token contains unallowed characters")
        with self._cond:
            if params.get("drop_pending_updates"):
                self._drop_pending()
            self.webhook = {
                "url": url,
                "secret_token": secret,
                "allowed_updates": params.get("allowed_updates"),
                "max_connections": params.get("max_connections", 40),
                "ip_address": params.get("ip_address"),
                "has_custom_certificate": isinstance(params.get("certificate"), UploadedFile),
            }
            if not url:
                self.webhook = {"url": ""}
        return True

    def _delete_webhook(self, params: JSONDict, call: Call) -> Any:
        with self._cond:
            if params.get("drop_pending_updates"):
                self._drop_pending()
            self.webhook = {"url": ""}
        return True

    def _drop_pending(self) -> None:
        if self._pending:
            self._confirmed_below = max(self._confirmed_below, self._pending[-1]["update_id"] + 1)
        self._pending = []

    def _get_webhook_info(self, params: JSONDict, call: Call) -> Any:
        with self._cond:
            info: JSONDict = {
                "url": self.webhook["url"],
                "has_custom_certificate": bool(self.webhook.get("has_custom_certificate")),
                "pending_update_count": len(self._pending),
            }
            if self.webhook["url"]:
                info["max_connections"] = self.webhook.get("max_connections") or 40
                for key in ("allowed_updates", "ip_address"):
                    if self.webhook.get(key):
                        info[key] = self.webhook[key]
            return info

    def _send_chat_action(self, params: JSONDict, call: Call) -> Any:
        self._target_chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def _get_file(self, params: JSONDict, call: Call) -> Any:
        file_id = str(params.get("file_id") or "")
        if not file_id:
            raise ApiError(400, "Bad Request: file_id not specified")
        with self._cond:
            data = self.files.get(file_id, f"fake file {file_id}".encode())
        return {
            "file_id": file_id,
            "file_unique_id": f"U{abs(hash(file_id)) % 10**12}",
            "file_size": len(data),
            "file_path": f"files/{file_id}",
        }

    def _true(self, params: JSONDict, call: Call) -> Any:
        return True


_Impl = Callable[[FakeTelegram, JSONDict, Call], Any]
_METHODS: dict[str, _Impl] = {
    "getMe": FakeTelegram._get_me,
    "getUpdates": FakeTelegram._get_updates,
    "sendMessage": FakeTelegram._send_message,
    "editMessageText": FakeTelegram._edit_message_text,
    "editMessageReplyMarkup": FakeTelegram._edit_message_reply_markup,
    "deleteMessage": FakeTelegram._delete_message,
    "answerCallbackQuery": FakeTelegram._answer_callback_query,
    "answerInlineQuery": FakeTelegram._answer_inline_query,
    "setMyCommands": FakeTelegram._set_my_commands,
    "getMyCommands": FakeTelegram._get_my_commands,
    "deleteMyCommands": FakeTelegram._delete_my_commands,
    "setWebhook": FakeTelegram._set_webhook,
    "deleteWebhook": FakeTelegram._delete_webhook,
    "getWebhookInfo": FakeTelegram._get_webhook_info,
    "sendChatAction": FakeTelegram._send_chat_action,
    "getFile": FakeTelegram._get_file,
    "close": FakeTelegram._true,
    "logOut": FakeTelegram._true,
}
_CANONICAL = {name.lower(): name for name in _METHODS}


def _canonical_method(name: str) -> str:
    """Bot API method names are case-insensitive; map known ones to their documented spelling."""
    return _CANONICAL.get(name.lower(), name)


def _client_gone(conn: socket.socket | None) -> bool:
    """Whether the peer closed conn (readable with nothing to read); False if unknown."""
    if conn is None:
        return False
    try:
        readable, _, _ = select.select([conn], [], [], 0)
        return bool(readable) and conn.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


def _error_payload(err: ApiError) -> JSONDict:
    payload: JSONDict = {"ok": False, "error_code": err.code, "description": err.description}
    if err.parameters:
        payload["parameters"] = err.parameters
    return payload
