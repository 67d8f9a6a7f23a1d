"""A question read once: the user's own words, the standalone form to search with, and what it asks for.

Later stages read the fields of `Query`; none of them parses the question text again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from vraagpunt import dutch

_WORD = re.compile(r"[0-9]+(?:[.,][0-9]+)*%?|[a-zà-ÿ]+(?:['’][a-z]+)?", re.IGNORECASE)
_PREPOSITIONS = ("bij", "voor", "in", "met", "van", "op", "over", "na", "tijdens", "aan", "binnen", "zonder", "per")
_ELLIPSIS = re.compile(
    rf"^\s*(?:{'|'.join(dutch.CONTINUATIONS)})\s+(?:wat\s+)?({'|'.join(_PREPOSITIONS)})\s+(.+?)\s*\??\s*$",
    re.IGNORECASE,
)
_PART_SPLIT = re.compile(
    r"\?\s+|\s+en\s+(?=(?:hoeveel|hoe|wat|welke|wie|wanneer|tot wanneer|sinds wanneer|waar|waarom)\b)",
    re.IGNORECASE,
)


class Vocabulary(Protocol):
    """What the corpus says about a word (see retrieval.lexical.CorpusVocabulary)."""

    def is_specific(self, word: str) -> bool: ...

    def sources(self, word: str) -> frozenset[str]: ...


@dataclass(frozen=True)
class Query:
    """One question as the answer step reads it."""

    own_words: str  # what the user typed, whitespace collapsed (and cut to the length limit)
    topic: str = ""  # the earlier question this one continues, when it is read as a follow-up
    rewritten: str = ""  # a follow-up rewritten as a question of its own ("En bij X?" -> "… bij X?")
    asks: tuple[str, ...] = ()  # kinds of thing asked: "money", "duration", "date", "amount", "person"
    parts: tuple[str, ...] = ()  # the question's parts when it asks several things at once

    @property
    def is_followup(self) -> bool:
        return bool(self.topic or self.rewritten)

    @property
    def text(self) -> str:
        """What to search with: the rewritten question, or the user's words with the earlier topic."""
        if self.rewritten:
            return self.rewritten
        return f"{self.own_words} {self.topic}" if self.topic else self.own_words

    @property
    def display(self) -> str:
        """How the app and the JSON contract show what was searched ("Gelezen als …")."""
        if self.rewritten:
            return self.rewritten
        return f"{self.own_words} (vervolg op: {self.topic})" if self.topic else self.own_words


def words(text: str) -> list[str]:
    """Lower-case word tokens (figures kept whole)."""
    return [t.lower().replace("’", "'") for t in _WORD.findall(text)]


def asked_kinds(text: str) -> tuple[str, ...]:
    """The kinds of thing a question asks for, from its question words ("hoeveel" -> amount)."""
    return tuple(kind for kind, cue in dutch.ASKED_KIND_CUES.items() if cue.search(text))


def question_parts(text: str) -> tuple[str, ...]:
    """"Hoe lang duurt het en wat kost het?" -> two parts; a question with one ask stays whole."""
    parts = [p.strip(" ?,") for p in _PART_SPLIT.split(text.strip())]
    return tuple(p for p in parts if p)


def read_question(question: str, history: Sequence[dict] = (), vocabulary: Vocabulary | None = None) -> Query:
    """The Query for a user turn; with history, decide whether it leans on an earlier question."""
    own = " ".join((question or "").split())
    base = Query(own_words=own, asks=asked_kinds(own), parts=question_parts(own))
    earlier = [t["content"].strip() for t in history or ()
               if isinstance(t, dict) and t.get("role") == "user" and isinstance(t.get("content"), str)
               and t["content"].strip()]
    if not earlier or not leans_on_earlier_turn(own, vocabulary):
        return base
    topic = earlier[-1]
    for turn in reversed(earlier):  # the most recent question that stood on its own
        if not leans_on_earlier_turn(turn, vocabulary):
            topic = turn
            break
    topic = " ".join(topic.split()).rstrip(" ?.!")
    swapped = _swap_ellipsis(own, topic)  # the earlier question, asked about something else
    if swapped:
        return Query(own_words=own, rewritten=swapped, asks=asked_kinds(swapped), parts=(swapped,))
    if vocabulary is not None and not _same_subject(own, topic, vocabulary):
        return base  # "en wat is een begeleidingsproject?" after a question about the valorisation call
    return Query(own_words=own, topic=topic, asks=base.asks, parts=base.parts)


def _same_subject(question: str, topic: str, vocabulary: Vocabulary) -> bool:
    """Whether the specific words of a question (if any) live in the documents the earlier topic is about."""
    named = _subjects(words(question), vocabulary)
    if not named:
        return True
    earlier = _content(words(topic))
    about = _subjects(earlier, vocabulary) or earlier
    documents = set().union(*(vocabulary.sources(t) for t in about)) if about else set()
    return any(vocabulary.sources(t) & documents for t in named)


def leans_on_earlier_turn(question: str, vocabulary: Vocabulary | None = None) -> bool:
    """Whether a question needs the conversation to be understood.

    It does when it refers to something it does not name itself ("telt dat ook …", "hoelang loopt dat
    plan", "waarom hechten jullie daar belang aan?"), when it continues the conversation without a
    subject of its own ("en voor het secundair?"), or when it is a fragment ("de deadline?", "waarom
    eigenlijk?"). A subject of its own is a word the corpus uses far more than everyday Dutch does
    ("begeleidingsproject", "smartschool"; see `CorpusVocabulary`). "Wat is het telefoonnummer van de
    minister?" refers to nothing and is no fragment: it stands alone, whatever came before.
    """
    tokens = words(question)
    if not tokens or dutch.TOPIC_CHANGES.search(question):
        return False
    specific = vocabulary is not None and bool(_subjects(tokens, vocabulary))
    if _ELLIPSIS.match(question) or unresolved_reference(tokens, vocabulary) or tokens[0] in dutch.CONTINUATIONS:
        return True  # (a continuation about another document's subject is told apart by `_same_subject`)
    return not specific and len(tokens) <= 3


def _subjects(tokens: Sequence[str], vocabulary: Vocabulary) -> list[str]:
    """The words that name a subject: specific to the corpus, and no verb ("vooropgesteld" is not one)."""
    return [t for t in _content(tokens) if vocabulary.is_specific(t) and not dutch.looks_like_verb(t)]


def _content(tokens: Sequence[str]) -> list[str]:
    return [t for t in tokens if t not in dutch.STOPWORDS and t not in dutch.AUXILIARIES and t.isalpha() and len(t) >= 3]


def content_words(text: str) -> list[str]:
    """The words of a text that can carry a topic (no stop words, auxiliaries, figures or tiny words)."""
    return _content(words(text))


def unresolved_reference(tokens: Sequence[str], vocabulary: Vocabulary | None = None) -> bool:
    """Whether a word refers to something the question itself does not name.

    A pronoun ("dat", "die", "het", "daar", "ervoor") refers inside the question when a content word
    stands before it past the opening question word and verb ("we willen een poster maken, hoe leveren
    we die aan?"); a demonstrative before a noun ("die periode") refers inside the question when that
    noun is specific enough to name its subject ("die begeleidingsprojecten").
    """
    for i, token in enumerate(tokens):
        if token in dutch.PERSONAL_BACK_REFERENCES or (token.startswith(dutch.PRONOMINAL_PREFIXES) and token != "hier"):
            kind = "pronoun"
        elif token in dutch.DEMONSTRATIVES:
            kind = _demonstrative_use(tokens, i)
        elif token == "dan" and "als" not in tokens[:i] and (i == 0 or tokens[i - 1] not in dutch.COMPARATIVES):
            return True  # "wat kan dan wel?", "in welke taal moet het dan?": in that case, i.e. the earlier one
        else:
            continue
        if kind == "pronoun" and not _antecedents(tokens, i):
            return True
        if kind == "determiner":
            noun = tokens[i + 1]
            if noun not in tokens[:i] and not (vocabulary is not None and vocabulary.is_specific(noun)):
                return True
    return False


def _antecedents(tokens: Sequence[str], i: int) -> list[str]:
    """Words before position i that a pronoun there could refer to: content words that are no verb
    ("hoeveel geld krijgen ze daarvoor?" names nothing "daarvoor" could point at) and not the noun of a
    question phrase ("voor welke leeftijd is dat?")."""
    return [t for j, t in enumerate(tokens[:i]) if t in _content([t]) and not dutch.looks_like_verb(t)
            and (j == 0 or tokens[j - 1] not in dutch.QUESTION_DETERMINERS)]


def _demonstrative_use(tokens: Sequence[str], i: int) -> str:
    """"pronoun" ("telt dat ook", "hoeveel vte is dat"), "determiner" ("in die periode", "hoelang loopt
    dat plan") or "other": an article ("het product"), a relative pronoun after a noun ("het geld dat
    leerpunt kreeg") or a conjunction ("klopt het dat …")."""
    token = tokens[i]
    before = tokens[i - 1] if i > 0 else ""
    after = tokens[i + 1] if i + 1 < len(tokens) else ""
    if token == "het":
        # "het" as a pronoun: before a function word or at the end ("mogen we het daarna verdelen"),
        # or before an ordinal or superlative with no noun after it ("wat houdt het eerste in").
        if after in dutch.ORDINALS or (after.endswith("ste") and len(after) > 5):
            following = tokens[i + 2] if i + 2 < len(tokens) else ""
            return "pronoun" if following == "" or following in dutch.STOPWORDS else "other"
        return "pronoun" if after == "" or (after in dutch.STOPWORDS and after not in dutch.DEMONSTRATIVES) else "other"
    if token in ("dat", "da") and before in dutch.CLAUSE_OPENERS:
        return "other"
    if after == "" or (after in dutch.STOPWORDS and after not in dutch.DEMONSTRATIVES) or not after.isalpha():
        return "pronoun"
    # Before a content word: a determiner after a function word ("in die periode") or right after the
    # verb that opens a question ("hoelang loopt dat plan"); a relative pronoun after a noun further on.
    if before == "" or before in dutch.STOPWORDS or before in dutch.AUXILIARIES or i <= 4:
        return "determiner"
    return "other"


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
