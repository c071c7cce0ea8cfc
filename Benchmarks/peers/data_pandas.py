"""Peer for `churn-bench data`: parse and one-hot encode a telco CSV with pandas.

Prints one JSON line: rows, seconds, rows_per_second, peak_rss_bytes.
Usage: python3 data_pandas.py FILE
"""
import json
import resource
import sys
import time

import numpy as np
import pandas as pd

path = sys.argv[1]
start = time.perf_counter()
frame = pd.read_csv(path)
# TotalCharges is " " for tenure-0 customers: without this pandas reads the column as text.
frame["TotalCharges"] = pd.to_numeric(frame["TotalCharges"], errors="coerce").fillna(0.0)
features = pd.get_dummies(frame.drop(columns=["customerID", "Churn"]), dtype=np.float32)
matrix = features.to_numpy(dtype=np.float32)
seconds = time.perf_counter() - start
print(json.dumps({
    "rows": int(matrix.shape[0]), "columns": int(matrix.shape[1]), "seconds": seconds,
    "rows_per_second": matrix.shape[0] / seconds,
    "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
}))
