"""What to do about a group of misses, decided from what the matcher saw in its leading question.

Advice that would damage the catalogue is worse than none: a follow-up like "did he win?" added
to a story's phrasings makes that story answer every "did he win?", and an off-topic question
added to the closest story makes it answer off-topic ones. So a phrasing is suggested for a story
only when the question's own words belong to that story; the rest is named for what it is.
"""

from __future__ import annotations

from enum import StrEnum

from bot.matching.matcher import Matcher

OFFTOPIC_NEAR = 75.0  # this like an off-topic example (0–100): it is one more of them


class Advice(StrEnum):
    """Where a group of missed questions belongs."""

    STORY = "story"  # its own words name the closest story: add the phrasings there
    FOLLOWUP = "followup"  # leans on the conversation ("did he win?"): no phrasing fits it
    SMALLTALK = "smalltalk"  # chat, not a question about a story: smalltalk.yaml
    OFFTOPIC = "offtopic"  # about nothing the catalogue tells: offtopic.yaml (or a new story)


def advise(question: str, closest: str | None, matcher: Matcher | None) -> Advice:
    """The advice for a group led by `question`, whose phrasings point most to `closest`."""
    if matcher is None:
        return Advice.STORY if closest else Advice.OFFTOPIC
    evidence = matcher.evidence(question)
    if evidence.smalltalk is not None:  # by its own words ("haha nice"), not a guess by meaning
        return Advice.SMALLTALK
    if matcher.offtopic_likeness(question) >= OFFTOPIC_NEAR:
        return Advice.OFFTOPIC
    if evidence.leans and evidence.short and (evidence.named or evidence.ambiguous or not evidence.own_words):
        return Advice.FOLLOWUP  # "did he win?", "and then?"; not "where is my parcel"
    # Its own words must name that story, and that story alone or by one of its keywords.
    if closest is not None and closest in evidence.named and (len(evidence.named) == 1 or evidence.keyword):
        return Advice.STORY
    return Advice.OFFTOPIC
