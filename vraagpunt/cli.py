"""The `vraagpunt` command: ingest, search, ask, eval and a terminal chat."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vraagpunt.errors import VraagpuntError
from vraagpunt.settings import Settings, configure_runtime
from vraagpunt.types import Answer, answer_to_dict, hit_to_dict

KIND_CHOICES = ("faq", "report", "webpage")


def main(argv: list[str] | None = None) -> int:
    configure_runtime()
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        settings = Settings.load()
        return args.handler(args, settings)
    except VraagpuntError as exc:
        print(f"Fout: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nOnderbroken; de vorige index blijft bruikbaar.", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vraagpunt", description="Vragen over de documenten van Leerpunt, met bronnen.")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("ingest", help="documenten indexeren (alleen wat veranderde)")
    p.add_argument("paths", nargs="*", type=Path, help="bestanden of mappen (standaard: de corpusmap)")
    p.add_argument("--rebuild", action="store_true", help="alles opnieuw embedden")
    p.set_defaults(handler=cmd_ingest)

    p = sub.add_parser("search", help="passages zoeken")
    p.add_argument("question")
    p.add_argument("--k", type=int, default=None)
    p.add_argument("--kind", action="append", choices=KIND_CHOICES, help="alleen dit soort documenten")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_search)

    p = sub.add_parser("ask", help="een vraag beantwoorden met bronnen")
    p.add_argument("question", nargs="?")
    p.add_argument("--questions", type=Path, help="JSONL met {id, question, history?} per regel")
    p.add_argument("--kind", action="append", choices=KIND_CHOICES)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_ask)

    p = sub.add_parser("eval", help="antwoordkwaliteit meten op een evaluatieset")
    p.add_argument("--dataset", type=Path, default=None)
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--no-baselines", action="store_true", help="alleen Vraagpunt zelf meten")
    p.set_defaults(handler=cmd_eval)

    p = sub.add_parser("calibrate", help="het weigermodel opnieuw fitten op de afstemset (kruisgevalideerd)")
    p.add_argument("--dataset", type=Path, default=None)
    p.add_argument("--max-false-refusals", type=float, default=0.05)
    p.add_argument("--max-doubted", type=float, default=None,
                   help="aandeel beantwoordbare vragen dat een voorbehoud mag krijgen (standaard 0,15)")
    p.set_defaults(handler=cmd_calibrate)

    p = sub.add_parser("chat", help="vragen stellen in de terminal")
    p.set_defaults(handler=cmd_chat)

    p = sub.add_parser("bench", help="snelheid en geheugen meten op 1×, 10× en 100× het corpus, naast het naïeve recept")
    p.add_argument("--scales", default="1,10,100", help="schalen, bv. 1,10,100")
    p.add_argument("--embed-scales", default="1", help="schalen met echte vectoren; de andere krijgen afgeleide")
    p.add_argument("--questions", type=int, default=100, help="warme vragen per schaal en systeem")
    p.add_argument("--load-seconds", type=float, default=30.0, help="duur van de belastingstest (0 = overslaan)")
    p.add_argument("--clients", type=int, default=20, help="gelijktijdige clients in de belastingstest")
    p.add_argument("--out", type=Path, default=None)
    p.set_defaults(handler=cmd_bench)

    p = sub.add_parser("serve-api", help="de JSON-API starten (POST /ask, GET /health, GET /documents)")
    p.add_argument("--host", default=None, help="standaard VRAAGPUNT_API_HOST (127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="standaard VRAAGPUNT_API_PORT (8080)")
    p.set_defaults(handler=cmd_serve_api)
    return parser


def _filter(args):
    from retrieval.search import SearchFilter

    return SearchFilter(kinds=tuple(args.kind or ()))


def cmd_ingest(args, settings: Settings) -> int:
    from tqdm import tqdm

    from ingest.pipeline import ingest
    from retrieval.search import prepare
    from vraagpunt.embedding import make_embedder
    from vraagpunt.index import open_index

    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc="Embedden", unit="stuk", file=sys.stderr)
        bar.update(done - bar.n)

    def waiting(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    embedder = make_embedder(settings)
    report = ingest(
        settings, embedder, open_index(settings), args.paths or None,
        rebuild=args.rebuild, progress=progress, on_wait=waiting,
    )
    if bar is not None:
        bar.close()
    del embedder  # the lexicon needs no model: let the memory go first
    prepare(open_index(settings))
    print(
        f"{report.documents} documenten, {report.chunks} passages: {report.new} nieuw, "
        f"{report.unchanged} ongewijzigd, {report.removed} verwijderd; {report.embedded} vectoren berekend "
        f"({report.seconds:.1f} s)."
    )
    for skipped in report.skipped:
        print(f"Overgeslagen: {skipped.path}: {skipped.reason}")
    return 0


def cmd_search(args, settings: Settings) -> int:
    from retrieval.assistant import make_assistant

    assistant = make_assistant(settings)
    hits = assistant.searcher.search(args.question, k=args.k, filter=_filter(args))
    if args.json:
        print(json.dumps({"question": args.question, "hits": [hit_to_dict(h) for h in hits]}, ensure_ascii=False))
        return 0
    if not hits:
        print("Geen passages gevonden.")
    for h in hits:
        where = ", ".join(x for x in (h.chunk.page_label, h.chunk.section) if x)
        print(f"{h.rank}. {h.chunk.title}" + (f" ({where})" if where else "") + f"  [score {h.score:.4f}]")
        print("   " + h.chunk.text.replace("\n", " ")[:300])
    return 0


def cmd_ask(args, settings: Settings) -> int:
    from retrieval.assistant import make_assistant

    if not args.question and not args.questions:
        raise VraagpuntError("Geef een vraag op, of --questions BESTAND.jsonl.")
    assistant = make_assistant(settings)
    if args.questions:
        from vraagpunt.jsonl import check_question, read_records

        for line_no, item in read_records(args.questions, check_question, what="vragenbestand"):  # all checked first
            answer = assistant.ask(item["question"], item.get("history") or [], _filter(args))
            print(json.dumps(answer_to_dict(answer, id=item.get("id", line_no)), ensure_ascii=False), flush=True)
        return 0
    answer = assistant.ask(args.question, (), _filter(args))
    if args.json:
        print(json.dumps(answer_to_dict(answer), ensure_ascii=False))
    else:
        print(format_answer(answer))
    return 0


def format_answer(answer: Answer) -> str:
    """An answer with its numbered sources, for the terminal."""
    lines = []
    if answer.standalone_question and answer.standalone_question != " ".join(answer.question.split()):
        lines.append(f"(Gelezen als: {answer.standalone_question})")
    if answer.notice:
        lines.append(answer.notice if answer.notice.startswith("Let op") else f"Let op: {answer.notice}")
    lines.append(answer.text)
    if answer.direct and len(answer.direct_sentences) and not answer.refused:
        lines.append("")
        lines.append("Kort: " + " ".join(answer.direct_sentences))
    if answer.citations:
        lines.append("")
        lines.append("Mogelijk relevante passages:" if answer.refused else "Bronnen:")
        for c in answer.citations:
            chunk = c.hit.chunk
            where = ", ".join(x for x in (chunk.page_label, chunk.section) if x)
            lines.append(f"[{c.n}] {chunk.title}" + (f" — {where}" if where else ""))
    return "\n".join(lines)


def cmd_eval(args, settings: Settings) -> int:
    from evals.runner import run_cli

    return run_cli(settings, dataset=args.dataset, k=args.k, out=args.out, baselines=not args.no_baselines)


def cmd_calibrate(args, settings: Settings) -> int:
    from evals.calibrate import MAX_DOUBTED, MODEL_PATH, run
    from evals.dataset import DEFAULT_DATASET

    doubted = MAX_DOUBTED if args.max_doubted is None else args.max_doubted
    run(settings, args.dataset or DEFAULT_DATASET, args.max_false_refusals, MODEL_PATH, doubted)
    return 0


def cmd_chat(args, settings: Settings) -> int:
    from retrieval.assistant import make_assistant

    assistant = make_assistant(settings)
    history: list[dict] = []
    print("Vraagpunt — stel je vraag over de documenten van Leerpunt (leeg of Ctrl-D om te stoppen).")
    while True:
        try:
            question = input("\nVraag: ").strip()
        except EOFError:
            break
        if not question:
            break
        answer = assistant.ask(question, history)
        print(format_answer(answer))
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]
    return 0


def cmd_bench(args, settings: Settings) -> int:
    from evals.bench import BenchPlan, run_bench

    try:
        scales = tuple(int(x) for x in args.scales.split(","))
        embed_scales = tuple(int(x) for x in args.embed_scales.split(","))
    except ValueError as exc:
        raise VraagpuntError("--scales en --embed-scales zijn lijsten van gehele getallen, bv. 1,10,100.") from exc
    if min(scales) not in embed_scales:
        raise VraagpuntError("De kleinste schaal moet echte vectoren hebben (--embed-scales): de afgeleide komen eruit.")
    plan = BenchPlan(scales=scales, embed_scales=embed_scales, questions=args.questions,
                     load_seconds=args.load_seconds, clients=args.clients)
    folder = run_bench(settings, plan, args.out, log=lambda line: print(line, file=sys.stderr, flush=True))
    print((folder / "report.md").read_text(encoding="utf-8"))
    print(f"\nRapport: {folder / 'report.md'}")
    return 0


def cmd_serve_api(args, settings: Settings) -> int:
    from vraagpunt.api import serve

    host = args.host or settings.api_host
    port = args.port or settings.api_port
    print(f"Vraagpunt-API op http://{host}:{port} (POST /ask, GET /health, GET /documents); Ctrl-C stopt.",
          file=sys.stderr, flush=True)
    serve(settings, host, port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
