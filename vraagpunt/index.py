"""The vector index: one Chroma collection per index generation, and a pointer to the live one.

Ingest writes a complete new generation next to the live one and then moves the pointer, so an
interrupted or failed ingest leaves the previous index usable and every answer reads one complete
generation. Embedded (PersistentClient) and server (`chroma run` + HttpClient) modes share this code.

Several processes (the app, a CLI ingest, a CLI search) use one index. The rules:

- **One writer.** An ingest holds an exclusive lock (`data_dir/ingest.lock`) from reading the files to
  moving the pointer; a second ingest, from the CLI or the app, waits for it.
- **Embedded mode.** Chroma's PersistentClient is not process-safe, and it writes to its folder even
  when a process only opens it to read. So each generation is a folder of its own, written by one
  process and never written again once published; the pointer is a small file replaced atomically.
  A process opens a published folder while holding the folder's "opening" lock, and keeps a shared
  lease on it while it uses it. The writer deletes an old generation only when nobody holds its lease.
- **Server mode.** The `chroma run` server owns its files; generations are collections in it and the
  pointer is a collection's metadata. The previous generation is kept one ingest longer, so a question
  that started on it still finishes.
"""

from __future__ import annotations

import collections
import fcntl
import json
import os
import shutil
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from vraagpunt.errors import (
    BackendUnavailableError,
    IndexBusyError,
    IndexMissingError,
    ModelMismatchError,
    StorageError,
    VraagpuntError,
    storage_error,
)
from vraagpunt.settings import Settings
from vraagpunt.types import Chunk

ROLE_CHUNK = "chunk"
ROLE_QUESTION = "question"  # an FAQ question embedded on its own, pointing at its chunk
ROLE_SENTENCE = "sentence"  # one sentence of a chunk, pointing at its chunk (small-to-big)
_BATCH = 500  # entries per write
_READ_BATCH = 2000  # entries per read: Chroma pages with LIMIT/OFFSET, so fewer, larger pages read 100x faster
_CHUNK_INT_FIELDS = ("page_start", "page_end", "char_start", "char_end", "ordinal")
_CHUNK_STR_FIELDS = ("source", "title", "kind", "section", "question", "url")
POINTER_FILE = "CURRENT"
# Embedded mode: a plain copy of a generation's records and vectors, written with it, read at every start.
COPY_RECORDS, COPY_VECTORS, COPY_DONE = "records.jsonl", "vectors.f32", "copy.json"
PUBLISHED = "PUBLISHED"  # written last into a generation folder: complete, never written again
_LEASE = "lease"
_OPENING = "opening"
MISSING = "Er is nog geen index. Voer eerst `vraagpunt ingest` uit."


@dataclass(frozen=True, slots=True)  # one per vector, ~490,000 at 100x the corpus
class IndexEntry:
    """One stored vector: a chunk, or an FAQ question or a sentence that points at its chunk.

    Read back from the index, a sentence's `chunk` holds only the passage's id, source, kind and
    positions, a question's also its title and question: the passage's own entry holds the rest.
    """

    id: str
    chunk: Chunk
    role: str = ROLE_CHUNK
    text: str = ""  # what is stored as the document: the chunk text, or the question


@dataclass(frozen=True)
class IndexState:
    """A generation. One obtained from `require` holds it open for as long as the state is referenced."""

    collection: str
    embedder: str
    updated: float
    handle: object = field(default=None, compare=False, repr=False)


def _chroma_settings():
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


class _Gone(Exception):
    """The generation was deleted between reading the pointer and opening it."""


class _Handle:
    """An open collection. Server mode: the server keeps it alive, nothing to release."""

    def __init__(self, collection) -> None:
        self.collection = collection


# -- embedded mode: one folder per generation ------------------------------------------------------
class _Generation(_Handle):
    """A published generation folder opened in this process: a Chroma client and a shared lease."""

    def __init__(self, folder: Path, name: str) -> None:
        try:
            lease = os.open(folder / _LEASE, os.O_RDONLY)
        except FileNotFoundError as exc:
            raise _Gone(name) from exc
        try:
            fcntl.flock(lease, fcntl.LOCK_SH)  # waits while a writer deletes this folder
            if not (folder / PUBLISHED).is_file():
                raise _Gone(name)
            import chromadb

            with _file_lock(folder / _OPENING, fcntl.LOCK_EX):  # Chroma writes to its folder when it opens it
                self.client = chromadb.PersistentClient(path=str(folder), settings=_chroma_settings())
                try:
                    collection = self.client.get_collection(name)
                except BaseException:
                    self.client.close()
                    raise
        except BaseException:
            os.close(lease)
            raise
        super().__init__(collection)
        self.lease = lease


def _release(client, lease: int) -> None:
    client.close()
    os.close(lease)


class _OpenFolders:
    """The generation folders this process has open, shared by every index object in it.

    A folder stays open while some IndexState (a searcher's snapshot, a question in flight) refers to
    it; then it is closed, and its lease released, at the next open.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: weakref.WeakValueDictionary[str, _Generation] = weakref.WeakValueDictionary()
        # Finalizers run at unpredictable moments (in any thread, even inside this lock), so they only
        # queue the closing; it happens under the lock at the next open.
        self._retired: collections.deque = collections.deque()

    def get(self, folder: Path, name: str) -> _Generation:
        with self._lock:
            while self._retired:
                _release(*self._retired.popleft())
            generation = self._open.get(str(folder))
            if generation is None:
                generation = _Generation(folder, name)
                self._open[str(folder)] = generation
                weakref.finalize(generation, self._retired.append, (generation.client, generation.lease))
            return generation


_OPEN_FOLDERS = _OpenFolders()


class _ReadCopy:
    """A generation's records (one JSON line each) and vectors (raw float32 rows), beside Chroma's files.

    Reading a generation back through Chroma pages through its records and makes the embedded Chroma load
    the whole collection into memory: at 100x the corpus a start took over two minutes and 3.3 GB. The
    copy is written by the one writer with the generation and, like it, never changed after it is
    published; a process reads it with one memory map. Chroma keeps the records it was given; a
    generation without a copy (an older version's) is read through Chroma.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._vectors = open(folder / COPY_VECTORS, "wb")
        self._records = open(folder / COPY_RECORDS, "w", encoding="utf-8")
        self.count = 0
        self.dim = 0

    def add(self, ids: list[str], vectors: np.ndarray, documents: list[str], metadatas: list[dict]) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.dim = vectors.shape[1]
        self._vectors.write(vectors.tobytes())
        self._records.writelines(json.dumps([i, d, m], ensure_ascii=False) + "\n" for i, d, m in zip(ids, documents, metadatas))
        self.count += len(ids)

    def close(self) -> None:
        self.abort()
        (self.folder / COPY_DONE).write_text(json.dumps({"count": self.count, "dim": self.dim}), encoding="utf-8")

    def abort(self) -> None:
        self._vectors.close()
        self._records.close()


def _copy_of(folder: Path) -> tuple[int, int] | None:
    """(entries, dimension) of a generation's complete read copy, or None when it has none."""
    try:
        meta = json.loads((folder / COPY_DONE).read_text(encoding="utf-8"))
        count, dim = int(meta["count"]), int(meta["dim"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    size = (folder / COPY_VECTORS).stat().st_size if (folder / COPY_VECTORS).is_file() else -1
    return (count, dim) if size == count * dim * 4 else None


class _FolderStore:
    """Embedded mode: generations are PersistentClient folders under data_dir/index, the pointer a file."""

    def __init__(self, root: Path, legacy: Path) -> None:
        self.root = root
        self._legacy = legacy
        self._writing: dict[str, object] = {}
        self._copies: dict[str, _ReadCopy] = {}

    def copy(self, state: IndexState) -> tuple[Path, int, int] | None:
        """(folder, entries, dimension) of a published generation's read copy, if it has one."""
        folder = self.root / state.collection
        found = _copy_of(folder)
        return None if found is None else (folder, *found)

    def record(self, name: str, ids, vectors, documents, metadatas) -> None:
        self._copies[name].add(ids, vectors, documents, metadatas)

    def live(self) -> IndexState | None:
        pointer = self.root / POINTER_FILE
        try:
            data = json.loads(pointer.read_text(encoding="utf-8"))
            return IndexState(str(data["generation"]), str(data["embedder"]), float(data["updated"]))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexMissingError(
                f"De indexwijzer {pointer} is onleesbaar ({exc}). Voer `vraagpunt ingest` uit om hem te herstellen."
            ) from exc

    def missing_message(self, seen: bool) -> str:
        if seen or not self.root.parent.is_dir():
            return (f"De index in {self.root} bestaat niet (meer): de datamap is verwijderd of leeggemaakt. Voer "
                    "`vraagpunt ingest` uit; daarna antwoordt Vraagpunt weer, zonder herstart.")
        if (self._legacy / "chroma.sqlite3").is_file():
            return (f"De index in {self._legacy} heeft een ouder formaat. Voer `vraagpunt ingest` uit om hem "
                    "opnieuw op te bouwen.")
        return MISSING

    def handle(self, state: IndexState) -> _Handle:
        return _OPEN_FOLDERS.get(self.root / state.collection, state.collection)

    def begin(self, name: str):
        import chromadb

        folder = self.root / name
        folder.mkdir(parents=True)
        client = chromadb.PersistentClient(path=str(folder), settings=_chroma_settings())
        self._writing[name] = client
        self._copies[name] = _ReadCopy(folder)
        return client.create_collection(name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}})

    def publish(self, state: IndexState, written: int) -> None:
        """Close the writer's client, check what reached the disk, mark the folder complete, move the pointer."""
        import chromadb

        self._writing.pop(state.collection).close()
        self._copies.pop(state.collection).close()
        folder = self.root / state.collection
        with chromadb.PersistentClient(path=str(folder), settings=_chroma_settings()) as client:
            stored = client.get_collection(state.collection).count()
        if stored != written or (_copy_of(folder) or (-1,))[0] != written:
            raise RuntimeError(f"generation {state.collection} holds {stored} of {written} entries")
        for name in (_LEASE, _OPENING):
            (folder / name).touch()
        for path in folder.rglob("*"):  # on disk before anything points at it
            if path.is_file():
                _fsync(path)
        _write_atomically(folder / PUBLISHED, f"{state.collection}\n")
        pointer = {"generation": state.collection, "embedder": state.embedder, "updated": state.updated}
        _write_atomically(self.root / POINTER_FILE, json.dumps(pointer))

    def discard(self, name: str) -> None:
        client = self._writing.pop(name, None)
        if client is not None:
            client.close()
        copy = self._copies.pop(name, None)
        if copy is not None:
            copy.abort()
        shutil.rmtree(self.root / name, ignore_errors=True)

    def retire(self, live: IndexState | None, previous: IndexState | None) -> None:
        """Delete every generation folder but the live one that no process has open (leftovers of a
        crash included); a folder still in use is deleted by a later ingest."""
        shutil.rmtree(self._legacy, ignore_errors=True)  # the single-folder index of earlier versions
        if not self.root.is_dir():
            return
        for folder in self.root.iterdir():
            if not folder.is_dir() or (live is not None and folder.name == live.collection):
                continue
            if folder.name.startswith(".trash-"):
                shutil.rmtree(folder, ignore_errors=True)
                continue
            try:
                lease = os.open(folder / _LEASE, os.O_RDONLY)
            except FileNotFoundError:  # never published: a crashed or abandoned write
                shutil.rmtree(folder, ignore_errors=True)
                continue
            try:
                fcntl.flock(lease, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(lease)
                continue
            try:
                (folder / PUBLISHED).unlink(missing_ok=True)
                trash = folder.with_name(f".trash-{folder.name}")
                folder.rename(trash)
            finally:
                os.close(lease)
            shutil.rmtree(trash, ignore_errors=True)

    def clear(self) -> None:
        (self.root / POINTER_FILE).unlink(missing_ok=True)
        self.retire(None, None)


# -- server mode: generations are collections of one `chroma run` server ---------------------------
class _ServerStore:
    def __init__(self, client, name: str) -> None:
        self._client = client
        self._name = name
        self._pointer_name = f"{name}-pointer"

    def live(self) -> IndexState | None:
        try:
            pointer = self._client.get_collection(self._pointer_name)
        except Exception:  # NotFoundError differs between versions
            return None
        meta = pointer.metadata or {}
        if not meta.get("active"):
            return None
        return IndexState(str(meta["active"]), str(meta.get("embedder", "")), float(meta.get("updated", 0)))

    def missing_message(self, seen: bool) -> str:
        return MISSING

    def copy(self, state: IndexState) -> None:
        return None  # replicas on other machines read the server's collection

    def record(self, name: str, ids, vectors, documents, metadatas) -> None:
        pass

    def handle(self, state: IndexState) -> _Handle:
        try:
            return _Handle(self._client.get_collection(state.collection))
        except Exception as exc:
            raise _Gone(state.collection) from exc

    def begin(self, name: str):
        return self._client.create_collection(name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}})

    def publish(self, state: IndexState, written: int) -> None:
        stored = self._client.get_collection(state.collection).count()
        if stored != written:
            raise RuntimeError(f"generation {state.collection} holds {stored} of {written} entries")
        meta = {"active": state.collection, "embedder": state.embedder, "updated": state.updated}
        pointer = self._client.get_or_create_collection(self._pointer_name, embedding_function=None, metadata=meta)
        pointer.modify(metadata=meta)

    def discard(self, name: str) -> None:
        self._drop(name)

    def retire(self, live: IndexState | None, previous: IndexState | None) -> None:
        """Drop every generation but the live and the previous one (a question may still be reading it)."""
        keep = {s.collection for s in (live, previous) if s is not None}
        for name in self._generations():
            if name not in keep:
                self._drop(name)

    def clear(self) -> None:
        self._drop(self._pointer_name)
        for name in self._generations():
            self._drop(name)

    def _generations(self) -> list[str]:
        names = [str(getattr(c, "name", c)) for c in self._client.list_collections()]
        return [n for n in names if n.startswith(self._name + "-") and n != self._pointer_name]

    def _drop(self, name: str) -> None:
        try:
            self._client.delete_collection(name)
        except Exception:  # already gone
            pass


class ChromaIndex:
    """Reads and writes Vraagpunt's index (see the module docstring for how processes share it)."""

    def __init__(self, store, name: str, lock_path: Path) -> None:
        self._store = store
        self._name = name
        self._lock_path = lock_path
        self._seen = False  # this object found a live generation before: a missing one has vanished

    # -- reading ---------------------------------------------------------------------------------
    def state(self) -> IndexState | None:
        """Which generation is live, or None when nothing was ever indexed."""
        return self._store.live()

    def require(self, embedder_name: str) -> IndexState:
        """The live generation, checked against the embedder the caller will query it with, and opened:
        it stays readable for as long as the returned state is referenced."""
        for _ in range(5):
            state = self._store.live()
            if state is None:
                raise IndexMissingError(self._store.missing_message(self._seen))
            self._seen = True
            if state.embedder != embedder_name:
                raise ModelMismatchError(
                    f"De index is gebouwd met embeddingmodel {state.embedder!r}, maar de instellingen vragen "
                    f"{embedder_name!r}. Bouw de index opnieuw met `vraagpunt ingest --rebuild`."
                )
            try:
                return replace(state, handle=self._open(state))
            except _Gone:  # an ingest moved the pointer and deleted this generation just now: read it again
                continue
        raise IndexMissingError("De index veranderde te snel om te lezen. Probeer het zo opnieuw.")

    def size(self, state: IndexState) -> int:
        """How many entries (vectors) a generation holds."""
        copy = self._store.copy(state)
        return copy[1] if copy else self._opened(state).collection.count()

    def folder(self, state: IndexState) -> Path | None:
        """The folder of a generation with a read copy (embedded mode), where what is derived from it can
        be kept beside it; None in server mode, where each replica derives its own."""
        copy = self._store.copy(state)
        return copy[0] if copy else None

    def vectors(self, state: IndexState) -> np.ndarray | None:
        """Every vector of a generation as one read-only matrix, in the order of `entries`, when the
        generation has a read copy (embedded mode); None otherwise."""
        copy = self._store.copy(state)
        if copy is None:
            return None
        folder, count, dim = copy
        if not count:
            return np.zeros((0, dim), dtype=np.float32)
        return np.memmap(folder / COPY_VECTORS, dtype=np.float32, mode="r", shape=(count, dim))

    def entries(self, state: IndexState, include_embeddings: bool = False) -> Iterator[tuple[IndexEntry, np.ndarray | None]]:
        """Every stored entry of a generation, in batches."""
        handle = self._opened(state)  # held until the last batch is read
        copy = self._store.copy(state)
        if copy is not None:
            matrix = self.vectors(state) if include_embeddings else None
            with open(copy[0] / COPY_RECORDS, encoding="utf-8") as records:
                for row, line in enumerate(records):
                    entry_id, document, meta = json.loads(line)
                    yield _entry_from_record(entry_id, document, meta), (None if matrix is None else matrix[row])
            return
        collection = handle.collection
        include = ["documents", "metadatas"] + (["embeddings"] if include_embeddings else [])
        total = collection.count()
        for offset in range(0, total, _READ_BATCH):
            got = collection.get(include=include, limit=_READ_BATCH, offset=offset)
            embeddings = got.get("embeddings") if include_embeddings else None
            for i, entry_id in enumerate(got["ids"]):
                entry = _entry_from_record(entry_id, got["documents"][i], got["metadatas"][i])
                vector = None if embeddings is None else np.asarray(embeddings[i], dtype=np.float32)
                yield entry, vector

    def nearest(self, state: IndexState, vector: np.ndarray, n: int, where: dict | None = None) -> list[tuple[str, str, float]]:
        """(entry id, chunk id, cosine similarity) of the n nearest entries by Chroma's own (HNSW) index.

        The searcher searches the vectors of its snapshot exactly instead (no round trip per question);
        this is the reference that exact search is checked against.
        """
        collection = self._opened(state).collection
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

    def _open(self, state: IndexState) -> _Handle:
        try:
            return self._store.handle(state)
        except (_Gone, VraagpuntError):
            raise
        except Exception as exc:
            raise storage_error(exc, self._lock_path.parent, "de index") or exc

    def _opened(self, state: IndexState) -> _Handle:
        if state.handle is not None:
            return state.handle
        try:
            return self._open(state)
        except _Gone as exc:
            raise IndexMissingError(f"Indexgeneratie {state.collection} bestaat niet meer. {MISSING}") from exc

    # -- writing ---------------------------------------------------------------------------------
    @contextmanager
    def writing(self, wait: float | None = None, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
        """Hold the one writer's lock; waits up to `wait` seconds (None: as long as it takes) for another
        ingest, telling `on_wait` (once) who holds it."""
        try:
            self._lock_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise storage_error(exc, self._lock_path.parent, "de index") or exc
        try:
            deadline = None if wait is None else time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "een ander proces"
                    if deadline is not None and time.monotonic() >= deadline:
                        raise IndexBusyError(
                            f"Er loopt al een indexering ({holder}). Wacht tot die klaar is en probeer het dan opnieuw."
                        ) from None
                    if on_wait is not None:
                        on_wait(f"Er loopt al een indexering ({holder}); deze wacht tot die klaar is.")
                        on_wait = None
                    time.sleep(0.1)
            note = f"proces {os.getpid()}, gestart om {time.strftime('%H:%M:%S')}".encode()
            try:  # who holds the lock, for the message of whoever waits; a full disk must not stop the ingest here
                os.ftruncate(fd, 0)
                os.pwrite(fd, note, 0)
            except OSError:
                pass
            yield
        finally:
            os.close(fd)  # closing releases the lock; so does the death of the process

    def write_generation(
        self,
        embedder_name: str,
        entries: Sequence[IndexEntry],
        vectors: Iterator[tuple[list[IndexEntry], np.ndarray]],
    ) -> IndexState:
        """Write a complete new generation from (entries, vectors) batches, then make it live.

        Call inside `writing()`. On any error, including KeyboardInterrupt, the new generation is dropped
        and the old one stays live.
        """
        old = self.state()
        name = f"{self._name}-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:6]}"
        try:
            collection = self._store.begin(name)
            written = 0
            pending: list[IndexEntry] = []
            pending_vectors: list[np.ndarray] = []

            def flush() -> None:
                record = {"ids": [e.id for e in pending], "vectors": np.vstack(pending_vectors),
                          "documents": [e.text or e.chunk.text for e in pending],
                          "metadatas": [_record_metadata(e) for e in pending]}
                collection.add(ids=record["ids"], embeddings=record["vectors"], documents=record["documents"],
                               metadatas=record["metadatas"])
                self._store.record(name, **record)
                pending.clear()
                pending_vectors.clear()

            # Embedding yields small batches; Chroma is written in large ones (one add per 32 entries
            # made writing 400,000 vectors take longer than computing them).
            for batch, batch_vectors in vectors:
                pending.extend(batch)
                pending_vectors.append(np.asarray(batch_vectors, dtype=np.float32))
                written += len(batch)
                if len(pending) >= _BATCH:
                    flush()
            if pending:
                flush()
            if written != len(entries):
                raise RuntimeError(f"wrote {written} of {len(entries)} entries")
            state = IndexState(name, embedder_name, time.time())
            self._store.publish(state, written)
        except BaseException as exc:
            self._store.discard(name)
            if isinstance(exc, Exception) and not isinstance(exc, VraagpuntError):
                problem = storage_error(exc, self._lock_path.parent, "de nieuwe index")
                if problem is not None:
                    raise StorageError(f"{problem} De vorige index blijft bruikbaar.") from exc
            raise
        self._store.retire(state, old)
        return state

    def tidy(self) -> None:
        """Delete what a crashed ingest left behind (embedded mode). Call inside `writing()`."""
        if isinstance(self._store, _FolderStore):
            self._store.retire(self.state(), None)

    def clear(self) -> None:
        """Remove every generation and the pointer (used by --rebuild after a model change)."""
        self._store.clear()


def open_index(settings: Settings) -> ChromaIndex:
    """The index the settings point at: folders under data_dir/index, or a `chroma run` server."""
    lock = settings.data_dir / "ingest.lock"
    if settings.chroma_mode == "http":
        import chromadb

        try:
            client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=_chroma_settings())
        except Exception as exc:  # chromadb raises plain exceptions for connection failures
            raise BackendUnavailableError(
                f"Chroma-server op {settings.chroma_host}:{settings.chroma_port} is niet bereikbaar ({exc}). "
                "Start hem met `chroma run --path DIR --port PORT` of zet VRAAGPUNT_CHROMA_MODE=embedded."
            ) from exc
        return ChromaIndex(_ServerStore(client, settings.collection), settings.collection, lock)
    store = _FolderStore(settings.data_dir / "index", legacy=settings.data_dir / "chroma")
    return ChromaIndex(store, settings.collection, lock)


@contextmanager
def _file_lock(path: Path, operation: int) -> Iterator[None]:
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, operation)
        yield
    finally:
        os.close(fd)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomically(path: Path, text: str) -> None:
    """Readers see the old file or the new one, never half of one, even after a crash."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _record_metadata(entry: IndexEntry) -> dict:
    """A passage's record carries everything needed to cite it; a sentence's only what leads to its passage.

    Earlier versions copied the whole passage text, title and section into every sentence record: at 100x
    the corpus that was 400 MB more to store and to read back at every start. Records written that way are
    still read (the fields are simply not needed).
    """
    chunk = entry.chunk
    meta: dict = {"role": entry.role, "chunk_id": chunk.id, "source": chunk.source, "kind": chunk.kind}
    if entry.role != ROLE_SENTENCE:
        meta.update({name: getattr(chunk, name) or "" for name in _CHUNK_STR_FIELDS})
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
