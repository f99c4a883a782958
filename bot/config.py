"""Settings from the environment (and an optional `.env`), read once; secrets stay secret."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BASE_URL = "https://api.telegram.org/bot"


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


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse a simple KEY=VALUE `.env` file; missing file → empty."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key] = value
    return values


def _default_stories_dir() -> Path:
    shipped = PROJECT_ROOT / "stories"
    return shipped if shipped.is_dir() else Path.cwd() / "stories"


def _int_list(raw: str) -> frozenset[int]:
    return frozenset(int(part) for part in raw.replace(";", ",").split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """Everything the bot reads from its environment."""

    token: Secret = field(default_factory=lambda: Secret(""))
    base_url: str = DEFAULT_BASE_URL
    stories_dir: Path = field(default_factory=_default_stories_dir)
    log_level: str = "INFO"
    webhook_url: str = ""
    webhook_secret: Secret = field(default_factory=lambda: Secret(""))
    port: int = 8443
    state_db: Path = PROJECT_ROOT / "var" / "state.sqlite3"
    exchange_log: Path = PROJECT_ROOT / "var" / "exchanges.jsonl"
    log_to_stdout: bool = False
    log_salt: Secret = field(default_factory=lambda: Secret(""))
    moderator_chat_id: int | None = None
    admin_ids: frozenset[int] = frozenset()
    reload_interval: float = 1.0
    digest_interval: float = 60.0
    flood_limit: int = 8
    flood_window: float = 10.0
    conversation_ttl: float = 1800.0  # seconds of quiet after which a conversation starts afresh
    meaning_model: str = "use-multilingual-v3"  # the semantic stage's model; "none" for words only

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, dotenv: Path | None = None) -> Settings:
        """Read settings from `environ` (default os.environ) over an optional `.env` file."""
        env: dict[str, str] = read_dotenv(dotenv if dotenv is not None else Path.cwd() / ".env")
        env.update(os.environ if environ is None else environ)

        def get(name: str, default: str = "") -> str:
            return env.get(name, default).strip()

        moderator = get("MODERATOR_CHAT_ID")
        return cls(
            token=Secret(get("TELEGRAM_BOT_TOKEN")),
            base_url=get("TELEGRAM_BASE_URL") or DEFAULT_BASE_URL,
            stories_dir=Path(get("STORIES_DIR")) if get("STORIES_DIR") else _default_stories_dir(),
            log_level=(get("LOG_LEVEL") or "INFO").upper(),
            webhook_url=get("WEBHOOK_URL"),
            webhook_secret=Secret(get("WEBHOOK_SECRET")),
            port=int(get("PORT") or 8443),
            state_db=Path(get("STATE_DB")) if get("STATE_DB") else cls.state_db,
            exchange_log=(Path(get("EXCHANGE_LOG")) if get("EXCHANGE_LOG") else cls.exchange_log),
            log_to_stdout=get("EXCHANGE_LOG_STDOUT").lower() in {"1", "true", "yes"},
            log_salt=Secret(get("STORYBOT_LOG_SALT")),
            moderator_chat_id=int(moderator) if moderator else None,
            admin_ids=_int_list(get("ADMIN_IDS")),
            reload_interval=float(get("RELOAD_INTERVAL") or 1.0),
            digest_interval=float(get("DIGEST_INTERVAL") or 60.0),
            flood_limit=int(get("FLOOD_LIMIT") or 8),
            flood_window=float(get("FLOOD_WINDOW") or 10.0),
            conversation_ttl=float(get("CONVERSATION_TTL") or 1800.0),
            meaning_model=get("MEANING_MODEL") or "use-multilingual-v3",
        )
