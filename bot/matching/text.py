"""Text normalisation, language detection and tokenising shared by matching and checks."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from bot.matching.words import word_list

# Zero-width, bidi and other format characters fans (and attackers) paste in.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\u00ad]")
_CJK_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # the CJK ideograph blocks, written once
_CJK = re.compile(f"[{_CJK_CHARS}]")
CJK_CHAR = _CJK  # one Chinese character: what the catalogue checks count
# Emoji are words too (a fan may send 🦆); a flag is a pair of regional indicators (🇰🇪).
_EMOJI = "\U0001f1e6-\U0001f1ff\U0001f300-\U0001faff\u2600-\u27bf"
_EMOJI_CHAR = re.compile(f"[{_EMOJI}]")
_RUNS = re.compile(f"[\U0001f1e6-\U0001f1ff]{{2}}|[{_EMOJI}]|[{_CJK_CHARS}]+|[^\\W_{_CJK_CHARS}]+", re.UNICODE)
_APOSTROPHES = re.compile(r"(?<=\w)['’`](?=\w)")

EN_STOPWORDS = word_list("stopwords.en") | frozenset("abcdefghijklmnopqrstuvwxyz0123456789")  # a lone letter or
# digit ("1" from 2017年1月, "b" from <b>) identifies nothing
ZH_STOPCHARS = word_list("stopchars.zh")
ZH_STOPWORDS = word_list("stopwords.zh")


def fold(text: str) -> str:
    """NFKC, casefold, invisible characters dropped, apostrophes inside words dropped."""
    # The common case is ASCII: NFKC changes nothing there and nothing is invisible.
    text = text.lower() if text.isascii() else _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).casefold()
    if "'" in text or "’" in text or "`" in text:
        text = _APOSTROPHES.sub("", text)
    return text


def normalise(text: str) -> str:
    """`fold`, then punctuation to spaces and single spaces: the text matching works on."""
    return " ".join(_RUNS.findall(fold(text)))


_REPEATS = {n: re.compile(rf"([a-z])\1{{{n - 1},}}") for n in (2, 3)}


def squeeze(text: str, times: int = 3) -> str:
    """A letter typed `times` or more times in a row, once ("hiii" → "hi", with 2 "thxx" → "thx")."""
    return _REPEATS[times].sub(r"\1", text)


def has_cjk(text: str) -> bool:
    """Whether the text contains Chinese characters."""
    return _CJK.search(text) is not None


def detect_lang(text: str) -> str:
    """`zh` when the text has Chinese characters, else `en`."""
    return "zh" if has_cjk(text) else "en"


def is_cjk_run(token: str) -> bool:
    """Whether a run from `runs()` is Chinese."""
    return bool(token) and _CJK.match(token) is not None


def is_emoji(token: str) -> bool:
    """Whether a run from `runs()` is an emoji (or a flag)."""
    return bool(token) and _EMOJI_CHAR.match(token[0]) is not None


_CJK_RUN = re.compile(f"[{_CJK_CHARS}]+")
_WORD_RUN = re.compile(f"[\U0001f1e6-\U0001f1ff]{{2}}|[{_EMOJI}]|[^\\W_{_CJK_CHARS}]+")


_ASCII_WORD = re.compile("[A-Za-z0-9]+")  # what _WORD_RUN finds in ASCII text


def split_runs(normalised: str) -> tuple[list[str], list[str]]:
    """Chinese runs and other words, separately (order within each kept): the fast path."""
    if normalised.isascii():  # most phrasings and story texts: no Chinese, no emoji
        return [], _ASCII_WORD.findall(normalised)
    return _CJK_RUN.findall(normalised), _WORD_RUN.findall(normalised)


def runs(normalised: str) -> list[str]:
    """Split normalised text into word runs and Chinese runs (`淘宝打败ebay` → [淘宝打败, ebay])."""
    return _RUNS.findall(normalised)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light English stemmer: plurals, -ing, -ed, -er, -ness (enough to join founder/founded)."""
    if len(word) <= 3 or not word.isascii() or not word.isalpha():
        return word
    for suffix, replacement, keep in (
        ("ies", "y", 3),
        ("sses", "ss", 3),
        ("ness", "", 4),
        ("ing", "", 3),
        ("ed", "", 3),
        ("ers", "", 3),
        ("er", "", 3),
        ("xes", "x", 3),
        ("ches", "ch", 3),
        ("shes", "sh", 3),
        ("s", "", 3),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= keep:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            base = word[: len(word) - len(suffix)] + replacement
            # running → run, stopped → stop; but calling → call, passed → pass (as Porter's step 1b)
            undouble = base[-1] == base[-2] and base[-1] not in "lsz"
            if suffix in {"ing", "ed", "ers", "er"} and len(base) > 3 and undouble:
                base = base[:-1]
            return base
    return word


def content_words(normalised: str) -> list[str]:
    """Stemmed non-stop-word tokens of the non-Chinese runs."""
    return [stem(w) for w in runs(normalised) if not is_cjk_run(w) and w not in EN_STOPWORDS]


def cjk_bigrams(run: str) -> list[str]:
    """Character bigrams of a Chinese run, leaving out those made of stop characters."""
    if len(run) == 1:
        return [] if run in ZH_STOPCHARS else [run]
    grams = [run[i : i + 2] for i in range(len(run) - 1)]
    return [g for g in grams if not (g[0] in ZH_STOPCHARS or g[1] in ZH_STOPCHARS) and g not in ZH_STOPWORDS]


def terms(text: str) -> list[str]:
    """What two texts are compared on outside the index: their content words (stemmed, no stop
    words) and the bigrams of their Chinese runs. The checks and the report's clusters share it."""
    norm = normalise(text)
    found = content_words(norm)
    for run in runs(norm):
        if is_cjk_run(run):
            found.extend(cjk_bigrams(run))
    return found
