"""The warning for phrasings so alike across stories that fans may get either story."""

from __future__ import annotations

from collections import Counter, defaultdict
from itertools import combinations

from rapidfuzz import fuzz

from bot.catalog.model import Catalog, Story
from bot.catalog.problems import Problem
from bot.matching.text import normalise, terms

CONFUSION_SCORE = 92.0
BLOCKING_TOKENS = 2  # near-identical phrasings share at least one of each other's two rarest words
LARGEST_BLOCK = 300  # a word that many phrasings lean on says little; compare through the others
MOST_WARNINGS = 50


def confusable_phrasings(catalog: Catalog) -> list[Problem]:
    """Warn where two stories have phrasings so alike that fans will get either."""
    entries: list[tuple[Story, str, str]] = []
    said: list[str] = []  # each phrasing as the bot reads it: the same twice is an error elsewhere
    for story in catalog.stories.values():
        for lang, phrasings in story.questions.items():
            for index, phrasing in enumerate(phrasings):
                normalised = normalise(phrasing)
                content = " ".join(terms(phrasing)) or normalised
                entries.append((story, f"questions.{lang}[{index + 1}]", content))
                said.append(normalised)
    problems: list[Problem] = []
    more = 0
    for i, j in sorted(_candidate_pairs([e[2] for e in entries])):
        (a, fa, ta), (b, fb, tb) = entries[i], entries[j]
        if a.id == b.id or said[i] == said[j] or fuzz.token_sort_ratio(ta, tb, score_cutoff=CONFUSION_SCORE) == 0:
            continue
        if len(problems) >= MOST_WARNINGS:
            more += 1
            continue
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
    if more:
        problems.append(
            Problem(
                catalog.root,
                0,
                "questions",
                f"{more} more pairs of confusable phrasings are not listed",
                "fix the ones above and run `storybot check` again",
                warning=True,
            )
        )
    return problems


def _candidate_pairs(texts: list[str]) -> set[tuple[int, int]]:
    """Pairs worth comparing: those sharing one of their rarest words (so 1,000 stories stay fast)."""
    tokens = [_tokens(text) for text in texts]
    frequency = Counter(token for toks in tokens for token in toks)
    blocks: dict[str, list[int]] = defaultdict(list)
    for index, toks in enumerate(tokens):
        for token in sorted(toks, key=lambda t: (frequency[t], t))[:BLOCKING_TOKENS]:
            blocks[token].append(index)
    return {pair for members in blocks.values() if len(members) <= LARGEST_BLOCK for pair in combinations(members, 2)}


def _tokens(text: str) -> set[str]:
    return set(text.split())
