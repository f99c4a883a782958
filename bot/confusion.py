"""The warning for phrasings so alike across stories that fans may get either story."""

from __future__ import annotations

from rapidfuzz import fuzz, process

from bot.catalog import Catalog, Story
from bot.problems import Problem
from bot.text import content_words, normalise

CONFUSION_SCORE = 92.0
CONFUSION_MAX_PHRASINGS = 3000


def confusable_phrasings(catalog: Catalog) -> list[Problem]:
    """Warn where two stories have phrasings so alike that fans will get either."""
    entries: list[tuple[Story, str, str]] = []
    for story in catalog.stories.values():
        for lang, phrasings in story.questions.items():
            for index, phrasing in enumerate(phrasings):
                content = " ".join(content_words(normalise(phrasing))) or normalise(phrasing)
                entries.append((story, f"questions.{lang}[{index + 1}]", content))
    if len(entries) > CONFUSION_MAX_PHRASINGS or len(entries) < 2:
        return []
    texts = [e[2] for e in entries]
    pairs = (
        (i, j)
        for i, text in enumerate(texts)
        for _, _, j in process.extract(
            text, texts, scorer=fuzz.token_sort_ratio, score_cutoff=CONFUSION_SCORE, limit=None
        )
    )
    problems: list[Problem] = []
    for i, j in pairs:
        if i >= j or entries[i][0].id == entries[j][0].id:
            continue
        (a, fa, ta), (b, fb, _) = entries[i], entries[j]
        problems.append(
            Problem(
                a.path,
                a.lines.get(fa, 1),
                fa,
                f"'{ta}' is almost the same as a phrasing of '{b.id}' ({b.path.name}:{b.lines.get(fb, 1)}, {fb}); "
                "fans asking it may get either story",
                "reword one of them so it names what is special about its story",
                warning=True,
            )
        )
    return problems
