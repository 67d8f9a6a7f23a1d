"""Turn an evaluation report into Markdown tables and PNG charts."""

from __future__ import annotations

from pathlib import Path

from evals.model import SYSTEM, EvalReport

ROWS = (
    ("recall_at_1", "Recall@1", "pct"),
    ("recall_at_5", "Recall@5", "pct"),
    ("recall_at_10", "Recall@10", "pct"),
    ("mrr_at_10", "MRR@10", "num"),
    ("ndcg_at_10", "nDCG@10", "num"),
    ("both_found_at_10", "Beide passages in top 10 (multi)", "pct"),
    ("key_fact_recall", "Kernfeiten in antwoord", "pct"),
    ("key_fact_recall_retrieved", "Kernfeiten in opgehaalde top {k} (plafond)", "pct"),
    ("direct_key_facts", "Kernfeiten in de directe antwoordzinnen", "pct"),
    ("answer_chars", "Gemiddelde antwoordlengte (tekens)", "int"),
    ("citation_precision", "Citatieprecisie", "pct"),
    ("evidence_cited", "Evidence in een geciteerde passage", "pct"),
    ("cited_retrieved_rate", "Geciteerd ∈ opgehaald", "pct"),
    ("refusal_precision", "Weigerprecisie", "pct"),
    ("refusal_recall", "Weigerrecall (onbeantwoordbaar)", "pct"),
    ("false_refusal_rate", "Onterecht geweigerd", "pct"),
    ("doubt_recall", "Onbeantwoordbaar: geweigerd of met voorbehoud", "pct"),
    ("false_doubt_rate", "Beantwoordbaar: geweigerd of met voorbehoud", "pct"),
    ("followup_read", "Vervolgvragen juist gelezen", "pct"),
    ("answer_f1", "Token-F1 met referentie", "num"),
    ("latency_p50_ms", "Latentie p50 (ms)", "ms"),
    ("latency_p95_ms", "Latentie p95 (ms)", "ms"),
)
SHORT = (
    "recall_at_5", "mrr_at_10", "key_fact_recall", "answer_chars", "citation_precision", "refusal_recall",
    "false_refusal_rate",
)


def fmt(value, style: str = "num") -> str:
    if value is None:
        return "–"
    if style == "pct":
        return f"{value:.1%}"
    if style in ("ms", "int"):
        return f"{value:.0f}"
    return f"{value:.3f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def headline_table(report: EvalReport) -> str:
    """Metric rows, one column per system (Vraagpunt first)."""
    rows = [
        [label.format(k=report.k)] + [fmt(report.headline[s.name].get(key), style) for s in report.systems]
        for key, label, style in ROWS
    ]
    return _table(["Maat"] + [s.label for s in report.systems], rows)


def breakdown_table(report: EvalReport, field: str) -> str:
    """Per kind or persona: n and the short metric set, for each system."""
    styles = {key: style for key, _, style in ROWS}
    labels = {key: label for key, label, _ in ROWS}
    blocks = []
    for value, per_system in getattr(report, field).items():
        n = next(iter(per_system.values()))["n"]
        rows = [
            [labels[key]] + [fmt(per_system[s.name].get(key), styles[key]) for s in report.systems]
            for key in SHORT
        ]
        header = ["Maat"] + [s.label for s in report.systems]
        blocks.append(f"#### {value} (n = {n})\n\n" + _table(header, rows))
    return "\n\n".join(blocks)


def kind_summary(report: EvalReport) -> str:
    """One row per kind: Vraagpunt's Recall@5, key facts and refusals next to each baseline's key facts."""
    others = [s for s in report.systems if s.name != SYSTEM]
    header = ["Soort", "n", "Vraagpunt R@5", "Vraagpunt kernfeiten", "Vraagpunt weigeringen"] + [
        f"{s.label} kernfeiten" for s in others
    ]
    rows = []
    for kind, per in report.by_kind.items():
        v = per[SYSTEM]
        refusals = v["refusal_recall"] if kind == "unanswerable" else v["false_refusal_rate"]
        rows.append(
            [kind, str(v["n"]), fmt(v["recall_at_5"], "pct"), fmt(v["key_fact_recall"], "pct"),
             fmt(refusals, "pct")]
            + [fmt(per[s.name]["key_fact_recall"], "pct") for s in others]
        )
    note = "(Weigeringen: bij `unanswerable` terecht geweigerd, anders onterecht geweigerd.)"
    return _table(header, rows) + "\n\n" + note


def render_markdown(report: EvalReport) -> str:
    """The full Dutch report: headline, breakdowns, failures and the comparison with the previous run."""
    out = [
        "# Evaluatie Vraagpunt",
        "",
        f"Run van {report.created} op `{report.dataset}` ({report.n_items} vragen, "
        f"{report.seconds} s). Opgehaald: top {report.retrieve_k}; faalgrens top {report.k}.",
        "",
        "Baselines: *Eigen toppassage* is de eerste passage die Vraagpunt zelf ophaalde, helemaal geciteerd. "
        "*Alleen BM25* en *Alleen dense* krijgen dezelfde zelfstandige vraag als Vraagpunt; "
        "*Naïeve LangChain* krijgt de ruwe vraag (geen vervolgvraagherschrijving) en geeft altijd top 4. "
        "Het antwoord van een baseline is zijn eerste passage; baselines weigeren nooit.",
    ]
    if report.sealed:
        out += ["", "> Verzegelde set: geschreven zonder Vraagpunts antwoorden te zien en nooit gebruikt om iets te "
                "kiezen. Lees de totalen; stem er niets op af."]
    for note in report.notes:
        out += ["", f"> {note}"]
    if report.dataset_problems:
        out += ["", "**Problemen in de evaluatieset:**", ""] + [f"- {p}" for p in report.dataset_problems]
    out += ["", "## Overzicht", "", headline_table(report)]
    out += ["", "## Per soort vraag", "", kind_summary(report), "", breakdown_table(report, "by_kind")]
    out += ["", "## Per persona", "", breakdown_table(report, "by_persona")]
    for chart in report.charts:
        out += ["", f"![{chart}]({chart})"]
    if not report.sealed:  # a sealed set's questions are not read one by one
        out += ["", "## Fouten van Vraagpunt", ""] + _failures(report.failures, report.k)
    out += ["", "## Vergelijking met de vorige run", ""]
    out += _comparison(report.comparison, report.k) if report.comparison else ["Geen eerdere run gevonden."]
    return "\n".join(out) + "\n"


def _failures(f: dict, k: int) -> list[str]:
    out = [f"### Evidence niet in top {k} ({len(f['not_retrieved'])})", ""]
    for x in f["not_retrieved"]:
        rank = f"rang {x['rank']}" if x["rank"] else "niet in top 10"
        out.append(f"- `{x['id']}` ({x['kind']}, {rank}): {x['question']}")
    out += ["", f"### Kernfeiten ontbreken in het antwoord ({len(f['missing_key_facts'])})", ""]
    if f["missing_key_facts"]:
        chosen_wrong = sum(bool(x.get("retrieved")) for x in f["missing_key_facts"])
        out += [(f"Bij {chosen_wrong} van deze vragen stond het ontbrekende kernfeit wel in de opgehaalde "
                 f"top {k}: daar koos het antwoord de verkeerde zin, de rest vond het zoeken niet."), ""]
    for x in f["missing_key_facts"]:
        lost = ", ".join(map(repr, x["missing"]))
        there = f" (wel opgehaald: {', '.join(map(repr, x['retrieved']))})" if x.get("retrieved") else ""
        out.append(f"- `{x['id']}` ({x['kind']}): {x['question']} — mist {lost}{there}")
    out += ["", f"### Onterecht geweigerd ({len(f['false_refusals'])})", ""]
    out += [f"- `{x['id']}` ({x['kind']}): {x['question']}" for x in f["false_refusals"]]
    out += ["", f"### Niet geweigerd bij onbeantwoordbare vraag ({len(f['missed_refusals'])})", ""]
    out += [f"- `{x['id']}`: {x['question']} — antwoord: {x['answer'][:120]}…" for x in f["missed_refusals"]]
    misread = f.get("misread_followups") or []
    out += ["", f"### Vervolgvraag verkeerd gelezen ({len(misread)})", ""]
    out += [f"- `{x['id']}` ({x['kind']}): {x['question']} — gelezen als: {x['standalone']}" for x in misread]
    return out


def _comparison(c: dict, k: int) -> list[str]:
    styles = {key: style for key, _, style in ROWS}
    labels = {key: label.format(k=k) for key, label, _ in ROWS}
    rows = [
        [labels.get(key, key), fmt(v["old"], styles.get(key, "num")), fmt(v["new"], styles.get(key, "num")),
         ("+" if (v["delta"] or 0) > 0 else "") + fmt(v["delta"], styles.get(key, "num"))]
        for key, v in c["headline"].items()
    ]
    out = [f"Vorige run: {c['old_created']}.", "", _table(["Maat", "Vorige", "Nu", "Verschil"], rows)]
    out += ["", f"### Beter ({len(c['better'])})", ""]
    out += [f"- `{x['id']}`: {x['question']} — {'; '.join(x['changes'])}" for x in c["better"]]
    out += ["", f"### Slechter ({len(c['worse'])})", ""]
    out += [f"- `{x['id']}`: {x['question']} — {'; '.join(x['changes'])}" for x in c["worse"]]
    if c["added"] or c["removed"]:
        out += ["", f"Nieuwe vragen: {len(c['added'])}; verdwenen vragen: {len(c['removed'])}."]
    return out


def write_charts(report: EvalReport, out: Path) -> list[Path]:
    """recall_per_kind.png (Recall@5 per kind, all systems) and latency.png (Vraagpunt latency histogram)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    kinds = [k for k in report.by_kind if k != "unanswerable"]
    systems = report.systems
    width = 0.8 / max(len(systems), 1)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for j, s in enumerate(systems):
        values = [report.by_kind[k][s.name]["key_fact_recall"] or 0.0 for k in kinds]
        ax.bar([i + j * width for i in range(len(kinds))], values, width, label=s.label)
    ax.set_xticks([i + width * (len(systems) - 1) / 2 for i in range(len(kinds))], kinds)
    ax.set_ylim(0, 1)
    ax.set_ylabel("Kernfeiten in het antwoord")
    ax.set_title("Kernfeiten per soort vraag")
    ax.legend(fontsize="small")
    fig.tight_layout()
    paths.append(out / "key_facts_per_kind.png")
    fig.savefig(paths[-1], dpi=100)
    plt.close(fig)

    latencies = [it["systems"][SYSTEM]["latency_ms"] for it in report.items]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.hist(latencies, bins=30, color="#3b6ea5")
    ax.set_xlabel("Totale antwoordtijd (ms)")
    ax.set_ylabel("Aantal vragen")
    ax.set_title("Latentie Vraagpunt")
    fig.tight_layout()
    paths.append(out / "latency.png")
    fig.savefig(paths[-1], dpi=100)
    plt.close(fig)
    return paths
