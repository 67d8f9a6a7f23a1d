"""Fitting the answerability model: the logistic regression, its cross-validation and its threshold."""

from __future__ import annotations

import json

import numpy as np
import pytest

from evals.calibrate import auc, calibrate, fit_logistic, out_of_fold, predict, threshold_for
from retrieval.policy import MODEL_PATH, SIGNALS


def synthetic(n: int = 400, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Two signals: the first separates the classes, the second is noise."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.8).astype(float)  # 1 = answerable, as in the real sets
    x = np.column_stack([rng.normal(y * 2.0, 1.0), rng.normal(0, 1.0, n)])
    return x, y


def test_the_fit_finds_the_signal_and_ignores_the_noise():
    x, y = synthetic()
    coefficients, _ = fit_logistic(x, y)
    assert coefficients[0] > 1.0 and abs(coefficients[1]) < 0.3
    assert auc(predict(x, coefficients, 0.0), y) > 0.85


def test_cross_validated_probabilities_come_from_models_that_did_not_see_the_row():
    x, y = synthetic()
    p = out_of_fold(x, y)
    assert 0.8 < auc(p, y) < 0.95  # a leak would look (almost) perfect on this noisy task
    memorised = out_of_fold(np.column_stack([x, y * 10]), y)
    assert auc(memorised, y) > 0.99  # and a feature that leaks the label is found


def test_the_threshold_refuses_at_most_the_allowed_share_of_answerable_questions():
    p = np.linspace(0.0, 1.0, 101)
    assert np.mean(p < threshold_for(p, 0.05)) <= 0.05
    assert np.mean(p < threshold_for(p, 0.20)) == pytest.approx(0.20, abs=0.011)


def test_calibrate_reports_out_of_fold_figures_next_to_the_model():
    x, y = synthetic()
    rows = [(list(map(float, r)) + [0.0, 0.0, 0.0], bool(a)) for r, a in zip(x, y)]
    model = calibrate(rows, max_false_refusals=0.05)
    cv = model["cross_validation"]
    assert cv["false_refusal_rate"] <= 0.05 and cv["refusal_recall"] > 0.2 and cv["auc"] > 0.8
    # The caveat tier sits above the refusal threshold: it flags more of both kinds, answerable ones
    # within its own budget.
    assert model["doubt_threshold"] > model["threshold"]
    assert cv["false_refusal_rate"] < cv["false_doubt_rate"] <= cv["max_doubted"] == 0.15
    assert cv["doubt_recall"] > cv["refusal_recall"]
    assert len(model["coefficients"]) == len(model["means"]) == len(model["scales"]) == 5


def test_the_shipped_model_was_fitted_on_the_tuning_set_within_the_false_refusal_budget():
    model = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert model["signals"] == list(SIGNALS)
    assert model["fitted_on"]["dataset"] == "dataset.jsonl"  # never on a sealed set
    cv = model["cross_validation"]
    assert cv["false_refusal_rate"] <= cv["max_false_refusals"] == 0.05
    assert model["doubt_threshold"] > model["threshold"] and cv["false_doubt_rate"] <= cv["max_doubted"]
    assert cv["n"] >= 300 and cv["n_unanswerable"] >= 50
