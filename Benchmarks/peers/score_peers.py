"""Peer for `churn-bench score`: the pandas script an analyst writes to score a whole customer
base (read the file, encode it as the model was trained, predict_proba, write a scores CSV),
with scikit-learn's random forest and with LightGBM.

Two steps, each its own process so that the scoring process's peak memory is its own:

  python3 score_peers.py train TRAIN_CSV MODEL_DIR --id ID --label LABEL --positive VALUE
          [--models sklearn,lgbm] [--trees N --max-depth D --min-leaf L --max-features F]
      Fits each model on TRAIN_CSV (the id and label columns dropped; a column whose cells all
      read as numbers is numeric, a blank is NaN; any other column is categorical) and saves it
      to MODEL_DIR with the encoding it needs: sklearn (RandomForestClassifier with the given
      forest parameters, n_jobs=2, one-hot columns via get_dummies, NaN as 0) saved with joblib;
      lgbm (LGBMClassifier at its defaults, n_jobs=2, pandas category columns) saved as
      LightGBM's text model. Prints {"fit_seconds": {model: s}} on stdout.

  python3 score_peers.py score MODEL_DIR MODEL CSV OUT
      Times the whole scoring script: pandas.read_csv, the encoding above (one-hot columns
      aligned to training's, categories fixed to training's), predict_proba, and writing
      OUT (id, churn_probability with 6 decimals) with DataFrame.to_csv. Prints one JSON
      object: {"model", "rows", "seconds", "rows_per_second", "peak_bytes"} where peak_bytes is
      this process's peak resident memory (getrusage).

OMP_NUM_THREADS=2 is set for the libraries.
"""
import argparse
import json
import os
import resource
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def kinds(frame):
    """(numeric columns, categorical columns) of a frame read with pandas' own inference."""
    numeric, categorical = [], []
    for name in frame.columns:
        if pd.api.types.is_numeric_dtype(frame[name]):
            numeric.append(name)
            continue
        converted = pd.to_numeric(frame[name].astype(str).str.strip().replace("", np.nan), errors="coerce")
        if converted.notna().sum() == frame[name].astype(str).str.strip().ne("").sum():
            numeric.append(name)
        else:
            categorical.append(name)
    return numeric, categorical


def numeric_frame(frame, numeric):
    return frame[numeric].apply(lambda column: pd.to_numeric(column, errors="coerce"))


def train(arguments):
    frame = pd.read_csv(arguments.train)
    y = (frame[arguments.label].astype(str).str.strip() == arguments.positive).astype(int).to_numpy()
    frame = frame.drop(columns=[c for c in [arguments.id, arguments.label] if c in frame.columns])
    numeric, categorical = kinds(frame)
    meta = {"id": arguments.id, "numeric": numeric, "categorical": categorical, "categories": {}}
    os.makedirs(arguments.model_dir, exist_ok=True)
    fit_seconds = {}
    models = [m for m in arguments.models.split(",") if m]
    if "sklearn" in models:
        from sklearn.ensemble import RandomForestClassifier
        import joblib
        X = pd.concat([numeric_frame(frame, numeric).fillna(0.0), pd.get_dummies(frame[categorical].astype(str), dtype=np.float32)], axis=1)
        meta["dummies"] = list(X.columns)
        max_features = float(arguments.max_features) if arguments.max_features.replace(".", "", 1).isdigit() else arguments.max_features
        model = RandomForestClassifier(
            n_estimators=arguments.trees, max_depth=arguments.max_depth or None, min_samples_leaf=arguments.min_leaf,
            max_features=max_features, n_jobs=2, random_state=0)
        start = time.perf_counter()
        model.fit(X.to_numpy(dtype=np.float32), y)
        fit_seconds["sklearn"] = time.perf_counter() - start
        joblib.dump(model, os.path.join(arguments.model_dir, "sklearn.joblib"))
    if "lgbm" in models:
        import lightgbm
        X = numeric_frame(frame, numeric)
        for name in categorical:
            values = frame[name].astype(str)
            meta["categories"][name] = sorted(values.unique().tolist())
            X[name] = pd.Categorical(values, categories=meta["categories"][name])
        model = lightgbm.LGBMClassifier(random_state=0, n_jobs=2, verbose=-1)
        start = time.perf_counter()
        model.fit(X, y)
        fit_seconds["lgbm"] = time.perf_counter() - start
        model.booster_.save_model(os.path.join(arguments.model_dir, "lgbm.txt"))
    with open(os.path.join(arguments.model_dir, "meta.json"), "w") as handle:
        json.dump(meta, handle)
    print(json.dumps({"fit_seconds": fit_seconds}))


def score(arguments):
    with open(os.path.join(arguments.model_dir, "meta.json")) as handle:
        meta = json.load(handle)
    numeric, categorical = meta["numeric"], meta["categorical"]
    if arguments.model == "sklearn":
        import joblib
        model = joblib.load(os.path.join(arguments.model_dir, "sklearn.joblib"))
    else:
        import lightgbm
        model = lightgbm.Booster(model_file=os.path.join(arguments.model_dir, "lgbm.txt"))
    start = time.perf_counter()
    frame = pd.read_csv(arguments.csv)
    if arguments.model == "sklearn":
        dummies = pd.get_dummies(frame[categorical].astype(str), dtype=np.float32)
        X = pd.concat([numeric_frame(frame, numeric).fillna(0.0), dummies], axis=1).reindex(columns=meta["dummies"], fill_value=0.0)
        probabilities = model.predict_proba(X.to_numpy(dtype=np.float32))[:, 1]
    else:
        X = numeric_frame(frame, numeric)
        for name in categorical:
            X[name] = pd.Categorical(frame[name].astype(str), categories=meta["categories"][name])
        probabilities = model.predict(X, num_threads=2)
    pd.DataFrame({meta["id"]: frame[meta["id"]], "churn_probability": probabilities}).to_csv(
        arguments.out, index=False, float_format="%.6f")
    seconds = time.perf_counter() - start
    print(json.dumps({
        "model": arguments.model, "rows": int(len(frame)), "seconds": seconds, "rows_per_second": len(frame) / seconds,
        "peak_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    steps = parser.add_subparsers(dest="step", required=True)
    fit = steps.add_parser("train")
    fit.add_argument("train")
    fit.add_argument("model_dir")
    fit.add_argument("--id", required=True)
    fit.add_argument("--label", required=True)
    fit.add_argument("--positive", required=True)
    fit.add_argument("--models", default="sklearn,lgbm")
    fit.add_argument("--trees", type=int, default=300)
    fit.add_argument("--max-depth", type=int, default=12)
    fit.add_argument("--min-leaf", type=int, default=10)
    fit.add_argument("--max-features", default="0.33")
    run = steps.add_parser("score")
    run.add_argument("model_dir")
    run.add_argument("model", choices=["sklearn", "lgbm"])
    run.add_argument("csv")
    run.add_argument("out")
    arguments = parser.parse_args()
    saved = os.fdopen(os.dup(1), "w")
    sys.stdout.flush()
    os.dup2(2, 1)
    sys.stdout = saved
    train(arguments) if arguments.step == "train" else score(arguments)


if __name__ == "__main__":
    main()
