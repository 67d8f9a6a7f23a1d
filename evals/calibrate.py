"""Fit the answerability model: logistic regression over the answer step's signals, cross-validated.

    python -m evals.calibrate [--dataset evals/dataset.jsonl] [--max-false-refusals 0.05]

Only the tuning set is used: the sealed sets (`holdout.jsonl`, `sealed.jsonl`, `sealed2.jsonl`,
`sealed3.jsonl`) never choose anything.
The threshold is set on out-of-fold probabilities so that at most `--max-false-refusals` of the
answerable questions are refused; a second, higher one (`--max-doubted`) marks answers that come with the
caveat that the documents may not say it. The coefficients written are those of a fit on the whole set.
Writes `retrieval/answerability.json`, which the extractive answerer reads.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np

from evals.dataset import DEFAULT_DATASET, load_dataset
from retrieval.policy import MODEL_PATH, SIGNALS

FOLDS = 5
# Share of answerable questions that may get the "may not be in the documents" caveat (or a refusal).
# A product choice, made before measuring: about one answer in seven with a caveat is still readable; on
# the tuning set's cross-validation it then flags about half of the unanswerable questions.
MAX_DOUBTED = 0.15
L2 = 1.0  # ridge penalty on the standardised coefficients: keeps a small set's fit from running away


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = L2, iterations: int = 50) -> tuple[np.ndarray, float]:
    """Coefficients and intercept of an L2-penalised logistic regression (Newton's method)."""
    n, d = x.shape
    design = np.hstack([np.ones((n, 1)), x])
    beta = np.zeros(d + 1)
    penalty = np.diag([0.0] + [l2] * d)
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ beta, -50, 50)))
        gradient = design.T @ (y - p) - penalty @ beta
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian, gradient)
        beta += step
        if np.abs(step).max() < 1e-8:
            break
    return beta[1:], float(beta[0])


def predict(x: np.ndarray, coefficients: np.ndarray, intercept: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(intercept + x @ coefficients, -50, 50)))


def standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    means = x.mean(axis=0)
    scales = x.std(axis=0)
    return means, np.where(scales > 0, scales, 1.0)


def out_of_fold(x: np.ndarray, y: np.ndarray, folds: int = FOLDS, seed: int = 0) -> np.ndarray:
    """Probabilities for each row from a model that did not see it (stratified folds)."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), dtype=int)
    for label in (0, 1):
        rows = np.flatnonzero(y == label)
        rng.shuffle(rows)
        fold[rows] = np.arange(len(rows)) % folds
    p = np.empty(len(y))
    for k in range(folds):
        train, test = fold != k, fold == k
        means, scales = standardise(x[train])
        coefficients, intercept = fit_logistic((x[train] - means) / scales, y[train])
        p[test] = predict((x[test] - means) / scales, coefficients, intercept)
    return p


def threshold_for(p_answerable: np.ndarray, max_false_refusals: float) -> float:
    """The highest threshold that refuses at most `max_false_refusals` of the answerable questions."""
    ordered = np.sort(p_answerable)
    allowed = int(np.floor(max_false_refusals * len(ordered)))
    return float(ordered[allowed]) if allowed < len(ordered) else float(ordered[-1]) + 1e-9


def auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve: the chance a positive scores above a negative (ties count half)."""
    pos, neg = scores[positive == 1], scores[positive == 0]
    if not len(pos) or not len(neg):
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def calibrate(rows: Sequence[tuple[list[float], bool]], max_false_refusals: float = 0.05,
              max_doubted: float = MAX_DOUBTED) -> dict:
    """Fit on (signal vector, answerable) rows; report cross-validated figures next to the model."""
    x = np.array([r[0] for r in rows], dtype=float)
    y = np.array([1 if r[1] else 0 for r in rows], dtype=float)  # 1 = answerable
    oof = out_of_fold(x, y)
    threshold = threshold_for(oof[y == 1], max_false_refusals)
    doubt = max(threshold, threshold_for(oof[y == 1], max_doubted))
    means, scales = standardise(x)
    coefficients, intercept = fit_logistic((x - means) / scales, y)
    return {
        "signals": list(SIGNALS),
        "coefficients": [round(float(c), 6) for c in coefficients],
        "intercept": round(intercept, 6),
        "means": [round(float(m), 6) for m in means],
        "scales": [round(float(s), 6) for s in scales],
        "threshold": round(threshold, 6),
        "doubt_threshold": round(doubt, 6),
        "cross_validation": {
            "folds": FOLDS,
            "n": int(len(y)),
            "n_unanswerable": int((y == 0).sum()),
            "auc": round(auc(oof, y), 4),
            "refusal_recall": round(float((oof[y == 0] < threshold).mean()), 4),
            "false_refusal_rate": round(float((oof[y == 1] < threshold).mean()), 4),
            "max_false_refusals": max_false_refusals,
            "doubt_recall": round(float((oof[y == 0] < doubt).mean()), 4),
            "false_doubt_rate": round(float((oof[y == 1] < doubt).mean()), 4),
            "max_doubted": max_doubted,
        },
    }


def signal_rows(assistant, items: Sequence[dict]) -> list[tuple[list[float], bool]]:
    """The answer step's signals for every question the draft answer can be built for."""
    rows = []
    for item in items:
        query = assistant.read(item["question"], item.get("history") or [])
        hits = assistant.searcher.search(query.text)
        draft = assistant.generator.draft(query, hits)
        if draft.signals is not None:
            rows.append((draft.signals.vector(), item.get("kind") != "unanswerable"))
    return rows


def run(settings, dataset: Path = DEFAULT_DATASET, max_false_refusals: float = 0.05, out: Path = MODEL_PATH,
        max_doubted: float = MAX_DOUBTED) -> dict:
    """Fit on a dataset with the assistant these settings build, write the model, print the CV figures."""
    from retrieval.assistant import make_assistant

    assistant = make_assistant(settings)
    model = calibrate(signal_rows(assistant, load_dataset(dataset)), max_false_refusals, max_doubted)
    model["fitted_on"] = {"dataset": Path(dataset).name, "date": date.today().isoformat()}
    Path(out).write_text(json.dumps(model, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    cv = model["cross_validation"]
    print(f"{cv['n']} vragen ({cv['n_unanswerable']} onbeantwoordbaar), AUC {cv['auc']:.3f}, "
          f"weigert {cv['refusal_recall']:.0%} van de onbeantwoordbare bij {cv['false_refusal_rate']:.1%} "
          f"onterechte weigeringen; weigert of geeft een voorbehoud bij {cv['doubt_recall']:.0%} van de "
          f"onbeantwoordbare en {cv['false_doubt_rate']:.1%} van de beantwoordbare (kruisvalidatie, "
          f"{cv['folds']} delen). Model: {out}")
    return model


def main(argv: list[str] | None = None) -> int:
    from vraagpunt.settings import Settings, configure_runtime

    configure_runtime()
    parser = argparse.ArgumentParser(prog="python -m evals.calibrate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--max-false-refusals", type=float, default=0.05)
    parser.add_argument("--max-doubted", type=float, default=MAX_DOUBTED)
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args(argv)
    run(Settings.load(), args.dataset, args.max_false_refusals, args.out, args.max_doubted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
