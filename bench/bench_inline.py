"""Inline search as you type: time per query, on the shipped catalogue and on 1,000 stories.

PYTHONPATH=. python -m bench.bench_inline
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bench.common import ROOT, median_ms, shipped, synthetic
from bot.catalog.model import Catalog
from bot.live import Snapshot, build_snapshot
from bot.matching.matcher import Matcher
from bot.matching.search import SearchIndex
from bot.replies.render import Renderer
from bot.replies.storyteller import Storyteller
from bot.telegram.inline import ranked_stories

# What a fan types, keystroke by keystroke, in both languages.
TYPED = [
    "d",
    "du",
    "duc",
    "duck",
    "ducks",
    "鸭",
    "鸭子",
    "kenya",
    "kenya hock",
    "阿",
    "阿里巴巴",
    "ebay",
    "jack ma",
    "who won",
    "ka",
    "kalo",
]


def slowest_ms(function: Callable[[str], object], queries: list[str]) -> float:
    """The slowest single call over `queries`, each asked once (nothing cached yet)."""
    times = []
    for query in queries:
        started = time.perf_counter()
        function(query)
        times.append((time.perf_counter() - started) * 1000)
    return max(times)


def measure(name: str, catalog: Catalog) -> None:
    """Print the median and slowest time per query: prefix search alone, and the whole inline ranking."""
    started = time.perf_counter()
    index = SearchIndex(catalog, clock=lambda: 0.0)
    built = (time.perf_counter() - started) * 1000
    search = median_ms(lambda q: index._search(" ".join(q.lower().split()), 10), TYPED)
    search_max = slowest_ms(lambda q: index._search(" ".join(q.lower().split()), 10), TYPED)
    teller = Storyteller(Snapshot(catalog, Matcher(catalog), Renderer(catalog)))
    ranked_stories(teller, "warm up")  # builds the matcher's and the search's indexes once
    whole_max = slowest_ms(lambda q: ranked_stories(teller, q), TYPED)  # each query once: nothing cached
    whole = median_ms(lambda q: ranked_stories(teller, q), TYPED)  # repeats: the matcher's cache helps
    print(
        f"{name}: index built in {built:.0f} ms; prefix search median {search:.3f} ms, slowest {search_max:.3f} ms; "
        f"whole inline ranking (matcher + search) median {whole:.2f} ms, slowest cold {whole_max:.2f} ms"
    )


def main() -> None:
    """The shipped catalogue, then 1,000 stories."""
    measure("shipped", shipped())
    measure("1,000 stories", synthetic(shipped(), 1000))


if __name__ == "__main__":
    assert build_snapshot(ROOT / "stories")[0] is not None
    main()
