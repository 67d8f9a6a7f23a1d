"""The default answerer: quote the sentences that answer the question, each with its source number."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ingest.chunking import split_sentences
from retrieval.lexical import DutchAnalyzer
from vraagpunt.embedding import Embedder
from vraagpunt.settings import Settings
from vraagpunt.types import Answer, Citation, Hit

NOT_FOUND = "Dat vind ik niet in de documenten van Leerpunt."
_MIN_SENTENCE = 25


@dataclass
class ScoredSentence:
    hit: Hit
    position: int  # index of the sentence inside its chunk
    text: str
    lexical: float = 0.0
    dense: float = 0.0
    score: float = 0.0


class ExtractiveAnswerer:
    """Selects 1-4 sentences from the top hits, keeping their wording, and cites them as [n]."""

    mode = "extractive"

    def __init__(self, settings: Settings, embedder: Embedder, analyzer: DutchAnalyzer | None = None) -> None:
        self._settings = settings
        self._embedder = embedder
        self._analyzer = analyzer or DutchAnalyzer()

    def stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str | Answer]:
        answer = self.answer(question, hits)
        for piece in re.findall(r"\S+\s*", answer.text):
            yield piece
        yield answer

    def answer(self, question: str, hits: Sequence[Hit]) -> Answer:
        sentences = self.score_sentences(question, hits)
        if not sentences or sentences[0].score < self._settings.refusal_threshold:
            return refusal(question, hits)
        chosen = self._select(sentences)
        return compose(question, chosen, mode=self.mode)

    def score_sentences(self, question: str, hits: Sequence[Hit]) -> list[ScoredSentence]:
        """Every candidate sentence with lexical, dense and structural evidence combined in `score`."""
        query_terms = set(self._analyzer.analyze(question))
        candidates: list[ScoredSentence] = []
        for hit in hits:
            for position, sentence in enumerate(_answer_sentences(hit)):
                candidates.append(ScoredSentence(hit, position, sentence))
        if not candidates:
            return []
        vectors = self._embedder.embed_passages([c.text for c in candidates])
        qvec = self._embedder.embed_queries([question])[0]
        dense = vectors @ qvec
        for c, sim in zip(candidates, dense):
            terms = set(self._analyzer.analyze(c.text))
            c.lexical = len(query_terms & terms) / len(query_terms) if query_terms else 0.0
            c.dense = float(sim)
            faq_match = 0.08 if c.hit.chunk.question and c.position <= 1 else 0.0
            rank_prior = 0.06 / c.hit.rank
            # e5 cosine similarities live in a narrow band (~0.7-0.9): rescale before mixing.
            dense_part = float(np.clip((c.dense - 0.75) / 0.15, 0, 1))
            chunk_part = float(np.clip((c.hit.dense_score - 0.75) / 0.15, 0, 1))
            c.score = 0.35 * dense_part + 0.3 * c.lexical + 0.2 * chunk_part + faq_match + rank_prior
        candidates.sort(key=lambda c: -c.score)
        return candidates

    def _select(self, ranked: list[ScoredSentence]) -> list[ScoredSentence]:
        best = ranked[0]
        chosen = [best]
        budget = 650 - len(best.text)
        for c in ranked[1:]:
            if len(chosen) >= self._settings.max_answer_sentences:
                break
            same_chunk = c.hit.chunk.id == best.hit.chunk.id and abs(c.position - best.position) <= 2
            good = c.score >= best.score * (0.8 if same_chunk else 0.9)
            if good and len(c.text) <= budget and not _near_duplicate(c, chosen):
                chosen.append(c)
                budget -= len(c.text)
        # Coherent order: by source as first cited, then by position in the passage.
        first_rank = {}
        for c in chosen:
            first_rank.setdefault(c.hit.chunk.id, len(first_rank))
        chosen.sort(key=lambda c: (first_rank[c.hit.chunk.id], c.position))
        return chosen


def compose(question: str, chosen: Sequence[ScoredSentence], *, mode: str) -> Answer:
    """Join chosen sentences into an answer with [n] markers; citations numbered in order of use."""
    numbers: dict[str, int] = {}
    used: dict[str, list[str]] = {}
    hits: dict[str, Hit] = {}
    parts: list[str] = []
    for c in chosen:
        cid = c.hit.chunk.id
        n = numbers.setdefault(cid, len(numbers) + 1)
        hits[cid] = c.hit
        used.setdefault(cid, []).append(c.text)
        parts.append(f"{c.text} [{n}]")
    citations = [Citation(n=numbers[cid], hit=hits[cid], sentences=tuple(used[cid])) for cid in numbers]
    return Answer(question=question, standalone_question=question, text=" ".join(parts), refused=False, mode=mode, citations=citations)


def refusal(question: str, hits: Sequence[Hit], notice: str = "") -> Answer:
    """The calm 'not in the documents' answer, listing the closest passages as possibly relevant."""
    citations = [Citation(n=i, hit=h) for i, h in enumerate(hits[:3], start=1)]
    return Answer(
        question=question, standalone_question=question, text=NOT_FOUND, refused=True, mode="extractive",
        citations=citations, notice=notice,
    )


def _answer_sentences(hit: Hit) -> list[str]:
    out: list[str] = []
    for line in hit.chunk.text.split("\n"):
        if line == hit.chunk.question:
            continue  # the FAQ question itself answers nothing
        for sentence in split_sentences(line):
            if len(sentence) >= _MIN_SENTENCE and not sentence.endswith("?"):
                out.append(sentence)
    return out


def _near_duplicate(candidate: ScoredSentence, chosen: Sequence[ScoredSentence]) -> bool:
    words = set(candidate.text.lower().split())
    for c in chosen:
        other = set(c.text.lower().split())
        if words and len(words & other) / len(words | other) > 0.7:
            return True
    return False
