"""The decision table, rule by rule, on hand-made evidence: no catalogue, no matcher."""

from __future__ import annotations

from bot.matching.decide import (
    ALL_TOLD,
    SMALLTALK_PREFIX,
    Candidate,
    Context,
    Evidence,
    Outcome,
    decide,
)

DUCKS = Candidate("pearce-ducks", 80.0)
EBAY = Candidate("ebay-2003", 78.0)
FOUNDING = Candidate("founding", 40.0)


def test_probing_is_never_a_story() -> None:
    assert decide(Evidence((DUCKS,), confident=True, probing=True), Context()).outcome is Outcome.FALLBACK


def test_a_confident_story_is_told_with_its_score_capped_by_likeness() -> None:
    decision = decide(Evidence((DUCKS,), confident=True, likeness=70.0), Context())
    assert (decision.outcome, decision.story_id, decision.score) == (Outcome.STORY, "pearce-ducks", 70.0)


def test_two_close_stories_ask_which_unless_one_is_being_discussed() -> None:
    evidence = Evidence((DUCKS, EBAY), confident=True, close_second=True, likeness=90.0)
    assert decide(evidence, Context()).choices == ("pearce-ducks", "ebay-2003")
    assert decide(evidence, Context("ebay-2003")).story_id == "ebay-2003"


def test_a_leaning_question_keeps_the_story_discussed_when_it_is_close_behind() -> None:
    evidence = Evidence((DUCKS, EBAY), confident=True, likeness=90.0, leans=True)
    assert decide(evidence, Context("ebay-2003")).story_id == "ebay-2003"
    far = Evidence((DUCKS, Candidate("ebay-2003", 10.0)), confident=True, likeness=90.0, leans=True)
    assert decide(far, Context("ebay-2003")).story_id == "pearce-ducks"  # its own topic wins


def test_a_request_tells_the_first_untold_story_then_says_all_are_told() -> None:
    evidence = Evidence((), request=True)
    assert decide(evidence, Context(untold=("founding", "ebay-2003"))).story_id == "founding"
    all_told = decide(evidence, Context(untold=()))
    assert (all_told.outcome, all_told.intent) == (Outcome.SMALLTALK, ALL_TOLD)


def test_a_request_naming_a_story_tells_that_story() -> None:
    evidence = Evidence((DUCKS,), request=True, keyword=True)
    assert decide(evidence, Context(untold=("founding",))).story_id == "pearce-ducks"


def test_a_short_follow_up_answers_from_context_or_honestly_says_nothing() -> None:
    evidence = Evidence((), leans=True, short=True)
    assert decide(evidence, Context("pearce-ducks")).story_id == "pearce-ducks"
    cold = decide(evidence, Context())
    assert cold.outcome is Outcome.FALLBACK and not cold.unsure


def test_a_follow_up_naming_another_story_is_not_about_the_context() -> None:
    evidence = Evidence((EBAY,), leans=True, short=True, named=("ebay-2003",))
    assert decide(evidence, Context("pearce-ducks")).story_id != "pearce-ducks"


def test_ambiguous_words_tell_nothing() -> None:
    assert decide(Evidence((EBAY,), ambiguous=True), Context()).outcome is Outcome.FALLBACK


def test_topic_words_offer_the_stories_within_reach() -> None:
    evidence = Evidence((Candidate("a", 46.0), Candidate("b", 46.0), Candidate("c", 10.0)), topic=True)
    decision = decide(evidence, Context())
    assert (decision.outcome, decision.choices) == (Outcome.CLARIFY, ("a", "b"))
    alone = decide(Evidence((Candidate("a", 74.0), Candidate("b", 27.0)), topic=True), Context())
    assert alone.story_id == "a"


def test_meaning_is_asked_for_only_when_words_are_unsure_and_then_decides() -> None:
    unsure = decide(Evidence((FOUNDING,)), Context())
    assert unsure.unsure
    by_meaning = Evidence((FOUNDING,), meaning=(Candidate("pearce-ducks", 70.0), Candidate("founding", 40.0)))
    assert decide(by_meaning, Context()).story_id == "pearce-ducks"
    close = Evidence((), meaning=(Candidate("pearce-ducks", 70.0), Candidate("founding", 69.0)))
    assert decide(close, Context()).outcome is Outcome.FALLBACK
    offtopic_first = Evidence((), meaning=(Candidate("\x00offtopic", 80.0), Candidate("founding", 70.0)))
    assert decide(offtopic_first, Context()).outcome is Outcome.FALLBACK
    chat = Evidence((), meaning=(Candidate(SMALLTALK_PREFIX + "thanks", 75.0),))
    assert decide(chat, Context()).intent == "thanks"
