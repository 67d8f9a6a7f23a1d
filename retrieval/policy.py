"""The answer policy: which sentences to quote, whether a second passage adds something, and whether
the documents answer the question at all.

All weights sit in one frozen `AnswerWeights`, so the evaluation can vary them; the answerability
model's coefficients come from `evals/calibrate.py`, fitted with cross-validation on the tuning set.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path

from retrieval.candidates import Candidate
from retrieval.compose import Piece
from retrieval.query import Query

MODEL_PATH = Path(__file__).with_name("answerability.json")


@dataclass(frozen=True)
class AnswerWeights:
    """Every tunable number of the extractive answer step."""

    dense: float = 1.0  # cosine of a sentence with the question as searched
    own: float = 0.0  # cosine with the user's own words (matters for follow-ups)
    lexical: float = 0.2  # share of the question's IDF weight the sentence holds
    asked: float = 0.0  # a sentence that holds the kind of thing asked (soft: it ranks, never gates)
    budget: int = 900  # characters quoted from the best passage when it is quoted alone
    shared_budget: int = 350  # characters quoted from the best passage when a second one is quoted too
    second_budget: int = 350  # characters quoted from that second passage
    second_passages: int = 3  # how many of the next passages may supply a second quote
    second_min_gain: float = 0.5  # share of the question's IDF weight a second passage must add
    close_margin: float = 2.0  # fused-score gap under which retrieval cannot tell the two best apart

    def replace(self, **changes) -> AnswerWeights:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return AnswerWeights(**values)


def sentence_score(c: Candidate, w: AnswerWeights) -> float:
    score = w.dense * c.dense + w.own * c.own + w.lexical * c.lexical + (w.asked if c.holds_asked else 0.0)
    return score if c.is_prose else score - 1.0  # a caption or a table line answers only when nothing else does


def quote(candidates: Sequence[Candidate], w: AnswerWeights, budget: int) -> Piece | None:
    """The best sentence of one passage with the neighbours that fit in `budget` characters.

    The quote first grows inside the best sentence's own unit (paragraph, FAQ answer, or list with its
    lead-in), better-scoring neighbour first. A neighbouring unit joins only as a whole, so a quote
    never ends on a list's lead-in or starts halfway through someone else's paragraph.
    """
    if not candidates:
        return None
    scores = [sentence_score(c, w) for c in candidates]
    best = max(range(len(candidates)), key=lambda i: (scores[i], -i))
    lo = hi = best
    size = len(candidates[best].text)

    def fits(j: int) -> bool:
        return 0 <= j < len(candidates) and size + 1 + len(candidates[j].text) <= budget

    block = candidates[best].block
    while True:  # inside the unit
        options = [j for j in (lo - 1, hi + 1) if fits(j) and candidates[j].block == block]
        if not options:
            break
        j = max(options, key=lambda j: scores[j])
        size += 1 + len(candidates[j].text)
        lo, hi = min(lo, j), max(hi, j)
    while True:  # whole neighbouring units
        options = []
        for start, step in ((lo - 1, -1), (hi + 1, 1)):
            if not 0 <= start < len(candidates):
                continue
            unit = [j for j in range(start, -1 if step < 0 else len(candidates), step)
                    if candidates[j].block == candidates[start].block]
            extra = sum(len(candidates[j].text) + 1 for j in unit)
            if size + extra <= budget:
                options.append((max(scores[j] for j in unit), unit, extra))
        if not options:
            break
        _, unit, extra = max(options, key=lambda o: o[0])
        size += extra
        lo, hi = min([lo, *unit]), max([hi, *unit])
    chosen = candidates[lo : hi + 1]
    return Piece(
        hit=candidates[best].hit, sentences=tuple(c.text for c in chosen), direct=(best - lo,),
        lines=tuple(c.line for c in chosen),
    )


def choose_pieces(query: Query, passages: Sequence[Sequence[Candidate]], w: AnswerWeights,
                  term_weights: dict[str, float]) -> list[Piece]:
    """A quote from the best passage and, when a second passage adds something, a quote from it too.

    A second passage adds something when it holds a large share of the question's terms (by IDF) that
    the first quote lacks, or the kind of thing asked (a figure, an amount, a date) that the first
    lacks, or when retrieval cannot tell it from the best one (their fused scores lie within
    `close_margin`: on the tuning set the best passage was then right only about a third of the time).
    Two quotes share the length one would have had.
    """
    if not passages or not passages[0]:
        return []
    first = quote(passages[0], w, w.budget)
    second = _second_passage(query, passages, first, w, term_weights)
    if second is None:
        return [first]
    return [quote(passages[0], w, w.shared_budget), quote(second, w, w.second_budget)]


def _second_passage(query: Query, passages: Sequence[Sequence[Candidate]], first: Piece, w: AnswerWeights,
                    term_weights: dict[str, float]) -> Sequence[Candidate] | None:
    covered = _terms_of([c for c in passages[0] if c.text in first.sentences])
    lacks_kind = bool(query.asks) and not any(c.holds_asked for c in passages[0] if c.text in first.sentences)
    total = sum(term_weights.values()) or 1.0
    best: tuple[float, Sequence[Candidate]] | None = None
    for candidates in passages[1 : 1 + w.second_passages]:
        piece = quote(candidates, w, w.second_budget)
        if piece is None:
            continue
        held = [c for c in candidates if c.text in piece.sentences]
        gain = sum(wt for t, wt in term_weights.items() if t in _terms_of(held) and t not in covered) / total
        fills_kind = lacks_kind and any(c.holds_asked for c in held)
        if gain >= w.second_min_gain or fills_kind:
            value = gain + (1.0 if fills_kind else 0.0)
            if best is None or value > best[0]:
                best = (value, candidates)
    if best is not None:
        return best[1]
    if len(passages) > 1 and passages[1] and passages[0][0].hit.score - passages[1][0].hit.score < w.close_margin:
        return passages[1]
    return None


def _terms_of(candidates: Sequence[Candidate]) -> set[str]:
    return set().union(*(c.terms for c in candidates)) if candidates else set()


# -- answerability ---------------------------------------------------------------------------------
SIGNALS = ("top_similarity", "corpus_similarity", "margin", "asked_missing", "subject_missing")


@dataclass(frozen=True)
class Signals:
    """General evidence that the documents answer the question (inputs of the answerability model)."""

    top_similarity: float  # best cosine of any retrieved sentence with the question
    corpus_similarity: float  # median cosine of the question with the corpus's sentences: is it their topic?
    margin: float  # fused retrieval score of the best passage minus the second
    asked_missing: float  # the question asks for a kind of thing the direct sentences do not hold
    subject_missing: float  # the question names a specific subject the quoted passages never mention

    def vector(self) -> list[float]:
        return [float(getattr(self, name)) for name in SIGNALS]


@dataclass(frozen=True)
class AnswerabilityModel:
    """Logistic regression over standardised signals; refuse below `threshold`, answer with a
    caveat below `doubt`.

    One threshold cannot serve both: set for few false refusals it lets most unanswerable questions
    through; set for most of those it refuses many answerable ones. Between the two the answer is
    given, and the user is told that the documents may not say it.
    """

    coefficients: tuple[float, ...]
    intercept: float
    means: tuple[float, ...]
    scales: tuple[float, ...]
    threshold: float
    signals: tuple[str, ...] = SIGNALS
    doubt: float = 0.0  # no caveat tier unless the fitted model has one

    def probability(self, signals: Signals) -> float:
        values = [float(getattr(signals, name)) for name in self.signals]
        z = self.intercept + sum(c * (v - m) / s for c, v, m, s in zip(self.coefficients, values, self.means, self.scales))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> AnswerabilityModel | None:
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            coefficients=tuple(data["coefficients"]), intercept=float(data["intercept"]),
            means=tuple(data["means"]), scales=tuple(data["scales"]), threshold=float(data["threshold"]),
            signals=tuple(data["signals"]), doubt=float(data.get("doubt_threshold", 0.0)),
        )
