"""Matching: accuracy against rapidfuzz out of the box, and latency against catalogue size.

Run: python bench/bench_matcher.py   (figures go into BENCHMARKS.md)
"""

from __future__ import annotations

from collections.abc import Callable

from rapidfuzz import fuzz, process

from bench.common import labelled, median_ms, shipped, synthetic
from bot.catalog.model import Catalog
from bot.evaluate import Labelled
from bot.matching.decide import Outcome
from bot.matching.matcher import Matcher


def baseline(catalog: Catalog, threshold: float) -> Callable[[str], str | None]:
    """rapidfuzz WRatio over every phrasing, best above a threshold: the out-of-the-box method."""
    choices: list[str] = []
    owners: list[str] = []
    for story in catalog.stories.values():
        for phrasings in story.questions.values():
            for phrasing in phrasings:
                choices.append(phrasing.lower())
                owners.append(story.id)

    def answer(question: str) -> str | None:
        found = process.extractOne(question.lower(), choices, scorer=fuzz.WRatio, score_cutoff=threshold)
        return owners[found[2]] if found else None

    return answer


def ours(matcher: Matcher) -> Callable[[str], str | None]:
    """Our matcher as the same kind of function."""

    def answer(question: str) -> str | None:
        decision = matcher.decide(question)
        return decision.story_id if decision.outcome is Outcome.STORY else None

    return answer


def scores(answer: Callable[[str], str | None], items: list[Labelled]) -> tuple[float, float, float]:
    """Overall, in-scope and off-topic accuracy."""
    right = [answer(i.question) == i.expect for i in items]
    ins = [r for r, i in zip(right, items, strict=True) if i.expect is not None]
    off = [r for r, i in zip(right, items, strict=True) if i.expect is None]
    return sum(right) / len(right), sum(ins) / max(len(ins), 1), sum(off) / max(len(off), 1)


def main() -> None:
    """Print the tables for BENCHMARKS.md."""
    catalog = shipped()
    sets = labelled()
    items = [item for group in sets.values() for item in group]
    pick = sets.get("dev") or sets["tune"]
    best_threshold = max(range(50, 100, 5), key=lambda t: scores(baseline(catalog, t), pick)[0])
    questions = [i.question for i in items]
    print("accuracy (overall / in scope / off-topic) and median ms a question")
    print("| method | " + " | ".join(sets) + " | median ms |")
    print("|---|" + "---|" * len(sets) + "---|")
    for name, answer in (
        (f"rapidfuzz WRatio, threshold {best_threshold} (baseline)", baseline(catalog, best_threshold)),
        ("storybot matcher", ours(Matcher(catalog))),
    ):
        cells = []
        for group in sets.values():
            overall, ins, off = scores(answer, group)
            cells.append(f"{overall:.1%} / {ins:.1%} / {off:.1%}")
        print(f"| {name} | " + " | ".join(cells) + f" | {median_ms(answer, questions):.3f} |")
    base_ms = median_ms(baseline(catalog, best_threshold), questions)
    print("\nlatency against catalogue size (median of decide(), one core)")
    print("| stories | median ms | ratio to WRatio baseline on 8 stories |")
    print("|---|---|---|")
    for size in (8, 100, 1000, 10000):
        matcher = Matcher(synthetic(catalog, size))
        ms = median_ms(matcher.match, questions, repeat=1 if size >= 1000 else 3)
        print(f"| {size} | {ms:.3f} | {ms / base_ms:.1f}× |")


if __name__ == "__main__":
    main()
