"""Peer for `churn-bench lstm --history`: scikit-learn's RandomForestClassifier on the wide table.

The customers file's static columns (numbers as numbers, a blank number 0; other text one-hot)
beside the monthly panel pivoted wide: one column per panel column and month of the customer's
last WINDOW months (t-11 ... t, aligned on each customer's own latest month, as the churn models
align them; categorical panel columns one-hot per month; a month the customer does not have is 0)
plus the number of months present. RandomForestClassifier(n_estimators=300, min_samples_leaf=5,
random_state=0, n_jobs=2) on the very folds the Swift side uses (folds.json: test row indices).
Prints one JSON object per fold: {"fold", "roc_auc", "fit_seconds", "columns"}.

Usage: python3 history_sklearn.py FOLDER --id ID --label LABEL --positive VALUE
       --customer CUSTOMER_COLUMN --period PERIOD_COLUMN [--window 12]
"""
import argparse
import json
import time

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score

parser = argparse.ArgumentParser()
parser.add_argument("folder")
parser.add_argument("--id", required=True)
parser.add_argument("--label", required=True)
parser.add_argument("--positive", required=True)
parser.add_argument("--customer", required=True)
parser.add_argument("--period", required=True)
parser.add_argument("--window", type=int, default=12)
args = parser.parse_args()

customers = pd.read_csv(f"{args.folder}/customers.csv", dtype=str, keep_default_na=False)
y = (customers[args.label].str.strip() == args.positive).to_numpy().astype(int)
ids = customers[args.id]
static = customers.drop(columns=[args.label, args.id])
columns = {}
for name in static.columns:
    text = static[name].str.strip()
    numbers = pd.to_numeric(text.replace("", np.nan), errors="coerce")
    if numbers.notna().sum() == (text != "").sum():
        columns[name] = numbers.fillna(0.0)
    else:
        for value in sorted(text.unique()):
            columns[f"{name}={value}"] = (text == value).astype(float)
static = pd.DataFrame(columns)

panel = pd.read_csv(f"{args.folder}/history.csv", dtype=str, keep_default_na=False)
period = panel[args.period].str.strip()
panel["_month"] = period.map(lambda p: int(p[:4]) * 12 + int(p[5:7]) if "-" in p else int(p))
panel["_offset"] = panel.groupby(args.customer)["_month"].transform("max") - panel["_month"]
panel = panel[panel["_offset"] < args.window]
values = {}
for name in panel.columns:
    if name in (args.customer, args.period, "_month", "_offset"):
        continue
    text = panel[name].str.strip()
    numbers = pd.to_numeric(text.replace("", np.nan), errors="coerce")
    if numbers.notna().sum() == (text != "").sum():
        values[name] = numbers.fillna(0.0)
    else:
        for value in sorted(text.unique()):
            values[f"{name}={value}"] = (text == value).astype(float)
long = pd.DataFrame(values)
long["_customer"] = panel[args.customer].to_numpy()
long["_offset"] = panel["_offset"].to_numpy()
wide = long.pivot(index="_customer", columns="_offset")
wide.columns = [f"{name}@t-{offset}" for name, offset in wide.columns]
present = long.groupby("_customer").size().rename("months_present")
wide = wide.join(present).reindex(ids).fillna(0.0)

features = np.hstack([static.to_numpy(), wide.to_numpy()])
folds = json.load(open(f"{args.folder}/folds.json"))
for index, test in enumerate(folds):
    mask = np.zeros(len(y), dtype=bool)
    mask[test] = True
    model = RandomForestClassifier(n_estimators=300, min_samples_leaf=5, random_state=0, n_jobs=2)
    start = time.perf_counter()
    model.fit(features[~mask], y[~mask])
    fit = time.perf_counter() - start
    auc = roc_auc_score(y[mask], model.predict_proba(features[mask])[:, 1])
    print(json.dumps({"fold": index + 1, "roc_auc": auc, "fit_seconds": fit, "columns": int(features.shape[1])}), flush=True)
