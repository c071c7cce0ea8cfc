"""Peer for `churn-bench forest`: scikit-learn's RandomForestClassifier on the telco train file.

5-fold stratified CV (shuffle, random_state=0) with RandomForestClassifier(n_estimators=300,
min_samples_leaf=5, random_state=0, n_jobs=2) on one-hot (get_dummies) features; then a full fit
and prediction timings. Prints one JSON object, including the folds (test row indices) so the
Swift side scores the very same folds.
Usage: python3 forest_sklearn.py TRAIN_CSV
"""
import json
import sys
import time

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold

frame = pd.read_csv(sys.argv[1])
frame["TotalCharges"] = pd.to_numeric(frame["TotalCharges"], errors="coerce").fillna(0.0)
y = (frame["Churn"] == "Yes").to_numpy().astype(int)
X = pd.get_dummies(frame.drop(columns=["customerID", "Churn"]), dtype=np.float32).to_numpy(dtype=np.float32)


def model():
    return RandomForestClassifier(n_estimators=300, min_samples_leaf=5, random_state=0, n_jobs=2)


folds, scores = [], []
for train, test in StratifiedKFold(n_splits=5, shuffle=True, random_state=0).split(X, y):
    forest = model().fit(X[train], y[train])
    p = forest.predict_proba(X[test])[:, 1]
    pred = (p >= 0.5).astype(int)
    folds.append([int(i) for i in test])
    scores.append({"roc_auc": roc_auc_score(y[test], p), "f1": f1_score(y[test], pred),
                   "precision": precision_score(y[test], pred), "recall": recall_score(y[test], pred),
                   "accuracy": accuracy_score(y[test], pred)})

start = time.perf_counter()
forest = model().fit(X, y)
fit_seconds = time.perf_counter() - start
batch = np.resize(X, (1409, X.shape[1]))
batch_times, one_times = [], []
for _ in range(10):
    start = time.perf_counter(); forest.predict_proba(batch); batch_times.append(time.perf_counter() - start)
for i in range(50):
    start = time.perf_counter(); forest.predict_proba(X[i:i + 1]); one_times.append(time.perf_counter() - start)
print(json.dumps({"folds": folds, "scores": scores, "fit_seconds": fit_seconds,
                  "batch_1409_seconds": float(np.median(batch_times)), "one_row_seconds": float(np.median(one_times))}))
