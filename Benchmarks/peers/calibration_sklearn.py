"""Peer for `churn-bench calibration`: scikit-learn's RandomForestClassifier calibrated with
CalibratedClassifierCV on the very split churnd uses (train, validation, held-back test CSVs
written by the Swift side).

The forest (n_estimators=300, min_samples_leaf=5, random_state=0) is fitted on the train rows;
CalibratedClassifierCV calibrates the fitted forest (FrozenEstimator, i.e. cv="prefit") on the
validation rows with method "sigmoid" (Platt) and "isotonic"; every variant is judged on the
test rows: ECE over 10 uniform bins (the mean |mean predicted - observed rate| weighted by each
bin's share, bins as sklearn.calibration.calibration_curve makes them), Brier score, ROC-AUC.
Features are encoded as forest_sklearn.py does, over the three files together.

Usage: python3 calibration_sklearn.py TRAIN VALIDATION TEST --label Churn --positive Yes [--id customerID]
"""
import argparse
import json

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import brier_score_loss, roc_auc_score

parser = argparse.ArgumentParser()
parser.add_argument("train")
parser.add_argument("validation")
parser.add_argument("test")
parser.add_argument("--label", default="Churn")
parser.add_argument("--positive", default="Yes")
parser.add_argument("--id", default=None)
args = parser.parse_args()

frames = [pd.read_csv(path, dtype=str, keep_default_na=False) for path in (args.train, args.validation, args.test)]
sizes = [len(frame) for frame in frames]
frame = pd.concat(frames, ignore_index=True)
y = (frame[args.label].str.strip() == args.positive).to_numpy().astype(int)
frame = frame.drop(columns=[c for c in [args.label, args.id] if c and c in frame.columns])
columns = {}
for name in frame.columns:
    text = frame[name].str.strip()
    numbers = pd.to_numeric(text.replace("", np.nan), errors="coerce")
    if numbers.notna().sum() == (text != "").sum():
        columns[name] = numbers.fillna(0.0)
        continue
    lowered = text.str.lower()
    if set(lowered.unique()) <= {"yes", "no", "true", "false"}:
        columns[name] = lowered.isin(["yes", "true"]).astype(float)
        continue
    columns[name] = text
X = pd.get_dummies(pd.DataFrame(columns), dtype=np.float32).to_numpy(dtype=np.float32)
a, b = sizes[0], sizes[0] + sizes[1]
X_train, y_train, X_val, y_val, X_test, y_test = X[:a], y[:a], X[a:b], y[a:b], X[b:], y[b:]


def ece(labels, p, bins=10):
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.searchsorted(edges[1:-1], p, side="left")
    total = 0.0
    for k in range(bins):
        chosen = index == k
        if chosen.any():
            total += chosen.sum() / len(p) * abs(p[chosen].mean() - labels[chosen].mean())
    return float(total)


def judge(p):
    return {"ece": ece(y_test, p), "brier": float(brier_score_loss(y_test, p)), "roc_auc": float(roc_auc_score(y_test, p))}


forest = RandomForestClassifier(n_estimators=300, min_samples_leaf=5, random_state=0, n_jobs=2).fit(X_train, y_train)
result = {"raw": judge(forest.predict_proba(X_test)[:, 1])}
for method in ("sigmoid", "isotonic"):
    try:
        from sklearn.frozen import FrozenEstimator

        calibrated = CalibratedClassifierCV(FrozenEstimator(forest), method=method)
    except ImportError:
        calibrated = CalibratedClassifierCV(forest, method=method, cv="prefit")
    calibrated.fit(X_val, y_val)
    result[method] = judge(calibrated.predict_proba(X_test)[:, 1])
print(json.dumps(result))
