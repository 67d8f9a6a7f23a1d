"""Evaluation sets: reading them (every bad line reported up front) and checking them against the corpus.

Five sets ship with Vraagpunt. `dataset.jsonl` is the tuning set: weights, thresholds and the
answerability model are chosen on it. `holdout.jsonl`, `sealed.jsonl`, `sealed2.jsonl` and `sealed3.jsonl` are sealed:
written by people who had not seen Vraagpunt's answers, never used to choose anything, reported next to
the tuning set.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from ingest.textclean import squash
from vraagpunt.jsonl import check_question, read_records
from vraagpunt.settings import REPO_ROOT, Settings
from vraagpunt.types import Document

DEFAULT_DATASET = REPO_ROOT / "evals" / "dataset.jsonl"
HOLDOUT_DATASET = REPO_ROOT / "evals" / "holdout.jsonl"
SEALED_DATASET = REPO_ROOT / "evals" / "sealed.jsonl"
SEALED2_DATASET = REPO_ROOT / "evals" / "sealed2.jsonl"
SEALED3_DATASET = REPO_ROOT / "evals" / "sealed3.jsonl"
SEALED_SETS = (HOLDOUT_DATASET, SEALED_DATASET, SEALED2_DATASET, SEALED3_DATASET)
KINDS = ("fact", "number", "rule", "concept", "multi", "followup", "unanswerable")
PERSONAS = ("teacher", "applicant", "staff")
# Optional fields and what a missing one means.
DEFAULTS = {"kind": "fact", "persona": "", "history": [], "must_include": [], "evidence": None, "source": None,
            "evidence2": None, "source2": None, "reference_answer": ""}


def load_dataset(path: Path) -> list[dict]:
    """The items of a JSONL evaluation set, with defaults for the optional fields.

    Only `question` is required. A bad line (no JSON, no question, an unknown kind, a history that is
    no list of turns, key facts that are no list of texts) stops the load with one message that lists
    every bad line with its number.
    """
    items = []
    for number, record in read_records(Path(path), _check_item, what="evaluatieset"):
        item = {key: (list(value) if isinstance(value, list) else value) for key, value in DEFAULTS.items()}
        item.update(record)
        item["id"] = str(record.get("id") or f"regel-{number}")
        items.append(item)
    return items


def _check_item(record: dict) -> list[str]:
    problems = check_question(record)
    kind = record.get("kind", DEFAULTS["kind"])
    if kind not in KINDS:
        problems.append(f"onbekende kind {kind!r}; kies uit {', '.join(KINDS)}")
    must = record.get("must_include", [])
    if not isinstance(must, list) or not all(isinstance(m, str) for m in must):
        problems.append("'must_include' moet een lijst van teksten zijn")
    for key in ("evidence", "evidence2", "source", "source2", "reference_answer", "persona"):
        if record.get(key) is not None and not isinstance(record[key], str):
            problems.append(f"'{key}' moet tekst zijn")
    return problems


def document_texts(documents: Iterable[Document]) -> dict[str, str]:
    """Squashed full text of each document (its blocks and, for safety, its pages), by source name."""
    out = {}
    for doc in documents:
        blocks = squash("\n".join(b.text for b in doc.blocks))
        pages = squash("\n".join(p.text for p in doc.pages))
        out[doc.source] = blocks + "\x00" + pages
    return out


def evidences(item: dict) -> list[str]:
    return [e for e in (item.get("evidence"), item.get("evidence2")) if e]


def validate_dataset(items: Sequence[dict], documents: Iterable[Document]) -> list[str]:
    """Problems of a loaded set against the corpus, one readable line each; empty when it is sound."""
    texts = document_texts(documents)
    problems: list[str] = []
    seen: set[str] = set()
    for item in items:
        qid = item["id"]
        if qid in seen:
            problems.append(f"{qid}: id komt meer dan eens voor")
        seen.add(qid)
        kind = item.get("kind")
        if kind not in KINDS:
            problems.append(f"{qid}: onbekende kind {kind!r}")
        if item.get("persona") not in PERSONAS:
            problems.append(f"{qid}: onbekende persona {item.get('persona')!r}")
        if kind == "followup" and not any(t.get("role") == "user" and t.get("content") for t in item.get("history") or []):
            problems.append(f"{qid}: vervolgvraag zonder history")
        if kind == "unanswerable":
            if item.get("source") is not None or item.get("evidence") is not None:
                problems.append(f"{qid}: onbeantwoordbare vraag heeft een source of evidence")
            if item.get("must_include"):
                problems.append(f"{qid}: onbeantwoordbare vraag heeft must_include")
            continue
        evidence_text = ""
        for ev_key, src_key in (("evidence", "source"), ("evidence2", "source2")):
            evidence = item.get(ev_key)
            if ev_key == "evidence2" and evidence is None:
                continue
            source = item.get(src_key) or item.get("source")
            if not evidence:
                problems.append(f"{qid}: {ev_key} ontbreekt")
                continue
            evidence_text += " " + evidence
            if source not in texts:
                problems.append(f"{qid}: bron {source!r} van {ev_key} staat niet in het corpus")
            elif squash(evidence) not in texts[source]:
                problems.append(f"{qid}: {ev_key} staat niet in {source}: {evidence[:60]!r}")
        if not item.get("must_include"):
            problems.append(f"{qid}: must_include is leeg")
        for fact in item.get("must_include") or []:
            if str(fact).lower() not in evidence_text.lower():
                problems.append(f"{qid}: must_include {fact!r} staat niet in de evidence")
        if kind == "multi" and not item.get("evidence2"):
            problems.append(f"{qid}: multi-vraag zonder evidence2")
    return problems


def load_documents(settings: Settings) -> list[Document]:
    """The corpus documents through the project's own loaders."""
    from ingest.pipeline import discover, load_corpus

    documents, _skipped = load_corpus(settings, discover(settings))
    return documents


def check_dataset(settings: Settings, dataset_path: Path = DEFAULT_DATASET) -> list[str]:
    """Validate a dataset file against the corpus of these settings."""
    return validate_dataset(load_dataset(dataset_path), load_documents(settings))


def is_sealed(path: Path | str) -> bool:
    return Path(path).resolve() in {p.resolve() for p in SEALED_SETS}
