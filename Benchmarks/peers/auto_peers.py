"""Peer for `churn-bench auto`: off-the-shelf learners on the very outer folds the Swift side uses.

For each outer fold of FOLDS (a JSON list of k lists of 0-based row indices, each list one fold's
TEST rows): fit on every row not in the fold, predict_proba on the fold, ROC-AUC
(sklearn.metrics.roc_auc_score), and the wall time of fit + predict. Models:
  rf          sklearn RandomForestClassifier(random_state=0, n_jobs=2) at its defaults
  lgbm        lightgbm.LGBMClassifier(random_state=0, n_jobs=2, verbose=-1) at its defaults
  xgb         xgboost.XGBClassifier(random_state=0, n_jobs=2) at its defaults
  catboost    catboost.CatBoostClassifier(random_seed=0, thread_count=2, verbose=0) at its
              defaults (allow_writing_files=False: no catboost_info folder; no effect on the model)
  lgbm_optuna LightGBM tuned by Optuna (TPESampler(seed=0)) for BUDGET seconds per outer fold
              (study.optimize(timeout=BUDGET); a trial under way when the time is up is finished);
              objective the mean ROC-AUC of a stratified 5-fold CV (shuffle, random_state=0) on the
              outer fold's train rows only; space num_leaves 8-256 log, learning_rate 0.01-0.3 log,
              n_estimators 50-1000 log, min_child_samples 5-100 log, colsample_bytree 0.5-1,
              subsample 0.5-1 (subsample_freq 1), reg_lambda 1e-3-10 log; the best params refit on
              the whole outer train and scored on the outer test. Its time includes the search.
Features as forest_sklearn.py makes them (peer_features.py): the id column dropped, numbers as
numbers (a blank number 0 for the sklearn forest, NaN for the boosting libraries), YYYY-MM-DD
dates as days since 1970, yes/no and true/false columns as 1/0, any other text one-hot. The label
is 1 where the cell equals POSITIVE (compared case-insensitively only if no cell equals it exactly).

Prints one JSON object on stdout:
  {"dataset", "rows", "positives", "folds", "budget_seconds", "features",
   "models": {NAME: {"fold_auc", "mean_auc", "seconds", "fold_seconds"}, ...,
              "lgbm_optuna": {..., "trials", "best_cv_auc", "best_params"}},
   "versions": {library: version}}
Progress lines go to stderr; anything a library prints is sent to stderr too.

Usage: python3 auto_peers.py CSV --label Churn --positive Yes [--id customerID] --folds folds.json
       --budget SECONDS [--models rf,lgbm,xgb,catboost,lgbm_optuna]
"""
import argparse
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_features import chosen_models, encode, json_output, labels, read_table  # noqa: E402

MODELS = ["rf", "lgbm", "xgb", "catboost", "lgbm_optuna"]

parser = argparse.ArgumentParser()
parser.add_argument("csv")
parser.add_argument("--label", required=True)
parser.add_argument("--positive", required=True)
parser.add_argument("--id", default=None)
parser.add_argument("--folds", required=True)
parser.add_argument("--budget", type=float, required=True, help="Optuna seconds per outer fold")
parser.add_argument("--models", default=",".join(MODELS))
args = parser.parse_args()

models = chosen_models(parser, args.models, MODELS)
json_out = json_output()


def log(message):
    print(f"[auto_peers] {message}", file=sys.stderr, flush=True)


frame = read_table(args.csv)
if args.label not in frame.columns:
    sys.exit(f"auto_peers: no label column {args.label!r} in {args.csv}")
if args.id and args.id not in frame.columns:
    sys.exit(f"auto_peers: no id column {args.id!r} in {args.csv}")
y = labels(frame, args.label, args.positive)
if y.sum() == 0:
    y = labels(frame, args.label, args.positive, ignore_case=True)
    log(f"no label cell equals {args.positive!r} exactly; compared case-insensitively")
if y.sum() == 0 or y.sum() == len(y):
    sys.exit(f"auto_peers: the label {args.label!r} has a single class with positive {args.positive!r}")
features = frame.drop(columns=[c for c in [args.label, args.id] if c])
X_zero = encode(features, missing=0.0) if "rf" in models else None
X_nan = encode(features, missing=np.nan) if any(m != "rf" for m in models) else None
n_features = int((X_zero if X_zero is not None else X_nan).shape[1])

folds = json.load(open(args.folds))
seen = np.zeros(len(y), dtype=int)
for fold in folds:
    if any(not 0 <= int(i) < len(y) for i in fold):
        sys.exit(f"auto_peers: a fold in {args.folds} has a row index outside 0..{len(y) - 1}")
    seen[np.asarray(fold, dtype=int)] += 1
if (seen != 1).any():
    log(f"warning: the folds do not partition the {len(y)} rows "
        f"({int((seen == 0).sum())} in no fold, {int((seen > 1).sum())} in several)")
log(f"{os.path.basename(args.csv)}: {len(y)} rows, {int(y.sum())} positives, {n_features} features, "
    f"{len(folds)} folds, models {','.join(models)}, budget {args.budget:g} s")

versions = {"python": sys.version.split()[0], "numpy": np.__version__}
import pandas as pd  # noqa: E402
import sklearn  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

versions["pandas"] = pd.__version__
versions["scikit-learn"] = sklearn.__version__
if "lgbm" in models or "lgbm_optuna" in models:
    import lightgbm
    versions["lightgbm"] = lightgbm.__version__
if "xgb" in models:
    import xgboost
    versions["xgboost"] = xgboost.__version__
if "catboost" in models:
    import catboost
    versions["catboost"] = catboost.__version__
if "lgbm_optuna" in models:
    import optuna
    versions["optuna"] = optuna.__version__
    optuna.logging.set_verbosity(optuna.logging.WARNING)


def make(name, params=None):
    if name == "rf":
        from sklearn.ensemble import RandomForestClassifier
        return RandomForestClassifier(random_state=0, n_jobs=2)
    if name == "lgbm":
        return lightgbm.LGBMClassifier(random_state=0, n_jobs=2, verbose=-1)
    if name == "xgb":
        return xgboost.XGBClassifier(random_state=0, n_jobs=2)
    if name == "catboost":
        return catboost.CatBoostClassifier(random_seed=0, thread_count=2, verbose=0, allow_writing_files=False)
    if name == "lgbm_tuned":
        return lightgbm.LGBMClassifier(random_state=0, n_jobs=2, verbose=-1, subsample_freq=1, **params)
    raise ValueError(name)


def search_space(trial):
    return {
        "num_leaves": trial.suggest_int("num_leaves", 8, 256, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "n_estimators": trial.suggest_int("n_estimators", 50, 1000, log=True),
        "min_child_samples": trial.suggest_int("min_child_samples", 5, 100, log=True),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.5, 1.0),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True),
    }


def tune(X, y):
    """Optuna study on (X, y) = the outer train rows only; returns (best params, best CV AUC, trials)."""
    inner = list(StratifiedKFold(n_splits=5, shuffle=True, random_state=0).split(X, y))

    def objective(trial):
        params = search_space(trial)
        scores = []
        for train, test in inner:
            model = make("lgbm_tuned", params).fit(X[train], y[train])
            scores.append(roc_auc_score(y[test], model.predict_proba(X[test])[:, 1]))
        return float(np.mean(scores))

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(objective, timeout=args.budget, n_jobs=1)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    return study.best_params, float(study.best_value), len(done)


results = {}
for name in models:
    X = X_zero if name == "rf" else X_nan
    entry = {"fold_auc": [], "mean_auc": None, "seconds": 0.0, "fold_seconds": []}
    if name == "lgbm_optuna":
        entry.update({"trials": [], "best_cv_auc": [], "best_params": []})
    for index, fold in enumerate(folds):
        test = np.zeros(len(y), dtype=bool)
        test[np.asarray(fold, dtype=int)] = True
        train = ~test
        start = time.perf_counter()
        if name == "lgbm_optuna":
            params, cv_auc, trials = tune(X[train], y[train])
            model = make("lgbm_tuned", params).fit(X[train], y[train])
        else:
            model = make(name).fit(X[train], y[train])
        p = model.predict_proba(X[test])[:, 1]
        seconds = time.perf_counter() - start
        auc = float(roc_auc_score(y[test], p))
        entry["fold_auc"].append(auc)
        entry["fold_seconds"].append(seconds)
        extra = ""
        if name == "lgbm_optuna":
            entry["trials"].append(trials)
            entry["best_cv_auc"].append(cv_auc)
            entry["best_params"].append(params)
            extra = f", {trials} trials, best inner CV AUC {cv_auc:.4f}"
        log(f"{name} fold {index + 1}/{len(folds)}: AUC {auc:.4f}, {seconds:.2f} s{extra}")
    entry["mean_auc"] = float(np.mean(entry["fold_auc"]))
    entry["seconds"] = float(np.sum(entry["fold_seconds"]))
    log(f"{name}: mean AUC {entry['mean_auc']:.4f}, {entry['seconds']:.2f} s over {len(folds)} folds")
    results[name] = entry

result = {"dataset": os.path.basename(args.csv), "rows": int(len(y)), "positives": int(y.sum()),
          "folds": len(folds), "budget_seconds": args.budget, "features": n_features,
          "models": results, "versions": versions}
json_out.write(json.dumps(result) + "\n")
json_out.flush()
