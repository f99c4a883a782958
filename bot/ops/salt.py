"""The secret behind pseudonymous keys: STORYBOT_LOG_SALT, else a random one kept beside the log.

Why a persisted random salt rather than refusing to start or hashing without a key: an unkeyed
hash of a Telegram id can be reversed by hashing every plausible id, and a fresh random salt at
each start would give the same fan a new key after every restart (the report would count them
twice and /block would stop working). So when the setting is empty we generate 32 random bytes
once, keep them in `<data folder>/log_salt` (mode 0600), and warn: keys stay stable while that file
lives, and set STORYBOT_LOG_SALT to share keys between machines or to survive losing the data
folder (STORYBOT_DATA_DIR).
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import replace
from pathlib import Path

from bot.config import Secret, Settings

SALT_FILE = "log_salt"

log = logging.getLogger(__name__)


def salt_file(settings: Settings) -> Path:
    """Where a generated salt is kept: in the data folder, beside the exchange log."""
    return settings.data_dir / SALT_FILE


def load_salt(settings: Settings) -> bytes:
    """The key for pseudonym(): the configured secret, else the persisted (or a new) random one."""
    if settings.log_salt:
        return settings.log_salt.get().encode()
    path = salt_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: when two processes start at once, exactly one writes and both read the same salt.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        stored = path.read_text(encoding="ascii").strip()
        if stored:
            log.warning("STORYBOT_LOG_SALT is not set; using the salt kept in %s", path)
            return stored.encode()
        # An empty file (a crash between create and write): replace it with a fresh salt.
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC, 0o600)
    value = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value + "\n")
    log.warning(
        "STORYBOT_LOG_SALT is not set; generated a random salt and kept it in %s "
        "(keys stay stable while that file lives; set STORYBOT_LOG_SALT to choose one)",
        path,
    )
    return value.encode()


def with_salt(settings: Settings) -> Settings:
    """Settings whose log_salt is never empty, for code that reads `settings.log_salt` directly."""
    if settings.log_salt:
        return settings
    try:
        salt = load_salt(settings).decode()
    except OSError as exc:  # a read-only or full data folder must not stop the bot answering
        log.warning(
            "STORYBOT_LOG_SALT is not set and no salt can be kept in %s (%s); using one for this run "
            "only, so fans' keys change at the next start: set STORYBOT_LOG_SALT",
            settings.data_dir,
            exc.strerror or type(exc).__name__,
        )
        salt = secrets.token_hex(32)
    return replace(settings, log_salt=Secret(salt))
