"""The evaluation page: run an evaluation set, compare with baselines and earlier runs, read user feedback.

It shows the same typed `EvalReport` that `vraagpunt eval` writes (`evals.model`).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from app_pages import resources
from evals.model import LOWER_IS_BETTER, SYSTEM, EvalReport
from vraagpunt.errors import VraagpuntError
from vraagpunt.settings import Settings

METRICS = {
    "recall_at_5": "Gevonden in top 5",
    "key_fact_recall": "Kernfeiten in antwoord",
    "key_fact_recall_retrieved": "Kernfeiten in top 5 (plafond)",
    "answer_chars": "Antwoordlengte (tekens)",
    "citation_precision": "Juiste bronnen",
    "evidence_cited": "Evidence geciteerd",
    "refusal_recall": "Terechte weigeringen",
    "false_refusal_rate": "Onterechte weigeringen",
    "followup_read": "Vervolgvragen juist gelezen",
    "latency_p50_ms": "Latentie p50 (ms)",
}
TILES = ("key_fact_recall", "citation_precision", "refusal_recall", "false_refusal_rate")
BASELINE_COLORS = ["#b8c2cc", "#8a96a3", "#5f6b78", "#d5dbe1", "#3f4852"]
KIND_LABELS = {
    "fact": "feit", "number": "getal", "rule": "regel", "concept": "begrip", "multi": "twee passages",
    "followup": "vervolgvraag", "unanswerable": "niet te beantwoorden",
}


def datasets() -> dict[str, object]:
    """The evaluation sets staff can run: {label: path}; a sealed set only when its file exists."""
    from evals.dataset import DEFAULT_DATASET, HOLDOUT_DATASET, SEALED_DATASET

    sets = {"Afstemset (dataset.jsonl)": DEFAULT_DATASET}
    for label, path in (("Verzegeld: achtergehouden vragen (holdout.jsonl)", HOLDOUT_DATASET),
                        ("Verzegeld: nieuwe vragen (sealed.jsonl)", SEALED_DATASET)):
        if path.is_file():
            sets[label] = path
    return sets


def _labels(report: EvalReport) -> dict[str, str]:
    return {s.name: s.label for s in report.systems}


def _is_count(metric: str) -> bool:
    return metric.endswith("_ms") or metric == "answer_chars"


def _fmt(metric: str, value) -> str:
    if value is None:
        return "–"
    return f"{value:.0f}" if _is_count(metric) else f"{value:.0%}"


def headline_frame(report: EvalReport) -> pd.DataFrame:
    """Systems as rows, the headline metrics (Dutch names) as columns."""
    labels = _labels(report)
    rows = {
        labels.get(name, name): {label: metrics.get(key) for key, label in METRICS.items()}
        for name, metrics in report.headline.items()
    }
    return pd.DataFrame(rows).T


def kind_frame(report: EvalReport, metric: str) -> pd.DataFrame:
    """Question kinds as rows, systems as columns, for one metric."""
    labels = _labels(report)
    rows = {
        KIND_LABELS.get(kind, kind): {labels.get(s, s): (m or {}).get(metric) for s, m in systems.items()}
        for kind, systems in report.by_kind.items()
    }
    return pd.DataFrame(rows).T


def _failed(item: dict, record: dict) -> bool:
    if item.get("kind") == "unanswerable":
        return not record.get("refused")
    return bool(record.get("refused") or not record.get("hit_at_5") or not all(record.get("key_facts") or [True]))


def question_frame(report: EvalReport) -> pd.DataFrame:
    """One row per question for Vraagpunt, failures first."""
    rows = []
    for item in report.items:
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
def _headline(report: EvalReport) -> None:
    head = report.headline
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
        formats = {label: ("{:.0f}" if _is_count(key) else "{:.0%}") for key, label in METRICS.items()}
        st.dataframe(frame.style.format(formats, na_rep="–"), width="stretch")
    for note in report.notes:
        st.caption(note)


def _kinds(report: EvalReport) -> None:
    if not report.by_kind:
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


def _questions(report: EvalReport) -> None:
    if report.sealed:  # a sealed set is read by its totals, not question by question
        st.caption("Verzegelde set: de vragen worden niet één voor één getoond, zodat niemand erop afstemt.")
        return
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


def _comparison(config: Settings, report: EvalReport) -> None:
    from evals.history import load_history

    history = load_history(config, report.dataset)
    st.subheader("Vergelijking met eerdere runs")
    if len(history) >= 2:
        rows = []
        for entry in history:
            when = entry.get("created", "")
            ours = (entry.get("headline") or {}).get(SYSTEM) or {}
            rows.append({"Run": str(when).replace("T", " ")[:16], **{METRICS[k]: ours.get(k) for k in TILES}})
        frame = pd.DataFrame(rows).set_index("Run")
        st.line_chart(frame, height=240)
    comparison = report.comparison
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


def _run(config: Settings, dataset, baselines: bool) -> EvalReport:
    from evals.history import save_run
    from evals.runner import run_evaluation

    bar = st.progress(0.0, text="Evaluatie wordt voorbereid…")

    def progress(done: int, total: int) -> None:
        bar.progress(min(done / max(total, 1), 1.0), text=f"Vraag {done} van {total}")

    report = run_evaluation(config, resources.assistant(config), dataset, k=5, baselines=baselines, progress=progress)
    bar.progress(1.0, text="Rapport opslaan…")
    folder = save_run(config, report)
    bar.empty()
    st.success(f"Evaluatie klaar in {report.seconds:.0f} s. Rapport: `{folder / 'report.md'}`")
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
    from evals.history import dataset_key, previous_report

    sets = datasets()
    label = st.selectbox(
        "Evaluatieset", list(sets),
        help="De verzegelde sets zijn nooit gebruikt om iets af te stellen: ze tonen hoe Vraagpunt het doet op "
        "vragen die het nooit gezien heeft.",
    )
    dataset = sets[label]
    key = dataset_key(dataset)
    reports = st.session_state.setdefault("eval_reports", {})
    left, right = st.columns([1, 3], vertical_alignment="center")
    baselines = right.toggle("Met baselines (BM25, dense, LangChain)", value=True)
    if left.button("Evaluatie uitvoeren", type="primary", icon=":material/play_arrow:"):
        try:
            reports[key] = _run(config, dataset, baselines)
        except VraagpuntError as exc:
            resources.stop_on_error(exc)
    report = reports.get(key) or previous_report(config, dataset)
    if report is None:
        st.info("Er is nog geen evaluatie uitgevoerd op deze set. Start er een met de knop hierboven of met "
                "`vraagpunt eval`.")
    else:
        created = report.created.replace("T", " ")[:16]
        st.subheader(f"Resultaat van {created}" if created else "Resultaat")
        st.caption(f"{report.n_items} vragen, bron gezocht in de top {report.retrieve_k}. Het verschil onder elk "
                   "cijfer is dat met de beste baseline, in procentpunten.")
        _headline(report)
        _kinds(report)
        _questions(report)
        _comparison(config, report)
    st.divider()
    _feedback(config)


main()
