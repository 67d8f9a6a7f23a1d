"""The full evaluation on the real corpus, baselines included, stays above the CI floor."""

from __future__ import annotations

import dataclasses
import json

import pytest

from evals.report import headline_table
from evals.runner import (
    DEFAULT_DATASET, HOLDOUT_DATASET, check_floor, dataset_key, load_history, run_evaluation, save_run,
)
from vraagpunt.settings import REPO_ROOT

FLOOR = REPO_ROOT / "evals" / "floor.json"


@pytest.mark.slow
def test_full_evaluation_meets_the_floor(corpus_settings, assistant, tmp_path):
    seen: list[int] = []
    # A history of its own: the session's data dir is shared with the app tests, whose evaluation page
    # shows the latest saved run of each set.
    own = dataclasses.replace(corpus_settings, data_dir=tmp_path / "data")
    report = run_evaluation(
        corpus_settings, assistant, DEFAULT_DATASET, k=5, baselines=True,
        progress=lambda done, total: seen.append(done),
    )
    out = save_run(own, report, tmp_path / "run")

    print("\n" + headline_table(report))
    print(f"\nMarkdown-rapport: {out / 'report.md'}")

    assert seen[-1] == report["n_items"] == 143
    assert report["dataset_problems"] == []
    assert [s["name"] for s in report["systems"]] == ["vraagpunt", "bm25", "dense", "langchain"]
    for name in ("bm25", "dense", "langchain"):
        head = report["headline"][name]
        assert head["recall_at_10"] > 0 and head["refusal_recall"] == 0.0
    assert check_floor(report, json.loads(FLOOR.read_text(encoding="utf-8"))) == []

    for name in ("report.json", "report.md", "recall_per_kind.png", "latency.png"):
        assert (out / name).stat().st_size > 0
    saved = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert len(saved["items"]) == 143
    assert set(saved["by_kind"]) >= {"fact", "multi", "followup", "unanswerable"}
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "Naïeve LangChain" in markdown
    assert "Geen eerdere run gevonden." in markdown
    # The ceiling: key facts the retrieved top 5 hold at all, next to those the answer quoted.
    assert "Kernfeiten in opgehaalde top 5 (plafond)" in markdown
    head = report["headline"]["vraagpunt"]
    assert head["key_fact_recall_retrieved"] > head["key_fact_recall"]

    # A second save compares with the first, as the app's evaluation page does.
    again = save_run(own, report, tmp_path / "run2")
    assert len(load_history(own)) == 2
    assert "Vorige run:" in (again / "report.md").read_text(encoding="utf-8")
    assert report["comparison"]["worse"] == [] and report["comparison"]["better"] == []

    # A run on another set is compared with runs on that set only, never with this one.
    other = dict(report, dataset=dataset_key(HOLDOUT_DATASET), comparison=None)
    save_run(own, other, tmp_path / "run3")
    assert other["comparison"] is None
    assert len(load_history(own, HOLDOUT_DATASET)) == 1
    assert len(load_history(own, DEFAULT_DATASET)) == 2
