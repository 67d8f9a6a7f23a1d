"""Larger corpora made from the real one, for the benchmark: 10x and 100x the text, still Dutch.

Edition 0 of a scale is the real corpus. Every further edition holds each real document once more,
in its own format (a PDF again as a PDF, with pages), under a new name and title, with its paragraphs
recombined: each paragraph keeps its first half and takes the second half of another paragraph of the
same document. The passages are new (new ids, new texts), the words and sentences stay Leerpunt's.

Embedding 100x with e5 on 2 cores would take hours, so a scale may use derived vectors: each text gets
a normalised mix of two real vectors of the 1x index, chosen by the text's hash. Search and memory
behave as with real vectors; what is found is not meaningful, which is why only speed and memory
are measured there.
"""

from __future__ import annotations

import hashlib
import html
import random
import shutil
import textwrap
from pathlib import Path

import numpy as np

from evals.pdfwrite import make_pdf
from ingest.manifest import MANIFEST_NAME, read_manifest
from ingest.textclean import split_sentences
from vraagpunt.types import Document

LINES_PER_PAGE = 48
LINE_CHARS = 95


def write_scaled_corpus(source: Path, documents: list[Document], target: Path, scale: int, seed: int = 0) -> Path:
    """The real corpus (edition 0) plus `scale - 1` recombined editions of every document, in `target`."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    manifest = read_manifest(source)
    lines = [(source / MANIFEST_NAME).read_text(encoding="utf-8")]
    for path in sorted(source.iterdir()):
        if path.name != MANIFEST_NAME and path.is_file():
            shutil.copy(path, target / path.name)
    for edition in range(1, scale):
        rng = random.Random(f"{seed}-{edition}")
        for doc in documents:
            info = manifest.get(doc.source)
            stem, suffix = doc.source.rsplit(".", 1)
            name = f"editie-{edition:03d}-{stem}.{'md' if suffix in ('md', 'html') else 'pdf'}"
            title = f"{doc.title} (editie {edition})"
            blocks = _recombined(doc, rng)
            if name.endswith(".pdf"):
                _write_pdf(target / name, title, blocks)
            else:
                _write_markdown(target / name, title, blocks)
            kind = info.kind if info else doc.kind
            lines.append(f'\n[documents."{name}"]\ntitle = "{_toml(title)}"\nkind = "{kind}"\n')
    (target / MANIFEST_NAME).write_text("".join(lines), encoding="utf-8")
    return target


def _recombined(doc: Document, rng: random.Random) -> list[tuple[str, str]]:
    """(kind, text) per block, paragraphs recombined with another paragraph of the same document."""
    paragraphs = [b.text for b in doc.blocks if b.kind == "paragraph"]
    out: list[tuple[str, str]] = []
    for block in doc.blocks:
        if block.kind != "paragraph" or len(paragraphs) < 2:
            out.append((block.kind, block.text))
            continue
        own = split_sentences(block.text)
        other = split_sentences(rng.choice(paragraphs))
        half = max(1, len(own) // 2)
        mixed = own[:half] + other[len(other) // 2:]
        out.append(("paragraph", " ".join(mixed) if mixed else block.text))
    return out


def _write_markdown(path: Path, title: str, blocks: list[tuple[str, str]]) -> None:
    parts = [f"# {title}"]
    for kind, text in blocks:
        if kind == "heading":
            parts.append(f"## {text}")
        elif kind == "question":
            parts.append(f"## {text}")
        else:
            parts.append(html.escape(text, quote=False).replace("\n", " "))
    path.write_text("\n\n".join(parts) + "\n", encoding="utf-8")


def _write_pdf(path: Path, title: str, blocks: list[tuple[str, str]]) -> None:
    lines: list[str] = [title, ""]
    for kind, text in blocks:
        wrapped = textwrap.wrap(_latin(text), LINE_CHARS) or [""]
        lines.extend(wrapped)
        lines.append("")
    pages = [lines[i : i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)]
    make_pdf(path, pages, header=_latin(title)[:80], title=_latin(title))


def _latin(text: str) -> str:
    """What the PDF's standard font can show (WinAnsi)."""
    return text.encode("cp1252", "replace").decode("cp1252")


def _toml(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


class DerivedEmbedder:
    """Vectors mixed from real ones instead of computed: each text, by its hash, gets a normalised mix
    of two vectors of a pool (the 1x index). It presents the real embedder's name, so real query
    vectors search the index it builds."""

    def __init__(self, name: str, pool: np.ndarray, real=None) -> None:
        self.name = name
        self._pool = np.asarray(pool, dtype=np.float32)
        self._real = real  # queries are embedded for real

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), self._pool.shape[1]), dtype=np.float32)
        for row, text in enumerate(texts):
            digest = hashlib.blake2b(text.encode("utf-8"), digest_size=12).digest()
            i = int.from_bytes(digest[:5], "little") % len(self._pool)
            j = int.from_bytes(digest[5:10], "little") % len(self._pool)
            weight = 0.5 + (digest[10] / 255) * 0.4
            out[row] = weight * self._pool[i] + (1 - weight) * self._pool[j]
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._real.embed_queries(texts)

