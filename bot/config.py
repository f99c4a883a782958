"""Settings from the environment (and an optional `.env`), parsed and checked once; secrets stay secret.

Every variable is parsed when the settings are read. A bad value does not raise there: it becomes a
SettingProblem, and a command asks only for the variables it uses (`Settings.require`), so a bad
PORT stops `storybot run --webhook` with one clear line but never `storybot chat`.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from dotenv import dotenv_values

from bot.matching.meaning import MODELS as MEANING_MODELS

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent  # the checkout, when running from source
DEFAULT_BASE_URL = "https://api.telegram.org/bot"
DATA_DIR_NAME = "var"
# What @BotFather hands out: the bot's numeric id, a colon, then 35 characters (some slack either way).
TOKEN_PATTERN = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{30,60}")
# What Telegram accepts as X-Telegram-Bot-Api-Secret-Token.
WEBHOOK_SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{4,256}")  # a shorter secret is guessed in seconds
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
TRUE, FALSE = frozenset({"1", "true", "yes", "on"}), frozenset({"", "0", "false", "no", "off"})

T = TypeVar("T")


class Secret:
    """A string that never shows itself in repr, str or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        """The secret value; call only where it is really needed."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('**********')" if self._value else "Secret('')"

    __str__ = __repr__


def masked_token(token: Secret) -> str:
    """The bot's public id with the secret half hidden (`123456789:***`), for start-up lines."""
    bot_id, colon, _ = token.get().partition(":")
    return f"{bot_id}:***" if colon and bot_id.isdigit() else "***"


def shipped_stories() -> Path:
    """The sample catalogue: inside the installed package, or the checkout's stories/ from source."""
    packaged = PACKAGE_DIR / "sample_stories"
    return packaged if packaged.is_dir() else PROJECT_ROOT / "stories"


def default_data_dir() -> Path:
    """Where the bot writes when STORYBOT_DATA_DIR is not set: ./var under the working folder."""
    return Path.cwd() / DATA_DIR_NAME


@dataclass(frozen=True)
class SettingProblem:
    """One variable whose value cannot be used: its name, the value as shown, what is accepted."""

    name: str
    shown: str
    accepted: str

    def line(self) -> str:
        """One line for a person: `storybot: PORT is 'abc'; expected ...`."""
        return f"storybot: {self.name} is {self.shown}; expected {self.accepted}"


class SettingsError(Exception):
    """Settings a command needs are unusable; each problem is one line (the CLI exits 2)."""

    def __init__(self, problems: tuple[SettingProblem, ...]) -> None:
        super().__init__("\n".join(problem.line() for problem in problems))
        self.problems = problems


class _Invalid(ValueError):
    """A value a parser refuses; the message says what is accepted."""


def _whole(low: int, high: int | None = None) -> Callable[[str], int]:
    accepted = f"a whole number from {low} to {high}" if high is not None else f"a whole number, at least {low}"

    def parse(text: str) -> int:
        if not re.fullmatch(r"-?[0-9]+", text) or int(text) < low or (high is not None and int(text) > high):
            raise _Invalid(accepted)
        return int(text)

    return parse


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise _Invalid("a number of seconds above 0, like 1.5 or 60")
    return value


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 <= value <= 1000):
        raise _Invalid("messages a second from 0 to 1000, like 25 (0: no limit, for a local Bot API server)")
    return value


def _chat_id(text: str) -> int:
    if not re.fullmatch(r"-?[0-9]{1,20}", text) or int(text) == 0:
        raise _Invalid("a Telegram chat id, a whole number like -1001234567890")
    return int(text)


def _user_ids(text: str) -> frozenset[int]:
    parts = [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
    if not all(re.fullmatch(r"[0-9]{1,20}", part) for part in parts):
        raise _Invalid("Telegram user ids separated by commas, like 12345678,23456789")
    return frozenset(int(part) for part in parts)


def _flag(text: str) -> bool:
    if text.lower() not in TRUE | FALSE:
        raise _Invalid("true or false")
    return text.lower() in TRUE


def _meaning_model(text: str) -> str:
    if text not in MEANING_MODELS:
        raise _Invalid("one of " + ", ".join(MEANING_MODELS))
    return text


def _log_level(text: str) -> str:
    if text.upper() not in LOG_LEVELS:
        raise _Invalid("one of " + ", ".join(LOG_LEVELS))
    return text.upper()


def _http_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _Invalid("an http:// or https:// address")
    return text


def _webhook_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme != "https" or not parts.hostname:
        raise _Invalid("the public https:// address Telegram posts to (Telegram sends updates only over HTTPS)")
    return text


TOKEN_ACCEPTED = "a token from @BotFather (/newbot): the bot's id, a colon, then about 35 letters, digits, _ or -"
WEBHOOK_SECRET_ACCEPTED = "4-256 characters of A-Z, a-z, 0-9, _ or -"


def _token(text: str) -> Secret:
    if not TOKEN_PATTERN.fullmatch(text):
        raise _Invalid(TOKEN_ACCEPTED)
    return Secret(text)


def _webhook_secret(text: str) -> Secret:
    if not WEBHOOK_SECRET_PATTERN.fullmatch(text):
        raise _Invalid(WEBHOOK_SECRET_ACCEPTED)
    return Secret(text)


def _folder(text: str) -> Path:
    path = Path(text).expanduser()
    if path.exists() and not path.is_dir():
        raise _Invalid("a folder (this is a file)")
    return path


SECRETS = frozenset({"TELEGRAM_BOT_TOKEN", "WEBHOOK_SECRET", "STORYBOT_LOG_SALT"})


def _shown(name: str, value: str) -> str:
    """The value for an error line; a secret only by its length."""
    return f"<hidden, {len(value)} characters>" if name in SECRETS else repr(value)


def read_env(environ: Mapping[str, str] | None = None, dotenv: Path | None = None) -> dict[str, str]:
    """`environ` (default os.environ) over the `.env` file (default ./.env), read by python-dotenv."""
    path = dotenv if dotenv is not None else Path.cwd() / ".env"
    values = (
        {k: v for k, v in dotenv_values(path, interpolate=False).items() if v is not None} if path.is_file() else {}
    )
    values.update(os.environ if environ is None else environ)
    return values


@dataclass(frozen=True)
class Settings:
    """Everything the bot reads from its environment."""

    token: Secret = field(default_factory=lambda: Secret(""))
    base_url: str = DEFAULT_BASE_URL
    stories_dir: Path = field(default_factory=shipped_stories)
    data_dir: Path = field(default_factory=default_data_dir)
    log_level: str = "INFO"
    webhook_url: str = ""
    webhook_secret: Secret = field(default_factory=lambda: Secret(""))
    port: int = 8443
    log_to_stdout: bool = False
    log_salt: Secret = field(default_factory=lambda: Secret(""))
    moderator_chat_id: int | None = None
    admin_ids: frozenset[int] = frozenset()
    reload_interval: float = 1.0
    digest_interval: float = 60.0
    flood_limit: int = 8
    flood_window: float = 10.0
    conversation_ttl: float = 1800.0  # seconds of quiet after which a conversation starts afresh
    meaning_model: str = MEANING_MODELS[0]  # the semantic stage's model; "none" for words only
    broadcast_rate: float = 25.0  # broadcast messages a second (Telegram allows about 30 in all)
    broadcast_paid: bool = False  # send broadcasts with allow_paid_broadcast (paid, up to 1000/s)
    broadcast_in_flight: int = 0  # broadcast sends at once (0: by the pace); also the most a kill can double
    problems: tuple[SettingProblem, ...] = ()

    @property
    def state_db(self) -> Path:
        """Fans' language and last story (SQLite), in the data folder."""
        return self.data_dir / "state.sqlite3"

    @property
    def exchange_log(self) -> Path:
        """The exchange log (JSON lines, rotated beside it), in the data folder."""
        return self.data_dir / "exchanges.jsonl"

    def require(self, *names: str) -> Settings:
        """These settings, or SettingsError naming every unusable variable among `names`."""
        bad = tuple(problem for problem in self.problems if problem.name in names)
        if bad:
            raise SettingsError(bad)
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, dotenv: Path | None = None) -> Settings:
        """Read and check every setting from `environ` (default os.environ) over `.env`."""
        env = read_env(environ, dotenv)
        problems: list[SettingProblem] = []

        def get(name: str, parse: Callable[[str], T], default: T) -> T:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                return parse(raw)
            except _Invalid as exc:
                problems.append(SettingProblem(name, _shown(name, raw), str(exc)))
                return default

        defaults = cls()
        settings = cls(
            token=get("TELEGRAM_BOT_TOKEN", _token, defaults.token),
            base_url=get("TELEGRAM_BASE_URL", _http_url, DEFAULT_BASE_URL),
            stories_dir=get("STORIES_DIR", _folder, defaults.stories_dir),
            data_dir=get("STORYBOT_DATA_DIR", _folder, defaults.data_dir),
            log_level=get("LOG_LEVEL", _log_level, "INFO"),
            webhook_url=get("WEBHOOK_URL", _webhook_url, ""),
            webhook_secret=get("WEBHOOK_SECRET", _webhook_secret, defaults.webhook_secret),
            port=get("PORT", _whole(1, 65535), defaults.port),
            log_to_stdout=get("EXCHANGE_LOG_STDOUT", _flag, False),
            log_salt=get("STORYBOT_LOG_SALT", Secret, defaults.log_salt),
            moderator_chat_id=get("MODERATOR_CHAT_ID", _chat_id, None),
            admin_ids=get("ADMIN_IDS", _user_ids, frozenset()),
            reload_interval=get("RELOAD_INTERVAL", _seconds, defaults.reload_interval),
            digest_interval=get("DIGEST_INTERVAL", _seconds, defaults.digest_interval),
            flood_limit=get("FLOOD_LIMIT", _whole(1), defaults.flood_limit),
            flood_window=get("FLOOD_WINDOW", _seconds, defaults.flood_window),
            conversation_ttl=get("CONVERSATION_TTL", _seconds, defaults.conversation_ttl),
            meaning_model=get("MEANING_MODEL", _meaning_model, defaults.meaning_model),
            broadcast_rate=get("BROADCAST_RATE", _rate, defaults.broadcast_rate),
            broadcast_paid=get("BROADCAST_PAID", _flag, defaults.broadcast_paid),
            broadcast_in_flight=get("BROADCAST_IN_FLIGHT", _whole(0, 1000), defaults.broadcast_in_flight),
        )
        return replace(settings, problems=tuple(problems))


def missing(name: str, accepted: str) -> SettingProblem:
    """A problem for a variable that is needed but not set."""
    return SettingProblem(name, "not set", accepted)


# Which variables each kind of work reads (for Settings.require).
CATALOGUE = ("STORIES_DIR", "MEANING_MODEL")
DATA = (*CATALOGUE, "STORYBOT_DATA_DIR")
WEBHOOK = ("WEBHOOK_URL", "WEBHOOK_SECRET", "PORT")
BROADCAST = ("BROADCAST_RATE", "BROADCAST_PAID", "BROADCAST_IN_FLIGHT")
BOT = (
    *DATA,
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_BASE_URL",
    "LOG_LEVEL",
    "EXCHANGE_LOG_STDOUT",
    "STORYBOT_LOG_SALT",
    "MODERATOR_CHAT_ID",
    "ADMIN_IDS",
    "RELOAD_INTERVAL",
    "DIGEST_INTERVAL",
    "FLOOD_LIMIT",
    "FLOOD_WINDOW",
    "CONVERSATION_TTL",
    *BROADCAST,
)
