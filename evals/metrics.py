"""Metric functions of the evaluation: evidence matching, ranking metrics, answer overlap. Pure, no I/O."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from ingest.textclean import squash

# A passage split over two chunks still counts when one chunk holds this share of it in one piece.
MIN_COVERAGE = 0.8
_WORD = re.compile(r"\w+", re.UNICODE)


def covered(passage: str, evidence: str, min_coverage: float = MIN_COVERAGE) -> bool:
    """True when the passage holds the evidence, ignoring whitespace, punctuation and case.

    A contiguous overlap of at least `min_coverage` of the evidence's squashed characters also counts,
    so that a chunk boundary falling inside the evidence does not turn a hit into a miss.
    """
    text, needle = squash(passage), squash(evidence)
    if not needle:
        return False
    if needle in text:
        return True
    window = math.ceil(min_coverage * len(needle))
    # Some substring of length `window` must occur in the passage: test each one with C-speed `in`.
    return any(needle[i : i + window] in text for i in range(len(needle) - window + 1))


def relevant_ranks(passages: Sequence[str], evidences: Sequence[str]) -> list[set[int]]:
    """For each passage (rank = index + 1), the indices of the evidences it holds."""
    return [{j for j, ev in enumerate(evidences) if covered(p, ev)} for p in passages]


def first_hit_rank(holds: Sequence[set[int]]) -> int | None:
    """1-based rank of the first passage holding any evidence, or None."""
    return next((i + 1 for i, found in enumerate(holds) if found), None)


def recall_at(rank: int | None, k: int) -> float:
    """1.0 when the first relevant passage is within the top k."""
    return 1.0 if rank is not None and rank <= k else 0.0


def reciprocal_rank(rank: int | None, k: int = 10) -> float:
    """1/rank of the first relevant passage within the top k, else 0."""
    return 1.0 / rank if rank is not None and rank <= k else 0.0


def ndcg(holds: Sequence[set[int]], n_evidences: int, k: int = 10) -> float:
    """Binary nDCG@k where each evidence earns its gain only once (at the first passage holding it)."""
    if n_evidences <= 0:
        return 0.0
    seen: set[int] = set()
    dcg = 0.0
    for i, found in enumerate(holds[:k]):
        new = found - seen
        if new:
            dcg += 1.0 / math.log2(i + 2)  # one gain per passage, even if it holds both evidences
            seen |= new
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(n_evidences, k)))
    return dcg / ideal


def all_found_within(holds: Sequence[set[int]], n_evidences: int, k: int) -> bool:
    """Every evidence is held by some passage in the top k."""
    found: set[int] = set().union(*holds[:k]) if holds[:k] else set()
    return len(found) >= n_evidences


def key_facts_found(answer: str, must_include: Sequence[str]) -> list[bool]:
    """Which must-include strings the answer contains (case- and whitespace-insensitive)."""
    text = " ".join(answer.lower().split())
    return [" ".join(fact.lower().split()) in text for fact in must_include]


def tokens(text: str) -> list[str]:
    """Lowercase word tokens."""
    return _WORD.findall(text.lower())


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD-style token F1 between an answer and the reference answer."""
    pred, ref = tokens(prediction), tokens(reference)
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation, or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def mean(values: Sequence[float]) -> float | None:
    """Arithmetic mean, or None when there is nothing to average."""
    return sum(values) / len(values) if values else None


def ratio(numerator: int, denominator: int) -> float | None:
    """numerator / denominator, or None when the denominator is 0."""
    return numerator / denominator if denominator else None
