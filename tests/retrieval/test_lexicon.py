"""A generation's lexicon is built once and read back by later processes, unchanged in every score."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval import lexical
from retrieval.lexical import Lexicon, char_ngrams, lexicon_file
from retrieval.search import Searcher, lexicon_path
from vraagpunt.index import open_index

QUESTIONS = [
    "hoeveel overhead mag ik rekenen?", "wat is een begeleidingsproject", "overheadkosten valorisatieproject",
    "smartschool digitale school", "ondersteuningsteams zorg", "xyzzy onbekend woord",
]


@pytest.fixture(scope="module")
def built(assistant):
    snap = assistant.searcher.snapshot()
    return snap, Lexicon.build([(c.source, c.context_text(), c.question or "") for c in snap.chunks])


def test_a_saved_lexicon_scores_exactly_like_the_built_one(built, tmp_path):
    snap, lexicon = built
    lexicon.save(tmp_path / "lexicon.npz")
    loaded = Lexicon.load(tmp_path / "lexicon.npz")
    for question in QUESTIONS:
        terms = lexicon.analyzer.analyze(question)
        assert loaded.analyzer.analyze(question) == terms
        for ours, theirs in ((lexicon.bm25.score_array(terms), loaded.bm25.score_array(terms)),
                             (lexicon.ngrams.score_array(char_ngrams(question)), loaded.ngrams.score_array(char_ngrams(question)))):
            assert np.array_equal(ours[0], theirs[0]) and np.array_equal(ours[1], theirs[1])
    assert {t: lexicon.bm25.idf(t) for t in lexicon.bm25.terms()} == {t: loaded.bm25.idf(t) for t in loaded.bm25.terms()}
    words = list(lexicon.vocabulary.word_counts)
    assert loaded.vocabulary.word_counts == lexicon.vocabulary.word_counts
    assert all(loaded.vocabulary.sources(w) == lexicon.vocabulary.sources(w) for w in words)
    assert [loaded.vocabulary.is_specific(w) for w in words] == [lexicon.vocabulary.is_specific(w) for w in words]
    assert [loaded.vocabulary.idf(w) for w in words] == [lexicon.vocabulary.idf(w) for w in words]
    # And the snapshot the searcher uses has the same lexical index as one built from scratch.
    terms = lexicon.analyzer.analyze(QUESTIONS[0])
    assert np.array_equal(snap.bm25.score_array(terms)[0], lexicon.bm25.score_array(terms)[0])


def test_a_new_process_reads_the_lexicon_instead_of_building_it(corpus_settings, embedder, assistant, monkeypatch):
    state = open_index(corpus_settings).state()
    path = lexicon_path(open_index(corpus_settings), state)
    assistant.searcher.snapshot()
    assert path.is_file()  # written by whoever built it first

    def no_building(passages):
        raise AssertionError("the saved lexicon should have been read")

    monkeypatch.setattr(lexical.Lexicon, "build", staticmethod(no_building))
    fresh = Searcher(corpus_settings, open_index(corpus_settings), embedder)
    expected = [(h.chunk.id, round(h.score, 6)) for h in assistant.searcher.search(QUESTIONS[0])]
    assert [(h.chunk.id, round(h.score, 6)) for h in fresh.search(QUESTIONS[0])] == expected


def test_a_damaged_lexicon_file_is_rebuilt_and_replaced(corpus_settings, embedder, assistant):
    state = open_index(corpus_settings).state()
    path = lexicon_path(open_index(corpus_settings), state)
    assistant.searcher.snapshot()
    good = path.read_bytes()
    expected = [h.chunk.id for h in assistant.searcher.search(QUESTIONS[1])]
    try:
        path.write_bytes(good[: len(good) // 2])  # a half-copied file, say
        fresh = Searcher(corpus_settings, open_index(corpus_settings), embedder)
        assert [h.chunk.id for h in fresh.search(QUESTIONS[1])] == expected
        assert Lexicon.load(path).bm25.size == len(fresh.snapshot().chunks)  # whole again
    finally:
        path.write_bytes(good)


def test_the_file_name_follows_the_code_that_builds_it(tmp_path, monkeypatch):
    before = lexicon_file(tmp_path)
    source = tmp_path / "lexical.py"
    source.write_text(open(lexical.__file__, encoding="utf-8").read() + "\n# another analyser\n", encoding="utf-8")
    monkeypatch.setattr(lexical, "__file__", str(source))
    assert lexicon_file(tmp_path) != before and lexicon_file(tmp_path).parent == tmp_path


def test_prepare_after_an_ingest_writes_the_lexicon_a_searcher_would_have_built(tmp_path, small_corpus, embedder, monkeypatch):
    from ingest.pipeline import ingest
    from retrieval.search import prepare
    from tests.conftest import make_settings

    settings = make_settings(tmp_path, corpus=small_corpus)
    ingest(settings, embedder, open_index(settings))
    index = open_index(settings)
    path = lexicon_path(index, index.state())
    assert not path.is_file()
    prepare(index)
    assert path.is_file()
    prepared = path.read_bytes()
    questions = ["hoeveel scholen bereikt een begeleidingsproject?", "extra middelen zorg", "ondersteuningsnetwerk"]
    with monkeypatch.context() as patched:
        patched.setattr(lexical.Lexicon, "build", staticmethod(lambda passages: pytest.fail("should be read")))
        read = [[h.chunk.id for h in Searcher(settings, open_index(settings), embedder).search(q)] for q in questions]
    path.unlink()  # now a searcher builds it itself, from the snapshot's passages
    built = [[h.chunk.id for h in Searcher(settings, open_index(settings), embedder).search(q)] for q in questions]
    assert read == built and path.read_bytes() == prepared
