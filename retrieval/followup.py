"""Rule-based rewriting of follow-up questions into standalone ones (extractive mode)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from retrieval.lexical import DUTCH_STOPWORDS, DutchAnalyzer

_ANAPHORA = re.compile(
    r"\b(die|dat|deze|dit|daar\w*|er(?:van|voor|mee|bij|aan|over|in|op)|hier\w*|hun|zo'n|ze|zij|hij|het project|dezelfde)\b",
    re.IGNORECASE,
)
_ELLIPSIS = re.compile(
    r"^\s*(?:en|maar|ook|of)\s+(?:wat\s+)?(bij|voor|in|met|van|op|over|na|tijdens|aan|binnen)\s+(.+?)\s*\??\s*$",
    re.IGNORECASE,
)
_CONTINUATION = re.compile(r"^\s*(en|maar|ook|of|dus|wat als|en als|en wat|hoe zit het|geldt dat)\b", re.IGNORECASE)


def is_followup(question: str) -> bool:
    """A question that leans on the conversation: starts with 'en …', refers back, or is very short."""
    content = [w for w in DutchAnalyzer.words(question) if w not in DUTCH_STOPWORDS]
    return bool(_CONTINUATION.match(question)) or len(content) <= 2 or (
        bool(_ANAPHORA.search(question)) and len(content) <= 5
    )


def standalone_question(question: str, history: Sequence[dict]) -> str:
    """The question itself, or, for a follow-up, the question completed with the earlier topic.

    The earlier topic is the most recent user question that was itself standalone enough.
    """
    question = question.strip()
    previous = [t.get("content", "").strip() for t in history if t.get("role") == "user" and t.get("content")]
    if not previous or not is_followup(question):
        return question
    topic = previous[-1]
    for earlier in reversed(previous):
        if not is_followup(earlier):
            topic = earlier
            break
    topic = topic.rstrip(" ?.!")
    swapped = _swap_ellipsis(question, topic)
    if swapped:
        return swapped
    return f"{question.rstrip()}{_MARK}{topic})"


def _swap_ellipsis(question: str, previous: str) -> str | None:
    """'En bij een begeleidingsproject?' after '… aanrekenen bij een valorisatieproject?' asks the same
    question about something else: replace the earlier phrase that starts with the same preposition."""
    m = _ELLIPSIS.match(question)
    if not m:
        return None
    preposition, rest = m.group(1).lower(), m.group(2)
    places = list(re.finditer(rf"\b{preposition}\b", previous, re.IGNORECASE))
    if not places:
        return None
    return f"{previous[: places[-1].start()]}{preposition} {rest}?"


_MARK = " (vervolg op: "


def focus_of(standalone: str) -> str | None:
    """For a rewritten follow-up, the user's own words (what the answer must be about); else None."""
    if standalone.endswith(")") and _MARK in standalone:
        return standalone.split(_MARK, 1)[0]
    return None
