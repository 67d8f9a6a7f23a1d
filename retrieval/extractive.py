"""The default answerer: quote the passage that answers, trimmed around its best sentences, cited as [n].

Candidate features (`retrieval.candidates`), the policy that picks quotes and decides answerability
(`retrieval.policy`) and composition (`retrieval.compose`) live apart; this module wires them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from retrieval.candidates import Candidate, QueryVectors, passage_candidates, term_weights
from retrieval.compose import Piece, compose, refusal
from retrieval.policy import AnswerabilityModel, AnswerWeights, Signals, choose_pieces
from retrieval.query import Query, content_words
from retrieval.search import IndexSnapshot, Searcher
from vraagpunt.settings import Settings
from vraagpunt.types import Answer, Hit

# A passage offered as "possibly relevant" under a refusal shares at least this share of the question's
# term weight: one common word ("kost") is no reason to show a passage about a subscription price.
RELATED_MIN_SHARE = 0.5


@dataclass(frozen=True)
class Draft:
    """Everything the policy looked at for one question, before the answerability decision."""

    pieces: list[Piece]
    signals: Signals | None
    candidates: list[list[Candidate]]
    unmentioned: tuple[str, ...] = ()  # specific words of the question the quoted passages never mention


UNMENTIONED = "Let op: de geciteerde passages noemen {words} niet. Controleer of ze over jouw vraag gaan."
DOUBT = "Let op: ik ben niet zeker dat de documenten dit beantwoorden. Controleer de bron."


class ExtractiveAnswerer:
    """Answers from the retrieved passages in their own words; never writes a sentence of its own."""

    mode = "extractive"

    def __init__(self, settings: Settings, searcher: Searcher, weights: AnswerWeights | None = None,
                 model: AnswerabilityModel | None = None) -> None:
        self._settings = settings
        self._searcher = searcher
        self.weights = weights or AnswerWeights()
        self.model = model if model is not None else AnswerabilityModel.load()

    def stream(self, query: Query, hits: Sequence[Hit]) -> Iterator[str | Answer]:
        answer = self.answer(query, hits)
        for piece in re.findall(r"\S+\s*", answer.text):
            yield piece
        yield answer

    def answer(self, query: Query, hits: Sequence[Hit]) -> Answer:
        snap = self._searcher.snapshot()
        draft = self.draft(query, hits, snap)
        if not draft.pieces or draft.signals is None:
            return refusal(query, related_hits(query, hits, snap))
        probability = self.model.probability(draft.signals) if self.model else None
        if probability is not None and probability < self.model.threshold:
            return refusal(query, related_hits(query, hits, snap), answerability=probability)
        answer = compose(query, draft.pieces, mode=self.mode, answerability=probability)
        notices = []
        if probability is not None and probability < self.model.doubt:
            answer.uncertain = True
            notices.append(DOUBT)
        if draft.unmentioned:  # "overhead bij een begeleidingsproject" answered from the valorisation call
            notices.append(UNMENTIONED.format(words=" en ".join(f"‘{w}’" for w in draft.unmentioned)))
        answer.notice = " ".join(notices)
        return answer

    def draft(self, query: Query, hits: Sequence[Hit], snap: IndexSnapshot | None = None) -> Draft:
        """The quotes the policy would give and the signals for deciding whether to give them."""
        snap = snap or self._searcher.snapshot()
        hits = list(hits[: self._settings.top_k])
        if not hits:
            return Draft([], None, [])
        searched = self._searcher.query_vector(query.text)
        own = self._searcher.query_vector(query.own_words) if query.own_words != query.text else searched
        weights = term_weights(query, snap)
        candidates = [passage_candidates(query, h, snap, QueryVectors(searched, own), weights) for h in hits]
        pieces = choose_pieces(query, candidates, self.weights, weights)
        if not pieces:
            return Draft([], None, candidates)
        missing = unmentioned_subjects(query, pieces, snap)
        return Draft(pieces, signals(query, hits, candidates, pieces, snap, searched, missing), candidates, missing)


def signals(query: Query, hits: Sequence[Hit], candidates: Sequence[Sequence[Candidate]],
            pieces: Sequence[Piece], snap: IndexSnapshot, searched: np.ndarray,
            unmentioned: Sequence[str] = ()) -> Signals:
    """The answerability signals of a draft answer."""
    first = pieces[0]
    direct = {first.sentences[i] for i in first.direct}
    quoted = [c for c in candidates[0] if c.text in direct]
    background = snap.background @ searched if len(snap.background) else np.zeros(1)
    return Signals(
        top_similarity=max((c.dense for cs in candidates for c in cs), default=0.0),
        corpus_similarity=float(np.median(background)),
        margin=(hits[0].score - hits[1].score) if len(hits) > 1 else 10.0,
        asked_missing=float(bool(query.asks) and not any(c.holds_asked for c in quoted)),
        subject_missing=float(bool(unmentioned)),
    )


def unmentioned_subjects(query: Query, pieces: Sequence[Piece], snap: IndexSnapshot) -> tuple[str, ...]:
    """The specific words of the question (see `CorpusVocabulary`) that no quoted passage mentions in
    its text, title or section.

    A word counts as mentioned in any inflection ("traject" in "trajecten") and, for a compound, when
    its first part is ("valorisatieproject" by "valorisatieproducten"): that part names the subject.
    """
    text = "\n".join(
        part for piece in pieces
        for part in (*piece.sentences, piece.hit.chunk.title, piece.hit.chunk.section, piece.hit.chunk.question)
    ).lower()
    subjects = dict.fromkeys(w for w in content_words(query.own_words) if snap.vocabulary.is_specific(w))
    return tuple(w for w in subjects if not _mentions(text, w, snap))


def _mentions(text: str, word: str, snap: IndexSnapshot) -> bool:
    stem = word[: max(5, len(word) - 3)]
    parts = snap.analyzer.split_compound(word)
    return stem in text or bool(parts and len(parts[0]) >= 5 and parts[0] in text)


def related_hits(query: Query, hits: Sequence[Hit], snap: IndexSnapshot) -> list[Hit]:
    """The retrieved passages that share most of what the question is about (none when none do).

    Terms weigh by their IDF in the corpus; a word the corpus lacks ("parkeerkaart") weighs as much as
    its rarest word, because a passage without it cannot be about the question.
    """
    rarest = max(snap.bm25.idf(t) for t in snap.bm25.terms()) if snap.chunks else 0.0
    weights = {t: snap.bm25.idf(t) or rarest for t in set(snap.analyzer.analyze(query.own_words))}
    total = sum(weights.values())
    if not total:
        return []
    related = []
    for hit in hits:
        shared = set(snap.analyzer.analyze(hit.chunk.context_text())) & weights.keys()
        if sum(weights[t] for t in shared) >= RELATED_MIN_SHARE * total:
            related.append(hit)
    return related[:3]
