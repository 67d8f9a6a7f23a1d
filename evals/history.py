"""Saved runs: writing reports, the run history per evaluation set, and comparing two runs."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from evals.model import HEADLINE, LOWER_IS_BETTER, SYSTEM, EvalReport
from vraagpunt.settings import Settings


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
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line cut short by a crash: skip it, keep the rest
    if dataset is None:
        return entries
    key = dataset_key(dataset)
    return [e for e in entries if dataset_key(e.get("dataset", "")) == key]


def load_report(path: Path) -> EvalReport:
    return EvalReport.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def previous_report(settings: Settings, dataset: Path | str | None = None) -> EvalReport | None:
    """The most recent saved run (on `dataset`, if given) whose report file still exists."""
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


def compare_runs(old: EvalReport, new: EvalReport, system: str = SYSTEM) -> dict:
    """Which questions got better or worse between two reports (by hit@5, key facts and refusal).

    Returns {"old_created", "new_created", "headline": {metric: {"old", "new", "delta"}},
    "better": [{"id", "question", "changes": [...]}], "worse": [...], "added": [ids], "removed": [ids]}.
    """
    old_items = {it["id"]: it for it in old.items}
    new_items = {it["id"]: it for it in new.items}
    better, worse = [], []
    for qid, item in new_items.items():
        before_item = old_items.get(qid)
        if before_item is None:
            continue
        before, after = _outcome(before_item, system), _outcome(item, system)
        if before is None or after is None:
            continue
        up, down = [], []
        for key in ("hit_at_5", "key_facts", "refusal_ok"):
            a, b = before[key], after[key]
            if a is None or b is None or a == b:
                continue
            change = f"{key}: {_fmt_change(a)} → {_fmt_change(b)}"
            (up if b > a else down).append(change)
        entry = {"id": qid, "kind": item["kind"], "question": item["question"]}
        if down:
            worse.append({**entry, "changes": down + up})
        elif up:
            better.append({**entry, "changes": up})
    old_head, new_head = old.headline.get(system, {}), new.headline.get(system, {})
    headline = {}
    for key in HEADLINE:
        a, b = old_head.get(key), new_head.get(key)
        if a is not None or b is not None:
            headline[key] = {"old": a, "new": b, "delta": round(b - a, 4) if a is not None and b is not None else None}
    return {
        "old_created": old.created, "new_created": new.created, "headline": headline,
        "better": better, "worse": worse,
        "added": sorted(set(new_items) - set(old_items)), "removed": sorted(set(old_items) - set(new_items)),
    }


def _fmt_change(value) -> str:
    if isinstance(value, bool):
        return "ja" if value else "nee"
    return f"{value:.0%}"


def save_run(settings: Settings, report: EvalReport, out: Path | None = None) -> Path:
    """Write report.json, report.md and PNG charts to `out` and append the run to the history.

    The default folder is `data_dir/evals/<timestamp>`. When an earlier run on the same set exists, the
    comparison with it is stored under `comparison` and shown in the Markdown report. Returns the folder.
    """
    from evals.report import render_markdown, write_charts

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(out) if out is not None else Path(settings.data_dir) / "evals" / stamp
    out.mkdir(parents=True, exist_ok=True)
    previous = previous_report(settings, report.dataset)  # a sealed set is no baseline for the main one
    report.comparison = compare_runs(previous, report) if previous is not None else None
    report.charts = [p.name for p in write_charts(report, out)]
    (out / "report.json").write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    (out / "report.md").write_text(render_markdown(report), encoding="utf-8")
    entry = {
        "created": report.created,
        "report": str((out / "report.json").resolve()),
        "dataset": report.dataset,
        "n_items": report.n_items,
        "headline": {s: {key: m.get(key) for key in HEADLINE} for s, m in report.headline.items()},
    }
    history = history_path(settings)
    history.parent.mkdir(parents=True, exist_ok=True)
    with history.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return out


def check_floor(report: EvalReport, floor: dict, system: str = SYSTEM) -> list[str]:
    """Headline metrics below their floor (or above it, for lower-is-better ones), one line each."""
    head = report.headline[system]
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
