"""Feature encoding shared by the Python benchmark peers (the encoding forest_sklearn.py uses).

The label column and the id column (if any) dropped; a column whose non-blank cells are all
numbers stays numeric (a blank number becomes `missing`: 0 for the sklearn forest, NaN for the
boosting libraries, which handle missing values themselves); a column whose non-blank cells are
all YYYY-MM-DD dates becomes days since 1970 (a blank is `missing`); a column whose values are
only yes/no/true/false (any case) becomes 1/0; any other text column is one-hot (get_dummies).
The label is 1 where the stripped label cell equals the positive value.

Usage (from another peer in this folder):
    from peer_features import load_labelled
    X, y = load_labelled(csv, label="Churn", positive="Yes", id_column="customerID", missing=np.nan)
"""
import os
import sys

import numpy as np
import pandas as pd


def chosen_models(parser, text, known):
    """The comma-separated model names of `text`, refused through `parser` if one is not `known`."""
    models = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in models if m not in known]
    if unknown:
        parser.error(f"unknown model(s) {unknown}; known: {','.join(known)}")
    return models


def json_output():
    """Sends everything written to file descriptor 1 from now on (library chatter, native code
    included) to stderr, and returns the saved stdout, where the peer writes its one JSON object."""
    saved = os.fdopen(os.dup(1), "w")
    sys.stdout.flush()
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return saved


def read_table(csv):
    """The CSV with every cell as text (no NA guessing: a blank stays "")."""
    return pd.read_csv(csv, dtype=str, keep_default_na=False)


def labels(frame, label, positive, ignore_case=False):
    """1 where the stripped label cell equals `positive` (case-insensitively if asked), else 0."""
    text = frame[label].str.strip()
    if ignore_case:
        return (text.str.lower() == positive.strip().lower()).to_numpy().astype(int)
    return (text == positive).to_numpy().astype(int)


def encode(frame, missing=0.0):
    """float32 feature matrix of a frame of text columns (label and id already dropped)."""
    columns = {}
    for name in frame.columns:
        text = frame[name].str.strip()
        numbers = pd.to_numeric(text.replace("", np.nan), errors="coerce")
        if numbers.notna().sum() == (text != "").sum():
            columns[name] = numbers.fillna(missing)
            continue
        dates = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
        if dates.notna().sum() == (text != "").sum() and dates.notna().any():
            columns[name] = ((dates - pd.Timestamp("1970-01-01")).dt.days).fillna(missing)
            continue
        lowered = text.str.lower()
        if set(lowered.unique()) <= {"yes", "no", "true", "false"}:
            columns[name] = lowered.isin(["yes", "true"]).astype(float)
            continue
        columns[name] = text
    return pd.get_dummies(pd.DataFrame(columns), dtype=np.float32).to_numpy(dtype=np.float32)


def load_labelled(csv, label, positive, id_column=None, missing=0.0, ignore_case=False):
    """(X, y) of a labelled CSV: X as `encode` makes it, y as `labels` makes it."""
    frame = read_table(csv)
    y = labels(frame, label, positive, ignore_case)
    frame = frame.drop(columns=[c for c in [label, id_column] if c])
    return encode(frame, missing), y
