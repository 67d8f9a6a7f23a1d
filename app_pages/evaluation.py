"""The evaluation page: run the evaluation set, compare with baselines and earlier runs, read user feedback.

Reports come from `evals.runner` (`run_evaluation`, `save_run`, `load_history`, `previous_report`,
`compare_runs`); keys are read with `.get` so an older saved report still renders.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from app_pages import resources
from vraagpunt.errors import VraagpuntError
from vraagpunt.settings import Settings

SYSTEM = "vraagpunt"
METRICS = {
    "recall_at_5": "Gevonden in top 5",
    "mrr_at_10": "MRR@10",
    "key_fact_recall": "Kernfeiten in antwoord",
    "key_fact_recall_retrieved": "Kernfeiten in top 5 (plafond)",
    "citation_precision": "Juiste bronnen",
    "refusal_recall": "Terechte weigeringen",
    "false_refusal_rate": "Onterechte weigeringen",
    "answer_f1": "Antwoord-F1",
    "latency_p50_ms": "Latentie p50 (ms)",
}
TILES = ("recall_at_5", "key_fact_recall", "citation_precision", "refusal_recall")
LOWER_IS_BETTER = {"false_refusal_rate", "latency_p50_ms", "latency_p95_ms"}
BASELINE_COLORS = ["#b8c2cc", "#8a96a3", "#5f6b78", "#d5dbe1", "#3f4852"]
KIND_LABELS = {
    "fact": "feit", "number": "getal", "rule": "regel", "concept": "begrip", "multi": "twee passages",
    "followup": "vervolgvraag", "unanswerable": "niet te beantwoorden",
}


def datasets(runner) -> dict[str, object]:
    """The evaluation sets staff can run: {label: path}. The held-out set is only there when it exists."""
    sets = {"Bekende vragen (dataset.jsonl)": runner.DEFAULT_DATASET}
    holdout = getattr(runner, "HOLDOUT_DATASET", None)
    if holdout is not None and holdout.is_file():
        sets["Achtergehouden vragen (holdout.jsonl)"] = holdout
    return sets


def _runner():
    try:
        from evals import runner
    except ImportError:
        return None
    return runner


def _labels(report: dict) -> dict[str, str]:
    labels = {SYSTEM: "Vraagpunt"}
    for system in report.get("systems") or []:
        if isinstance(system, dict) and system.get("name"):
            labels[system["name"]] = system.get("label") or system["name"]
    return labels


def _fmt(metric: str, value) -> str:
    if value is None:
        return "–"
    return f"{value:.0f}" if metric.endswith("_ms") else f"{value:.0%}"


def headline_frame(report: dict) -> pd.DataFrame:
    """Systems as rows, the headline metrics (Dutch names) as columns."""
    labels = _labels(report)
    rows = {
        labels.get(name, name): {label: metrics.get(key) for key, label in METRICS.items()}
        for name, metrics in (report.get("headline") or {}).items()
    }
    return pd.DataFrame(rows).T


def kind_frame(report: dict, metric: str) -> pd.DataFrame:
    """Question kinds as rows, systems as columns, for one metric."""
    labels = _labels(report)
    rows = {
        KIND_LABELS.get(kind, kind): {labels.get(s, s): (m or {}).get(metric) for s, m in systems.items()}
        for kind, systems in (report.get("by_kind") or {}).items()
    }
    return pd.DataFrame(rows).T


def _failed(item: dict, record: dict) -> bool:
    if item.get("kind") == "unanswerable":
        return not record.get("refused")
    return bool(record.get("refused") or not record.get("hit_at_5") or not all(record.get("key_facts") or [True]))


def question_frame(report: dict) -> pd.DataFrame:
    """One row per question for Vraagpunt, failures first."""
    rows = []
    for item in report.get("items") or []:
        record = (item.get("systems") or {}).get(SYSTEM) or {}
        facts = record.get("key_facts") or []
        rows.append(
            {
                "Geslaagd": "nee" if _failed(item, record) else "ja",
                "Id": item.get("id"),
                "Soort": KIND_LABELS.get(item.get("kind"), item.get("kind")),
                "Vraag": item.get("question"),
                # Streamlit shows a missing number as a grey "None": say what it means instead.
                "Rang bron": str(record["rank"]) if record.get("rank") else ("niet gevonden" if item.get("kind") != "unanswerable" else ""),
                "Kernfeiten": f"{sum(facts)}/{len(facts)}" if facts else "",
                "Geweigerd": "ja" if record.get("refused") else "nee",
                "Antwoord": record.get("answer", ""),
            }
        )
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame = frame.sort_values("Geslaagd", key=lambda s: s.eq("ja"), kind="stable")
    return frame


# -- sections -------------------------------------------------------------------------------------
def _headline(report: dict) -> None:
    head = report.get("headline") or {}
    ours = head.get(SYSTEM) or {}
    others = [m for name, m in head.items() if name != SYSTEM]
    for column, key in zip(st.columns(len(TILES)), TILES):
        value = ours.get(key)
        rivals = [m.get(key) for m in others if m.get(key) is not None]
        delta = None
        if value is not None and rivals:
            best = min(rivals) if key in LOWER_IS_BETTER else max(rivals)
            delta = f"{(value - best) * 100:+.0f} pt"
        column.metric(
            METRICS[key], _fmt(key, value), delta=delta, delta_color="inverse" if key in LOWER_IS_BETTER else "normal",
            help="Verschil in procentpunten met de beste baseline.",
        )
    frame = headline_frame(report)
    if not frame.empty:
        formats = {label: ("{:.0f}" if key.endswith("_ms") else "{:.0%}") for key, label in METRICS.items()}
        st.dataframe(frame.style.format(formats, na_rep="–"), width="stretch")
    for note in report.get("notes") or []:
        st.caption(note)


def _kinds(report: dict) -> None:
    if not report.get("by_kind"):
        return
    st.subheader("Per soort vraag")
    keys = ("key_fact_recall", "recall_at_5", "citation_precision")
    for tab, key in zip(st.tabs([METRICS[k] for k in keys]), keys):
        frame = kind_frame(report, key)
        with tab:
            if frame.empty:
                st.caption("Geen gegevens.")
                continue
            ours = [c for c in frame.columns if c == "Vraagpunt"]
            frame = frame[ours + [c for c in frame.columns if c not in ours]]
            colors = (["#1c6dd0"] if ours else []) + BASELINE_COLORS[: len(frame.columns) - len(ours)]
            st.bar_chart(frame, horizontal=True, stack=False, color=colors, height=140 + 55 * len(frame))


def _questions(report: dict) -> None:
    frame = question_frame(report)
    if frame.empty:
        return
    st.subheader("Per vraag")
    failed = int(frame["Geslaagd"].eq("nee").sum())
    st.caption(f"{failed} van {len(frame)} vragen niet helemaal goed; die staan bovenaan.")
    st.dataframe(
        frame, hide_index=True, width="stretch", height=420,
        column_config={"Rang bron": st.column_config.TextColumn(width="medium")},  # room for "niet gevonden"
    )


def _comparison(config: Settings, report: dict) -> None:
    runner = _runner()
    history = runner.load_history(config, report.get("dataset")) if runner else []
    st.subheader("Vergelijking met eerdere runs")
    if len(history) >= 2:
        rows = []
        for entry in history:
            when = entry.get("created", "")
            ours = (entry.get("headline") or {}).get(SYSTEM) or {}
            rows.append({"Run": str(when).replace("T", " ")[:16], **{METRICS[k]: ours.get(k) for k in TILES}})
        frame = pd.DataFrame(rows).set_index("Run")
        st.line_chart(frame, height=240)
    comparison = report.get("comparison")
    if not comparison:
        st.caption("Nog geen eerdere run om mee te vergelijken." if len(history) < 2 else "")
        return
    st.markdown(f"**Deze run tegenover die van {str(comparison.get('old_created', '')).replace('T', ' ')[:16]}**")
    changes = [
        {"Maatstaf": METRICS.get(k, k), "Vorige": v.get("old"), "Nu": v.get("new"), "Verschil": v.get("delta")}
        for k, v in (comparison.get("headline") or {}).items()
    ]
    if changes:
        st.dataframe(changes, hide_index=True, width="stretch")
    better, worse = comparison.get("better") or [], comparison.get("worse") or []
    st.caption(f"{len(better)} vragen beter, {len(worse)} slechter.")
    if worse:
        st.dataframe(
            [{"Id": w["id"], "Vraag": w["question"], "Wat veranderde": "; ".join(w.get("changes", []))} for w in worse],
            hide_index=True,
            width="stretch",
        )


def _feedback(config: Settings) -> None:
    st.subheader("Feedback van gebruikers")
    store = resources.feedback_store(config)
    counts = store.counts()
    a, b, c = st.columns(3)
    a.metric("Beoordelingen", counts["total"])
    b.metric("Duim omhoog", counts["up"])
    c.metric("Duim omlaag", counts["down"])
    negative = store.recent(limit=15, thumbs=0)
    if not negative:
        st.caption("Nog geen negatieve feedback.")
        return
    st.markdown("**Laatste negatieve beoordelingen**")
    st.dataframe(
        [
            {
                "Wanneer": datetime.fromtimestamp(row.created).strftime("%d-%m-%Y %H:%M"),
                "Vraag": row.question,
                "Gelezen als": row.standalone_question if row.standalone_question != row.question else "",
                "Antwoord": row.answer,
                "Toelichting": row.comment,
            }
            for row in negative
        ],
        hide_index=True,
        width="stretch",
    )


def _run(config: Settings, runner, dataset, baselines: bool) -> dict:
    bar = st.progress(0.0, text="Evaluatie wordt voorbereid…")

    def progress(done: int, total: int) -> None:
        bar.progress(min(done / max(total, 1), 1.0), text=f"Vraag {done} van {total}")

    report = runner.run_evaluation(
        config, resources.assistant(config), dataset, k=5, baselines=baselines, progress=progress
    )
    bar.progress(1.0, text="Rapport opslaan…")
    folder = runner.save_run(config, report)
    bar.empty()
    st.success(f"Evaluatie klaar in {report.get('seconds', 0):.0f} s. Rapport: `{folder / 'report.md'}`")
    return report


def main() -> None:
    st.set_page_config(layout="wide")
    config = resources.settings()
    try:
        resources.assistant(config)
    except VraagpuntError as exc:
        resources.stop_on_error(exc)

    st.title("Evaluatie")
    st.caption("Hoe goed vindt en citeert Vraagpunt de juiste passages, vergeleken met eenvoudige baselines?")
    runner = _runner()
    report = None
    if runner is None:
        st.warning("De evaluatiemodule (`evals.runner`) ontbreekt in deze installatie.")
    else:
        sets = datasets(runner)
        label = st.selectbox(
            "Evaluatieset", list(sets),
            help="De achtergehouden vragen zijn nooit gebruikt om iets af te stellen: ze tonen hoe Vraagpunt het "
            "doet op vragen die het nooit gezien heeft.",
        )
        dataset = sets[label]
        key = runner.dataset_key(dataset)
        reports = st.session_state.setdefault("eval_reports", {})
        left, right = st.columns([1, 3], vertical_alignment="center")
        baselines = right.toggle("Met baselines (BM25, dense, LangChain)", value=True)
        if left.button("Evaluatie uitvoeren", type="primary", icon=":material/play_arrow:"):
            try:
                reports[key] = _run(config, runner, dataset, baselines)
            except VraagpuntError as exc:
                resources.stop_on_error(exc)
        report = reports.get(key) or runner.previous_report(config, dataset)
    if report is None:
        st.info("Er is nog geen evaluatie uitgevoerd op deze set. Start er een met de knop hierboven of met "
                "`vraagpunt eval`.")
    else:
        created = str(report.get("created", "")).replace("T", " ")[:16]
        st.subheader(f"Resultaat van {created}" if created else "Resultaat")
        st.caption(f"{report.get('n_items', '?')} vragen, bron gezocht in de top {report.get('retrieve_k', 10)}.")
        st.caption("Het verschil onder elk cijfer is dat met de beste baseline, in procentpunten.")
        _headline(report)
        _kinds(report)
        _questions(report)
        _comparison(config, report)
    st.divider()
    _feedback(config)


main()
