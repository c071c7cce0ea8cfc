"""Writes metrics.json: label/probability vectors and scikit-learn's metrics on them.

The Swift tests (MetricsTests) check that ChurnData's Metrics give the same numbers.
Run from this folder: python3 make_metric_fixtures.py  (needs scikit-learn and numpy).
"""
import json

import numpy as np
import sklearn
from sklearn.calibration import calibration_curve
from sklearn.metrics import (accuracy_score, average_precision_score, brier_score_loss, confusion_matrix,
                             f1_score, log_loss, precision_recall_curve, precision_score, recall_score,
                             roc_auc_score)


def case(name, y, p):
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    pred = (p >= 0.5).astype(int)
    precision, recall, thresholds = precision_recall_curve(y, p)
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-300), 0)[:-1]
    best = int(np.argmax(f1))
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy="uniform")
    tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
    return {
        "name": name,
        "labels": [bool(v) for v in y],
        "probabilities": [float(v) for v in p],
        "expected": {
            "roc_auc": float(roc_auc_score(y, p)),
            "pr_auc": float(average_precision_score(y, p)),
            "log_loss": float(log_loss(y, p, labels=[0, 1])),
            "brier": float(brier_score_loss(y, p)),
            "accuracy": float(accuracy_score(y, pred)),
            "precision": float(precision_score(y, pred, zero_division=0)),
            "recall": float(recall_score(y, pred, zero_division=0)),
            "f1": float(f1_score(y, pred, zero_division=0)),
            "confusion": {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)},
            "best_f1_threshold": float(thresholds[best]),
            "best_f1": float(f1[best]),
            "calibration_observed": [float(v) for v in prob_true],
            "calibration_predicted": [float(v) for v in prob_pred],
        },
    }


rng = np.random.default_rng(20261125)
cases = []
y = rng.random(500) < 0.27
cases.append(case("noisy scores, no ties", y, np.clip(0.27 + 0.35 * (y - 0.27) + rng.normal(0, 0.2, 500), 0, 1)))
cases.append(case("heavy ties (scores rounded to 0.1)", y, np.round(np.clip(0.3 + 0.3 * (y - 0.3) + rng.normal(0, 0.25, 500), 0, 1), 1)))
cases.append(case("perfect separation", [0, 0, 0, 1, 1], [0.1, 0.2, 0.3, 0.8, 0.9]))
cases.append(case("inverted", [1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]))
cases.append(case("exact 0 and 1 probabilities", [0, 1, 1, 0, 1, 0], [0.0, 1.0, 0.6, 0.4, 0.0, 1.0]))
cases.append(case("scores on bin edges", [0, 1, 0, 1, 1, 0, 1, 0], [0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0, 0.0]))
cases.append(case("nothing predicted positive", [0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4]))

with open("metrics.json", "w") as out:
    json.dump({"generated_by": f"make_metric_fixtures.py with scikit-learn {sklearn.__version__}", "cases": cases}, out, indent=1)
print(f"wrote metrics.json: {len(cases)} cases, scikit-learn {sklearn.__version__}")
