"""Hybrid search: dense vectors from the index fused with Dutch BM25 by weighted, standardised scores."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from retrieval.lexical import BM25, CorpusVocabulary, DutchAnalyzer, char_ngrams
from vraagpunt.embedding import Embedder
from vraagpunt.index import ROLE_CHUNK, ROLE_QUESTION, ROLE_SENTENCE, ChromaIndex, IndexEntry, IndexState
from vraagpunt.settings import Settings
from vraagpunt.types import Chunk, Hit


@dataclass(frozen=True)
class SearchFilter:
    """Restrict search to some document kinds and/or sources; empty means everything."""

    kinds: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    def allows(self, chunk: Chunk) -> bool:
        return (not self.kinds or chunk.kind in self.kinds) and (not self.sources or chunk.source in self.sources)

    def where(self) -> dict | None:
        clauses = []
        if self.kinds:
            clauses.append({"kind": {"$in": list(self.kinds)}})
        if self.sources:
            clauses.append({"source": {"$in": list(self.sources)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class IndexSnapshot:
    """The chunks of one index generation with their lexical index and their stored small vectors."""

    def __init__(self, state: IndexState, entries: list[tuple[IndexEntry, np.ndarray]]) -> None:
        self.state = state
        chunks = sorted((e.chunk for e, _ in entries if e.role == ROLE_CHUNK), key=lambda c: (c.source, c.ordinal))
        self.chunks = chunks
        self.sentence_vectors: dict[str, list[tuple[str, np.ndarray]]] = {}
        self.questions: dict[str, np.ndarray] = {}
        staged: dict[str, list[tuple[int, str, np.ndarray]]] = {}
        for entry, vector in entries:
            if entry.role == ROLE_SENTENCE:  # ids end in -s<position>: back in reading order below
                staged.setdefault(entry.chunk.id, []).append((int(entry.id.rsplit("-s", 1)[1]), entry.text, vector))
            elif entry.role == ROLE_QUESTION:
                self.questions[entry.chunk.id] = vector
        for chunk_id, items in staged.items():
            self.sentence_vectors[chunk_id] = [(text, vector) for _, text, vector in sorted(items, key=lambda x: x[0])]
        self.by_id = {c.id: i for i, c in enumerate(chunks)}
        self.analyzer = DutchAnalyzer.from_texts(c.context_text() for c in chunks)
        self.bm25 = BM25([self._terms(c) for c in chunks])
        self.ngrams = BM25([char_ngrams(c.context_text()) for c in chunks])
        self.vocabulary = CorpusVocabulary((c.source, c.context_text()) for c in chunks)
        self.background = _background([v for items in self.sentence_vectors.values() for _, v in items])

    def sentences(self, chunk_id: str) -> list[tuple[str, np.ndarray]]:
        """The answer units of a chunk with their stored vectors, in reading order."""
        return self.sentence_vectors.get(chunk_id, [])

    def question_vector(self, chunk_id: str) -> np.ndarray | None:
        """The stored vector of the FAQ question a chunk answers, if it has one."""
        return self.questions.get(chunk_id)

    def _terms(self, chunk: Chunk) -> list[str]:
        terms = self.analyzer.analyze(chunk.context_text())
        if chunk.question:  # the FAQ question is a field of its own: count it once more
            terms += self.analyzer.analyze(chunk.question)
        return terms


class Searcher:
    """Answers `search(question)` with fused hits. Safe to share between threads (the app does)."""

    def __init__(self, settings: Settings, index: ChromaIndex, embedder: Embedder) -> None:
        self._settings = settings
        self._index = index
        self._embedder = embedder
        self._snapshot: IndexSnapshot | None = None
        self._query_cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self._loading = threading.Lock()  # one thread loads a new generation; the others keep answering
        self._pinned = threading.local()

    @property
    def embedder(self) -> Embedder:
        return self._embedder

    def chunks(self) -> list[Chunk]:
        return list(self.snapshot().chunks)

    def query_vector(self, question: str) -> np.ndarray:
        """The query embedding, cached: search and answer composition share it."""
        question = self._bounded(question)
        with self._lock:
            vector = self._query_cache.get(question)
        if vector is None:
            vector = self._embedder.embed_queries([question])[0]
            with self._lock:
                if len(self._query_cache) > 256:
                    self._query_cache.clear()
                self._query_cache[question] = vector
        return vector

    def snapshot(self) -> IndexSnapshot:
        """The live generation's chunks, lexical index and stored small vectors.

        Take it once per question (or use `pinned`): each call asks the index which generation is live.
        While one thread loads a new generation, the others answer from the one they had.
        """
        pinned = getattr(self._pinned, "snapshot", None)
        if pinned is not None:
            return pinned
        state = self._index.require(self._embedder.name)
        with self._lock:
            current = self._snapshot
        if current is not None and current.state.collection == state.collection:
            return current
        if not self._loading.acquire(blocking=current is None):
            return current
        try:
            with self._lock:
                current = self._snapshot
            if current is not None and current.state.updated >= state.updated:
                return current  # loaded by another thread meanwhile
            snapshot = IndexSnapshot(state, list(self._index.entries(state, include_embeddings=True)))
            with self._lock:
                self._snapshot = snapshot
            return snapshot
        finally:
            self._loading.release()

    @contextmanager
    def pinned(self) -> Iterator[IndexSnapshot]:
        """Within this block every `snapshot()` on this thread is the same generation: one answer never
        mixes the passages of two index generations, even when an ingest finishes halfway."""
        outer = getattr(self._pinned, "snapshot", None)
        self._pinned.snapshot = outer or self.snapshot()
        try:
            yield self._pinned.snapshot
        finally:
            self._pinned.snapshot = outer

    def search(self, question: str, k: int | None = None, filter: SearchFilter | None = None) -> list[Hit]:
        """The k best chunks for a question, fused from dense and lexical rankings."""
        k = k or self._settings.top_k
        filter = filter or SearchFilter()
        question = self._bounded(question)
        snap = self.snapshot()
        n = max(self._settings.candidates, k)

        vector = self.query_vector(question)
        where = filter.where()
        chunk_sim = self._nearest(snap, vector, ROLE_CHUNK, n, where)
        sentence_sim = self._nearest(snap, vector, ROLE_SENTENCE, n * 4, where)
        # The FAQ-question vectors cost a round trip; with their weight at 0 (the default) they are not asked.
        question_sim = self._nearest(snap, vector, ROLE_QUESTION, n, where) if self._settings.question_weight else {}
        dense_score = {cid: max(d.get(cid, -1.0) for d in (chunk_sim, sentence_sim, question_sim)) for cid in
                       chunk_sim.keys() | sentence_sim.keys() | question_sim.keys()}
        dense_rank = _ranks(dense_score)

        lexical_rank, lexical_score = _ranking(snap, snap.bm25.scores(snap.analyzer.analyze(question)), filter, n)
        _, ngram_score = _ranking(snap, snap.ngrams.scores(char_ngrams(question)), filter, n)

        s = self._settings
        fused = fuse_scores(
            [
                (s.dense_weight, chunk_sim),
                (s.sentence_weight, sentence_sim),
                (s.question_weight, question_sim),
                (s.lexical_weight, lexical_score),
                (s.ngram_weight, ngram_score),
            ]
        )
        order = sorted(fused, key=lambda cid: (-fused[cid], snap.by_id[cid]))[:k]
        return [
            Hit(
                chunk=snap.chunks[snap.by_id[cid]],
                score=fused[cid],
                rank=rank,
                dense_rank=dense_rank.get(cid),
                lexical_rank=lexical_rank.get(cid),
                dense_score=dense_score.get(cid, 0.0),
                lexical_score=lexical_score.get(cid, 0.0),
            )
            for rank, cid in enumerate(order, start=1)
        ]

    def _bounded(self, text: str) -> str:
        """At most twice the longest question the assistant passes on (a follow-up carries its topic). The
        embedder averages 512-token windows over any length: a pasted 100,000-character text took minutes."""
        return text[: 2 * self._settings.max_question_chars]

    def _nearest(self, snap: IndexSnapshot, vector: np.ndarray, role: str, n: int, where: dict | None) -> dict[str, float]:
        """{chunk id: best cosine similarity} over the n nearest entries of one role."""
        clause = {"role": role}
        found = self._index.nearest(snap.state, vector, n, {"$and": [clause, where]} if where else clause)
        best: dict[str, float] = {}
        for _entry_id, chunk_id, similarity in found:
            if chunk_id in snap.by_id and similarity > best.get(chunk_id, -2.0):
                best[chunk_id] = similarity
        return best


BACKGROUND_SIZE = 2048  # sentences sampled to measure how close a question is to the corpus as a whole


def _background(vectors: list[np.ndarray]) -> np.ndarray:
    """A fixed sample of the corpus's sentence vectors (same seed, same sample for the same index)."""
    if not vectors:
        return np.zeros((0, 1), dtype=np.float32)
    matrix = np.vstack(vectors)
    if len(matrix) > BACKGROUND_SIZE:
        matrix = matrix[np.random.default_rng(0).choice(len(matrix), BACKGROUND_SIZE, replace=False)]
    return matrix


def _ranks(scores: dict[str, float]) -> dict[str, int]:
    """{id: 1-based rank} by descending score; ties keep the order of `scores`."""
    return {cid: r for r, cid in enumerate(sorted(scores, key=lambda c: -scores[c]), start=1)}


def _ranking(snap: IndexSnapshot, scores: dict[int, float], filter: SearchFilter, n: int) -> tuple[dict[str, int], dict[str, float]]:
    """The n best-scoring allowed chunks as {chunk id: rank} and {chunk id: score}."""
    ranked = sorted(((v, i) for i, v in scores.items() if filter.allows(snap.chunks[i])), key=lambda x: (-x[0], x[1]))[:n]
    best = {snap.chunks[i].id: v for v, i in ranked}
    return _ranks(best), best


def fuse_scores(signals: Sequence[tuple[float, dict[str, float]]]) -> dict[str, float]:
    """Weighted sum of standardised scores (each signal's z-score over the candidates it returned).

    Unlike reciprocal rank fusion this keeps the margins: a passage far ahead on one signal stays
    ahead. A candidate missing from a signal gets that signal's lowest returned score.
    """
    fused: dict[str, float] = {}
    keys = set().union(*(scores.keys() for _, scores in signals))
    for weight, scores in signals:
        if not weight or len(scores) < 2:
            continue
        values = np.fromiter(scores.values(), dtype=float)
        mean, std, floor = float(values.mean()), float(values.std()) or 1.0, float(values.min())
        for key in keys:
            fused[key] = fused.get(key, 0.0) + weight * (scores.get(key, floor) - mean) / std
    if not fused:  # every signal empty or weightless: keep whatever was found, in a stable order
        fused = dict.fromkeys(keys, 0.0)
    return fused
