"""The full evaluation on the real corpus, baselines included, stays above the CI floor; the sealed
sets are run too, and Vraagpunt must stay ahead of quoting its own top passage there."""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest

from evals.dataset import DEFAULT_DATASET, HOLDOUT_DATASET, SEALED2_DATASET, SEALED3_DATASET, SEALED_DATASET
from evals.history import check_floor, compare_runs, dataset_key, load_history, load_report, save_run
from evals.model import SYSTEM
from evals.report import headline_table
from evals.runner import run_evaluation
from vraagpunt.settings import REPO_ROOT

FLOOR = json.loads((REPO_ROOT / "evals" / "floor.json").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_full_evaluation_meets_the_floor(corpus_settings, assistant, tmp_path):
    seen: list[int] = []
    # A history of its own: the session's data dir is shared with the app tests, whose evaluation page
    # shows the latest saved run of each set.
    own = dataclasses.replace(corpus_settings, data_dir=tmp_path / "data")
    report = run_evaluation(corpus_settings, assistant, DEFAULT_DATASET, k=5, baselines=True,
                            progress=lambda done, total: seen.append(done))
    out = save_run(own, report, tmp_path / "run")

    print("\n" + headline_table(report))
    print(f"\nMarkdown-rapport: {out / 'report.md'}")

    assert seen[-1] == report.n_items == 303 and not report.sealed
    assert report.dataset_problems == []
    assert [s.name for s in report.systems] == [SYSTEM, "top_passage", "bm25", "dense", "langchain"]
    for name in ("top_passage", "bm25", "dense", "langchain"):
        head = report.headline[name]
        assert head["recall_at_10"] > 0 and head["refusal_recall"] == 0.0
    assert check_floor(report, FLOOR["dataset"]) == []
    ours, top = report.headline[SYSTEM], report.headline["top_passage"]
    assert ours["recall_at_5"] == top["recall_at_5"]  # the baseline quotes Vraagpunt's own retrieval
    assert ours["key_fact_recall"] > top["key_fact_recall"] and ours["answer_chars"] < top["answer_chars"]
    assert ours["key_fact_recall_retrieved"] > ours["key_fact_recall"]

    for name in ("report.json", "report.md", "key_facts_per_kind.png", "latency.png"):
        assert (out / name).stat().st_size > 0
    saved = load_report(out / "report.json")
    assert saved.headline == report.headline and len(saved.items) == 303
    assert set(saved.by_kind) >= {"fact", "multi", "followup", "unanswerable"}
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "Eigen toppassage" in markdown and "Naïeve LangChain" in markdown
    assert "Gemiddelde antwoordlengte" in markdown and "Vervolgvragen juist gelezen" in markdown
    assert "Geen eerdere run gevonden." in markdown

    # The comparison finds what changed: in a copy of the run, one answered question loses its key
    # facts and one unanswerable question loses its refusal. A comparison that compared a run with
    # itself, or looked at the wrong fields, would not name exactly these two.
    broken = copy.deepcopy(report)
    answered = next(it for it in broken.items if it["kind"] != "unanswerable"
                    and not it["systems"][SYSTEM]["refused"] and any(it["systems"][SYSTEM]["key_facts"]))
    answered["systems"][SYSTEM]["key_facts"] = [False] * len(answered["systems"][SYSTEM]["key_facts"])
    refused = next(it for it in broken.items if it["kind"] == "unanswerable" and it["systems"][SYSTEM]["refused"])
    refused["systems"][SYSTEM]["refused"] = False
    diff = compare_runs(report, broken)
    assert sorted(x["id"] for x in diff["worse"]) == sorted([answered["id"], refused["id"]])
    assert diff["better"] == [] and compare_runs(broken, report)["better"] != []

    # A second save compares with the first, as the app's evaluation page does.
    again = save_run(own, report, tmp_path / "run2")
    assert len(load_history(own)) == 2
    assert "Vorige run:" in (again / "report.md").read_text(encoding="utf-8")

    # A run on another set is compared with runs on that set only, never with this one.
    other = dataclasses.replace(report, dataset=dataset_key(HOLDOUT_DATASET), comparison=None)
    save_run(own, other, tmp_path / "run3")
    assert other.comparison is None
    assert len(load_history(own, HOLDOUT_DATASET)) == 1 and len(load_history(own, DEFAULT_DATASET)) == 2


@pytest.mark.slow
@pytest.mark.parametrize(
    "path", [HOLDOUT_DATASET, SEALED_DATASET, SEALED2_DATASET, SEALED3_DATASET],
    ids=["holdout", "sealed", "sealed2", "sealed3"],
)
def test_sealed_sets_are_measured_against_the_own_top_passage(corpus_settings, assistant, path):
    """Only totals are read here: a sealed set chooses nothing, it guards against losing ground."""
    report = run_evaluation(corpus_settings, assistant, path, k=5, baselines=False)
    print("\n" + headline_table(report))

    assert report.sealed and report.dataset_problems == []
    ours, top = report.headline[SYSTEM], report.headline["top_passage"]
    assert check_floor(report, FLOOR[path.stem]) == []
    assert ours["answer_chars"] < top["answer_chars"]  # shorter than quoting the passage whole
    assert ours["evidence_cited"] >= top["evidence_cited"]
