"""Scoring one question, and aggregating scored questions into headline metrics. Pure, no I/O."""

from __future__ import annotations

from collections.abc import Sequence

from evals import metrics
from evals.dataset import evidences

RETRIEVE_K = 10


def score_retrieval(passages: Sequence[str], item: dict, k: int = 5) -> dict:
    """Ranking metrics of one retrieved list against an item's evidence.

    `key_facts_retrieved` says which key facts the top k passages hold at all: the most any answer
    quoted from them could get. Next to the key facts in the answer it tells a retrieval miss from a
    badly chosen sentence.
    """
    evs = evidences(item)
    holds = metrics.relevant_ranks(passages[:RETRIEVE_K], evs)
    rank = metrics.first_hit_rank(holds)
    out = {
        "rank": rank,
        "hit_at_1": bool(metrics.recall_at(rank, 1)),
        "hit_at_5": bool(metrics.recall_at(rank, 5)),
        "hit_at_10": bool(metrics.recall_at(rank, 10)),
        "rr": metrics.reciprocal_rank(rank, RETRIEVE_K),
        "ndcg": metrics.ndcg(holds, len(evs), RETRIEVE_K),
        "key_facts_retrieved": metrics.key_facts_found("\n".join(passages[:k]), item.get("must_include") or []),
    }
    if len(evs) > 1:
        out["both_found_at_10"] = metrics.all_found_within(holds, len(evs), RETRIEVE_K)
    return out


def score_answer(text: str, refused: bool, cited: Sequence[str], item: dict, direct: Sequence[str] | None = None) -> dict:
    """Answer metrics of one item: key facts (in the answer and in its direct sentences), refusal,
    citations, length and overlap with the reference answer."""
    evs = evidences(item)
    must = item.get("must_include") or []
    facts = metrics.key_facts_found(text, must)
    direct_text = " ".join(direct) if direct is not None else text
    return {
        "answer": text,
        "refused": refused,
        "chars": len(text),
        "key_facts": facts,
        "direct_key_facts": metrics.key_facts_found(direct_text, must),
        "cited": len(cited),
        "cited_relevant": sum(any(metrics.covered(c, e) for e in evs) for c in cited) if evs else 0,
        "evidence_cited": bool(evs) and not refused and any(metrics.covered(c, e) for c in cited for e in evs),
        "f1": round(metrics.token_f1(text, item.get("reference_answer") or ""), 4),
    }


def followup_read(item: dict, question: str, standalone: str) -> bool | None:
    """For a question asked after earlier turns: whether it was read right (a follow-up carries the
    earlier topic, a new question stands alone). None for a question without history."""
    if not item.get("history"):
        return None
    read_as_followup = " ".join(standalone.split()) != " ".join(question.split())
    if item.get("kind") != "followup":
        return not read_as_followup
    topic = (item.get("topic") or "").lower()
    return read_as_followup and (not topic or topic in standalone.lower())


def aggregate(records: Sequence[tuple[dict, dict]]) -> dict:
    """Headline metrics over (item, system record) pairs. None where a metric has no cases."""
    answerable = [(i, r) for i, r in records if i.get("kind") != "unanswerable"]
    unanswerable = [(i, r) for i, r in records if i.get("kind") == "unanswerable"]
    multi = [r for _, r in answerable if "both_found_at_10" in r]
    answered = [r for _, r in answerable if not r["refused"]]
    facts = [f for _, r in answerable for f in r["key_facts"]]
    facts_retrieved = [f for _, r in answerable for f in r.get("key_facts_retrieved", [])]
    cited = sum(r["cited"] for r in answered)
    refused = [(i, r) for i, r in records if r["refused"]]
    has_cited_retrieved = [r for r in answered if "cited_retrieved" in r]
    read = [r["followup_read"] for _, r in records if r.get("followup_read") is not None]
    out = {
        "n": len(records),
        "n_answerable": len(answerable),
        "recall_at_1": metrics.mean([r["hit_at_1"] for _, r in answerable]),
        "recall_at_5": metrics.mean([r["hit_at_5"] for _, r in answerable]),
        "recall_at_10": metrics.mean([r["hit_at_10"] for _, r in answerable]),
        "mrr_at_10": metrics.mean([r["rr"] for _, r in answerable]),
        "ndcg_at_10": metrics.mean([r["ndcg"] for _, r in answerable]),
        "both_found_at_10": metrics.mean([r["both_found_at_10"] for r in multi]),
        "key_fact_recall": metrics.mean(facts),
        "key_fact_recall_retrieved": metrics.mean(facts_retrieved),
        "direct_key_facts": metrics.mean([all(r.get("direct_key_facts", r["key_facts"])) for r in answered]),
        "answer_chars": metrics.mean([r.get("chars", len(r["answer"])) for r in answered]),
        "citation_precision": metrics.ratio(sum(r["cited_relevant"] for r in answered), cited),
        "evidence_cited": metrics.mean([bool(r.get("evidence_cited")) for _, r in answerable]),
        "cited_retrieved_rate": (
            metrics.ratio(sum(r["cited_retrieved"] for r in has_cited_retrieved),
                          sum(r["cited"] for r in has_cited_retrieved))
            if has_cited_retrieved else None
        ),
        "refusal_precision": metrics.ratio(sum(i["kind"] == "unanswerable" for i, _ in refused), len(refused)),
        "refusal_recall": metrics.ratio(sum(r["refused"] for _, r in unanswerable), len(unanswerable)),
        "false_refusal_rate": metrics.ratio(sum(r["refused"] for _, r in answerable), len(answerable)),
        # Refused, or answered with the caveat that the documents may not say it (`Answer.uncertain`).
        "doubt_recall": metrics.ratio(sum(r["refused"] or r.get("uncertain", False) for _, r in unanswerable),
                                      len(unanswerable)),
        "false_doubt_rate": metrics.ratio(sum(r["refused"] or r.get("uncertain", False) for _, r in answerable),
                                          len(answerable)),
        "followup_read": metrics.mean(read),
        "answer_f1": metrics.mean([r["f1"] for _, r in records]),
        "latency_p50_ms": metrics.percentile([r["latency_ms"] for _, r in records], 50),
        "latency_p95_ms": metrics.percentile([r["latency_ms"] for _, r in records], 95),
    }
    return {key: (round(v, 4) if isinstance(v, float) else v) for key, v in out.items()}


def breakdown(items: Sequence[dict], systems: Sequence[str], field: str, values: Sequence[str]) -> dict:
    """{value of `field`: {system: aggregate}} for the items with that value."""
    table: dict[str, dict] = {}
    for value in values:
        subset = [it for it in items if it[field] == value]
        if subset:
            table[value] = {s: aggregate([(it, it["systems"][s]) for it in subset]) for s in systems}
    return table


def failures(items: Sequence[dict], k: int, system: str = "vraagpunt") -> dict:
    """The questions a system got wrong, grouped by what went wrong."""
    not_retrieved, missing, false_refusals, missed_refusals, misread = [], [], [], [], []
    for it in items:
        r = it["systems"].get(system)
        if r is None:
            continue
        base = {"id": it["id"], "kind": it["kind"], "persona": it["persona"], "question": it["question"]}
        if r.get("followup_read") is False:
            misread.append({**base, "standalone": it.get("standalone", "")})
        if it["kind"] == "unanswerable":
            if not r["refused"]:
                missed_refusals.append({**base, "answer": r["answer"][:200]})
            continue
        if not (r["rank"] is not None and r["rank"] <= k):
            not_retrieved.append({**base, "rank": r["rank"], "retrieved": r.get("retrieved", [])[:3]})
        if r["refused"]:
            false_refusals.append(base)
        elif not all(r["key_facts"]):
            lost = [f for f, ok in zip(it["must_include"], r["key_facts"]) if not ok]
            in_top = r.get("key_facts_retrieved") or []
            retrieved = [f for f, ok, there in zip(it["must_include"], r["key_facts"], in_top) if not ok and there]
            missing.append({**base, "missing": lost, "retrieved": retrieved, "answer": r["answer"][:200]})
    return {
        "not_retrieved": not_retrieved,
        "missing_key_facts": missing,
        "false_refusals": false_refusals,
        "missed_refusals": missed_refusals,
        "misread_followups": misread,
    }
