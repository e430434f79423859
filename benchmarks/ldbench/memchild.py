"""Child process of section 3: load X, reset the peak-RSS counter, fit once, report memory.

Usage: ``python memchild.py '<json spec>'``; prints one JSON line. Spec keys:
``X`` (.npy or .npz path), ``y`` (.npy path), ``library`` ("logitdescent" or
"sklearn"), ``params`` (estimator keyword arguments).
"""

from __future__ import annotations

import gc
import json
import sys
import time
import warnings


def status_kb():
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                out[key] = int(value.split()[0]) * 1024
    return out


def reset_peak():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def make(library, params):
    if library == "logitdescent":
        from logitdescent import LogisticRegression
    else:
        from sklearn.linear_model import LogisticRegression
    return LogisticRegression(**params)


def main():
    spec = json.loads(sys.argv[1])
    warnings.simplefilter("ignore")
    import numpy as np
    import scipy.sparse as sp

    # Warm up on a tiny problem of the same kind (imports, Numba cache loads, first-call setup),
    # so the measured fit pays only for itself.
    rng = np.random.default_rng(0)
    dtype = np.dtype(spec["dtype"])
    Xs = rng.standard_normal((200, 20)).astype(dtype)
    if spec["X"].endswith(".npz"):
        Xs = sp.csr_matrix(Xs)
    ys = (rng.random(200) < 0.5).astype(np.float64)
    make(spec["library"], {**spec["params"], "max_iter": 5}).fit(Xs, ys)
    del Xs, ys

    X = sp.load_npz(spec["X"]).tocsr() if spec["X"].endswith(".npz") else np.load(spec["X"], mmap_mode=None)
    y = np.load(spec["y"])
    est = make(spec["library"], spec["params"])
    gc.collect()
    reset_peak()
    before = status_kb()
    t0 = time.perf_counter()
    est.fit(X, y)
    seconds = time.perf_counter() - t0
    after = status_kb()
    print(json.dumps({
        "rss_before": before["VmRSS"], "hwm_after_reset": before["VmHWM"],
        "peak": after["VmHWM"], "rss_after": after["VmRSS"], "seconds": seconds,
        "n_iter": int(np.max(est.n_iter_)), "solver": getattr(est, "solver_", spec["params"].get("solver")),
    }))


if __name__ == "__main__":
    main()
