"""Property tests (hypothesis) of the chunker: on any Markdown document it loses no text, its chunks cover
the page text they claim, and chunk ids are the same in every run and every process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.chunking import chunk_document
from ingest.loaders import load_document
from ingest.manifest import DocumentInfo
from ingest.textclean import split_sentences
from vraagpunt.errors import IngestError
from vraagpunt.settings import REPO_ROOT

WORDS = st.text(
    alphabet=st.characters(categories=("Ll", "Lu", "Nd"), include_characters="éëïöüàç€%-'’"),
    min_size=1, max_size=14,
)
SENTENCE = st.builds(
    lambda words, end: " ".join(words).capitalize() + end,
    st.lists(WORDS, min_size=1, max_size=25),
    st.sampled_from([".", "!", ".", ":", ""]),
)
PARAGRAPH = st.lists(SENTENCE, min_size=1, max_size=12).map(" ".join)
QUESTION = st.lists(WORDS, min_size=2, max_size=12).map(lambda w: " ".join(w).capitalize() + "?")
HEADING = st.builds(lambda level, words: "#" * level + " " + " ".join(words), st.integers(1, 3), st.lists(WORDS, min_size=1, max_size=6))
BLOCK = st.one_of(PARAGRAPH, PARAGRAPH, QUESTION, HEADING)
MARKDOWN = st.lists(BLOCK, min_size=1, max_size=25).map("\n\n".join)
SIZES = st.tuples(st.integers(120, 1500), st.integers(0, 200)).filter(lambda s: s[1] < s[0])
KIND = st.sampled_from(["", "faq", "report"])


def _norm(text: str) -> str:
    return " ".join(text.split())


def load_markdown(text: str, kind: str = ""):
    """The real loader on a real file, as an ingest reads it."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "document.md"
        path.write_text(text, encoding="utf-8")
        return load_document(path, "document.md", DocumentInfo(kind=kind))


def chunk_ids(texts: list[str], size: int, overlap: int) -> list[list[str]]:
    out = []
    for text in texts:
        try:
            doc = load_markdown(text)
        except IngestError:
            out.append([])
            continue
        out.append([c.id for c in chunk_document(doc, size=size, overlap=overlap)])
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=MARKDOWN, sizes=SIZES, kind=KIND)
def test_the_chunker_loses_no_text_and_its_chunks_cover_the_page(text, sizes, kind):
    size, overlap = sizes
    try:
        doc = load_markdown(text, kind)
    except IngestError:  # only headings: nothing to index, said so
        return
    chunks = chunk_document(doc, size=size, overlap=overlap)
    page = doc.pages[0].text
    joined = [_norm(c.text) for c in chunks]
    covered = [False] * len(page)
    for chunk in chunks:
        covered[chunk.char_start:chunk.char_end] = [True] * (chunk.char_end - chunk.char_start)
    for block in doc.blocks:
        if block.kind == "heading":
            continue
        # No loss: every sentence of every block is in some chunk.
        for sentence in split_sentences(block.text):
            assert any(_norm(sentence) in j for j in joined), (sentence, [c.text for c in chunks])
        # Coverage: the chunks' character ranges together span every block, all but the spaces between sentences.
        missed = "".join(page[i] for i in range(block.start, block.end) if not covered[i])
        assert not missed.strip(), (block, missed)
    for chunk in chunks:
        # A chunk's text is the page text between its offsets (apart from whitespace).
        assert _norm(chunk.text) == _norm(page[chunk.char_start:chunk.char_end]), chunk
        assert chunk.text.strip() and chunk.ordinal == chunks.index(chunk)


@settings(max_examples=40, deadline=None)
@given(text=MARKDOWN, sizes=SIZES)
def test_chunking_twice_gives_the_same_ids(text, sizes):
    assert chunk_ids([text], *sizes) == chunk_ids([text], *sizes)


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(texts=st.lists(MARKDOWN, min_size=10, max_size=10), sizes=SIZES)
def test_chunk_ids_are_the_same_in_another_process(texts, sizes):
    code = (
        "import json, sys\n"
        "from tests.ingest.test_chunking_properties import chunk_ids\n"
        "texts, size, overlap = json.load(sys.stdin)\n"
        "print(json.dumps(chunk_ids(texts, size, overlap)))\n"
    )
    other = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps([texts, *sizes]), capture_output=True, text=True, cwd=REPO_ROOT,
        env={**os.environ, "PYTHONHASHSEED": "12345"}, timeout=120,
    )
    assert other.returncode == 0, other.stderr
    assert json.loads(other.stdout) == chunk_ids(texts, *sizes)
