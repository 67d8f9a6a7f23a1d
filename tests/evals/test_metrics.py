"""Metric functions on tiny hand-made inputs with known values."""

from __future__ import annotations

import math

import pytest

from evals import metrics
from evals.history import compare_runs
from evals.model import EvalReport, SystemInfo
from evals.scoring import aggregate, failures, followup_read, score_answer, score_retrieval

EVIDENCE = "Elk project kan een maximum van €30.000 aanvragen."


def test_evidence_found_despite_whitespace_hyphenation_and_case():
    passage = "Vraag 3.\nElk  pro-\nject kan een\nMAXIMUM van € 30.000 aanvragen .\nVolgende vraag."
    assert metrics.covered(passage, EVIDENCE)


def test_evidence_cut_by_a_chunk_boundary_counts_from_80_percent():
    squashed = len("elkprojectkaneenmaximumvan€30000aanvragen")
    assert squashed == 41
    most = "Elk project kan een maximum van €30.000 aan"  # 34 of 41 characters (83%)
    half = "Elk project kan een maximum"  # 23 of 41 (56%)
    assert metrics.covered("inleiding " + most, EVIDENCE)
    assert not metrics.covered(half + " en verder iets anders", EVIDENCE)
    assert not metrics.covered("", EVIDENCE) and not metrics.covered("tekst", "")


def test_ranking_metrics():
    passages = ["niets", "ook niets", "... " + EVIDENCE + " ...", "nog iets"]
    holds = metrics.relevant_ranks(passages, [EVIDENCE])
    rank = metrics.first_hit_rank(holds)
    assert rank == 3
    assert metrics.recall_at(rank, 1) == 0.0 and metrics.recall_at(rank, 3) == 1.0
    assert metrics.recall_at(None, 10) == 0.0
    assert metrics.reciprocal_rank(rank) == pytest.approx(1 / 3)
    assert metrics.reciprocal_rank(rank, k=2) == 0.0
    assert metrics.ndcg(holds, 1) == pytest.approx(1 / math.log2(4))


def test_ndcg_with_two_evidences_counts_each_once():
    # Ranks 1 and 3 hold evidence 0 (counted once), rank 2 holds evidence 1.
    holds = [{0}, {1}, {0}, set()]
    assert metrics.ndcg(holds, 2) == pytest.approx(1.0)
    holds = [set(), {0}, {0}, {1}]
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert metrics.ndcg(holds, 2) == pytest.approx(expected)
    assert metrics.all_found_within(holds, 2, 4) and not metrics.all_found_within(holds, 2, 3)


def test_token_f1():
    assert metrics.token_f1("Maximaal €30.000 per project", "maximaal 30.000 per project") == 1.0
    # pred: a b c d, ref: a b x -> common 2, P = 2/4, R = 2/3, F1 = 4/7
    assert metrics.token_f1("a b c d", "a b x") == pytest.approx(4 / 7)
    assert metrics.token_f1("iets", "niets anders") == 0.0


def test_key_facts_and_percentiles():
    found = metrics.key_facts_found("Je mag  maximaal 10% Overhead rekenen.", ["10%", "overhead", "derden"])
    assert found == [True, True, False]
    assert metrics.percentile([1, 2, 3, 4, 5], 50) == 3
    assert metrics.percentile([0, 10], 95) == pytest.approx(9.5)
    assert metrics.percentile([], 50) is None


def _record(rank_passages, refused, facts, cited=1, cited_relevant=1, latency=10.0):
    item = {"kind": "fact", "evidence": EVIDENCE}
    r = score_retrieval(rank_passages, item)
    return r | {"refused": refused, "key_facts": facts, "cited": cited, "cited_relevant": cited_relevant,
                "f1": 0.5, "latency_ms": latency, "answer": ""}


def test_aggregate_refusals_and_key_facts():
    found, missed = [EVIDENCE], ["niets"]
    records = [
        ({"kind": "fact"}, _record(found, False, [True, False])),
        ({"kind": "rule"}, _record(missed, True, [False], cited=3, cited_relevant=0)),
        ({"kind": "unanswerable"}, _record(missed, True, [], cited=0, cited_relevant=0)),
        ({"kind": "unanswerable"}, _record(missed, False, [], cited=0, cited_relevant=0)),
    ]
    head = aggregate(records)
    assert head["recall_at_5"] == 0.5 and head["mrr_at_10"] == 0.5
    assert head["key_fact_recall"] == pytest.approx(1 / 3, abs=1e-4)
    assert head["citation_precision"] == 1.0  # the refused answer's citations do not count
    assert head["refusal_recall"] == 0.5 and head["refusal_precision"] == 0.5
    assert head["false_refusal_rate"] == 0.5


def test_compare_runs_lists_better_and_worse_questions():
    def report(hit_a, hit_b, refused_c):
        def it(qid, kind, hit, refused):
            return {"id": qid, "kind": kind, "question": qid,
                    "systems": {"vraagpunt": {"hit_at_5": hit, "key_facts": [hit], "refused": refused}}}
        return EvalReport(created="t", dataset="d", n_items=3, k=5, retrieve_k=10,
                          systems=[SystemInfo("vraagpunt", "Vraagpunt")],
                          headline={"vraagpunt": {"recall_at_5": (hit_a + hit_b) / 2}},
                          items=[it("a", "fact", hit_a, False), it("b", "fact", hit_b, False),
                                 it("c", "unanswerable", None, refused_c)])

    result = compare_runs(report(True, False, False), report(False, True, True))
    assert [x["id"] for x in result["better"]] == ["b", "c"]
    assert [x["id"] for x in result["worse"]] == ["a"]
    assert result["headline"]["recall_at_5"]["delta"] == 0.0


def test_key_facts_in_the_top_k_passages_tell_a_retrieval_miss_from_a_wrong_sentence():
    item = {"id": "q1", "kind": "number", "persona": "applicant", "question": "Hoeveel overhead?",
            "evidence": EVIDENCE, "must_include": ["10%", "personeelskosten", "30.000"]}
    passages = ["Andere tekst.", "De overhead bedraagt 10% van de personeelskosten.", "x", "y", "z",
                "Het maximum is 30.000 euro."]  # the last fact only at rank 6
    r = score_retrieval(passages, item, k=5)
    assert r["key_facts_retrieved"] == [True, True, False]
    assert score_retrieval(passages, item, k=6)["key_facts_retrieved"] == [True, True, True]

    answer = score_answer("De overhead is beperkt.", False, [passages[1]], item)
    record = r | answer | {"latency_ms": 1.0}
    head = aggregate([(item, record)])
    assert head["key_fact_recall"] == 0.0
    assert head["key_fact_recall_retrieved"] == pytest.approx(2 / 3, abs=1e-4)
    (missing,) = failures([{**item, "systems": {"vraagpunt": record}}], k=5)["missing_key_facts"]
    assert missing["missing"] == ["10%", "personeelskosten", "30.000"]
    assert missing["retrieved"] == ["10%", "personeelskosten"]  # there to quote: the sentence choice lost them


def test_answer_length_direct_sentences_and_evidence_in_a_cited_passage():
    item = {"kind": "number", "evidence": EVIDENCE, "must_include": ["30.000"], "reference_answer": ""}
    quoted = "Het budget is ruim. " + EVIDENCE + " [1]"
    hit = score_retrieval([EVIDENCE], item) | {"latency_ms": 1.0}
    right = hit | score_answer(quoted, False, [EVIDENCE], item, direct=[EVIDENCE])
    wrong_direct = hit | score_answer(quoted, False, [EVIDENCE], item, direct=["Het budget is ruim."])
    elsewhere = hit | score_answer("Geen antwoord hier. [1]", False, ["Andere passage."], item, direct=[])
    refused = hit | score_answer("Dat vind ik niet.", True, [], item, direct=[])

    head = aggregate([(item, right), (item, wrong_direct), (item, elsewhere), (item, refused)])

    assert head["answer_chars"] == pytest.approx((2 * len(quoted) + len("Geen antwoord hier. [1]")) / 3, abs=1e-3)
    assert head["direct_key_facts"] == pytest.approx(1 / 3, abs=1e-4)  # answered ones only
    assert head["evidence_cited"] == 0.5  # two of four cite the evidence; a refusal never does
    assert head["key_fact_recall"] == 0.5


def test_a_followup_is_read_right_when_it_carries_its_topic_and_a_new_question_when_it_does_not():
    history = [{"role": "user", "content": "wat is een valorisatieproject?"}]
    followup = {"kind": "followup", "history": history, "topic": "valorisatieproject"}
    new = {"kind": "fact", "history": history}
    assert followup_read(followup, "en de kosten?", "en de kosten? (vervolg op: wat is een valorisatieproject)")
    assert not followup_read(followup, "en de kosten?", "en de kosten?")
    assert not followup_read(followup, "en de kosten?", "en de kosten? (vervolg op: iets anders)")
    assert followup_read(new, "Wat is een kennisclip?", "Wat is een kennisclip?")
    assert not followup_read(new, "Wat is een kennisclip?", "Wat is een kennisclip? (vervolg op: x)")
    assert followup_read({"kind": "fact"}, "q", "q") is None
    records = [(followup, {"followup_read": True, "refused": False, "key_facts": [], "hit_at_1": 0, "hit_at_5": 0,
                           "hit_at_10": 0, "rr": 0, "ndcg": 0, "cited": 0, "cited_relevant": 0, "f1": 0,
                           "latency_ms": 1, "answer": ""}),
               (new, {"followup_read": False, "refused": False, "key_facts": [], "hit_at_1": 0, "hit_at_5": 0,
                      "hit_at_10": 0, "rr": 0, "ndcg": 0, "cited": 0, "cited_relevant": 0, "f1": 0,
                      "latency_ms": 1, "answer": ""})]
    assert aggregate(records)["followup_read"] == 0.5
