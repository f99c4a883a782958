"""Helpers for the operations tests: a fixture exchange log, a browser runner, a PNG reader."""

from __future__ import annotations

import json
import struct
import subprocess
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.ops.exchange import Exchange, pseudonym

ROOT = Path(__file__).resolve().parents[2]
STORIES = ROOT / "stories"
SALT = b"test-salt"
T0 = 1_740_819_600.0  # 2025-03-01 09:00:00 UTC


def fan(n: int) -> str:
    """The pseudonymous key of test fan number n."""
    return pseudonym(SALT, "user", 1000 + n)


def ex(
    minute: float,
    question: str,
    outcome: str,
    story: str | None = None,
    *,
    user: int = 1,
    kind: str = "message",
    score: float = 0.0,
    alternatives: tuple[tuple[str, float], ...] = (),
    campaign: str | None = None,
    error: str | None = None,
    lang: str = "en",
) -> Exchange:
    """One exchange `minute` minutes after T0, from test fan `user`."""
    return Exchange(
        update_id=int(minute * 10),
        chat_type="private",
        chat_key=pseudonym(SALT, "chat", 1000 + user),
        user_key=fan(user),
        lang=lang,
        question=question,
        outcome=outcome,
        story=story,
        score=score or (80.0 if outcome == "story" else 10.0),
        alternatives=alternatives,
        campaign=campaign,
        latency_ms=12.5,
        kind=kind,
        error=error,
        time=T0 + minute * 60,
    )


AD_TV = (("greatness-of-small", 66.0), ("kenya-ice-hockey", 41.0))
INJECTION = '<script>alert("x")</script><img src=x onerror=alert(1)> where is my parcel'


def fixture_records() -> list[Exchange]:
    """A morning of a small bot: hits, misses in clear groups, small talk, a campaign, an error."""
    records = [
        # Stories asked about (12 hits) across the morning.
        ex(1, "who let the ducks cross", "story", "pearce-ducks", user=1),
        ex(5, "the rower and the ducks", "story", "pearce-ducks", user=2),
        ex(20, "bobby pearce", "story", "pearce-ducks", user=3),
        ex(70, "ducks at the olympics", "story", "pearce-ducks", user=4),
        ex(130, "谁让鸭子先过", "story", "pearce-ducks", user=5, lang="zh"),
        ex(15, "kenya ice hockey", "story", "kenya-ice-hockey", user=1),
        ex(75, "the ice lions", "story", "kenya-ice-hockey", user=6),
        ex(200, "hockey in nairobi", "story", "kenya-ice-hockey", user=7),
        ex(30, "who founded alibaba", "story", "founding", user=2),
        ex(190, "jack ma english teacher", "story", "founding", user=8),
        ex(100, "how big is alibaba", "story", "alibaba-today", user=3),
        ex(250, "alibaba revenue", "story", "alibaba-today", user=9),
        # Misses: refunds (5), the CEO (4), orders (3), the ad on TV (2, "did you mean"),
        # refunds in Chinese (2), and one with markup in it (1).
        ex(10, "how do I get a refund", "fallback", user=2),
        ex(40, "how do I get a refund", "fallback", user=3),
        ex(140, "How do I get a refund?", "fallback", user=4),
        ex(160, "refund please", "fallback", user=5),
        ex(170, "can I get my refund", "fallback", user=6),
        ex(45, "who is the ceo", "fallback", user=3),
        ex(95, "Who is the CEO?", "fallback", user=6),
        ex(135, "who is the ceo now", "fallback", user=7),
        ex(235, "alibaba ceo", "fallback", user=8),
        ex(50, "where is my order", "fallback", user=7),
        ex(150, "where is my order", "fallback", user=8),
        ex(180, "track my order", "fallback", user=9),
        ex(60, "was the ad on tv", "clarify", user=1, score=66.0, alternatives=AD_TV),
        ex(210, "did the ad air on tv", "clarify", user=2, score=66.0, alternatives=AD_TV),
        ex(80, "怎么退款", "fallback", user=10, lang="zh"),
        ex(220, "退款", "fallback", user=11, lang="zh"),
        ex(230, INJECTION, "fallback", user=12),
        # Small talk, buttons, a campaign deep link, an error, a blocked fan, a command.
        ex(2, "hello", "smalltalk", user=1),
        ex(90, "thanks", "smalltalk", user=3),
        ex(240, "hi", "smalltalk", user=4),
        ex(6, "s:pearce-ducks", "story", "pearce-ducks", user=2, kind="callback"),
        ex(7, "c:pearce-ducks:1", "story", "pearce-ducks", user=2, kind="callback"),
        ex(110, "/start olympics-ad", "story", "greatness-of-small", user=13, kind="command", campaign="olympics-ad"),
        ex(111, "/start olympics-ad", "story", "greatness-of-small", user=14, kind="command", campaign="olympics-ad"),
        ex(112, "who made the ads", "story", "greatness-of-small", user=13, campaign="olympics-ad"),
        ex(120, "tell me about the ducks", "error", user=15, error="TimedOut: send_message\nretry"),
        ex(125, "spam spam", "blocked", user=16),
        ex(3, "/help", "menu", user=1, kind="command"),
        # Inline searches, one per keystroke: counted apart, never misses.
        ex(115, "bo", "fallback", user=3, kind="inline"),
        ex(116, "bobby", "story", "pearce-ducks", user=3, kind="inline"),
    ]
    return sorted(records, key=lambda r: r.time)


def write_log(path: Path, records: Iterable[Exchange]) -> Path:
    """Write records as the FileSink does: one JSON line each."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")
    return path


@dataclass(frozen=True)
class Browser:
    """Headless Chromium run once per page, with a throwaway profile."""

    path: str
    profile: Path

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [
            self.path,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            f"--user-data-dir={self.profile}",
            *args,
        ]
        return subprocess.run(command, capture_output=True, text=True, timeout=90, check=True)

    def dump_dom(self, page: Path) -> str:
        """The DOM after the page loaded, serialised."""
        return self._run("--dump-dom", page.as_uri()).stdout

    def screenshot(self, page: Path, png: Path, size: str = "1100,1800") -> Path:
        """A PNG of the page."""
        self._run(f"--screenshot={png}", f"--window-size={size}", "--hide-scrollbars", page.as_uri())
        return png


def png_pixels(png: Path) -> tuple[int, int, Callable[[int, int], tuple[int, ...]]]:
    """Width, height and a pixel reader of an 8-bit RGB/RGBA PNG (enough for screenshots)."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and color in (2, 6), f"unexpected PNG format depth={depth} color={color}"
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
                line[i] = (line[i] + pred) & 0xFF
        rows.append(line)
        previous = line

    def pixel(x: int, y: int) -> tuple[int, ...]:
        return tuple(rows[y][x * channels : x * channels + 3])

    return width, height, pixel
