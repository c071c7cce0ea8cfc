"""Peer for `churn-bench forest`: scikit-learn's RandomForestClassifier on a labelled CSV.

5-fold stratified CV (shuffle, random_state=0) with RandomForestClassifier(n_estimators=300,
min_samples_leaf=5, random_state=0, n_jobs=2); then a full fit and prediction timings. Features:
the id column dropped, numbers as numbers (a blank number is 0), YYYY-MM-DD dates as days since
1970, yes/no and true/false columns as 1/0, any other text one-hot (get_dummies). Prints one
JSON object, including the folds (test row indices) so the Swift side scores the very same folds.

Usage: python3 forest_sklearn.py CSV [--label Churn] [--positive Yes] [--id customerID] [--no-timing]
"""
import argparse
import json
import time

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold

parser = argparse.ArgumentParser()
parser.add_argument("csv")
parser.add_argument("--label", default="Churn")
parser.add_argument("--positive", default="Yes")
parser.add_argument("--id", default=None)
parser.add_argument("--no-timing", action="store_true")
args = parser.parse_args()

frame = pd.read_csv(args.csv, dtype=str, keep_default_na=False)
y = (frame[args.label].str.strip() == args.positive).to_numpy().astype(int)
frame = frame.drop(columns=[c for c in [args.label, args.id] if c])
columns = {}
for name in frame.columns:
    text = frame[name].str.strip()
    numbers = pd.to_numeric(text.replace("", np.nan), errors="coerce")
    if numbers.notna().sum() == (text != "").sum():
        columns[name] = numbers.fillna(0.0)
        continue
    dates = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    if dates.notna().sum() == (text != "").sum() and dates.notna().any():
        columns[name] = ((dates - pd.Timestamp("1970-01-01")).dt.days).fillna(0.0)
        continue
    lowered = text.str.lower()
    if set(lowered.unique()) <= {"yes", "no", "true", "false"}:
        columns[name] = lowered.isin(["yes", "true"]).astype(float)
        continue
    columns[name] = text
X = pd.get_dummies(pd.DataFrame(columns), dtype=np.float32).to_numpy(dtype=np.float32)


def model():
    return RandomForestClassifier(n_estimators=300, min_samples_leaf=5, random_state=0, n_jobs=2)


folds, scores = [], []
for train, test in StratifiedKFold(n_splits=5, shuffle=True, random_state=0).split(X, y):
    forest = model().fit(X[train], y[train])
    p = forest.predict_proba(X[test])[:, 1]
    pred = (p >= 0.5).astype(int)
    folds.append([int(i) for i in test])
    scores.append({"roc_auc": roc_auc_score(y[test], p), "f1": f1_score(y[test], pred),
                   "precision": precision_score(y[test], pred, zero_division=0), "recall": recall_score(y[test], pred),
                   "accuracy": accuracy_score(y[test], pred)})

result = {"folds": folds, "scores": scores, "features": int(X.shape[1])}
if not args.no_timing:
    start = time.perf_counter()
    forest = model().fit(X, y)
    result["fit_seconds"] = time.perf_counter() - start
    batch = np.resize(X, (1409, X.shape[1]))
    batch_times, one_times = [], []
    for _ in range(10):
        start = time.perf_counter(); forest.predict_proba(batch); batch_times.append(time.perf_counter() - start)
    for i in range(50):
        start = time.perf_counter(); forest.predict_proba(X[i:i + 1]); one_times.append(time.perf_counter() - start)
    result["batch_1409_seconds"] = float(np.median(batch_times))
    result["one_row_seconds"] = float(np.median(one_times))
print(json.dumps(result))
