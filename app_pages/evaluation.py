"""The evaluation page: run an evaluation set, compare with baselines and earlier runs, read user feedback.

It shows the same typed `EvalReport` that `vraagpunt eval` writes (`evals.model`).
"""

from __future__ import annotations

import math
import threading
import time
from datetime import datetime
from pathlib import Path

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
    "doubt_recall": "Onbeantwoordbaar: geweigerd of met voorbehoud",
    "false_doubt_rate": "Beantwoordbaar: geweigerd of met voorbehoud",
    "followup_read": "Vervolgvragen juist gelezen",
    "latency_p50_ms": "Latentie p50 (ms)",
}
TILES = ("key_fact_recall", "citation_precision", "refusal_recall", "false_refusal_rate")
BASELINE_COLORS = ["#b8c2cc", "#8a96a3", "#5f6b78", "#d5dbe1", "#3f4852"]
# Measured on a 2-core machine (see the issue-16 notes): without baselines a question takes about 0.25 s; the
# baselines first embed the whole corpus again (about a minute), then add a little per question.
SECONDS_PER_QUESTION = 0.3
BASELINE_SETUP_SECONDS = 60.0
BASELINE_SECONDS_PER_QUESTION = 0.15
KIND_LABELS = {
    "fact": "feit", "number": "getal", "rule": "regel", "concept": "begrip", "multi": "twee passages",
    "followup": "vervolgvraag", "unanswerable": "niet te beantwoorden",
}


def datasets() -> dict[str, object]:
    """The evaluation sets staff can run: {label: path}; a sealed set only when its file exists."""
    from evals.dataset import DEFAULT_DATASET, HOLDOUT_DATASET, SEALED2_DATASET, SEALED3_DATASET, SEALED_DATASET

    sets = {"Afstemset (dataset.jsonl)": DEFAULT_DATASET}
    for label, path in (("Verzegeld: achtergehouden vragen (holdout.jsonl)", HOLDOUT_DATASET),
                        ("Verzegeld: nieuwe vragen (sealed.jsonl)", SEALED_DATASET),
                        ("Verzegeld: derde set (sealed2.jsonl)", SEALED2_DATASET),
                        ("Verzegeld: vierde set (sealed3.jsonl)", SEALED3_DATASET)):
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
    return pd.DataFrame(rows).T.rename_axis("Systeem")  # a named index: the table's first header is not empty


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


def _question_count(dataset: Path) -> int:
    with Path(dataset).open(encoding="utf-8") as fh:
        return sum(1 for line in fh if line.strip())


def expected_seconds(config: Settings, dataset: Path, baselines: bool) -> tuple[float, bool]:
    """How long a run will take: the last saved run of this set in the same form, else an estimate.

    Returns (seconds, measured) where `measured` says it comes from an earlier run.
    """
    from evals.history import load_history, load_report

    for entry in reversed(load_history(config, dataset)):
        if ("bm25" in (entry.get("headline") or {})) != baselines:
            continue
        path = Path(entry.get("report", ""))
        if path.is_file():
            seconds = load_report(path).seconds
            if seconds:
                return seconds, True
    n = _question_count(dataset)
    seconds = n * SECONDS_PER_QUESTION
    if baselines:
        seconds += BASELINE_SETUP_SECONDS + n * BASELINE_SECONDS_PER_QUESTION
    return seconds, False


def duration_text(seconds: float) -> str:
    """ "ongeveer 40 seconden" / "ongeveer 3 minuten", rounded the way a person says it."""
    if seconds < 55:
        return f"ongeveer {max(10, math.ceil(seconds / 10) * 10)} seconden"
    minutes = max(1, round(seconds / 60))
    return f"ongeveer {minutes} {'minuut' if minutes == 1 else 'minuten'}"


class EvaluationCancelled(Exception):
    """The user cancelled the run (or left the page) before it finished."""


def _cancel() -> None:
    st.session_state["eval_cancelled"] = True


def _run(config: Settings, dataset, baselines: bool) -> EvalReport:
    """Run the evaluation in a worker thread while this script keeps the page alive.

    The page polls the worker and updates the progress bar. A click on "Annuleren" (or on another page)
    makes Streamlit stop this script at that update; the worker then stops at its next question and
    nothing is saved.
    """
    from evals.history import save_run
    from evals.runner import run_evaluation

    assistant = resources.assistant(config)
    cancel = threading.Event()
    state: dict = {"done": 0, "total": 0}

    def progress(done: int, total: int) -> None:
        state.update(done=done, total=total)
        if cancel.is_set():
            raise EvaluationCancelled

    def work() -> None:
        try:
            state["report"] = run_evaluation(config, assistant, dataset, k=5, baselines=baselines, progress=progress)
        except EvaluationCancelled:
            pass
        except BaseException as exc:  # shown on the page, not lost in the thread
            state["error"] = exc

    bar = st.progress(0.0, text="Evaluatie wordt voorbereid…")
    stop = st.empty()
    stop.button("Annuleren", icon=":material/stop_circle:", on_click=_cancel, key="eval_cancel")
    worker = threading.Thread(target=work, name="vraagpunt-eval", daemon=True)
    started = time.monotonic()
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.5)
            done, total = state["done"], state["total"]
            if total:
                left = (time.monotonic() - started) / done * (total - done) if done else 0
                rest = f" · nog {duration_text(left)}" if done and total > done else ""
                bar.progress(min(done / total, 1.0), text=f"Vraag {done} van {total}{rest}")
            else:
                bar.progress(0.0, text=f"Evaluatie wordt voorbereid… ({time.monotonic() - started:.0f} s)")
    finally:
        cancel.set()  # when Streamlit stopped this script (a click), the worker stops too
    if "error" in state:
        raise state["error"]
    report = state["report"]
    stop.empty()
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
        "Evaluatieset", list(sets), placeholder="Kies een evaluatieset",
        help="De verzegelde sets zijn nooit gebruikt om iets af te stellen: ze tonen hoe Vraagpunt het doet op "
        "vragen die het nooit gezien heeft.",
    )
    dataset = sets[label]
    key = dataset_key(dataset)
    reports = st.session_state.setdefault("eval_reports", {})
    left, right = st.columns([1, 3], vertical_alignment="center")
    baselines = right.toggle("Met baselines (BM25, dense, LangChain)", value=True)
    start = left.button("Evaluatie uitvoeren", type="primary", icon=":material/play_arrow:")
    seconds, measured = expected_seconds(config, dataset, baselines)
    st.caption(
        f"Een run duurt {duration_text(seconds)} ({_question_count(dataset)} vragen"
        f"{', met baselines' if baselines else ''}{'; zo lang duurde de vorige' if measured else ''}). "
        "Je kunt hem onderweg annuleren."
    )
    if st.session_state.pop("eval_cancelled", False):
        st.info("Evaluatie geannuleerd. Er is niets opgeslagen.", icon=":material/stop_circle:")
    if start:
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
        st.header(f"Resultaat van {created}" if created else "Resultaat")  # h2 under the h1: headings in order
        st.caption(f"{report.n_items} vragen, bron gezocht in de top {report.retrieve_k}. Het verschil onder elk "
                   "cijfer is dat met de beste baseline, in procentpunten.")
        _headline(report)
        _kinds(report)
        _questions(report)
        _comparison(config, report)
    st.divider()
    _feedback(config)


main()
