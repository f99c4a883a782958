"""Shared by the benchmarks: the shipped catalogue, synthetic catalogues, timing helpers."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from bot.catalog.model import Catalog, Story
from bot.evaluate import Labelled, load_labelled, questions
from bot.live import build_snapshot

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT.parent / "shared" / "eval" / "dev.yaml"
SYLLABLES = ["ka", "lo", "mi", "nu", "pe", "ra", "si", "to", "vu", "xe", "zo", "ba", "de", "fi", "gu", "ho", "ju", "ke"]


def shipped() -> Catalog:
    """The shipped catalogue, checked."""
    snapshot, problems = build_snapshot(ROOT / "stories")
    assert snapshot is not None, problems
    return snapshot.catalog


def labelled() -> dict[str, list[Labelled]]:
    """The labelled sets by name: dev (when present), tune, holdout and the three blind sets."""
    files = {
        "tune": ROOT / "tests/data/questions_tune.yaml",
        "holdout": ROOT / "tests/data/questions_holdout.yaml",
        "fresh": ROOT / "tests/data/questions_fresh.yaml",
        "fresh2": ROOT / "tests/data/questions_fresh2.yaml",
        "fresh3": ROOT / "tests/data/questions_fresh3.yaml",
    }
    if DEV.exists():
        files = {"dev": DEV, **files}
    return {name: questions(load_labelled(path)[0]) for name, path in files.items()}


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


def synthetic(base: Catalog, total: int, seed: int = 7) -> Catalog:
    """The shipped stories plus made-up ones up to `total`, each with its own vocabulary."""
    rng = random.Random(seed)
    stories = dict(base.stories)
    template = next(iter(base.stories.values()))
    common = [_word(rng) for _ in range(400)]
    for index in range(max(0, total - len(stories))):
        own = [_word(rng) for _ in range(6)]

        def phrase(own: list[str] = own) -> str:
            return " ".join(rng.sample(own, 2) + rng.sample(common, 2))

        sid = f"synthetic-{index}"
        stories[sid] = replace(
            template,
            id=sid,
            title={"en": f"Story {index}", "zh": f"故事{index}"},
            questions={"en": tuple(phrase() for _ in range(12)), "zh": (f"故事{index}",)},
            keywords={"en": tuple(own[:4]), "zh": (f"关键词{index}",)},
            related=(),
        )
    return replace(base, stories=stories)


def median_ms(function: Callable[[str], object], questions: list[str], repeat: int = 3) -> float:
    """Median wall time of one call, in milliseconds, over every question `repeat` times."""
    times: list[float] = []
    for _ in range(repeat):
        for question in questions:
            started = time.perf_counter()
            function(question)
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def story_list(catalog: Catalog) -> list[Story]:
    """The stories in order."""
    return list(catalog.stories.values())
