"""Hybrid search: dense vectors from the index fused with Dutch BM25 by weighted, standardised scores."""

from __future__ import annotations

import collections
import threading
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.lexical import Lexicon, char_ngrams, lexicon_file
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


class IndexSnapshot:
    """The chunks of one index generation with their lexical index and every stored vector.

    Dense search runs here, exactly, over the vectors loaded from the index: one matrix product per
    question instead of a Chroma query per vector role. Chroma stays the single source of truth (in
    server mode every replica builds the same snapshot from the same collection); it is no longer asked
    once per question.
    """

    def __init__(self, state: IndexState, entries: Iterable[tuple[IndexEntry, np.ndarray | None]], size: int | None = None,
                 matrix: np.ndarray | None = None, lexicon_path: Path | None = None) -> None:
        """`entries` with their vectors, or, given `matrix` (a generation's read copy), in its row order.
        `lexicon_path`: where this generation's lexicon is kept (loaded when there, else built and saved)."""
        self.state = state
        chunks: list[Chunk] = []
        roles: list[str] = []
        owners: list[str] = []  # the chunk id each row belongs to
        staged: dict[str, list[tuple[int, int, str]]] = {}  # chunk id -> (position, row, sentence)
        stored = matrix is not None
        matrix = matrix if stored else np.zeros((0, 0), dtype=np.float32)
        row = 0
        for entry, vector in entries:
            if not stored:
                if row == len(matrix):  # allocated once when the size is told; grown geometrically when not
                    matrix = _grown(matrix, max(size or 0, 2 * len(matrix), 1024), len(vector))
                matrix[row] = vector
            roles.append(entry.role)
            owners.append(entry.chunk.id)
            if entry.role == ROLE_CHUNK:
                chunks.append(entry.chunk)
            elif entry.role == ROLE_SENTENCE:  # ids end in -s<position>: back in reading order below
                staged.setdefault(entry.chunk.id, []).append((int(entry.id.rsplit("-s", 1)[1]), row, entry.text))
            row += 1
        self.matrix = matrix[:row] if row < len(matrix) else matrix
        chunks = _in_order(chunks)
        self.chunks = chunks
        self.by_id = {c.id: i for i, c in enumerate(chunks)}
        role_of = np.asarray(roles, dtype=object)
        owner = np.fromiter((self.by_id.get(cid, -1) for cid in owners), dtype=np.int64, count=row)
        # Per role: its rows in the matrix and the chunk (position in `chunks`) each row leads to.
        self._rows = {r: np.flatnonzero((role_of == r) & (owner >= 0)) for r in (ROLE_CHUNK, ROLE_SENTENCE, ROLE_QUESTION)}
        self._owner = owner
        self._question_row = {owners[i]: int(i) for i in self._rows[ROLE_QUESTION]}
        # Sentences in reading order per chunk, kept as rows of the matrix (no copies of the vectors).
        self._sentence_span: dict[str, tuple[int, int]] = {}
        sentence_rows: list[int] = []
        self._sentence_texts: list[str] = []
        for chunk_id, items in staged.items():
            items.sort(key=lambda x: x[0])
            self._sentence_span[chunk_id] = (len(sentence_rows), len(sentence_rows) + len(items))
            sentence_rows.extend(r for _, r, _ in items)
            self._sentence_texts.extend(t for _, _, t in items)
        self._sentence_rows = np.asarray(sentence_rows, dtype=np.int64)
        self.kinds = np.asarray([c.kind for c in chunks], dtype=object)
        self.sources = np.asarray([c.source for c in chunks], dtype=object)
        lexicon = _lexicon(chunks, lexicon_path)
        self.vocabulary, self.analyzer = lexicon.vocabulary, lexicon.analyzer
        self.bm25, self.ngrams = lexicon.bm25, lexicon.ngrams
        self.background = _background(self.matrix, self._sentence_rows)

    def sentences(self, chunk_id: str) -> list[tuple[str, np.ndarray]]:
        """The answer units of a chunk with their stored vectors, in reading order."""
        start, end = self._sentence_span.get(chunk_id, (0, 0))
        return [(self._sentence_texts[i], self.matrix[self._sentence_rows[i]]) for i in range(start, end)]

    def question_vector(self, chunk_id: str) -> np.ndarray | None:
        """The stored vector of the FAQ question a chunk answers, if it has one."""
        row = self._question_row.get(chunk_id)
        return None if row is None else self.matrix[row]

    def allowed(self, filter: SearchFilter) -> np.ndarray | None:
        """Which chunks a filter lets through (None: all of them)."""
        if not filter.kinds and not filter.sources:
            return None
        mask = np.ones(len(self.chunks), dtype=bool)
        if filter.kinds:
            mask &= np.isin(self.kinds, list(filter.kinds))
        if filter.sources:
            mask &= np.isin(self.sources, list(filter.sources))
        return mask

    def similarities(self, vector: np.ndarray) -> np.ndarray:
        """Cosine similarity of a (normalised) query vector with every stored vector."""
        if not len(self.matrix):
            return np.zeros(0, dtype=np.float32)
        return np.asarray(self.matrix @ vector.astype(np.float32, copy=False))

    def nearest(self, similarities: np.ndarray, role: str, n: int, allowed: np.ndarray | None) -> dict[str, float]:
        """{chunk id: best similarity} over the n most similar vectors of one role, exactly."""
        rows = self._rows[role]
        if allowed is not None:
            rows = rows[allowed[self._owner[rows]]]
        if not len(rows) or n <= 0:
            return {}
        values = similarities[rows]
        if len(rows) > n:
            top = np.argpartition(-values, n - 1)[:n]
            rows, values = rows[top], values[top]
        order = np.lexsort((rows, -values))
        best: dict[str, float] = {}
        for row, value in zip(rows[order], values[order]):
            chunk_id = self.chunks[self._owner[row]].id
            if chunk_id not in best:
                best[chunk_id] = float(value)
        return best


def prepare(index: ChromaIndex) -> None:
    """Build what every later process reads of the live generation (its lexicon) now, after an ingest,
    so that the first question does not wait for it (~20 s at 100x the corpus).

    Only the passages are read, not the vectors: at 100x a whole snapshot next to what the ingest still
    held took the ingest past 2 GB. In server mode each replica builds its own; there is nothing to keep.
    """
    state = index.state()
    path = lexicon_path(index, state) if state is not None else None
    if path is None or path.is_file():
        return
    _lexicon(_in_order([entry.chunk for entry, _ in index.entries(state) if entry.role == ROLE_CHUNK]), path)


def lexicon_path(index: ChromaIndex, state: IndexState) -> Path | None:
    """Where a generation's lexicon is kept: beside its read copy (embedded mode); None in server mode."""
    folder = index.folder(state)
    return lexicon_file(folder) if folder is not None else None


def _in_order(chunks: list[Chunk]) -> list[Chunk]:
    """Passages in document order: the position of a passage here is its number in the lexical indexes."""
    return sorted(chunks, key=lambda c: (c.source, c.ordinal))


def _lexicon(chunks: Sequence[Chunk], path: Path | None) -> Lexicon:
    """The generation's lexicon from its file, or built (and saved for the next process when it can be).
    `chunks` come in `_in_order` order: their positions are the lexical indexes' document numbers."""
    if path is not None and path.is_file():
        try:
            return Lexicon.load(path)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            pass  # a damaged file is rebuilt below and replaced
    lexicon = Lexicon.build([(c.source, c.context_text(), c.question or "") for c in chunks])
    if path is not None:
        try:
            lexicon.save(path)
        except OSError:  # a read-only data folder: this process keeps its own, the next builds again
            pass
    return lexicon


def _grown(matrix: np.ndarray, rows: int, dim: int) -> np.ndarray:
    bigger = np.empty((rows, dim), dtype=np.float32)
    if len(matrix):
        bigger[: len(matrix)] = matrix
    return bigger


class Searcher:
    """Answers `search(question)` with fused hits. Safe to share between threads (the app does)."""

    def __init__(self, settings: Settings, index: ChromaIndex, embedder: Embedder) -> None:
        self._settings = settings
        self._index = index
        self._embedder = embedder
        self._snapshot: IndexSnapshot | None = None
        self._query_cache: collections.OrderedDict[str, np.ndarray] = collections.OrderedDict()  # least recent first
        self._embedding = threading.Lock()
        self._lock = threading.Lock()
        self._loading = threading.Lock()  # one thread loads a new generation; the others keep answering
        self._pinned = threading.local()

    @property
    def embedder(self) -> Embedder:
        return self._embedder

    def chunks(self) -> list[Chunk]:
        return list(self.snapshot().chunks)

    def query_vector(self, question: str) -> np.ndarray:
        """The query embedding, cached: search and answer composition share it, and questions recur."""
        question = self._bounded(question)
        with self._lock:
            vector = self._query_cache.get(question)
            if vector is not None:
                self._query_cache.move_to_end(question)
                return vector
        # One embedding at a time: the model already spreads one text over every core, and questions that
        # embed side by side only take turns on the same cores, each slower (p95 1.9 s at 50 sessions).
        with self._embedding:
            vector = self._embedder.embed_queries([question])[0]
        with self._lock:
            self._query_cache[question] = vector
            while len(self._query_cache) > QUERY_CACHE:
                self._query_cache.popitem(last=False)
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
            matrix = self._index.vectors(state)  # a memory map of the generation's read copy, when it has one
            entries = self._index.entries(state, include_embeddings=matrix is None)
            snapshot = IndexSnapshot(state, entries, self._index.size(state), matrix,
                                     lexicon_path(self._index, state))
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
        allowed = snap.allowed(filter)
        similarities = snap.similarities(vector)
        chunk_sim = snap.nearest(similarities, ROLE_CHUNK, n, allowed)
        sentence_sim = snap.nearest(similarities, ROLE_SENTENCE, n * 4, allowed)
        question_sim = snap.nearest(similarities, ROLE_QUESTION, n, allowed) if self._settings.question_weight else {}
        dense_score = {cid: max(d.get(cid, -1.0) for d in (chunk_sim, sentence_sim, question_sim)) for cid in
                       chunk_sim.keys() | sentence_sim.keys() | question_sim.keys()}
        dense_rank = _ranks(dense_score)

        lexical_rank, lexical_score = _ranking(snap, snap.bm25.score_array(snap.analyzer.analyze(question)), allowed, n)
        _, ngram_score = _ranking(snap, snap.ngrams.score_array(char_ngrams(question)), allowed, n)

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


QUERY_CACHE = 1024  # query vectors kept (1.5 kB each)
BACKGROUND_SIZE = 2048  # sentences sampled to measure how close a question is to the corpus as a whole


def _background(matrix: np.ndarray, sentence_rows: np.ndarray) -> np.ndarray:
    """A fixed sample of the corpus's sentence vectors (same seed, same sample for the same index)."""
    if not len(sentence_rows):
        return np.zeros((0, 1), dtype=np.float32)
    if len(sentence_rows) > BACKGROUND_SIZE:
        sentence_rows = sentence_rows[np.random.default_rng(0).choice(len(sentence_rows), BACKGROUND_SIZE, replace=False)]
    return matrix[sentence_rows]


def _ranks(scores: dict[str, float]) -> dict[str, int]:
    """{id: 1-based rank} by descending score; ties keep the order of `scores`."""
    return {cid: r for r, cid in enumerate(sorted(scores, key=lambda c: -scores[c]), start=1)}


def _ranking(snap: IndexSnapshot, scored: tuple[np.ndarray, np.ndarray], allowed: np.ndarray | None,
             n: int) -> tuple[dict[str, int], dict[str, float]]:
    """The n best-scoring allowed chunks that hold a query term, as {chunk id: rank} and {chunk id: score}."""
    scores, touched = scored
    if allowed is not None:
        touched = touched & allowed
    found = np.flatnonzero(touched)
    values = scores[found]
    if len(found) > n:  # the n best; ties at the edge are kept so the order below decides them
        edge = np.partition(-values, n - 1)[n - 1]
        keep = -values <= edge
        found, values = found[keep], values[keep]
    order = np.lexsort((found, -values))[:n]
    best = {snap.chunks[i].id: float(scores[i]) for i in found[order]}
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
