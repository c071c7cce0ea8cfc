"""Peer for `churn-bench boosting`: LightGBM, XGBoost and CatBoost at their defaults on the very
splits the Swift side uses, and the `shap` library's TreeExplainer on a LightGBM model of the
same shape as churn's.

CSV is the canonical file churn-bench writes of the dataset (the rows churn's plugin reads, in
the same order). SPEC is a JSON object written by churn-bench:
  {"label", "positive", "id",               label column, its positive value, id column (dropped)
   "categorical": [column, ...],            the schema's categorical fields
   "folds": [[row, ...], ...],              each split's TEST rows (0-based); train = the rest
   "timing_rows": [row, ...],               rows of split 1's test part, for the 1-row calls
   "batch_rows": [row, ...],                10,000 rows (split 1's test rows, cycled)
   "one_row_calls": N,                      1-row predict_proba calls (the median is reported)
   "shap": {"rows": [row, ...], "trees": T, "num_leaves": L, "max_depth": D} or null}

Features: the id and label dropped; the schema's categorical fields as pandas `category` columns
(given natively: LightGBM reads category columns as categorical features, XGBoost with
enable_categorical=True, CatBoost as cat_features, as text); every other column numeric (blank:
NaN), YYYY-MM-DD dates as days since 1970, true/false and yes/no as 1/0 (the rules of
peer_features.py, without its one-hot step); any other text column is made categorical too.

Models, at their defaults, 2 threads each (OMP_NUM_THREADS=2 as well):
  lgbm      lightgbm.LGBMClassifier(random_state=0, n_jobs=2, verbose=-1)
  xgb       xgboost.XGBClassifier(tree_method="hist", enable_categorical=True, random_state=0, n_jobs=2)
  catboost  catboost.CatBoostClassifier(random_seed=0, thread_count=2, verbose=0,
            allow_writing_files=False, cat_features=...)
Per split: fit on the train rows (seconds), predict_proba on the test rows, ROC-AUC
(sklearn.metrics.roc_auc_score). On split 1's model: predict_proba on a 1-row DataFrame (the
frames cut before timing; median over one_row_calls calls, cycling over timing_rows), on the
10,000 batch rows (median of 5), and the size of the native model file (LightGBM
booster_.save_model text, XGBoost get_booster().save_model .ubj, CatBoost save_model .cbm).

SHAP: LightGBM trained on split 1's train rows with n_estimators=T, num_leaves=L, max_depth=D
(2 threads), then shap.TreeExplainer(model).shap_values(X[rows]) timed (median of 3; the
explainer built outside the timing). For LightGBM, shap hands this to LightGBM's own C++ TreeSHAP
(booster.predict(pred_contrib=True)), which runs on LightGBM's threads; that call with
num_threads=1 is timed too, as the one-core reference.

Prints one JSON object on stdout:
  {"rows", "positives", "features", "categorical", "prepare_seconds",
   "models": {NAME: {"fold_auc", "fit_seconds", "predict_seconds", "one_row_us", "batch_ms",
                     "model_bytes", "trees"}},
   "shap": {"trees", "leaves", "max_depth", "rows", "explainer_seconds", "pred_contrib_1_thread_seconds",
            "additivity_max_error"} or null,
   "missing": [module, ...], "versions": {library: version}}
Progress lines go to stderr; anything a library prints is sent to stderr too.

Usage: python3 boosting_peers.py CSV SPEC [--models lgbm,xgb,catboost]
"""
import argparse
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_features import chosen_models, json_output, labels, read_table  # noqa: E402

MODELS = ["lgbm", "xgb", "catboost"]
MODULES = {"lgbm": "lightgbm", "xgb": "xgboost", "catboost": "catboost"}

parser = argparse.ArgumentParser()
parser.add_argument("csv")
parser.add_argument("spec")
parser.add_argument("--models", default=",".join(MODELS))
args = parser.parse_args()

models = chosen_models(parser, args.models, MODELS)
json_out = json_output()


def log(message):
    print(f"[boosting_peers] {message}", file=sys.stderr, flush=True)


missing = [module for module in ["pandas", "sklearn"] + [MODULES[m] for m in models] if importlib.util.find_spec(module) is None]
spec = json.load(open(args.spec))
want_shap = spec.get("shap") is not None
if want_shap and importlib.util.find_spec("shap") is None:
    missing.append("shap")
if "pandas" in missing or "sklearn" in missing:
    json_out.write(json.dumps({"missing": missing, "models": {}, "shap": None, "versions": {}}) + "\n")
    sys.exit(0)
models = [m for m in models if MODULES[m] not in missing]
if missing:
    log(f"missing Python packages: {', '.join(missing)} (pip install {' '.join(missing)})")

import pandas as pd  # noqa: E402
import sklearn  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

versions = {"python": sys.version.split()[0], "numpy": np.__version__, "pandas": pd.__version__, "scikit-learn": sklearn.__version__}


def native_frame(frame, categorical):
    """The feature frame: categorical fields as `category`, the rest numbers (see the docstring)."""
    columns = {}
    for name in frame.columns:
        text = frame[name].str.strip()
        if name not in categorical:
            numbers = pd.to_numeric(text.replace("", np.nan), errors="coerce")
            if numbers.notna().sum() == (text != "").sum():
                columns[name] = numbers.astype(np.float64)
                continue
            dates = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
            if dates.notna().sum() == (text != "").sum() and dates.notna().any():
                columns[name] = ((dates - pd.Timestamp("1970-01-01")).dt.days).astype(np.float64)
                continue
            lowered = text.str.lower()
            if set(lowered.unique()) <= {"yes", "no", "true", "false", ""}:
                columns[name] = lowered.map({"yes": 1.0, "true": 1.0, "no": 0.0, "false": 0.0})
                continue
        columns[name] = text.replace("", np.nan).astype("category")
    return pd.DataFrame(columns)


start = time.perf_counter()
frame = read_table(args.csv)
y = labels(frame, spec["label"], spec["positive"])
if y.sum() == 0 or y.sum() == len(y):
    sys.exit(f"boosting_peers: the label {spec['label']!r} has a single class with positive {spec['positive']!r}")
features = frame.drop(columns=[c for c in [spec["label"], spec.get("id")] if c])
del frame
X = native_frame(features, set(spec["categorical"]))
del features
categorical = [c for c in X.columns if str(X[c].dtype) == "category"]
prepare_seconds = time.perf_counter() - start
folds = [np.asarray(fold, dtype=np.int64) for fold in spec["folds"]]
for fold in folds:
    if len(fold) == 0 or fold.min() < 0 or fold.max() >= len(y):
        sys.exit(f"boosting_peers: a split in {args.spec} has a row index outside 0..{len(y) - 1}")
log(f"{os.path.basename(args.csv)}: {len(y)} rows, {int(y.sum())} positives, {X.shape[1]} features "
    f"({len(categorical)} categorical), {len(folds)} split(s), read and prepared in {prepare_seconds:.1f} s")


def catboost_frame(frame):
    """CatBoost takes categorical columns as text (a missing value as its own category "")."""
    copy = frame.copy()
    for column in categorical:
        copy[column] = copy[column].astype(str).replace("nan", "")
    return copy


def make(name):
    if name == "lgbm":
        import lightgbm
        versions["lightgbm"] = lightgbm.__version__
        return lightgbm.LGBMClassifier(random_state=0, n_jobs=2, verbose=-1)
    if name == "xgb":
        import xgboost
        versions["xgboost"] = xgboost.__version__
        return xgboost.XGBClassifier(tree_method="hist", enable_categorical=True, random_state=0, n_jobs=2)
    if name == "catboost":
        import catboost
        versions["catboost"] = catboost.__version__
        return catboost.CatBoostClassifier(
            random_seed=0, thread_count=2, verbose=0, allow_writing_files=False, cat_features=categorical)
    raise ValueError(name)


def tree_count(name, model):
    if name == "lgbm":
        return int(model.booster_.num_trees())
    if name == "xgb":
        return int(model.get_booster().num_boosted_rounds())
    return int(model.tree_count_)


def model_bytes(name, model, folder):
    path = os.path.join(folder, {"lgbm": "model.txt", "xgb": "model.ubj", "catboost": "model.cbm"}[name])
    if name == "lgbm":
        model.booster_.save_model(path)
    elif name == "xgb":
        model.get_booster().save_model(path)
    else:
        model.save_model(path)
    return os.path.getsize(path)


def median_seconds(call, repeats):
    times = []
    for _ in range(repeats):
        begin = time.perf_counter()
        call()
        times.append(time.perf_counter() - begin)
    return statistics.median(times)


results = {}
scratch = tempfile.mkdtemp(prefix="boosting-peers-")
for name in models:
    data = catboost_frame(X) if name == "catboost" else X
    entry = {"fold_auc": [], "fit_seconds": [], "predict_seconds": []}
    for index, fold in enumerate(folds):
        test = np.zeros(len(y), dtype=bool)
        test[fold] = True
        train_X, train_y = data[~test], y[~test]
        test_X = data.iloc[fold]
        model = make(name)
        begin = time.perf_counter()
        model.fit(train_X, train_y)
        fit_seconds = time.perf_counter() - begin
        del train_X
        begin = time.perf_counter()
        p = model.predict_proba(test_X)[:, 1]
        predict_seconds = time.perf_counter() - begin
        auc = float(roc_auc_score(y[fold], p))
        entry["fold_auc"].append(auc)
        entry["fit_seconds"].append(fit_seconds)
        entry["predict_seconds"].append(predict_seconds)
        log(f"{name} split {index + 1}/{len(folds)}: AUC {auc:.4f}, fit {fit_seconds:.2f} s")
        if index == 0:
            frames = [data.iloc[[row]] for row in spec["timing_rows"]]
            for one in frames[:20]:
                model.predict_proba(one)  # warm up
            calls = int(spec["one_row_calls"])
            times = []
            for call in range(calls):
                one = frames[call % len(frames)]
                begin = time.perf_counter()
                model.predict_proba(one)
                times.append(time.perf_counter() - begin)
            entry["one_row_us"] = statistics.median(times) * 1e6
            batch = data.iloc[np.asarray(spec["batch_rows"], dtype=np.int64)]
            entry["batch_ms"] = median_seconds(lambda: model.predict_proba(batch), 5) * 1e3
            entry["model_bytes"] = model_bytes(name, model, scratch)
            entry["trees"] = tree_count(name, model)
            log(f"{name}: 1 row {entry['one_row_us']:.0f} µs, 10,000 rows {entry['batch_ms']:.1f} ms, "
                f"model file {entry['model_bytes']} bytes, {entry['trees']} trees")
        del model
    results[name] = entry

shap_result = None
if want_shap and "shap" not in missing and "lightgbm" not in missing:
    import lightgbm
    import shap

    # shap warns on every LightGBM binary call that its output shape changed in 0.45; we read both.
    warnings.filterwarnings("ignore", message="LightGBM binary classifier with TreeExplainer")
    versions["lightgbm"] = lightgbm.__version__
    versions["shap"] = shap.__version__
    shape = spec["shap"]
    fold = folds[0]
    test = np.zeros(len(y), dtype=bool)
    test[fold] = True
    model = lightgbm.LGBMClassifier(
        n_estimators=int(shape["trees"]), num_leaves=int(shape["num_leaves"]), max_depth=int(shape["max_depth"]),
        random_state=0, n_jobs=2, verbose=-1)
    model.fit(X[~test], y[~test])
    dump = model.booster_.dump_model()["tree_info"]

    def depth(node):
        if "split_index" not in node:
            return 0
        return 1 + max(depth(node["left_child"]), depth(node["right_child"]))

    leaves = sum(int(tree["num_leaves"]) for tree in dump)
    deepest = max(depth(tree["tree_structure"]) for tree in dump)
    rows = X.iloc[np.asarray(shape["rows"], dtype=np.int64)]
    explainer = shap.TreeExplainer(model)
    values = explainer.shap_values(rows)  # warm up (and the additivity check below)
    raw = model.predict(rows, raw_score=True)
    expected = explainer.expected_value
    expected = float(expected[-1] if np.ndim(expected) else expected)
    values = values[-1] if isinstance(values, list) else values
    additivity = float(np.max(np.abs(expected + np.asarray(values).sum(axis=1) - raw)))
    explainer_seconds = median_seconds(lambda: explainer.shap_values(rows), 3)
    one_thread = median_seconds(lambda: model.booster_.predict(rows, pred_contrib=True, num_threads=1), 3)
    shap_result = {"trees": len(dump), "leaves": leaves, "max_depth": deepest, "rows": len(rows),
                   "explainer_seconds": explainer_seconds, "pred_contrib_1_thread_seconds": one_thread,
                   "additivity_max_error": additivity}
    log(f"shap: LightGBM {len(dump)} trees, {leaves} leaves, depth <= {deepest}: TreeExplainer "
        f"{explainer_seconds * 1e6 / len(rows):.1f} µs a row, pred_contrib 1 thread {one_thread * 1e6 / len(rows):.1f} µs a row")

out = {"rows": int(len(y)), "positives": int(y.sum()), "features": int(X.shape[1]), "categorical": categorical,
       "prepare_seconds": prepare_seconds, "models": results, "shap": shap_result, "missing": missing,
       "versions": versions}
json_out.write(json.dumps(out) + "\n")
json_out.flush()
