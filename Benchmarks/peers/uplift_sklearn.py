"""Peer for `churn-bench uplift`: a two-model uplift learner ("T-learner") with scikit-learn,
the same method as churn's uplift forest: one RandomForestClassifier fitted on the treated
customers of a randomized campaign, one on the control group; a customer's predicted uplift is
P(churn | control model) - P(churn | treated model).

Both forests: n_estimators=300, min_samples_leaf=5, random_state=0 (1 for control), n_jobs=2.
Features are encoded as forest_sklearn.py does, over both files together. The Swift side judges
the scores it prints (one per held-back row, in file order) with the same Qini code it judges
churn's model with; this script only reports its fit time.

Usage: python3 uplift_sklearn.py TRAIN HOLDOUT --label Churn --positive Yes --treatment arm --id customerID
"""
import argparse
import json
import time

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier

parser = argparse.ArgumentParser()
parser.add_argument("train")
parser.add_argument("holdout")
parser.add_argument("--label", default="Churn")
parser.add_argument("--positive", default="Yes")
parser.add_argument("--treatment", default="arm")
parser.add_argument("--id", default=None)
args = parser.parse_args()

frames = [pd.read_csv(path, dtype=str, keep_default_na=False) for path in (args.train, args.holdout)]
size = len(frames[0])
frame = pd.concat(frames, ignore_index=True)
y = (frame[args.label].str.strip() == args.positive).to_numpy().astype(int)
treated = (frame[args.treatment].str.strip() == "treated").to_numpy()
frame = frame.drop(columns=[c for c in [args.label, args.id, args.treatment] if c and c in frame.columns])
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
X_train, y_train, t_train, X_hold = X[:size], y[:size], treated[:size], X[size:]

start = time.perf_counter()
treated_model = RandomForestClassifier(n_estimators=300, min_samples_leaf=5, random_state=0, n_jobs=2)
treated_model.fit(X_train[t_train], y_train[t_train])
control_model = RandomForestClassifier(n_estimators=300, min_samples_leaf=5, random_state=1, n_jobs=2)
control_model.fit(X_train[~t_train], y_train[~t_train])
fit_seconds = time.perf_counter() - start
untreated = control_model.predict_proba(X_hold)[:, 1]
uplift = untreated - treated_model.predict_proba(X_hold)[:, 1]
print(json.dumps({"fit_seconds": fit_seconds, "uplift": uplift.tolist(), "untreated": untreated.tolist()}))
