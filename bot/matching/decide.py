"""The one decision: what the matcher found in a question, and the conversation so far → one Outcome."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


class Outcome(StrEnum):
    """What kind of answer a reply is, from the matcher's decision to the exchange log."""

    STORY = "story"
    CLARIFY = "clarify"  # "did you mean": several stories fit
    SMALLTALK = "smalltalk"
    FALLBACK = "fallback"  # no story fits: say so kindly and offer some
    MENU = "menu"  # not an answer to a question: /start, /help, the catalogue, notices


@dataclass(frozen=True, slots=True)
class Candidate:
    """A story (or, by meaning, an off-topic or small-talk class) and how well it fits, 0–100."""

    story_id: str
    score: float


@dataclass(frozen=True, slots=True)
class Evidence:
    """Everything the matcher found in one question; `decide` alone turns it into an outcome."""

    candidates: tuple[Candidate, ...]  # stories by word evidence, best first
    confident: bool = False  # the best passes the threshold, its guard and the off-topic examples
    close_second: bool = False  # ...and the runner-up is within the clarify margin
    likeness: float = 0.0  # how near the question is to one of the best story's phrasings, 0–100
    sure: bool = False  # confident beyond doubt: nearly a phrasing, or a keyword and no unknown word
    keyword: bool = False  # one of the best story's keywords is in the question
    probing: bool = False  # template or markup syntax, or an emoji flood: never a story
    ambiguous: bool = False  # a lone ordinary word or a bare number: never a confident story
    smalltalk: str | None = None  # the small-talk intent the question is close to
    smalltalk_score: float = 0.0
    request: bool = False  # asks for a story, any story, or one more
    leans: bool = False  # has words that lean on the conversation (he, then, why, 后来…)
    short: bool = False  # ...and little else: a follow-up, not a question with its own topic
    named: tuple[str, ...] = ()  # stories the question's own words belong to
    own_words: int = 0  # content words besides those leaning on the conversation
    topic: bool = False  # only story words, and several stories share them ("alibaba", "马云")
    meaning: tuple[Candidate, ...] | None = None  # nearest classes by meaning; None: not consulted


@dataclass(frozen=True, slots=True)
class Context:
    """What the conversation brings to the decision."""

    story_id: str | None = None  # the story being discussed
    untold: tuple[str, ...] = ()  # stories this fan has not heard, in the order to offer them


@dataclass(frozen=True, slots=True)
class Policy:
    """The decision's numbers (the matcher's scoring has its own, in MatcherConfig)."""

    context_margin: float = 25.0  # points a story being discussed may trail another by and still win a follow-up
    context_floor: float = 30.0  # score at which the story being discussed wins an unsure question outright
    topic_floor: float = 20.0  # score a story needs to be offered for bare topic words
    topic_share: float = 0.6  # share of the best's score another story needs to be offered with it
    topic_choices: int = 3  # stories offered for bare topic words
    bare_topic_words: int = 2  # up to this many words, topic words alone always get a "did you mean"
    topic_alone: float = 40.0  # score a story needs to be told for bare topic words only it has
    meaning_threshold: float = 35.0  # similarity (0–100) a story needs by meaning alone
    meaning_margin: float = 4.0  # points it must lead the next story by
    meaning_offtopic: float = 10.0  # points it must lead the nearest off-topic example or small talk by
    meaning_agreement: float = 5.0  # points added to it when word evidence ranks the same story first
    meaning_veto: float = 8.0  # points by which off-topic examples must lead a confident story to stop it
    meaning_smalltalk: float = 60.0  # similarity at which a small-talk class wins by meaning
    smalltalk_sure: float = 86.0  # small-talk likeness that wins over a request for a story ("cool story")


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome, its story (or choices), and which rule of `decide` chose it."""

    outcome: Outcome
    story_id: str | None
    score: float
    choices: tuple[str, ...] = ()  # stories offered (clarify) or suggested (fallback)
    intent: str | None = None  # small talk's intent; `all_told` when a request finds none left
    rule: str = ""
    unsure: bool = False  # no rule was sure without meaning; consult it and decide again
    candidates: tuple[Candidate, ...] = ()  # the stories by word evidence, best first


OFFTOPIC = "\x00offtopic"  # class name of the off-topic examples
SMALLTALK_PREFIX = "\x00smalltalk:"  # class names of small-talk intents
ALL_TOLD = "all_told"  # the small-talk intent of "you have heard them all"


def decide(evidence: Evidence, context: Context, policy: Policy | None = None) -> Decision:
    """Choose the answer (with the candidates attached); the rules are `_rules`'s table."""
    return replace(_rules(evidence, context, policy or Policy()), candidates=evidence.candidates)


def _rules(evidence: Evidence, context: Context, p: Policy) -> Decision:
    """Choose the answer. The rules, first match wins:

    ====  =========================================================  ===============================
    rule  when                                                       outcome
    ====  =========================================================  ===============================
    1     template or markup syntax, or an emoji flood               fallback
    2     confident¹, and the story being discussed is within        the story being discussed
          context_margin while the question leans on it
    3     confident, the runner-up within the clarify margin         clarify (the two), or the one
                                                                     being discussed if it is one
    4     confident                                                  story (score capped by likeness)
    5     nearly a small-talk phrasing (≥ smalltalk_sure)            small talk
    6     asks for a story, or one more                              the story it names, else the
                                                                     first untold, else `all_told`
    7     small talk by its words ("haha nice")                      small talk
    8     a short follow-up², a story being discussed that its own   the story being discussed
          words name (or they name none)
    9     a short follow-up with at most one word of its own, none   fallback: no guess
          naming a story, and nothing before it
    10    a lone ordinary word or a bare number ("beat it", "2018")  fallback
    11    the story being discussed scores ≥ context_floor           the story being discussed
    12    only topic words³, stories scoring topic_share of the best  clarify (several) or the story
                                                                     (one, scoring ≥ topic_alone)
    13    meaning not consulted yet                                  unsure: consult it, decide again
    14    by meaning, a story nearest and clearly ahead              story
    15    by meaning, a small-talk intent nearest                    small talk
    16    leans on the conversation, a story being discussed         the story being discussed
    17    otherwise                                                  fallback
    ====  =========================================================  ===============================

    ¹ confident: the best story passes the threshold, its keyword-or-phrase guard and the off-topic
      examples, and the question is neither ambiguous nor made only of words leaning on context.
    ² follow-up: a word leaning on the conversation (he, then, why, 后来…) and few words of its own.
    ³ topic words: every word known and belonging to stories ("alibaba", "马云").
    """
    candidates = evidence.candidates
    best = candidates[0] if candidates else None
    discussed = context.story_id
    ranked = {c.story_id: c.score for c in candidates}

    def fallback(rule: str) -> Decision:
        return Decision(Outcome.FALLBACK, None, best.score if best else 0.0, _ids(candidates), rule=rule)

    def smalltalk(rule: str) -> Decision:
        score = evidence.smalltalk_score
        return Decision(Outcome.SMALLTALK, None, score, intent=evidence.smalltalk, rule=rule)

    def story(story_id: str, rule: str, score: float | None = None) -> Decision:
        return Decision(Outcome.STORY, story_id, score if score is not None else ranked.get(story_id, 0.0), rule=rule)

    if evidence.probing:
        return fallback("1 probing")
    if evidence.confident and best is not None:
        if (
            discussed
            and discussed != best.story_id
            and evidence.leans
            and ranked.get(discussed, -1.0) >= best.score - p.context_margin
        ):
            return story(discussed, "2 context close behind")
        if evidence.close_second:
            pair = _ids(candidates[:2])
            if discussed in pair:
                return story(discussed, "3 close, being discussed")
            return Decision(Outcome.CLARIFY, None, best.score, pair, rule="3 close")
        vetoed = _offtopic_lead(evidence.meaning, best.story_id)
        if vetoed >= p.meaning_veto:
            return fallback("4 confident, vetoed by meaning")
        decision = story(best.story_id, "4 confident", min(best.score, evidence.likeness))
        return replace(decision, unsure=evidence.meaning is None and not evidence.sure)
    if evidence.smalltalk is not None and evidence.smalltalk_score >= p.smalltalk_sure:
        return smalltalk("5 small talk")
    if evidence.request:
        if evidence.keyword and best is not None:
            return story(best.story_id, "6 request naming a story")
        if context.untold:
            return story(context.untold[0], "6 request", 100.0)
        return Decision(Outcome.SMALLTALK, None, 100.0, intent=ALL_TOLD, rule="6 request, all told")
    if evidence.smalltalk is not None:
        return smalltalk("7 small talk by its words")
    if evidence.leans and evidence.short:
        if discussed and (discussed in evidence.named or not evidence.named):
            return story(discussed, "8 follow-up")
        if not discussed and not evidence.named and evidence.own_words <= 1:
            return fallback("9 follow-up, nothing before")
    if evidence.ambiguous:
        return fallback("10 ambiguous")
    if discussed and ranked.get(discussed, 0.0) >= p.context_floor:
        return story(discussed, "11 context scores")
    if evidence.topic and best is not None:
        floor = max(p.topic_floor, best.score * p.topic_share)
        shared = tuple(c.story_id for c in candidates if c.score >= floor)[: p.topic_choices]
        if evidence.meaning is not None and evidence.own_words > p.bare_topic_words:
            pick = _clear_story(evidence.meaning, p)
            if pick is not None and pick.story_id in shared:
                return story(pick.story_id, "12 topic words, one clear by meaning")
        if len(shared) > 1:
            clarify = Decision(Outcome.CLARIFY, None, best.score, shared, rule="12 topic words")
            return replace(clarify, unsure=evidence.meaning is None)
        if shared and shared[0] == best.story_id and best.score >= p.topic_alone:
            if _offtopic_lead(evidence.meaning, best.story_id) >= p.meaning_veto:
                # Off-topic by meaning: no confident story, but bare topic words still offer a choice.
                offered = tuple(c.story_id for c in candidates if c.score >= p.topic_floor)[: p.topic_choices]
                if len(offered) > 1 and evidence.own_words <= p.bare_topic_words:
                    return Decision(Outcome.CLARIFY, None, best.score, offered, rule="12 topic words, doubted")
                return fallback("12 topic words of one story, vetoed by meaning")
            return replace(story(shared[0], "12 topic words of one story"), unsure=evidence.meaning is None)
    if evidence.meaning is None:
        return Decision(Outcome.FALLBACK, None, best.score if best else 0.0, _ids(candidates), unsure=True, rule="13")
    nearest = evidence.meaning[0] if evidence.meaning else None
    pick = _clear_story(evidence.meaning, p, agreed_with=best.story_id if best else None)
    if pick is not None:
        return story(pick.story_id, "14 meaning", pick.score)
    if nearest is not None and nearest.story_id.startswith(SMALLTALK_PREFIX) and nearest.score >= p.meaning_smalltalk:
        intent = nearest.story_id.removeprefix(SMALLTALK_PREFIX)
        return Decision(Outcome.SMALLTALK, None, nearest.score, intent=intent, rule="15 small talk by meaning")
    if evidence.leans and discussed:
        return story(discussed, "16 leans on context")
    return fallback("17 nothing fits")


def _offtopic_lead(meaning: tuple[Candidate, ...] | None, story_id: str) -> float:
    """By how much the nearest off-topic example beats the story by meaning (negative: it does not)."""
    if not meaning:
        return float("-inf")
    scores = {c.story_id: c.score for c in meaning}
    return scores.get(OFFTOPIC, 0.0) - scores.get(story_id, 0.0)


def _clear_story(meaning: tuple[Candidate, ...], p: Policy, agreed_with: str | None = None) -> Candidate | None:
    """The story nearest by meaning when it clearly leads the next story and anything off-topic;
    `meaning_agreement` points count for it when the word evidence ranks the same story first."""
    stories = [c for c in meaning if not c.story_id.startswith("\x00")]
    others = [c for c in meaning if c.story_id.startswith("\x00")]
    if not stories:
        return None
    first = stories[0]
    lead = first.score + (p.meaning_agreement if first.story_id == agreed_with else 0.0)
    if lead < p.meaning_threshold:
        return None
    if len(stories) > 1 and lead - stories[1].score < p.meaning_margin:
        return None
    if others and lead - others[0].score < p.meaning_offtopic:
        return None
    return first


def _ids(candidates: tuple[Candidate, ...]) -> tuple[str, ...]:
    return tuple(c.story_id for c in candidates)
