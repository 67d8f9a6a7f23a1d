"""Run an evaluation set through Vraagpunt and its baselines into one `EvalReport`; `vraagpunt eval`.

Retrieval metrics score the passages the answer step was actually given (`Answer.hits`), not a second
search. Four baselines answer next to Vraagpunt: BM25 only, dense only, the naive LangChain recipe,
and Vraagpunt's own top passage quoted whole (the answer a passage-centred answer must beat).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from evals.baselines import Baseline, Passage, make_baselines
from evals.dataset import DEFAULT_DATASET, KINDS, PERSONAS, is_sealed, load_dataset, load_documents, validate_dataset
from evals.history import dataset_key, save_run
from evals.model import SYSTEM, EvalReport, SystemInfo
from evals.scoring import RETRIEVE_K, aggregate, breakdown, failures, followup_read, score_answer, score_retrieval
from vraagpunt.settings import Settings
from vraagpunt.types import Answer

TOP_PASSAGE = SystemInfo("top_passage", "Eigen toppassage", "standalone")
Progress = Callable[[int, int], None]


def _evaluate_vraagpunt(assistant, item: dict, k: int) -> tuple[dict, Answer]:
    answer: Answer = assistant.ask(item["question"], item.get("history") or [])
    hits = list(answer.hits)
    cited = [c.hit.chunk for c in answer.citations] if not answer.refused else []
    record = score_retrieval([h.chunk.text for h in hits], item, k)
    record.update(score_answer(answer.text, answer.refused, [c.text for c in cited], item,
                               direct=answer.direct_sentences))
    top = {h.chunk.id for h in hits[:k]}
    record["cited_retrieved"] = sum(c.id in top for c in cited)
    record["latency_ms"] = float(answer.timings_ms.get("total", 0.0))
    record["answerability"] = answer.answerability
    record["uncertain"] = answer.uncertain
    record["followup_read"] = followup_read(item, item["question"], answer.standalone_question)
    record["retrieved"] = [" — ".join(x for x in (h.chunk.source, h.chunk.page_label, h.chunk.section) if x)
                           for h in hits[:k]]
    return record, answer


def _evaluate_top_passage(answer: Answer, item: dict, k: int) -> dict:
    """Vraagpunt's own best passage, quoted whole, never refusing."""
    passages = [h.chunk.text for h in answer.hits]
    record = score_retrieval(passages, item, k)
    first = passages[0] if passages else ""
    record.update(score_answer(first, False, [first] if passages else [], item))
    record["latency_ms"] = float(answer.timings_ms.get("retrieve", 0.0))
    return record


def _evaluate_baseline(baseline: Baseline, item: dict, standalone: str, k: int) -> dict:
    question = standalone if baseline.standalone else item["question"]
    started = time.perf_counter()
    passages: list[Passage] = baseline.retrieve(question, RETRIEVE_K)
    latency = (time.perf_counter() - started) * 1000
    record = score_retrieval([p.text for p in passages], item, k)
    first = passages[0].text if passages else ""
    record.update(score_answer(first, False, [first] if passages else [], item))
    record["latency_ms"] = round(latency, 1)
    return record


def run_evaluation(
    settings: Settings,
    assistant,
    dataset_path: Path = DEFAULT_DATASET,
    k: int = 5,
    baselines: bool = True,
    progress: Progress | None = None,
) -> EvalReport:
    """Ask every question of the dataset and score Vraagpunt and (optionally) its baselines.

    `k` is the cut-off for the failure list and for "cited passages were retrieved". `progress(done,
    total)` is called after each question. The own-top-passage baseline is always measured: it costs
    nothing and is the bar the answer step must clear.
    """
    started = time.perf_counter()
    items = load_dataset(dataset_path)
    documents = load_documents(settings)
    problems = validate_dataset(items, documents)
    systems = [SystemInfo(SYSTEM, "Vraagpunt"), TOP_PASSAGE]
    notes: list[str] = []
    runners: list[Baseline] = []
    if baselines:
        runners, notes = make_baselines(settings, assistant, documents)
        systems += [SystemInfo(b.name, b.label, "standalone" if b.standalone else "raw") for b in runners]
    results = []
    for done, item in enumerate(items, start=1):
        record, answer = _evaluate_vraagpunt(assistant, item, k)
        standalone = answer.standalone_question or item["question"]
        result = {
            "id": item["id"], "kind": item["kind"], "persona": item["persona"], "question": item["question"],
            "standalone": standalone, "must_include": item.get("must_include") or [],
            "systems": {SYSTEM: record, TOP_PASSAGE.name: _evaluate_top_passage(answer, item, k)},
        }
        for baseline in runners:
            result["systems"][baseline.name] = _evaluate_baseline(baseline, item, standalone, k)
        results.append(result)
        if progress is not None:
            progress(done, len(items))
    names = [s.name for s in systems]
    return EvalReport(
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        dataset=dataset_key(dataset_path),
        n_items=len(items),
        k=k,
        retrieve_k=RETRIEVE_K,
        systems=systems,
        headline={s: aggregate([(it, it["systems"][s]) for it in results]) for s in names},
        by_kind=breakdown(results, names, "kind", KINDS),
        by_persona=breakdown(results, names, "persona", PERSONAS),
        failures=failures(results, k),
        items=results,
        settings={"embedder": settings.embedder, "answerer": settings.answerer, "top_k": settings.top_k,
                  "chunk_size": settings.chunk_size},
        notes=notes,
        dataset_problems=problems,
        sealed=is_sealed(dataset_path),
        seconds=round(time.perf_counter() - started, 1),
    )


def run_cli(settings: Settings, dataset: Path | None = None, k: int = 5, out: Path | None = None,
            baselines: bool = True) -> int:
    """`vraagpunt eval`: run, save and print the headline table. 0 on success."""
    from tqdm import tqdm

    from evals.report import headline_table
    from retrieval.assistant import make_assistant

    dataset = Path(dataset) if dataset is not None else DEFAULT_DATASET
    load_dataset(dataset)  # a bad line stops here, before anything slow starts
    assistant = make_assistant(settings)
    print("Evaluatie voorbereiden" + (" (met baselines)…" if baselines else "…"), file=sys.stderr)
    bar = tqdm(total=None, desc="Vragen", unit="vraag", file=sys.stderr)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        report = run_evaluation(settings, assistant, dataset, k=k, baselines=baselines, progress=progress)
    finally:
        bar.close()
    folder = save_run(settings, report, out)
    print(headline_table(report))
    for problem in report.dataset_problems:
        print(f"Let op, evaluatieset: {problem}", file=sys.stderr)
    if report.sealed:
        print("\nDit is een verzegelde set: lees de totalen, kies er niets mee.", file=sys.stderr)
    print(f"\nRapport: {folder / 'report.md'}")
    return 0
