"""The vector index: a Chroma collection per index generation, swapped atomically by a pointer.

Ingest writes a complete new generation next to the live one and then flips the pointer, so an
interrupted or failed ingest leaves the previous index usable. Embedded (PersistentClient) and
server (`chroma run` + HttpClient) modes share this code.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from vraagpunt.errors import BackendUnavailableError, IndexMissingError, ModelMismatchError
from vraagpunt.settings import Settings
from vraagpunt.types import Chunk

ROLE_CHUNK = "chunk"
ROLE_QUESTION = "question"  # an FAQ question embedded on its own, pointing at its chunk
ROLE_SENTENCE = "sentence"  # one sentence of a chunk, pointing at its chunk (small-to-big)
_BATCH = 500
_CHUNK_INT_FIELDS = ("page_start", "page_end", "char_start", "char_end", "ordinal")
_CHUNK_STR_FIELDS = ("source", "title", "kind", "section", "question", "url")


@dataclass(frozen=True)
class IndexEntry:
    """One stored vector: a chunk, or an FAQ question that points at its chunk."""

    id: str
    chunk: Chunk
    role: str = ROLE_CHUNK
    text: str = ""  # what is stored as the document: the chunk text, or the question


@dataclass(frozen=True)
class IndexState:
    collection: str
    embedder: str
    updated: float


def make_client(settings: Settings):
    """A Chroma client for the configured mode, with telemetry off."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_mode == "http":
        try:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        except Exception as exc:  # chromadb raises plain exceptions for connection failures
            raise BackendUnavailableError(
                f"Chroma-server op {settings.chroma_host}:{settings.chroma_port} is niet bereikbaar ({exc}). "
                "Start hem met `chroma run --path DIR --port PORT` of zet VRAAGPUNT_CHROMA_MODE=embedded."
            ) from exc
    path = settings.data_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


class ChromaIndex:
    """Reads and writes Vraagpunt's index in one Chroma database."""

    def __init__(self, client, name: str) -> None:
        self._client = client
        self._name = name
        self._pointer_name = f"{name}-pointer"

    # -- reading ---------------------------------------------------------------------------------
    def state(self) -> IndexState | None:
        """Which generation is live, or None when nothing was ever indexed."""
        try:
            pointer = self._client.get_collection(self._pointer_name)
        except Exception:  # NotFoundError differs between local and http clients
            return None
        meta = pointer.metadata or {}
        if not meta.get("active"):
            return None
        return IndexState(str(meta["active"]), str(meta.get("embedder", "")), float(meta.get("updated", 0)))

    def require(self, embedder_name: str) -> IndexState:
        """The live generation, checked against the embedder the caller will query it with."""
        state = self.state()
        if state is None:
            raise IndexMissingError("Er is nog geen index. Voer eerst `vraagpunt ingest` uit.")
        if state.embedder != embedder_name:
            raise ModelMismatchError(
                f"De index is gebouwd met embeddingmodel {state.embedder!r}, maar de instellingen vragen "
                f"{embedder_name!r}. Bouw de index opnieuw met `vraagpunt ingest --rebuild`."
            )
        return state

    def entries(self, state: IndexState, include_embeddings: bool = False) -> Iterator[tuple[IndexEntry, np.ndarray | None]]:
        """Every stored entry of a generation, in batches."""
        collection = self._client.get_collection(state.collection)
        include = ["documents", "metadatas"] + (["embeddings"] if include_embeddings else [])
        total = collection.count()
        for offset in range(0, total, _BATCH):
            got = collection.get(include=include, limit=_BATCH, offset=offset)
            embeddings = got.get("embeddings") if include_embeddings else None
            for i, entry_id in enumerate(got["ids"]):
                entry = _entry_from_record(entry_id, got["documents"][i], got["metadatas"][i])
                vector = None if embeddings is None else np.asarray(embeddings[i], dtype=np.float32)
                yield entry, vector

    def nearest(self, state: IndexState, vector: np.ndarray, n: int, where: dict | None = None) -> list[tuple[str, str, float]]:
        """(entry id, chunk id, cosine similarity) of the n nearest entries."""
        collection = self._client.get_collection(state.collection)
        count = collection.count()
        if count == 0:
            return []
        result = collection.query(
            query_embeddings=[vector.tolist()], n_results=min(n, count), where=where, include=["metadatas", "distances"]
        )
        out = []
        for entry_id, meta, distance in zip(result["ids"][0], result["metadatas"][0], result["distances"][0]):
            out.append((entry_id, str(meta.get("chunk_id", entry_id)), 1.0 - float(distance)))
        return out

    # -- writing ---------------------------------------------------------------------------------
    def write_generation(
        self,
        embedder_name: str,
        entries: Sequence[IndexEntry],
        vectors: Iterator[tuple[list[IndexEntry], np.ndarray]],
    ) -> IndexState:
        """Write a complete new generation from (entries, vectors) batches, then make it live.

        On any error, including KeyboardInterrupt, the new generation is dropped and the old one stays live.
        """
        old = self.state()
        name = f"{self._name}-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:6]}"
        collection = self._client.create_collection(name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
        try:
            written = 0
            for batch, batch_vectors in vectors:
                collection.add(
                    ids=[e.id for e in batch],
                    embeddings=[v.tolist() for v in batch_vectors],
                    documents=[e.text or e.chunk.text for e in batch],
                    metadatas=[_record_metadata(e) for e in batch],
                )
                written += len(batch)
            if written != len(entries):
                raise RuntimeError(f"wrote {written} of {len(entries)} entries")
            state = IndexState(name, embedder_name, time.time())
            self._set_pointer(state)
        except BaseException:
            self._drop(name)
            raise
        if old is not None:
            self._drop(old.collection)
        return state

    def _set_pointer(self, state: IndexState) -> None:
        meta = {"active": state.collection, "embedder": state.embedder, "updated": state.updated}
        pointer = self._client.get_or_create_collection(self._pointer_name, embedding_function=None, metadata=meta)
        pointer.modify(metadata=meta)

    def _drop(self, name: str) -> None:
        try:
            self._client.delete_collection(name)
        except Exception:  # already gone
            pass

    def clear(self) -> None:
        """Remove every generation and the pointer (used by --rebuild after a model change)."""
        for collection in self._client.list_collections():
            cname = getattr(collection, "name", collection)
            if cname == self._pointer_name or str(cname).startswith(self._name + "-"):
                self._drop(cname)


def open_index(settings: Settings) -> ChromaIndex:
    return ChromaIndex(make_client(settings), settings.collection)


def _record_metadata(entry: IndexEntry) -> dict:
    chunk = entry.chunk
    meta: dict = {"role": entry.role, "chunk_id": chunk.id, "text": chunk.text if entry.role != ROLE_CHUNK else ""}
    for name in _CHUNK_STR_FIELDS:
        meta[name] = getattr(chunk, name) or ""
    for name in _CHUNK_INT_FIELDS:
        meta[name] = int(getattr(chunk, name))
    return meta


def _entry_from_record(entry_id: str, document: str, meta: dict) -> IndexEntry:
    role = str(meta.get("role", ROLE_CHUNK))
    text = document if role == ROLE_CHUNK else str(meta.get("text", ""))
    chunk = Chunk(
        id=str(meta.get("chunk_id", entry_id)),
        text=text,
        **{name: str(meta.get(name, "")) for name in _CHUNK_STR_FIELDS},
        **{name: int(meta.get(name, 0)) for name in _CHUNK_INT_FIELDS},
    )
    return IndexEntry(id=entry_id, chunk=chunk, role=role, text=document)
