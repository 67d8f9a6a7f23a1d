"""Run the evaluation set through Vraagpunt (and its baselines), score it, save reports and a run history.

Public, stable API (the app's evaluation page uses it):
- `run_evaluation(settings, assistant, dataset_path, k, baselines, progress) -> dict` — the report.
- `save_run(settings, report, out=None) -> Path` — writes report.json/.md and charts, appends the history;
  the comparison is with the previous run on the same dataset.
- `load_history(settings, dataset=None) -> list[dict]`, `previous_report(settings, dataset=None)`,
  `load_report(path) -> dict`, `compare_runs(old, new) -> dict`.
- `load_dataset(path)`, `validate_dataset(items, documents)`, `check_dataset(settings, path)`.
- `run_cli(settings, dataset, k, out, baselines) -> int` — `vraagpunt eval`.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from evals import metrics
from evals.baselines import Baseline, Passage, make_baselines
from ingest.pipeline import discover, load_corpus
from ingest.textclean import squash
from retrieval.followup import standalone_question
from vraagpunt.errors import VraagpuntError
from vraagpunt.settings import REPO_ROOT, Settings
from vraagpunt.types import Answer, Document

DEFAULT_DATASET = REPO_ROOT / "evals" / "dataset.jsonl"
# Written later, by someone who had not seen Vraagpunt's answers; never used to choose anything.
HOLDOUT_DATASET = REPO_ROOT / "evals" / "holdout.jsonl"
KINDS = ("fact", "number", "rule", "concept", "multi", "followup", "unanswerable")
PERSONAS = ("teacher", "applicant", "staff")
SYSTEM = "vraagpunt"
RETRIEVE_K = 10
HEADLINE = (
    "recall_at_1", "recall_at_5", "recall_at_10", "mrr_at_10", "ndcg_at_10", "both_found_at_10",
    "key_fact_recall", "key_fact_recall_retrieved", "citation_precision", "cited_retrieved_rate",
    "refusal_precision", "refusal_recall", "false_refusal_rate", "answer_f1", "latency_p50_ms", "latency_p95_ms",
)
# Metrics where lower is better (for floors and comparisons).
LOWER_IS_BETTER = frozenset({"false_refusal_rate", "latency_p50_ms", "latency_p95_ms"})

Progress = Callable[[int, int], None]


# -- dataset ---------------------------------------------------------------------------------------
def load_dataset(path: Path) -> list[dict]:
    """The items of a JSONL evaluation set."""
    path = Path(path)
    if not path.is_file():
        raise VraagpuntError(
            f"Evaluatieset {path} bestaat niet; geef een bestaand JSONL-bestand op met --dataset."
        )
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise VraagpuntError(f"{path}, regel {n}: geen geldige JSON ({exc.msg}).") from exc
    return items


def document_texts(documents: Iterable[Document]) -> dict[str, str]:
    """Squashed full text of each document (its blocks and, for safety, its pages), by source name."""
    out = {}
    for doc in documents:
        blocks = squash("\n".join(b.text for b in doc.blocks))
        pages = squash("\n".join(p.text for p in doc.pages))
        out[doc.source] = blocks + "\x00" + pages
    return out


def validate_dataset(items: Sequence[dict], documents: Iterable[Document]) -> list[str]:
    """Problems in an evaluation set, one readable line each; empty when the set is sound."""
    texts = document_texts(documents)
    problems: list[str] = []
    seen: set[str] = set()
    for n, item in enumerate(items, start=1):
        qid = item.get("id") or f"regel {n}"
        if not item.get("id"):
            problems.append(f"{qid}: id ontbreekt")
        elif qid in seen:
            problems.append(f"{qid}: id komt meer dan eens voor")
        seen.add(qid)
        if not str(item.get("question") or "").strip():
            problems.append(f"{qid}: vraag is leeg")
        kind = item.get("kind")
        if kind not in KINDS:
            problems.append(f"{qid}: onbekende kind {kind!r}")
        if item.get("persona") not in PERSONAS:
            problems.append(f"{qid}: onbekende persona {item.get('persona')!r}")
        if kind == "followup":
            history = item.get("history") or []
            if not any(t.get("role") == "user" and t.get("content") for t in history):
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
        must = item.get("must_include") or []
        if not must:
            problems.append(f"{qid}: must_include is leeg")
        for fact in must:
            if str(fact).lower() not in evidence_text.lower():
                problems.append(f"{qid}: must_include {fact!r} staat niet in de evidence")
        if kind == "multi" and not item.get("evidence2"):
            problems.append(f"{qid}: multi-vraag zonder evidence2")
    return problems


def load_documents(settings: Settings) -> list[Document]:
    """The corpus documents through the project's own loaders."""
    documents, _skipped = load_corpus(settings, discover(settings))
    return documents


def check_dataset(settings: Settings, dataset_path: Path = DEFAULT_DATASET) -> list[str]:
    """Validate a dataset file against the corpus of these settings."""
    return validate_dataset(load_dataset(dataset_path), load_documents(settings))


def evidences(item: dict) -> list[str]:
    return [e for e in (item.get("evidence"), item.get("evidence2")) if e]


# -- scoring one item ------------------------------------------------------------------------------
def score_retrieval(passages: Sequence[str], item: dict, k: int = 5) -> dict:
    """Ranking metrics of one retrieved list against an item's evidence.

    `key_facts_retrieved` says which key facts the top k passages hold at all: the most any answer
    quoted from them could get. Next to the key facts in the answer it tells a retrieval miss from a
    badly chosen sentence.
    """
    evs = evidences(item)
    holds = metrics.relevant_ranks(passages[:RETRIEVE_K], evs)
    rank = metrics.first_hit_rank(holds)
    out = {
        "rank": rank,
        "hit_at_1": bool(metrics.recall_at(rank, 1)),
        "hit_at_5": bool(metrics.recall_at(rank, 5)),
        "hit_at_10": bool(metrics.recall_at(rank, 10)),
        "rr": metrics.reciprocal_rank(rank, RETRIEVE_K),
        "ndcg": metrics.ndcg(holds, len(evs), RETRIEVE_K),
        "key_facts_retrieved": metrics.key_facts_found("\n".join(passages[:k]),
                                                       item.get("must_include") or []),
    }
    if len(evs) > 1:
        out["both_found_at_10"] = metrics.all_found_within(holds, len(evs), RETRIEVE_K)
    return out


def score_answer(text: str, refused: bool, cited: Sequence[str], item: dict) -> dict:
    """Answer metrics of one item: key facts, refusal, citations, overlap with the reference."""
    evs = evidences(item)
    facts = metrics.key_facts_found(text, item.get("must_include") or [])
    return {
        "answer": text,
        "refused": refused,
        "key_facts": facts,
        "cited": len(cited),
        "cited_relevant": sum(any(metrics.covered(c, e) for e in evs) for c in cited) if evs else 0,
        "f1": round(metrics.token_f1(text, item.get("reference_answer") or ""), 4),
    }


def _evaluate_vraagpunt(assistant, item: dict, standalone: str, k: int) -> dict:
    hits = assistant.searcher.search(standalone, k=RETRIEVE_K)
    answer: Answer = assistant.ask(item["question"], item.get("history") or [])
    cited_chunks = [c.hit.chunk for c in answer.citations]
    record = score_retrieval([h.chunk.text for h in hits], item, k)
    record.update(score_answer(answer.text, answer.refused, [c.text for c in cited_chunks], item))
    top = {h.chunk.id for h in hits[:k]}
    record["cited_retrieved"] = sum(c.id in top for c in cited_chunks)
    record["latency_ms"] = float(answer.timings_ms.get("total", 0.0))
    record["retrieved"] = [_where(h.chunk.source, h.chunk.page_label, h.chunk.section) for h in hits[:k]]
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


def _where(source: str, page: str, section: str) -> str:
    return " — ".join(x for x in (source, page, section) if x)


# -- aggregation -----------------------------------------------------------------------------------
def aggregate(records: Sequence[tuple[dict, dict]]) -> dict:
    """Headline metrics over (item, system record) pairs. None where a metric has no cases."""
    answerable = [(i, r) for i, r in records if i.get("kind") != "unanswerable"]
    unanswerable = [(i, r) for i, r in records if i.get("kind") == "unanswerable"]
    multi = [r for _, r in answerable if "both_found_at_10" in r]
    answered = [r for _, r in answerable if not r["refused"]]
    facts = [f for _, r in answerable for f in r["key_facts"]]
    facts_retrieved = [f for _, r in answerable for f in r.get("key_facts_retrieved", [])]
    cited = sum(r["cited"] for r in answered)
    refused = [(i, r) for i, r in records if r["refused"]]
    has_cited_retrieved = [r for r in answered if "cited_retrieved" in r]
    out = {
        "n": len(records),
        "n_answerable": len(answerable),
        "recall_at_1": metrics.mean([r["hit_at_1"] for _, r in answerable]),
        "recall_at_5": metrics.mean([r["hit_at_5"] for _, r in answerable]),
        "recall_at_10": metrics.mean([r["hit_at_10"] for _, r in answerable]),
        "mrr_at_10": metrics.mean([r["rr"] for _, r in answerable]),
        "ndcg_at_10": metrics.mean([r["ndcg"] for _, r in answerable]),
        "both_found_at_10": metrics.mean([r["both_found_at_10"] for r in multi]),
        "key_fact_recall": metrics.mean(facts),
        "key_fact_recall_retrieved": metrics.mean(facts_retrieved),
        "citation_precision": metrics.ratio(sum(r["cited_relevant"] for r in answered), cited),
        "cited_retrieved_rate": (
            metrics.ratio(
                sum(r["cited_retrieved"] for r in has_cited_retrieved),
                sum(r["cited"] for r in has_cited_retrieved),
            )
            if has_cited_retrieved else None
        ),
        "refusal_precision": metrics.ratio(sum(i["kind"] == "unanswerable" for i, _ in refused),
                                           len(refused)),
        "refusal_recall": metrics.ratio(sum(r["refused"] for _, r in unanswerable), len(unanswerable)),
        "false_refusal_rate": metrics.ratio(sum(r["refused"] for _, r in answerable), len(answerable)),
        "answer_f1": metrics.mean([r["f1"] for _, r in records]),
        "latency_p50_ms": metrics.percentile([r["latency_ms"] for _, r in records], 50),
        "latency_p95_ms": metrics.percentile([r["latency_ms"] for _, r in records], 95),
    }
    return {key: (round(v, 4) if isinstance(v, float) else v) for key, v in out.items()}


def _breakdown(items: Sequence[dict], systems: Sequence[str], field: str, values: Sequence[str]) -> dict:
    table: dict[str, dict] = {}
    for value in values:
        subset = [it for it in items if it[field] == value]
        if subset:
            table[value] = {s: aggregate([(it, it["systems"][s]) for it in subset]) for s in systems}
    return table


def failures(items: Sequence[dict], k: int, system: str = SYSTEM) -> dict:
    """The questions a system got wrong, grouped by what went wrong."""
    not_retrieved, missing, false_refusals, missed_refusals = [], [], [], []
    for it in items:
        r = it["systems"].get(system)
        if r is None:
            continue
        base = {"id": it["id"], "kind": it["kind"], "persona": it["persona"], "question": it["question"]}
        if it["kind"] == "unanswerable":
            if not r["refused"]:
                missed_refusals.append({**base, "answer": r["answer"][:200]})
            continue
        if not (r["rank"] is not None and r["rank"] <= k):
            not_retrieved.append({**base, "rank": r["rank"], "retrieved": r.get("retrieved", [])[:3]})
        if r["refused"]:
            false_refusals.append(base)
        elif not all(r["key_facts"]):
            lost = [f for f, ok in zip(it["must_include"], r["key_facts"]) if not ok]
            in_top = r.get("key_facts_retrieved") or []
            retrieved = [f for f, ok, there in zip(it["must_include"], r["key_facts"], in_top)
                         if not ok and there]
            missing.append({**base, "missing": lost, "retrieved": retrieved, "answer": r["answer"][:200]})
    return {
        "not_retrieved": not_retrieved,
        "missing_key_facts": missing,
        "false_refusals": false_refusals,
        "missed_refusals": missed_refusals,
    }


# -- the run ---------------------------------------------------------------------------------------
def run_evaluation(
    settings: Settings,
    assistant,
    dataset_path: Path = DEFAULT_DATASET,
    k: int = 5,
    baselines: bool = True,
    progress: Progress | None = None,
) -> dict:
    """Ask every question of the dataset and score Vraagpunt (and, optionally, three baselines).

    Retrieval is scored on `assistant.searcher.search(standalone question, k=10)`; answers come from
    `assistant.ask(question, history)`. `k` is the cut-off for the failure list and for "cited passages
    were retrieved". `progress(done, total)` is called after each question.

    Returns a JSON-ready report: `headline` {system: metrics}, `by_kind` and `by_persona`
    {value: {system: metrics}}, `failures`, per-question `items`, `systems` and `notes`.
    """
    started = time.perf_counter()
    items = load_dataset(dataset_path)
    documents = load_documents(settings)
    problems = validate_dataset(items, documents)
    systems = [{"name": SYSTEM, "label": "Vraagpunt", "question": "standalone"}]
    notes: list[str] = []
    runners: list[Baseline] = []
    if baselines:
        runners, notes = make_baselines(settings, assistant, documents)
        systems += [
            {"name": b.name, "label": b.label, "question": "standalone" if b.standalone else "raw"}
            for b in runners
        ]
    results = []
    for done, item in enumerate(items, start=1):
        history = item.get("history") or []
        standalone = standalone_question(" ".join(item["question"].split()), history)
        record = {
            "id": item["id"],
            "kind": item["kind"],
            "persona": item["persona"],
            "question": item["question"],
            "standalone": standalone,
            "must_include": item.get("must_include") or [],
            "systems": {SYSTEM: _evaluate_vraagpunt(assistant, item, standalone, k)},
        }
        for baseline in runners:
            record["systems"][baseline.name] = _evaluate_baseline(baseline, item, standalone, k)
        results.append(record)
        if progress is not None:
            progress(done, len(items))
    names = [s["name"] for s in systems]
    return {
        "version": 1,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "dataset": dataset_key(dataset_path),
        "n_items": len(items),
        "k": k,
        "retrieve_k": RETRIEVE_K,
        "settings": {
            "embedder": settings.embedder, "answerer": settings.answerer, "top_k": settings.top_k,
            "chunk_size": settings.chunk_size, "refusal_threshold": settings.refusal_threshold,
        },
        "systems": systems,
        "notes": notes,
        "dataset_problems": problems,
        "headline": {s: aggregate([(it, it["systems"][s]) for it in results]) for s in names},
        "by_kind": _breakdown(results, names, "kind", KINDS),
        "by_persona": _breakdown(results, names, "persona", PERSONAS),
        "failures": failures(results, k),
        "items": results,
        "seconds": round(time.perf_counter() - started, 1),
    }


# -- history and comparison ------------------------------------------------------------------------
def history_path(settings: Settings) -> Path:
    return Path(settings.data_dir) / "evals" / "history.jsonl"


def dataset_key(path: Path | str) -> str:
    """How a run names its dataset: the absolute path, so runs on one set compare only with each other."""
    return str(Path(path).resolve())


def load_history(settings: Settings, dataset: Path | str | None = None) -> list[dict]:
    """One entry per saved run, oldest first: created, report path, dataset, n_items, headline per system.

    With `dataset`, only the runs on that evaluation set.
    """
    path = history_path(settings)
    if not path.is_file():
        return []
    entries = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if dataset is None:
        return entries
    key = dataset_key(dataset)
    return [e for e in entries if dataset_key(e.get("dataset", "")) == key]


def load_report(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def previous_report(settings: Settings, dataset: Path | str | None = None) -> dict | None:
    """The report of the most recent saved run (on `dataset`, if given) whose report file still exists."""
    for entry in reversed(load_history(settings, dataset)):
        path = Path(entry.get("report", ""))
        if path.is_file():
            return load_report(path)
    return None


def _outcome(item: dict, system: str) -> dict | None:
    r = item["systems"].get(system)
    if r is None:
        return None
    answerable = item["kind"] != "unanswerable"
    facts = r.get("key_facts") or []
    return {
        "hit_at_5": r.get("hit_at_5") if answerable else None,
        "key_facts": (sum(facts) / len(facts)) if answerable and facts else None,
        "refusal_ok": r["refused"] != answerable,
    }


def compare_runs(old_report: dict, new_report: dict, system: str = SYSTEM) -> dict:
    """Which questions got better or worse between two reports (by hit@5, key facts and refusal).

    Returns {"old_created", "new_created", "headline": {metric: {"old", "new", "delta"}},
    "better": [{"id", "question", "changes": [...]}], "worse": [...], "added": [ids], "removed": [ids]}.
    """
    old_items = {it["id"]: it for it in old_report.get("items", [])}
    new_items = {it["id"]: it for it in new_report.get("items", [])}
    better, worse = [], []
    for qid, new in new_items.items():
        old = old_items.get(qid)
        if old is None:
            continue
        before, after = _outcome(old, system), _outcome(new, system)
        if before is None or after is None:
            continue
        up, down = [], []
        for key in ("hit_at_5", "key_facts", "refusal_ok"):
            a, b = before[key], after[key]
            if a is None or b is None or a == b:
                continue
            change = f"{key}: {_fmt_change(a)} → {_fmt_change(b)}"
            (up if b > a else down).append(change)
        entry = {"id": qid, "kind": new["kind"], "question": new["question"]}
        if down:
            worse.append({**entry, "changes": down + up})
        elif up:
            better.append({**entry, "changes": up})
    old_head = old_report.get("headline", {}).get(system, {})
    new_head = new_report.get("headline", {}).get(system, {})
    headline = {}
    for key in HEADLINE:
        a, b = old_head.get(key), new_head.get(key)
        if a is not None or b is not None:
            delta = round(b - a, 4) if a is not None and b is not None else None
            headline[key] = {"old": a, "new": b, "delta": delta}
    return {
        "old_created": old_report.get("created"),
        "new_created": new_report.get("created"),
        "headline": headline,
        "better": better,
        "worse": worse,
        "added": sorted(set(new_items) - set(old_items)),
        "removed": sorted(set(old_items) - set(new_items)),
    }


def _fmt_change(value) -> str:
    if isinstance(value, bool):
        return "ja" if value else "nee"
    return f"{value:.0%}"


def save_run(settings: Settings, report: dict, out: Path | None = None) -> Path:
    """Write report.json, report.md and PNG charts to `out` and append the run to the history.

    The default folder is `data_dir/evals/<timestamp>`. When an earlier run exists, the comparison
    with it is stored under `comparison` and shown in the Markdown report. Returns the folder.
    """
    from evals.report import render_markdown, write_charts

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(out) if out is not None else Path(settings.data_dir) / "evals" / stamp
    out.mkdir(parents=True, exist_ok=True)
    previous = previous_report(settings, report.get("dataset"))  # a held-out set is no baseline for the main one
    report["comparison"] = compare_runs(previous, report) if previous is not None else None
    charts = write_charts(report, out)
    report["charts"] = [p.name for p in charts]
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    (out / "report.md").write_text(render_markdown(report), encoding="utf-8")
    entry = {
        "created": report["created"],
        "report": str((out / "report.json").resolve()),
        "dataset": report["dataset"],
        "n_items": report["n_items"],
        "headline": {s: {key: m.get(key) for key in HEADLINE} for s, m in report["headline"].items()},
    }
    history = history_path(settings)
    history.parent.mkdir(parents=True, exist_ok=True)
    with history.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return out


def check_floor(report: dict, floor: dict, system: str = SYSTEM) -> list[str]:
    """Headline metrics below their floor (or above it, for lower-is-better ones), one line each."""
    head = report["headline"][system]
    problems = []
    for key, limit in floor.items():
        if key.startswith("_"):
            continue
        value = head.get(key)
        if value is None:
            problems.append(f"{key}: niet gemeten")
        elif key in LOWER_IS_BETTER and value > limit:
            problems.append(f"{key} = {value:.3f} > max {limit:.3f}")
        elif key not in LOWER_IS_BETTER and value < limit:
            problems.append(f"{key} = {value:.3f} < min {limit:.3f}")
    return problems


# -- command line ----------------------------------------------------------------------------------
def run_cli(
    settings: Settings,
    dataset: Path | None = None,
    k: int = 5,
    out: Path | None = None,
    baselines: bool = True,
) -> int:
    """`vraagpunt eval`: run, save and print the headline table. 0 on success."""
    from tqdm import tqdm

    from evals.report import headline_table
    from retrieval.assistant import make_assistant

    dataset = Path(dataset) if dataset is not None else DEFAULT_DATASET
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
    for problem in report["dataset_problems"]:
        print(f"Let op, evaluatieset: {problem}", file=sys.stderr)
    print(f"\nRapport: {folder / 'report.md'}")
    return 0
