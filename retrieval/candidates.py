"""Candidate features: every sentence of the retrieved passages, with the evidence that it answers.

The answer step reads these; it decides nothing here. Vectors come from the index (stored at ingest),
so scoring a sentence costs a dot product, not an embedding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ingest.chunking import sentence_lines
from retrieval.query import Query
from retrieval.search import IndexSnapshot
from vraagpunt import dutch
from vraagpunt.types import Chunk, Hit


@dataclass(frozen=True)
class Candidate:
    """One sentence of a retrieved passage and how well it matches the question."""

    hit: Hit
    position: int  # index among the passage's sentences
    line: int  # the line of the passage text it stands on
    block: int  # paragraph, FAQ answer or list-with-lead-in it belongs to
    text: str
    dense: float  # cosine with the question as searched
    own: float  # cosine with the user's own words (differs for a follow-up)
    lexical: float  # share of the question's term weight (IDF) the sentence holds
    holds_asked: bool  # holds the kind of thing asked (a figure, an amount, a date …)
    is_prose: bool  # a sentence, not a caption, a bare link or a run of table figures
    terms: frozenset[str]  # its analysed terms


@dataclass(frozen=True)
class QueryVectors:
    searched: np.ndarray
    own: np.ndarray


def passage_candidates(query: Query, hit: Hit, snap: IndexSnapshot, vectors: QueryVectors,
                       term_weights: dict[str, float]) -> list[Candidate]:
    """The sentences of one passage, in reading order, with their features."""
    chunk = hit.chunk
    stored = snap.sentences(chunk.id)
    if not stored:  # a passage that is one question line ("Wist je dat …?"): quote it whole
        terms = frozenset(snap.analyzer.analyze(chunk.text))
        total = sum(term_weights.values()) or 1.0
        return [Candidate(
            hit=hit, position=0, line=0, block=0, text=" ".join(chunk.text.split()), dense=hit.dense_score,
            own=hit.dense_score, lexical=sum(w for t, w in term_weights.items() if t in terms) / total,
            holds_asked=any(dutch.KIND_EVIDENCE[k].search(chunk.text) for k in query.asks),
            is_prose=is_prose(chunk.text), terms=terms,
        )]
    lines = sentence_lines(chunk)
    if len(lines) != len(stored):  # an index built by another chunker version: fall back to positions
        lines = [(i, text) for i, (text, _) in enumerate(stored)]
    blocks = line_blocks(chunk)
    total = sum(term_weights.values()) or 1.0
    out = []
    for position, ((text, vector), (line, _)) in enumerate(zip(stored, lines)):
        terms = frozenset(snap.analyzer.analyze(text))
        out.append(Candidate(
            hit=hit, position=position, line=line, block=blocks.get(line, line), text=text,
            dense=float(vector @ vectors.searched), own=float(vector @ vectors.own),
            lexical=sum(w for t, w in term_weights.items() if t in terms) / total,
            holds_asked=any(dutch.KIND_EVIDENCE[k].search(text) for k in query.asks),
            is_prose=is_prose(text), terms=terms,
        ))
    return out


def term_weights(query: Query, snap: IndexSnapshot) -> dict[str, float]:
    """The question's terms (own words and, for a follow-up, the earlier topic) weighted by IDF."""
    terms = set(snap.analyzer.analyze(query.own_words)) | set(snap.analyzer.analyze(query.text))
    return {t: snap.bm25.idf(t) for t in terms}


def line_blocks(chunk: Chunk) -> dict[int, int]:
    """{line: block}: an FAQ answer is one block; elsewhere a paragraph is, and a line that announces
    a list (ends with ":") forms one block with the short lines that follow it."""
    lines = chunk.text.split("\n")
    if chunk.question:
        return {i: 0 for i in range(len(lines))}
    blocks: dict[int, int] = {}
    block, in_list = -1, False
    for i, line in enumerate(lines):
        item = in_list and len(line) <= _LIST_ITEM_MAX and not line.rstrip().endswith(":")
        if not item:
            block += 1
        blocks[i] = block
        in_list = line.rstrip().endswith(":") or item
    return blocks


_LIST_ITEM_MAX = 250


def is_prose(text: str) -> bool:
    """A sentence a person can read as an answer: not a caption, a bare link or a line of table figures."""
    letters = [w for w in text.split() if any(ch.isalpha() for ch in w)]
    figures = [w for w in text.split() if any(ch.isdigit() for ch in w)]
    if dutch.CAPTION.match(text) or len(letters) < 3:
        return False
    return not (len(figures) > 3 and len(figures) * 3 >= len(letters) and not text.rstrip().endswith((".", "!", "?")))


def ranked(candidates: Sequence[Candidate], score) -> list[Candidate]:
    """Candidates best first by a scoring function; ties keep reading order."""
    return sorted(candidates, key=lambda c: -score(c))
