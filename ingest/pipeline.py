"""The ingest stage: files -> documents -> chunks -> a new index generation."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ingest.chunking import chunk_document, sentence_units
from ingest.loaders import SUPPORTED, load_document
from ingest.manifest import MANIFEST_NAME, DocumentInfo, read_manifest
from ingest.stages import StageClock, stage
from vraagpunt.embedding import Embedder
from vraagpunt.errors import IngestError, ModelMismatchError, VraagpuntError
from vraagpunt.index import ROLE_CHUNK, ROLE_QUESTION, ROLE_SENTENCE, ChromaIndex, IndexEntry
from vraagpunt.settings import Settings
from vraagpunt.types import Chunk, Document

Progress = Callable[[int, int], None]
STAGES = ("load", "clean", "chunk", "embed", "write")
_EMBED_BATCH = 1024  # texts per embedding call: torch groups them by length (see vraagpunt/e5torch.py)
_FRESH_KEPT = 20_000


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str
    duplicate_of: str = ""  # the same content under another name: it must not stay indexed twice


@dataclass
class IngestReport:
    """What an ingest run did; printed by the CLI and shown in the app."""

    documents: int = 0
    chunks: int = 0
    new: int = 0
    unchanged: int = 0
    removed: int = 0
    embedded: int = 0  # vectors computed in this run (passages, FAQ questions and sentences)
    skipped: list[SkippedFile] = field(default_factory=list)
    seconds: float = 0.0
    pages: int = 0  # pages read (a Markdown, HTML or text file is one)
    vectors: int = 0  # entries in the index after the run
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage: load, clean, chunk, embed, write

    @property
    def changed(self) -> bool:
        return bool(self.new or self.removed)


def discover(settings: Settings, paths: Sequence[Path] | None = None) -> list[Path]:
    """The files to ingest: the given files and folders, or the whole corpus folder."""
    roots = list(paths) if paths else [settings.corpus_dir]
    found: list[Path] = []
    for root in roots:
        root = Path(root)
        if root.is_dir():
            found.extend(p for p in sorted(root.rglob("*")) if p.is_file() and _wanted(p))
        elif root.is_file():
            found.append(root)
        else:
            raise VraagpuntError(f"{root} bestaat niet; geef een bestaand bestand of map op.")
    return found


def _wanted(path: Path) -> bool:
    return path.name != MANIFEST_NAME and not path.name.startswith(".") and path.suffix.lower() in SUPPORTED


def source_name(settings: Settings, path: Path) -> str:
    """A stable name for a file: relative to the corpus folder when it lies inside it."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(settings.corpus_dir.resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def read_corpus(settings: Settings, files: Sequence[Path]) -> Iterator[Document | SkippedFile]:
    """Each file in turn as a Document, or as a SkippedFile with the reason it cannot be used; a bad file
    never aborts the batch. One document at a time, so a caller can let each go before the next."""
    manifest = read_manifest(settings.corpus_dir)
    by_content: dict[str, str] = {}
    for path in files:
        source = source_name(settings, path)
        try:
            doc = load_document(
                path, source, manifest.get(source, DocumentInfo()),
                max_file_mb=settings.max_file_mb, max_pages=settings.max_pages,
            )
        except IngestError as exc:
            yield SkippedFile(source, str(exc))
            continue
        first = by_content.setdefault(doc.sha256, source)
        if first != source:  # the same file under two names: cited twice, answered twice
            reason = f"zelfde inhoud als {first}; niet dubbel geïndexeerd."
            yield SkippedFile(source, reason, duplicate_of=first)
            continue
        yield doc


def load_corpus(settings: Settings, files: Sequence[Path]) -> tuple[list[Document], list[SkippedFile]]:
    """Every file loaded (see `read_corpus`): the documents and the skipped files."""
    documents: list[Document] = []
    skipped: list[SkippedFile] = []
    for item in read_corpus(settings, files):
        (skipped if isinstance(item, SkippedFile) else documents).append(item)
    return documents, skipped


def index_entries(chunks: Sequence[Chunk]) -> list[IndexEntry]:
    """The vectors the chunks contribute; `embedded_text` gives the text each is computed from.

    FAQ questions get a vector of their own, so a user's paraphrase can meet the question directly.
    """
    out: list[IndexEntry] = []
    for chunk in chunks:
        out.append(IndexEntry(chunk.id, chunk, ROLE_CHUNK, chunk.text))
        if chunk.question:
            out.append(IndexEntry(chunk.id + "-q", chunk, ROLE_QUESTION, chunk.question))
        # Small-to-big: single sentences are matched precisely and lead to their whole passage.
        for i, sentence in enumerate(sentence_units(chunk)):
            out.append(IndexEntry(f"{chunk.id}-s{i}", chunk, ROLE_SENTENCE, sentence))
    return out


def embedded_text(entry: IndexEntry) -> str:
    """The text an entry's vector is computed from (the same for an entry read back from the index)."""
    if entry.role == ROLE_CHUNK:
        return entry.chunk.context_text()
    if entry.role == ROLE_QUESTION:
        return f"{entry.chunk.title}\n{entry.chunk.question}"
    return entry.text


def ingest(
    settings: Settings,
    embedder: Embedder,
    index: ChromaIndex,
    paths: Sequence[Path] | None = None,
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> IngestReport:
    """Bring the index in line with the files.

    Unchanged chunks keep their stored vectors (nothing is embedded again); chunks of changed or
    deleted files disappear; files that cannot be read are reported and keep what they had in the
    index. Without `paths` the whole corpus folder is synchronised; with `paths` only those files.

    One ingest at a time: from reading the files to moving the index pointer this holds the index's
    writer lock, waiting up to `settings.ingest_wait` seconds for another ingest (`on_wait` hears why).
    """
    with index.writing(settings.ingest_wait, on_wait=on_wait), StageClock().running() as clock:
        report = _sync(settings, embedder, index, paths, rebuild=rebuild, progress=progress)
    report.stages = {name: round(clock.seconds.get(name, 0.0), 3) for name in STAGES}
    return report


def _sync(
    settings: Settings,
    embedder: Embedder,
    index: ChromaIndex,
    paths: Sequence[Path] | None,
    *,
    rebuild: bool,
    progress: Progress | None,
) -> IngestReport:
    started = time.perf_counter()
    files = discover(settings, paths)
    report = IngestReport()
    loaded_sources: set[str] = set()
    chunks: list[Chunk] = []
    # A document's pages and blocks go as soon as it is chunked: held for the whole corpus they were
    # the largest part of the ingest's own memory at 100x the corpus (the parsers' text extraction
    # counts as "load" inside "clean").
    for item in _timed("clean", read_corpus(settings, files)):
        if isinstance(item, SkippedFile):
            report.skipped.append(item)
            continue
        loaded_sources.add(item.source)
        report.pages += max(1, len(item.pages))
        with stage("chunk"):
            chunks.extend(chunk_document(item, size=settings.chunk_size, overlap=settings.chunk_overlap))
    with stage("chunk"):
        wanted = index_entries(chunks)
    report.documents, report.chunks = len(loaded_sources), len(chunks)

    state = index.state()
    if state is not None and state.embedder != embedder.name and not rebuild:
        raise ModelMismatchError(
            f"De index is gebouwd met {state.embedder!r}, de instellingen vragen {embedder.name!r}. "
            "Gebruik `vraagpunt ingest --rebuild` om alles opnieuw te embedden."
        )
    reuse = state is not None and not rebuild
    in_scope = loaded_sources if paths else None  # None: every source not on disk any more is removed
    unreadable = {s.path for s in report.skipped if not s.duplicate_of}  # keep what they had in the index

    kept: dict[str, tuple[IndexEntry, np.ndarray]] = {}
    removed_chunks: set[str] = set()
    wanted_ids = {entry.id for entry in wanted}
    # Vectors of entries that go, by the text they were computed from: a passage whose id changed only
    # because an edit above it moved its position, and every sentence of it, needs no new vector.
    known: dict[str, np.ndarray] = {}
    if reuse:
        for entry, vector in _timed("write", index.entries(state, include_embeddings=True)):
            source = entry.chunk.source
            retain = source in unreadable or (in_scope is not None and source not in in_scope)
            if entry.id in wanted_ids or retain:
                kept[entry.id] = (entry, vector)
            else:
                if entry.role == ROLE_CHUNK:
                    removed_chunks.add(entry.id)
                known[embedded_text(entry)] = vector
    # Entries only: their texts are made batch by batch. Held for the whole write, the passages'
    # context texts were ~100 MB at 100x the corpus, next to Chroma's index at its largest.
    to_embed = [entry for entry in wanted if entry.id not in kept]
    report.new = sum(entry.role == ROLE_CHUNK for entry in to_embed)
    report.unchanged = sum(entry.role == ROLE_CHUNK and entry.id in kept for entry in wanted)
    report.removed = len(removed_chunks)
    report.embedded = _distinct(text for text in map(embedded_text, to_embed) if text not in known)
    del wanted, wanted_ids, chunks  # the entries keep their passages; the lookups can go

    if reuse and not to_embed and not removed_chunks:
        report.vectors = len(kept)
        index.tidy()  # what a crashed ingest left behind goes now, not at the next change
        report.seconds = time.perf_counter() - started
        return report
    if rebuild and state is not None and state.embedder != embedder.name:
        index.clear()

    all_entries = [e for e, _ in kept.values()] + to_embed

    def batches() -> Iterator[tuple[list[IndexEntry], np.ndarray]]:
        carried = list(kept.values())
        for i in range(0, len(carried), 500):
            part = carried[i : i + 500]
            yield [e for e, _ in part], np.vstack([v for _, v in part])
        fresh: dict[str, np.ndarray] = {}  # vectors computed in this run, for texts that recur nearby
        done = 0
        if progress and to_embed:
            progress(0, len(to_embed))
        for i in range(0, len(to_embed), _EMBED_BATCH):
            part = to_embed[i : i + _EMBED_BATCH]
            texts = [embedded_text(e) for e in part]
            missing = [t for t in dict.fromkeys(texts) if t not in known and t not in fresh]
            if missing:
                with stage("embed"):
                    fresh.update(zip(missing, embedder.embed_passages(missing)))
            yield part, np.vstack([known[t] if t in known else fresh[t] for t in texts])
            if len(fresh) > _FRESH_KEPT:  # bounded: a sentence repeats in the overlap of neighbouring passages
                fresh.clear()
            done += len(part)
            if progress:
                progress(done, len(to_embed))

    with stage("write"):
        index.write_generation(embedder.name, all_entries, batches())
    report.vectors = len(all_entries)
    report.seconds = time.perf_counter() - started
    return report


def _distinct(texts: Iterable[str]) -> int:
    """How many different texts, counted by digest: a set of the texts themselves would hold a copy of
    every passage's context text at once."""
    return len({hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest() for text in texts})


def _timed(name: str, items: Iterable) -> Iterator:
    """Yield from `items`, counting the time spent producing them to stage `name`."""
    iterator = iter(items)
    while True:
        with stage(name):
            item = next(iterator, _END)
        if item is _END:
            return
        yield item


_END = object()
