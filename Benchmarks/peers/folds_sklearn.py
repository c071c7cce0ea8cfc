"""Prints scikit-learn's StratifiedKFold(5, shuffle=True, random_state=0) test folds of a telco CSV as JSON."""
import json
import sys

import pandas as pd
from sklearn.model_selection import StratifiedKFold

y = (pd.read_csv(sys.argv[1])["Churn"] == "Yes").to_numpy()
folds = [[int(i) for i in test] for _, test in StratifiedKFold(5, shuffle=True, random_state=0).split(y, y)]
print(json.dumps(folds))
