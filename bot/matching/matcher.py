"""Pure matching: a question in, ranked stories (or small talk, or nothing) out. No I/O."""

from __future__ import annotations

import heapq
import itertools
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.catalog.model import Catalog
from bot.matching.decide import OFFTOPIC, SMALLTALK_PREFIX, Candidate, Context, Decision, Evidence, Policy, decide
from bot.matching.text import (
    EN_STOPWORDS,
    ZH_STOPCHARS,
    cjk_bigrams,
    content_words,
    fold,
    is_cjk_run,
    is_emoji,
    normalise,
    runs,
    split_runs,
    squeeze,
    stem,
)
from bot.matching.words import word_list

# Template syntax of the common engines ({{ }}, {% %}, {# #}, ${ }, <% %>, #{ }) and HTML tags.
_CODE = re.compile(r"\{\{|\{%|\{#|\$\{|<%|#\{|<\s*/?\s*[A-Za-z][^<>]*>")
ZH_PARTICLES = "吗吧呢啊呀么嘛哦啦"  # sentence-final particles: 你是机器人吧 is 你是机器人吗
SMALLTALK_LOOSE = 80.0  # the likeness given to small talk recognised by its words rather than a phrasing
ZH_SMALLTALK_SLACK = 3  # characters a Chinese message may add around a small-talk phrasing ("你好呀")
TYPO_MIN_LETTERS = 4  # words shorter than this are never typo-corrected (too many neighbours)
TWO_TYPOS_FROM = 8  # letters from which a word may have two typos instead of one
LONGEST_WORD = 20  # letters of the longest piece tried when splitting run-together words
RUN_TOGETHER_FROM = 7  # letters from which an unknown word may be several run together ("duckrower")
EVIDENCE_CANDIDATES = 3  # stories a decision sees (and a "did you mean" may offer)
WHOLE_SET = 99  # token_set_ratio of a question whose every word is in one small-talk phrasing
OFFTOPIC_MOSTLY = 0.5  # share of a word's evidence held by off-topic examples that makes it theirs
EMOJI_FLOOD = 8  # more emoji than this with at most one word: a flood, never a story
FOLLOWUP = word_list("followup")
_LEANING_PHRASES = tuple(cue for cue in FOLLOWUP if " " in cue or not cue.isascii())
REQUESTS = word_list("requests")
AMBIGUOUS_WORDS = word_list("ambiguous")
AMBIGUOUS_MAX_WORDS = 2  # content words beyond which ordinary words are a real question, not a lone word
SHORTHAND = dict((normalise(k), normalise(v)) for k, _, v in (e.partition("=") for e in word_list("shorthand")))
AMBIGUOUS_STEMS = frozenset(stem(w) for w in AMBIGUOUS_WORDS)
# Words of the request phrasings that say "a story" themselves; the rest only frame the request.
_REQUEST_WORDS = frozenset(w for r in REQUESTS if r.isascii() for w in r.split())
# ("more" alone leans on the story being told: "tell me more" is a follow-up, "one more" a request.)
_REQUEST_HEADS = frozenset({"story", "stories", "another", "surprise", "something", "tale", "tales", "next"})


@dataclass(frozen=True, slots=True)
class MatcherConfig:
    """The scoring's numbers, tuned on tests/data/questions_tune.yaml (bench/tune_matcher.py searches them).

    Scores are 0–100: a story's share of the question's word evidence, blended with how near the
    question is to one of its phrasings.
    """

    threshold: float = 50.0  # score a story needs to be told; raising it turns more answers into fallbacks
    clarify_margin: float = 4.0  # points within which a runner-up makes a "did you mean"; raising it asks more often
    clarify_floor: float = 40.0  # score a runner-up needs to be offered in a "did you mean" at all
    smalltalk_threshold: float = 86.0  # likeness (fuzz.ratio) to a small-talk phrasing that makes small talk
    keyword_weight: float = 3.0  # a keyword counts this many phrasings' worth of evidence for its story
    unknown_weight: float = 0.7  # how much an unknown word dilutes the evidence (× the rarest word's idf)
    fuzzy_discount: float = 0.8  # weight of a typo-corrected word against one spelled right (0–1)
    cjk_unknown_per_char: float = 0.35  # dilution by one unknown Chinese character (two or more count as a word)
    phrase_weight: float = 0.5  # share of the score that comes from phrase likeness (0–1); the rest is word evidence
    unknown_cap: float = 2.0  # unknown words counted in full up to this many...
    unknown_tail: float = 0.4  # ...and each one past it at this fraction
    short_question: int = 4  # content words up to which every unknown word counts; longer rambles dilute less
    guard_phrase: float = 80.0  # likeness (token_sort_ratio) that lets a story without a keyword hit through
    contested_share: float = 0.2  # share a word needs among off-topic examples to count as theirs too
    reject_ratio: float = 1.0  # the story must beat the off-topic examples' score times this
    reject_phrase: float = 90.0  # a phrase this close to a story's...
    reject_phrase_margin: float = 15.0  # ...and this much closer than to any off-topic example wins anyway
    phrase_share: float = 30.0  # word-evidence share below which phrase likeness counts proportionally less
    max_postings: int = 64  # stories kept per very common word (the best ones); bounds work on big catalogues
    rerank: int = 3  # stories re-scored by phrase likeness after the word-evidence pass
    sure_likeness: float = 90.0  # likeness at which a confident story needs no second opinion by meaning
    followup_words: int = 3  # content words a question leaning on the conversation may have and still be a follow-up


class Meaning(Protocol):
    """The semantic stage: classes (story ids, off-topic, small talk) nearest a question by meaning."""

    def rank(self, question: str) -> list[Candidate]:
        """Classes best first, similarity 0–100."""
        ...

    def ready(self) -> object:
        """Do the slow preparation now (load the model, embed the examples)."""
        ...


@dataclass(frozen=True, slots=True)
class _Scored:
    cls: int
    score: float
    phrase: float
    keyword: bool
    share: float


@dataclass(slots=True)
class _Query:
    terms: dict[str, float]
    unknown: float
    text: str
    content: str
    unknown_words: int = 0  # unknown words; a lone Chinese character is often just glue


class Matcher:
    """Scores a question against every story, the off-topic examples and small talk."""

    def __init__(
        self,
        catalog: Catalog,
        config: MatcherConfig | None = None,
        policy: Policy | None = None,
        meaning: Meaning | None = None,
    ) -> None:
        self.config = config or MatcherConfig()
        self.policy = policy or Policy()
        self.meaning = meaning
        self._classes: list[str] = []
        self._phrasings: list[list[str]] = []
        self._keyword_terms: list[frozenset[str]] = []
        self._keyword_texts: list[list[str]] = []  # each keyword as the matcher sees it, per class
        self._surface: set[str] = set(EN_STOPWORDS)
        weights: dict[str, dict[int, float]] = defaultdict(dict)
        # Phrasings, titles and keywords only. A story's own text was once indexed too, as weak
        # evidence; on all five labelled sets (660 questions) it changed nothing or cost a little,
        # and it was a fifth of the index's build time.
        for story in catalog.stories.values():
            texts = [q for qs in story.questions.values() for q in qs] + list(story.title.values())
            keywords = [k for ks in story.keywords.values() for k in ks]
            self._add_class(story.id, texts, keywords, weights)
        offtopic = [q for qs in catalog.offtopic.values() for q in qs]
        if offtopic:
            self._add_class(OFFTOPIC, offtopic, [], weights)
        self._smalltalk: list[str] = []
        self._smalltalk_intent: list[str] = []
        self._smalltalk_words: set[str] = set()
        for intent in catalog.smalltalk.values():
            phrasings = [q for qs in intent.questions.values() for q in qs]
            self._add_class(SMALLTALK_PREFIX + intent.intent, phrasings, [], weights)
            for phrasing in phrasings:
                self._smalltalk.append(normalise(phrasing))
                self._smalltalk_intent.append(intent.intent)
                self._smalltalk_words.update(self._smalltalk[-1].split())
        self._story_count = len(catalog.stories)
        self._offtopic = self._classes.index(OFFTOPIC) if OFFTOPIC in self._classes else None
        n = max(len(self._classes), 1)
        self._unknown_idf = math.log(1 + n)
        self._postings: dict[str, tuple[tuple[int, float], ...]] = {}
        self._idf: dict[str, float] = {}
        for term, by_class in weights.items():
            total = sum(by_class.values())
            self._idf[term] = math.log(1 + n / len(by_class))
            kept: Iterable[tuple[int, float]] = by_class.items()
            if len(by_class) > self.config.max_postings:  # a very common word: its best stories only
                kept = heapq.nlargest(self.config.max_postings, kept, key=lambda kv: kv[1])
            self._postings[term] = tuple((cls, w / total) for cls, w in kept)
        # Typo index: every known stem and every known spelling, by their one-letter deletions.
        self._deletes: dict[str, list[str]] = defaultdict(list)
        spellings = {w for w in self._surface if stem(w) in self._postings} | set(self._postings)
        for term in spellings:
            if len(term) >= TYPO_MIN_LETTERS and term.isascii() and " " not in term:
                for key in _deletions(term):
                    self._deletes[key].append(term)
        self._strong: frozenset[str] = frozenset().union(*self._keyword_terms)
        self._longest_cjk = max((len(t) for t in self._postings if is_cjk_run(t)), default=2)

    def _add_class(
        self,
        key: str,
        phrasings: Iterable[str],
        keywords: Iterable[str],
        weights: dict[str, dict[int, float]],
    ) -> None:
        index = len(self._classes)
        self._classes.append(key)
        counts: dict[str, float] = {}  # this class's weight per term, merged into `weights` once
        contents: list[str] = []
        surface = self._surface
        for phrasing in phrasings:
            cjk, words = split_runs(fold(phrasing))
            surface.update(words)
            stems = [stem(w) for w in words if w not in EN_STOPWORDS]
            contents.append(" ".join(cjk + stems) if cjk else " ".join(stems))
            terms = set(stems)
            # Word pairs too, so that a pair keyword ("alibaba cloud") met in an off-topic example
            # or another story's phrasing is shared evidence, not one story's alone.
            terms.update(map(" ".join, itertools.pairwise(stems)))
            for run in cjk:
                terms.update(cjk_bigrams(run))
            for term in terms:
                counts[term] = counts.get(term, 0.0) + 1.0
        strong: set[str] = set()
        keyword_texts: list[str] = []
        for keyword in keywords:
            cjk, words = split_runs(fold(keyword))
            surface.update(words)
            keyword_terms, keyword_text = _terms_of_runs(cjk, words)
            keyword_texts.append(keyword_text)
            if len(keyword_terms) > 1 and not cjk:
                # "funny names": the pair is the keyword; each word alone is ordinary evidence.
                for term in set(keyword_terms):
                    counts[term] = counts.get(term, 0.0) + 1.0
                keyword_terms = [" ".join(keyword_terms[i : i + 2]) for i in range(len(keyword_terms) - 1)]
            keyword_terms.extend(cjk)
            strong.update(keyword_terms)
            for term in set(keyword_terms):
                counts[term] = counts.get(term, 0.0) + self.config.keyword_weight
        for term, weight in counts.items():
            weights[term][index] = weight
        self._phrasings.append(contents)
        self._keyword_terms.append(frozenset(strong))
        self._keyword_texts.append(keyword_texts)

    # --- query side -------------------------------------------------------------------------

    def _query(self, question: str) -> _Query:
        norm = normalise(question)
        terms: dict[str, float] = {}
        unknown = 0.0
        unknown_words = 0
        content: list[str] = []
        previous: str | None = None
        for run in runs(norm):
            if is_cjk_run(run):
                found, spans = self._cjk_terms(run)
                for term in found:
                    terms[term] = max(terms.get(term, 0.0), 1.0)
                for span in spans:
                    unknown += 1.0 if span >= 2 else self.config.cjk_unknown_per_char
                    unknown_words += span >= 2
                content.append(run)
                previous = None
                continue
            for word in self._words(run):
                content.append(word)
                known: str | None = word if word in self._postings else None
                if known is None:
                    # The spelling as typed first: a typo can stem oddly ("sponser" → "spons").
                    known = self._correct(run) or self._correct(word)
                    known = known if known in self._postings else None
                if known is None:
                    if not is_emoji(word):  # an unknown emoji says nothing either way
                        unknown += 1.0
                        unknown_words += 1
                    previous = None
                    continue
                weight = 1.0 if known == word else self.config.fuzzy_discount
                terms[known] = max(terms.get(known, 0.0), weight)
                pair = f"{previous} {known}"
                if previous is not None and pair in self._postings:
                    terms[pair] = 1.0  # "ice hockey", "jack ma": the keyword as a whole
                previous = known
        return _Query(terms, unknown, norm, " ".join(content), unknown_words)

    def _words(self, run: str) -> list[str]:
        words = content_words(run)
        if len(run) < RUN_TOGETHER_FROM or not run.isascii() or words != [stem(run)] or words[0] in self._postings:
            return words
        pieces = self._segment(run)
        if not pieces:
            return words
        split = content_words(" ".join(pieces))
        # Only when a piece names one of our stories: "website" is an ordinary unknown word,
        # "duckrowerstory" is a fan in a hurry.
        return split if not self._strong.isdisjoint(split) else words

    def _segment(self, run: str) -> list[str] | None:
        """Split run-together words (`duckrowerstory`) into known ones, fewest pieces first."""
        best: list[list[str] | None] = [[]] + [None] * len(run)
        for end in range(1, len(run) + 1):
            for start in range(max(0, end - LONGEST_WORD), end):
                piece = run[start:end]
                previous = best[start]
                if previous is None:
                    continue
                if (len(piece) >= 2 and piece in self._surface) or piece.isdigit():
                    candidate = [*previous, piece]
                    current = best[end]
                    if current is None or len(candidate) < len(current):
                        best[end] = candidate
        result = best[len(run)]
        return result if result and len(result) > 1 else None

    def _cjk_terms(self, run: str) -> tuple[list[str], list[int]]:
        """Known Chinese words in a run, longest and most telling first, without overlaps."""
        candidates = [
            (-size, piece not in self._strong, -self._idf[piece], start, piece)
            for size in range(min(self._longest_cjk, len(run)), 0, -1)
            for start in range(len(run) - size + 1)
            if (piece := run[start : start + size]) in self._postings and (size > 1 or piece not in ZH_STOPCHARS)
        ]
        covered = [False] * len(run)
        for cue in _LEANING_PHRASES:  # 后来, 怎么样了: words about the conversation, not unknown topics
            start = run.find(cue) if not cue.isascii() else -1
            while start >= 0:
                for i in range(start, start + len(cue)):
                    covered[i] = True
                start = run.find(cue, start + 1)
        found: list[str] = []
        # Longer words first; among equals a keyword, then the rarer: 鸭子 beats 让鸭 in 谁让鸭子先过.
        for size, _, _, start, piece in sorted(candidates):
            span = range(start, start - size)
            if any(covered[i] for i in span):
                continue
            found.append(piece)
            for i in span:
                covered[i] = True
        # Unexplained characters, as spans: two or more in a row are likely a word (a name: 京东).
        spans = "".join("x" if not covered[i] and ch not in ZH_STOPCHARS else " " for i, ch in enumerate(run))
        return found, [len(span) for span in spans.split()]

    def _correct(self, word: str) -> str | None:
        if len(word) < TYPO_MIN_LETTERS or not word.isascii():
            return None
        options: set[str] = set()
        for key in _deletions(word):
            options.update(self._deletes.get(key, ()))
        if not options:
            return None
        limit = 2 if len(word) >= TWO_TYPOS_FROM else 1
        options = {t for t in options if t[0] == word[0] or t[:2] == word[1::-1]}
        if len(word) == TYPO_MIN_LETTERS:  # short words: only swapped letters (ebya → ebay), never a new one
            options = {t for t in options if len(t) == len(word) and sorted(t) == sorted(word)}
        if not options:
            return None
        best = min(options, key=lambda t: (OSA.distance(word, t), t))
        if OSA.distance(word, best) > limit:
            return None
        return best if best in self._postings else stem(best)

    # --- scoring ----------------------------------------------------------------------------

    def _scores(self, query: _Query) -> dict[int, float]:
        raw: dict[int, float] = defaultdict(float)
        mass = 0.0
        for term, weight in query.terms.items():
            qw = weight * self._idf[term]
            mass += qw
            for cls, share in self._postings[term]:
                raw[cls] += qw * share
        cap = self.config.unknown_cap
        unknown = min(query.unknown, cap) + self.config.unknown_tail * max(0.0, query.unknown - cap)
        # In a long ramble unknown words are mostly chatter; in a short question they are the point.
        words = len(query.content.split())
        if words > self.config.short_question:
            unknown *= self.config.short_question / words
        denominator = mass + self.config.unknown_weight * unknown * self._unknown_idf
        if denominator <= 0:
            return {}
        return {cls: 100.0 * value / denominator for cls, value in raw.items()}

    def _phrase(self, cls: int, content: str, scorer: Any = fuzz.token_set_ratio) -> float:
        """The best likeness of the question to one of the story's phrasings, 0-100."""
        if not content or not self._phrasings[cls]:
            return 0.0
        best = process.extractOne(content, self._phrasings[cls], scorer=scorer)
        return float(best[1]) if best else 0.0

    def _ranked(self, query: _Query, scores: dict[int, float], limit: int) -> list[_Scored]:
        story_scores = [(cls, s) for cls, s in scores.items() if cls < self._story_count]
        top = heapq.nlargest(max(limit, self.config.rerank), story_scores, key=lambda kv: kv[1])
        w = self.config.phrase_weight
        scored: list[_Scored] = []
        for cls, share in top:
            phrase = self._phrase(cls, query.content)
            blended = (1 - w) * share + w * phrase * min(1.0, share / self.config.phrase_share)
            keyword = not self._keyword_terms[cls].isdisjoint(query.terms)
            scored.append(_Scored(cls, blended, phrase, keyword, share))
        scored.sort(key=lambda x: (-x.score, self._classes[x.cls]))
        return scored[:limit]

    def _only_contested(self, query: _Query, cls: int) -> bool:
        """True when every word tying the question to the story also belongs to an off-topic
        example and the question says something else too ("ice hockey referee signals")."""
        offtopic = self._offtopic
        if offtopic is None:
            return False
        tying = [t for t in query.terms if any(c == cls for c, _ in self._postings[t])]
        share = self.config.contested_share
        if not tying or any(sum(p for c, p in self._postings[t] if c == offtopic) < share for t in tying):
            return False
        elsewhere = [t for t in query.terms if all(c >= self._story_count for c, _ in self._postings[t])]
        return query.unknown_words > 0 or bool(elsewhere)

    def rank(self, question: str, limit: int = 10) -> list[Candidate]:
        """Stories ranked by fit, best first (off-topic and small talk left out)."""
        query = self._query(question)
        ranked = self._ranked(query, self._scores(query), limit)
        return [Candidate(self._classes[x.cls], round(x.score, 1)) for x in ranked]

    def offtopic_likeness(self, question: str) -> float:
        """How near the question is to one of the off-topic examples, 0–100 (0: there are none)."""
        if self._offtopic is None:
            return 0.0
        return self._phrase(self._offtopic, self._query(question).content, fuzz.ratio)

    def evidence(self, question: str) -> Evidence:
        """Everything the question shows: ranked stories, and the signals `decide` reads."""
        config = self.config
        query = self._query(question)
        scores = self._scores(query)
        ranked = self._ranked(query, scores, EVIDENCE_CANDIDATES)
        candidates = tuple(Candidate(self._classes[x.cls], round(x.score, 1)) for x in ranked)
        # Template or markup syntax is someone probing, not a fan asking: never a story, even with a
        # story's word inside ("{{ 'taobao' }}", "<b>jack ma</b>"); the fallback may still offer it.
        if _CODE.search(question) or _is_emoji_flood(query.content):
            return Evidence(candidates, probing=True)
        best = ranked[0] if ranked else None
        rejects = max((s for cls, s in scores.items() if cls >= self._story_count), default=0.0)
        words = query.text.split()
        contents = query.content.split()
        own = [w for w in contents if w not in FOLLOWUP]
        ambiguous = self._ambiguous(own, query.terms)
        named = self._named(own, query.terms)
        confident = (
            best is not None
            and bool(own)  # only words that lean on the conversation ("tell me more") name no story
            and not ambiguous
            # Word for word (token_sort_ratio) here: token_set_ratio calls "set" a perfect match
            # for "set up alibaba".
            and (best.keyword or self._phrase(best.cls, query.content, fuzz.token_sort_ratio) >= config.guard_phrase)
            and not self._only_contested(query, best.cls)
            and best.score >= config.threshold
            and (best.share > rejects * config.reject_ratio or self._phrase_outweighs_rejects(best, query))
        )
        second = ranked[1] if len(ranked) > 1 else None
        likeness = self._likeness(best.cls, query.content) if best is not None else 0.0
        keyword = best is not None and best.keyword
        small = self._smalltalk_match(query.text)
        leaning = self._leans(query.text, words)
        return Evidence(
            candidates,
            confident=confident,
            close_second=(
                second is not None
                and second.score >= config.clarify_floor
                and best is not None
                and best.score - second.score < config.clarify_margin
            ),
            likeness=likeness,
            sure=confident and (likeness >= config.sure_likeness or (keyword and not query.unknown)),
            keyword=keyword,
            ambiguous=ambiguous,
            smalltalk=small[0] if small else None,
            smalltalk_score=small[1] if small else 0.0,
            request=_requests(query.text, words),
            leans=leaning,
            short=leaning and len(own) + query.unknown_words // 2 <= config.followup_words,
            named=named,
            own_words=len(own),
            topic=(
                query.unknown_words == 0
                and bool(query.terms)
                and not confident
                and all(self._names_story(t) and not self._mostly_offtopic(t) for t in query.terms)
            ),
        )

    def decide(self, question: str, context: Context | None = None) -> Decision:
        """The decision for a question in a conversation; meaning is consulted only when words are unsure."""
        evidence = self.evidence(question)
        decision = decide(evidence, context or Context(), self.policy)
        if decision.unsure and self.meaning is not None:
            evidence = replace(evidence, meaning=tuple(self.meaning.rank(question)))
            decision = decide(evidence, context or Context(), self.policy)
        return decision

    def _ambiguous(self, contents: list[str], terms: dict[str, float]) -> bool:
        """A bare number or date, or ordinary words with no story's own word ("beat it", "shut up
        already", "small"): these name no story, however well they score. A keyword of two words
        ("greatness of small") is a story's own."""
        if not contents:
            return False
        if all(c.isdigit() for c in contents):
            return True
        if len(contents) > AMBIGUOUS_MAX_WORDS:
            return False
        if any(" " in t and self._names_story(t) for t in terms):
            return False
        ordinary = [c for c in contents if c in AMBIGUOUS_STEMS]
        return bool(ordinary) and all(c in AMBIGUOUS_STEMS or not self._names_story(c) for c in contents)

    def _named(self, own: list[str], terms: dict[str, float]) -> tuple[str, ...]:
        """Stories that the question's own words (not those leaning on the conversation) belong to."""
        # Ordinary words ("win", "end") name no story here: "did they win?" leans on the one discussed.
        keep = {t for t in terms if (t in own and t not in AMBIGUOUS_STEMS) or " " in t or is_cjk_run(t)}
        named = {self._classes[c] for t in keep for c, _ in self._postings[t] if c < self._story_count}
        return tuple(sorted(named))

    def _mostly_offtopic(self, term: str) -> bool:
        offtopic = self._offtopic
        return offtopic is not None and any(c == offtopic and p >= OFFTOPIC_MOSTLY for c, p in self._postings[term])

    def _names_story(self, term: str) -> bool:
        postings = self._postings.get(term) or self._postings.get(self._correct(term) or "", ())
        return any(cls < self._story_count for cls, _ in postings)

    def _leans(self, text: str, words: list[str]) -> bool:
        """Whether the question has a word or phrase that leans on the conversation."""
        if any(w in FOLLOWUP for w in words):
            return True
        padded = f" {text} "
        return any((f" {cue} " in padded) if cue.isascii() else (cue in text) for cue in _LEANING_PHRASES)

    def _likeness(self, cls: int, content: str) -> float:
        """How near the question is, word for word, to one of a story's phrasings or keywords (0–100)."""
        return max(self._phrase(cls, content, fuzz.token_sort_ratio), self._keyword_likeness(cls, content))

    def _keyword_likeness(self, cls: int, content: str) -> float:
        keywords = self._keyword_texts[cls]
        if not content or not keywords:
            return 0.0
        best = process.extractOne(content, keywords, scorer=fuzz.ratio)
        return float(best[1]) if best else 0.0

    def _phrase_outweighs_rejects(self, best: _Scored, query: _Query) -> bool:
        """The off-topic examples share more of the question's words, yet the question is nearly
        one of the story's phrasings and much less like any off-topic one ("did jack ma teach
        english": Jack Ma and teaching English each have off-topic examples, together they do not)."""
        if best.phrase < self.config.reject_phrase or self._offtopic is None:
            return False
        return best.phrase - self._phrase(self._offtopic, query.content) >= self.config.reject_phrase_margin

    def _smalltalk_match(self, text: str) -> tuple[str, float] | None:
        """The small-talk intent the question is close to, with how close (0–100): nearly one of its
        phrasings ("hiii" is "hi"), else made only of small-talk words ("haha nice", scored
        SMALLTALK_LOOSE), or, in Chinese, a phrasing in each part with a few characters around it."""
        if not self._smalltalk or not text:
            return None
        best: tuple[int, float] | None = None
        spelled = " ".join(SHORTHAND.get(w, w) for w in text.split())
        for variant in dict.fromkeys((text, squeeze(text), squeeze(text, 2), spelled)):
            found = self._smalltalk_near(variant)
            if found is not None and (best is None or found[1] > best[1]):
                best = found
        return (self._smalltalk_intent[best[0]], best[1]) if best else None

    def _smalltalk_near(self, text: str) -> tuple[int, float] | None:
        found = process.extractOne(
            text, self._smalltalk, scorer=fuzz.ratio, score_cutoff=self.config.smalltalk_threshold
        )
        if found is not None:
            return found[2], float(found[1])
        words = text.split()
        if not words:
            return None
        if all(is_cjk_run(w) for w in words):
            parts = [self._smalltalk_within(w) for w in words]
            if all(p is not None for p in parts):
                return max((p for p in parts if p is not None), key=lambda i: len(self._smalltalk[i])), SMALLTALK_LOOSE
            return None
        vocabulary = self._smalltalk_words
        if all(w in vocabulary or w in EN_STOPWORDS for w in words) and any(w in vocabulary for w in words):
            found = process.extractOne(text, self._smalltalk, scorer=fuzz.token_set_ratio, score_cutoff=WHOLE_SET)
            if found is not None:
                return found[2], SMALLTALK_LOOSE
        return None

    def _smalltalk_within(self, run: str) -> int | None:
        """The longest Chinese small-talk phrasing inside a run that adds at most a few characters."""
        core = run.rstrip(ZH_PARTICLES) or run
        near = [
            i
            for i, p in enumerate(self._smalltalk)
            if is_cjk_run(p) and (p.rstrip(ZH_PARTICLES) or p) in core and len(core) - len(p) <= ZH_SMALLTALK_SLACK
        ]
        return max(near, key=lambda i: len(self._smalltalk[i])) if near else None


def _terms_of_runs(cjk: list[str], words: list[str]) -> tuple[list[str], str]:
    terms = [gram for run in cjk for gram in cjk_bigrams(run)]
    content = [stem(word) for word in words if word not in EN_STOPWORDS]
    terms.extend(content)
    return terms, " ".join(cjk + content)


def _is_emoji_flood(content: str) -> bool:
    """Many emoji and at most one word: spam, not a question (a lone 🦆 still asks for the ducks)."""
    tokens = content.split()
    if len(tokens) <= EMOJI_FLOOD:
        return False
    emoji = sum(1 for token in tokens if is_emoji(token))
    return emoji > EMOJI_FLOOD and len(tokens) - emoji <= 1


def _requests(text: str, words: list[str]) -> bool:
    """A plain request for a story, any story, or one more ("tell me a story", "再来一个")."""
    if text in REQUESTS:
        return True
    if not text.isascii():
        return any(not r.isascii() and r in text for r in REQUESTS)
    vocabulary = _REQUEST_WORDS
    return (
        bool(words)
        and all(w in vocabulary or w in EN_STOPWORDS for w in words)
        and not _REQUEST_HEADS.isdisjoint(words)
    )


def _deletions(word: str) -> set[str]:
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}
