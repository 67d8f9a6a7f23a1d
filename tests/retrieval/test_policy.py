"""The answer policy and composition on hand-made candidates: quotes, second passages, answerability."""

from __future__ import annotations

import json

import pytest

from retrieval.candidates import Candidate, line_blocks
from retrieval.compose import NOT_FOUND, Piece, compose, refusal
from retrieval.policy import SIGNALS, AnswerabilityModel, AnswerWeights, Signals, choose_pieces, quote
from retrieval.query import Query
from vraagpunt.types import Chunk, Hit

W = AnswerWeights()


def hit(cid: str, score: float, rank: int = 1) -> Hit:
    return Hit(chunk=Chunk(id=cid, source=f"{cid}.pdf", title=cid, kind="report", text="", page_start=1, page_end=1),
               score=score, rank=rank)


def cand(h: Hit, position: int, text: str, dense: float, block: int = 0, line: int | None = None,
         holds: bool = False, terms: tuple[str, ...] = ()) -> Candidate:
    return Candidate(hit=h, position=position, line=position if line is None else line, block=block, text=text,
                     dense=dense, own=dense, lexical=0.0, holds_asked=holds, is_prose=True, terms=frozenset(terms))


def passage(h: Hit, sims: list[float], blocks: list[int] | None = None, length: int = 100, **kw) -> list[Candidate]:
    blocks = blocks or [0] * len(sims)
    return [cand(h, i, f"Zin {i} van {h.chunk.id} " + "x" * (length - 20), s, blocks[i], **kw)
            for i, s in enumerate(sims)]


def test_a_quote_grows_around_the_best_sentence_within_its_budget():
    p = passage(hit("a", 5), [0.80, 0.81, 0.90, 0.85, 0.79])
    piece = quote(p, W, budget=320)
    assert piece.sentences == tuple(c.text for c in p[1:4])  # best (2), then its better neighbours
    assert piece.sentences[piece.direct[0]] == p[2].text
    assert sum(len(s) + 1 for s in piece.sentences) - 1 <= 320


def test_a_neighbouring_unit_joins_only_whole():
    # Sentence 0-1 are one paragraph, 2-4 a list with its lead-in; the best sentence is in the paragraph.
    p = passage(hit("a", 5), [0.90, 0.85, 0.80, 0.80, 0.80], blocks=[0, 0, 1, 1, 1])
    assert quote(p, W, budget=250).sentences == (p[0].text, p[1].text)  # the list does not fit whole
    assert quote(p, W, budget=600).sentences == tuple(c.text for c in p)  # now it does


def test_a_list_with_its_lead_in_is_one_unit():
    chunk = Chunk(id="c", source="s", title="t", kind="report", page_start=1, page_end=1,
                  text="Inleiding van de tekst die lang genoeg is.\nDe projecten hebben twee doelen:\nEerste doel\nTweede doel\n"
                       + "Een nieuwe alinea " + "met veel woorden " * 20 + ".")
    assert line_blocks(chunk) == {0: 0, 1: 1, 2: 1, 3: 1, 4: 2}


def test_a_second_passage_is_quoted_when_it_holds_the_asked_kind_the_first_lacks():
    query = Query(own_words="Hoe lang duurt een begeleidingsproject?", asks=("duration",))
    first = passage(hit("a", 9.0), [0.90, 0.85])
    second = passage(hit("b", 2.0, 2), [0.86], holds=True)  # far behind on retrieval, but holds a duration
    pieces = choose_pieces(query, [first, second], W, {})
    assert [p.hit.chunk.id for p in pieces] == ["a", "b"]


def test_no_second_passage_when_it_adds_nothing_and_retrieval_is_sure():
    query = Query(own_words="Wat is een begeleidingsproject?")
    pieces = choose_pieces(query, [passage(hit("a", 9.0), [0.9]), passage(hit("b", 2.0, 2), [0.88])], W, {"x": 1.0})
    assert [p.hit.chunk.id for p in pieces] == ["a"]


def test_a_second_passage_when_retrieval_cannot_tell_the_two_best_apart():
    query = Query(own_words="Wat is een begeleidingsproject?")
    pieces = choose_pieces(query, [passage(hit("a", 9.0), [0.9]), passage(hit("b", 8.5, 2), [0.88])], W, {})
    assert [p.hit.chunk.id for p in pieces] == ["a", "b"]


def test_a_second_passage_that_holds_what_the_first_does_not_name():
    query = Query(own_words="overhead en looptijd")
    weights = {"overhead": 3.0, "looptijd": 3.0}
    first = passage(hit("a", 9.0), [0.9], terms=("overhead",))
    second = passage(hit("b", 2.0, 2), [0.8], terms=("looptijd",))
    assert len(choose_pieces(query, [first, second], W, weights)) == 2
    same = passage(hit("c", 2.0, 2), [0.8], terms=("overhead",))
    assert len(choose_pieces(query, [first, same], W, weights)) == 1


def test_compose_numbers_sources_and_marks_the_direct_sentences():
    a, b = hit("a", 9.0), hit("b", 8.0, 2)
    query = Query(own_words="vraag?", topic="eerder")
    answer = compose(query, [Piece(a, ("Eén.", "Twee."), direct=(1,), lines=(0, 0)),
                             Piece(b, ("Drie.", "Vier."), direct=(0,), lines=(0, 1))], mode="extractive")
    assert answer.text == "Eén. Twee. [1]\nDrie.\nVier. [2]"
    assert answer.direct_sentences == ["Twee.", "Drie."]
    assert [c.n for c in answer.citations] == [1, 2] and answer.citations[1].sentences == ("Drie.", "Vier.")
    assert answer.standalone_question == "vraag? (vervolg op: eerder)" and not answer.refused


def test_refusal_offers_at_most_three_passages():
    answer = refusal(Query(own_words="?"), [hit(str(i), 1.0) for i in range(5)])
    assert answer.refused and answer.text == NOT_FOUND and len(answer.citations) == 3 and answer.direct == ()


def test_answerability_rises_with_its_evidence_and_loads_from_json(tmp_path):
    model = AnswerabilityModel(coefficients=(1.0, 1.0, 0.5, -1.0, -1.0), intercept=0.0, means=(0.88, 0.78, 3, 0, 0),
                               scales=(0.02, 0.01, 3, 0.4, 0.3), threshold=0.5)
    weak = Signals(top_similarity=0.85, corpus_similarity=0.77, margin=0.1, asked_missing=1.0, subject_missing=1.0)
    strong = Signals(top_similarity=0.91, corpus_similarity=0.79, margin=7.0, asked_missing=0.0, subject_missing=0.0)
    assert model.probability(weak) < model.threshold < model.probability(strong)
    path = tmp_path / "model.json"
    path.write_text(json.dumps({"signals": list(SIGNALS), "coefficients": list(model.coefficients),
                                "intercept": 0.0, "means": list(model.means), "scales": list(model.scales),
                                "threshold": 0.5}), encoding="utf-8")
    assert AnswerabilityModel.load(path).probability(strong) == pytest.approx(model.probability(strong))
    assert AnswerabilityModel.load(path).doubt == 0.0  # a model fitted without a caveat tier gives none
    assert AnswerabilityModel.load(tmp_path / "absent.json") is None


def test_the_shipped_model_reads_the_signals_the_answer_step_computes():
    model = AnswerabilityModel.load()
    assert model is not None and model.signals == SIGNALS
    assert len(model.coefficients) == len(SIGNALS) and 0.0 < model.threshold < model.doubt < 1.0
