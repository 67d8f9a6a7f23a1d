"""The evaluation page: run the evaluation set, compare with baselines and earlier runs, read user feedback.

The report comes from `evals.runner.run_evaluation`; its exact shape is read defensively so the page keeps
working while the runner evolves (headline metrics, baselines, per-kind and per-question results).
"""

from __future__ import annotations

import json
from datetime import datetime
from numbers import Number
from pathlib import Path

import pandas as pd
import streamlit as st

from app_pages import resources
from vraagpunt.errors import VraagpuntError
from vraagpunt.settings import REPO_ROOT, Settings

DATASET = REPO_ROOT / "evals" / "dataset.jsonl"
SYSTEM = "Vraagpunt"


# -- reading a report of unknown detail ----------------------------------------------------------
def _numbers(data: object, prefix: str = "") -> dict[str, float]:
    """Numeric leaves of a (nested) dict, flattened to `a.b` names."""
    out: dict[str, float] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, bool):
                continue
            if isinstance(value, Number):
                out[name] = float(value)
            elif isinstance(value, dict):
                out.update(_numbers(value, name))
    return out


def _first(report: dict, *keys: str):
    for key in keys:
        if report.get(key) not in (None, {}, []):
            return report[key]
    return None


def systems(report: dict) -> dict[str, dict[str, float]]:
    """Headline metrics per system: Vraagpunt first, then the baselines."""
    found = _first(report, "systems")
    if isinstance(found, dict):
        return {str(k): _numbers(v) for k, v in found.items() if isinstance(v, dict)}
    out = {SYSTEM: _numbers(_first(report, "metrics", "summary", "headline", "overall") or {})}
    baselines = report.get("baselines")
    if isinstance(baselines, dict):
        for name, values in baselines.items():
            if isinstance(values, dict):
                metrics = values.get("metrics", values) if isinstance(values.get("metrics"), dict) else values
                out[str(name)] = _numbers(metrics)
    elif isinstance(baselines, list):
        for item in baselines:
            if isinstance(item, dict):
                out[str(item.get("name", f"baseline {len(out)}"))] = _numbers(item.get("metrics", item))
    return {k: v for k, v in out.items() if v}


def per_kind(report: dict) -> pd.DataFrame:
    """Rows = question kinds, columns = metrics."""
    found = _first(report, "by_kind", "per_kind", "kinds")
    if isinstance(found, dict):
        frame = pd.DataFrame({str(k): _numbers(v) for k, v in found.items() if isinstance(v, dict)}).T
    elif isinstance(found, list):
        frame = pd.DataFrame([{"kind": item.get("kind"), **_numbers(item)} for item in found if isinstance(item, dict)])
        frame = frame.set_index("kind") if "kind" in frame else frame
    else:
        frame = pd.DataFrame()
    return frame


def _passed(row: dict) -> bool | None:
    for key in ("passed", "ok", "correct", "success", "pass"):
        if isinstance(row.get(key), bool):
            return row[key]
    return None


def per_question(report: dict) -> pd.DataFrame:
    """One row per question, failures first."""
    found = _first(report, "questions", "results", "items", "per_question", "cases")
    if not isinstance(found, list):
        return pd.DataFrame()
    rows = []
    for item in found:
        if not isinstance(item, dict):
            continue
        row = {k: (json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v) for k, v in item.items()}
        passed = _passed(item)
        row = {"Geslaagd": passed, **{k: v for k, v in row.items() if k not in ("passed", "ok", "correct", "success", "pass")}}
        rows.append(row)
    frame = pd.DataFrame(rows)
    if "Geslaagd" in frame and frame["Geslaagd"].notna().any():
        frame = frame.sort_values("Geslaagd", key=lambda s: s.fillna(True).astype(int), kind="stable")
    return frame


def read_history(config: Settings) -> list[dict]:
    """Earlier runs, oldest first, from data_dir/evals/history.jsonl (unreadable lines are skipped)."""
    path = Path(config.data_dir) / "evals" / "history.jsonl"
    if not path.is_file():
        return []
    runs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(item, dict):
            runs.append(item)
    return runs


def _run_label(run: dict, i: int) -> str:
    when = _first(run, "finished", "started", "timestamp", "created", "time", "date")
    if isinstance(when, Number):
        when = datetime.fromtimestamp(float(when)).strftime("%d-%m-%Y %H:%M")
    name = _first(run, "id", "run_id", "name")
    return " · ".join(str(x) for x in (f"run {i + 1}", name, when) if x)


# -- rendering -----------------------------------------------------------------------------------
def _headline(report: dict) -> None:
    table = systems(report)
    if not table:
        st.info("Het rapport bevat geen samenvattende cijfers.")
        return
    ours = table.get(SYSTEM) or next(iter(table.values()))
    best_other = {m: max((v.get(m, float("-inf")) for k, v in table.items() if v is not ours), default=None) for m in ours}
    metrics = list(ours.items())[:4]
    for column, (metric, value) in zip(st.columns(max(len(metrics), 1)), metrics):
        other = best_other.get(metric)
        delta = None if other in (None, float("-inf")) else f"{value - other:+.3f} t.o.v. beste baseline"
        column.metric(metric, f"{value:.3f}", delta=delta)
    frame = pd.DataFrame(table).T
    frame.index.name = "Systeem"
    st.dataframe(frame.style.format("{:.3f}"), width="stretch")


def _kinds(report: dict) -> None:
    frame = per_kind(report)
    if frame.empty:
        return
    st.subheader("Per soort vraag")
    metrics = [c for c in frame.columns if frame[c].notna().any()]
    chosen = st.selectbox("Maatstaf", metrics, key="kind_metric") if len(metrics) > 1 else metrics[0]
    st.bar_chart(frame[[chosen]], horizontal=True, height=260)


def _questions(report: dict) -> None:
    frame = per_question(report)
    if frame.empty:
        return
    st.subheader("Per vraag")
    if "Geslaagd" in frame and frame["Geslaagd"].notna().any():
        failed = int((frame["Geslaagd"] == False).sum())  # noqa: E712  (pandas comparison)
        st.caption(f"{failed} van {len(frame)} vragen niet geslaagd; die staan bovenaan.")
    st.dataframe(frame, hide_index=True, width="stretch", height=420)


def _history(config: Settings, runs: list[dict]) -> None:
    st.subheader("Vergelijking met eerdere runs")
    if len(runs) < 2:
        st.caption("Nog geen eerdere runs om mee te vergelijken.")
        return
    rows = []
    for i, run in enumerate(runs):
        ours = systems(run).get(SYSTEM) or next(iter(systems(run).values()), {})
        rows.append({"Run": _run_label(run, i), **ours})
    frame = pd.DataFrame(rows).set_index("Run")
    st.line_chart(frame.select_dtypes("number"), height=240)
    st.dataframe(frame, width="stretch")
    try:
        from evals.runner import compare_runs
    except ImportError:
        return
    try:
        diff = compare_runs(runs[-2], runs[-1])
    except Exception as exc:  # the runner is young; a comparison bug must not hide the page
        st.caption(f"Vergelijken lukte niet: {exc}")
        return
    st.markdown("**Laatste run tegenover de vorige**")
    if isinstance(diff, dict):
        st.dataframe(pd.json_normalize(diff, sep=".").T.rename(columns={0: "verschil"}), width="stretch")
    elif isinstance(diff, list):
        st.dataframe(pd.DataFrame(diff), hide_index=True, width="stretch")
    else:
        st.text(str(diff))


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
                "Antwoord": row.answer,
                "Toelichting": row.comment,
            }
            for row in negative
        ],
        hide_index=True,
        width="stretch",
    )


def _run(config: Settings) -> dict | None:
    try:
        from evals.runner import run_evaluation
    except ImportError:
        st.warning("De evaluatiemodule (`evals.runner`) is nog niet beschikbaar in deze installatie.")
        return None
    bar = st.progress(0.0, text="Evaluatie wordt voorbereid…")

    def progress(*args, **_kwargs) -> None:
        numbers = [a for a in args if isinstance(a, Number)]
        if len(numbers) >= 2 and numbers[1]:
            done, total = numbers[0], numbers[1]
            bar.progress(min(float(done) / float(total), 1.0), text=f"Vraag {int(done)} van {int(total)}")

    report = run_evaluation(config, resources.assistant(config), DATASET, k=5, baselines=True, progress=progress)
    bar.empty()
    return report


def main() -> None:
    config = resources.settings()
    try:
        resources.assistant(config)
    except VraagpuntError as exc:
        resources.stop_on_error(exc)

    st.title("Evaluatie")
    st.caption(f"Hoe goed beantwoordt Vraagpunt de {sum(1 for _ in DATASET.open(encoding='utf-8'))} vragen van de evaluatieset?")
    if st.button("Evaluatie uitvoeren", type="primary", icon=":material/play_arrow:"):
        try:
            report = _run(config)
        except VraagpuntError as exc:
            resources.stop_on_error(exc)
        if report is not None:
            st.session_state["eval_report"] = report
    runs = read_history(config)
    report = st.session_state.get("eval_report") or (runs[-1] if runs else None)
    if report is None:
        st.info("Er is nog geen evaluatie uitgevoerd. Start er een met de knop hierboven of met `vraagpunt eval`.")
    else:
        st.subheader("Resultaat")
        _headline(report)
        _kinds(report)
        _questions(report)
    _history(config, runs)
    st.divider()
    _feedback(config)


main()
