"""Writes experiments.json: paired score vectors with DeLong's test and precision/recall at the
top k%, computed in Python (numpy, scipy, scikit-learn) for ExperimentStatisticsTests.
Run from this folder: python3 make_experiment_fixtures.py
"""
import json

import numpy as np
import scipy
import scipy.stats
from sklearn.metrics import roc_auc_score


def midrank(x):
    order = np.argsort(x, kind="mergesort")
    z = x[order]
    n = len(x)
    t = np.zeros(n)
    i = 0
    while i < n:
        j = i
        while j < n and z[j] == z[i]:
            j += 1
        t[i:j] = 0.5 * (i + j - 1) + 1
        i = j
    out = np.empty(n)
    out[order] = t
    return out


def delong(y, a, b):
    """Sun & Xu's fast DeLong, as in the widely used reference implementation."""
    pos, neg = y == 1, y == 0
    m, n = pos.sum(), neg.sum()
    scores = np.vstack([a, b])
    v10, v01, aucs = [], [], []
    for s in scores:
        x, yv = s[pos], s[neg]
        tx, ty, tz = midrank(x), midrank(yv), midrank(np.concatenate([x, yv]))
        aucs.append(tz[:m].sum() / m / n - (m + 1.0) / 2.0 / n)
        v10.append((tz[:m] - tx) / n)
        v01.append(1.0 - (tz[m:] - ty) / m)
    s10, s01 = np.cov(np.array(v10)), np.cov(np.array(v01))
    cov = s10 / m + s01 / n
    var = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    z = (aucs[1] - aucs[0]) / np.sqrt(var)
    return {"auc_a": aucs[0], "auc_b": aucs[1], "standard_error": float(np.sqrt(var)), "z": float(z),
            "p": float(2 * scipy.stats.norm.sf(abs(z)))}


def top(y, s, fraction):
    k = max(1, int(np.ceil(len(y) * fraction)))
    order = sorted(range(len(y)), key=lambda i: (-s[i], i))[:k]
    caught = sum(y[i] for i in order)
    return {"precision": caught / k, "recall": caught / max(1, y.sum())}


rng = np.random.default_rng(5)
cases = []
for name, n, noise_b, rounding in [("close models", 800, 0.33, None), ("clearly better challenger", 1200, 0.15, None),
                                   ("ties", 600, 0.3, 1)]:
    y = (rng.random(n) < 0.27).astype(int)
    a = np.clip(0.3 + 0.25 * (y - 0.3) + rng.normal(0, 0.3, n), 0, 1)
    b = np.clip(0.3 + 0.25 * (y - 0.3) + rng.normal(0, noise_b, n), 0, 1)
    if rounding is not None:
        a, b = np.round(a, rounding), np.round(b, rounding)
    result = delong(y, a, b)
    assert abs(result["auc_a"] - roc_auc_score(y, a)) < 1e-12 and abs(result["auc_b"] - roc_auc_score(y, b)) < 1e-12
    cases.append({"name": name, "labels": [bool(v) for v in y], "a": [float(v) for v in a], "b": [float(v) for v in b],
                  "delong": result, "top10_a": top(y, a, 0.1), "top20_b": top(y, b, 0.2)})

with open("experiments.json", "w") as out:
    json.dump({"generated_by": f"make_experiment_fixtures.py with scipy {scipy.__version__}", "cases": cases}, out)
print(f"wrote experiments.json: {len(cases)} cases")
