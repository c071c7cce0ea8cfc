"""Peer for `churn-bench lstm`: the Keras reference of the LSTM plugins, on the very inputs they see.

For each fold, `churn-bench lstm` writes the encoded static features, the derived monthly
sequences (zeros on padding months), and labels as raw float32 files; this script trains
LSTM(32) over the sequences (masked) + Dense(32, relu) over static features -> Dense(16, relu)
-> Dense(1, sigmoid), Adam(1e-3), 30 epochs, batch 64 (optionally with additive attention
pooling instead of the last LSTM state) and prints one JSON line per fold and seed.
Usage: python3 lstm_keras.py FOLDER [--attention] [--seeds N]
"""
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import tensorflow as tf
from sklearn.metrics import roc_auc_score

folder = sys.argv[1]
attention = "--attention" in sys.argv
seeds = int(sys.argv[sys.argv.index("--seeds") + 1]) if "--seeds" in sys.argv else 1
meta = json.load(open(os.path.join(folder, "meta.json")))


def load(name, shape):
    return np.fromfile(os.path.join(folder, name), dtype=np.float32).reshape(shape)


class AttentionPool(tf.keras.layers.Layer):
    """score_t = v . tanh(W h_t + b); softmax over unmasked steps; sum of weighted states."""

    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.projection = tf.keras.layers.Dense(units, activation="tanh")
        self.vector = tf.keras.layers.Dense(1, use_bias=False)

    def call(self, states, mask=None):
        scores = tf.squeeze(self.vector(self.projection(states)), -1)
        if mask is not None:
            scores = tf.where(mask, scores, tf.fill(tf.shape(scores), -1e9))
        weights = tf.nn.softmax(scores, axis=1)
        if mask is not None:
            weights = weights * tf.cast(mask, weights.dtype)
        return tf.reduce_sum(states * tf.expand_dims(weights, -1), axis=1)

    def compute_mask(self, inputs, mask=None):
        return None


def build(steps, features, static_width):
    sequence = tf.keras.Input((steps, features))
    static = tf.keras.Input((static_width,))
    masked = tf.keras.layers.Masking(mask_value=0.0)(sequence)
    if attention:
        summary = AttentionPool(32)(tf.keras.layers.LSTM(32, return_sequences=True)(masked))
    else:
        summary = tf.keras.layers.LSTM(32)(masked)
    dense = tf.keras.layers.Dense(32, activation="relu")(static)
    joined = tf.keras.layers.Concatenate()([summary, dense])
    head = tf.keras.layers.Dense(16, activation="relu")(joined)
    output = tf.keras.layers.Dense(1, activation="sigmoid")(head)
    model = tf.keras.Model([sequence, static], output)
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
    return model


for fold in meta["folds"]:
    name, rows_train, rows_test = fold["name"], fold["train"], fold["test"]
    steps, features, width = meta["steps"], meta["features"], meta["static"]
    data = {}
    for part, rows in (("train", rows_train), ("test", rows_test)):
        data[part] = (
            load(f"{name}_{part}_seq.f32", (rows, steps, features)),
            load(f"{name}_{part}_static.f32", (rows, width)),
            load(f"{name}_{part}_y.f32", (rows,)),
        )
    for seed in range(seeds):
        tf.keras.utils.set_random_seed(seed)
        model = build(steps, features, width)
        start = time.perf_counter()
        model.fit([data["train"][0], data["train"][1]], data["train"][2], epochs=30, batch_size=64, verbose=0)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        p = model.predict([data["test"][0], data["test"][1]], batch_size=2048, verbose=0)[:, 0]
        predict_seconds = time.perf_counter() - start
        print(json.dumps({"fold": name, "seed": seed, "roc_auc": roc_auc_score(data["test"][2], p),
                          "fit_seconds": fit_seconds, "predict_seconds": predict_seconds}), flush=True)
