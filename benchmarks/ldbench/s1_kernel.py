"""Section 1: one loss-and-gradient evaluation versus one read of X (binary and softmax)."""

from __future__ import annotations

import gc

import numpy as np

import bench_kernel  # benchmarks/bench_kernel.py (the methods and the interleaved rounds)

from .common import Report, fmt_time, goal_mark, log
from .data import logistic_labels, normal_matrix

#: Pause before each timed sample: OpenBLAS's threads busy-wait ~0.1 s after a call.
SETTLE_S = 0.2
#: Untimed calls before each timed sample, seconds: the first calls after a pause run slower.
WARM_S = 0.02
#: Goals of the public kernel, as multiples of one read of X (issue "One kernel contract").
GOAL_LARGE, GOAL_IN_CACHE, GOAL_SOFTMAX = 1.25, 2.5, 1.5
BINARY = ("gemv", "public", "public_1t", "numpy", "naive", "sklearn")
SOFTMAX = ("gemm", "public", "numpy", "sklearn")
LABELS = {
    "gemv": "X @ v (one read)",
    "gemm": "X @ W.T (one read)",
    "public": "logitdescent `loss_and_grad`",
    "public_1t": "same, one thread",
    "numpy": "NumPy path",
    "naive": "lecture's naive iteration",
    "sklearn": "scikit-learn LinearModelLoss",
}


def _spread(samples, method, base):
    ratios = np.array(samples[method]) / np.array(samples[base])
    q1, q3 = np.percentile(ratios, [25, 75])
    return ratios, f"{q1:.2f}-{q3:.2f} ({ratios.min():.2f}-{ratios.max():.2f})"


def run(cfg):
    import os

    rep = Report("1. Kernel: one loss + gradient evaluation vs one read of X")
    rep.text(
        "Each method is timed in interleaved rounds (every method once per round, rotating order; "
        f"{cfg.kernel_repeats} rounds; small shapes batch calls so a sample lasts >= 20 ms; a "
        f"{SETTLE_S:g} s pause before each sample lets the previous method's threads go to sleep, "
        f"as the estimator keeps BLAS's threads asleep while the compiled kernel runs; then untimed "
        f"calls for >= {WARM_S * 1e3:g} ms bring the method to its steady state). The table gives the "
        "median time and its ratio to the median of one BLAS read of X (`X @ v`, or `X @ W.T` for "
        "softmax: the memory-bandwidth floor). `logitdescent loss_and_grad` is the public function "
        "(`logitdescent.loss_and_grad`, `logitdescent.kernel.softmax_loss_and_grad`), which takes the "
        "compiled single pass on C-ordered dense X; `NumPy path` = `numpy_loss_and_grad` (two passes, "
        "BLAS); `naive` = the lecture's `z = X@w+b; a = expit(z); dz = a-y; dw = X.T@dz/m; "
        "db = mean(dz)` plus the log-loss; `sklearn` = `LinearModelLoss(HalfBinomialLoss() or "
        "HalfMultinomialLoss(K)).loss_gradient` with `n_threads` = the CPUs. Code: "
        f"`benchmarks/bench_kernel.py`. Goals: public <= {GOAL_LARGE:g}x one read on the large shapes, "
        f"<= {GOAL_IN_CACHE:g}x at m = 1e4 (in cache), softmax <= {GOAL_SOFTMAX:g}x; judged on the ratio "
        "of the medians. The spread column gives the rounds' own public / read ratios (middle half, "
        "and in brackets all rounds): how far the machine's noise moves a shape.\n"
    )
    n_threads = len(os.sched_getaffinity(0))
    rows, softmax_rows, results = [], [], []
    for m, n in cfg.kernel_shapes:
        rng = np.random.default_rng(cfg.seed + 10)
        X64 = normal_matrix(rng, m, n)
        w = rng.standard_normal(n) * (0.5 / np.sqrt(n))
        y64 = logistic_labels(rng, X64 @ (rng.standard_normal(n) / np.sqrt(n)))
        for dtype in (np.float64, np.float32):
            X = X64 if dtype == np.float64 else X64.astype(dtype)
            y = y64.astype(dtype)
            methods = bench_kernel.build_methods(X, y, w, 0.1, 1.0, n_threads)
            med, samples = bench_kernel.bench_one(methods, cfg.kernel_repeats, settle_s=SETTLE_S, warm_s=WARM_S)
            err = bench_kernel.check_accuracy(X, y, w, 0.1, 1.0)
            g = med["gemv"]
            limit = GOAL_IN_CACHE if m <= 10_000 else GOAL_LARGE
            ratio = med["public"] / g
            round_ratios, spread = _spread(samples, "public", "gemv")
            cells = [f"{m:.0e} x {n}", np.dtype(dtype).name]
            cells += ["-" if med.get(k) is None else f"{fmt_time(med[k])} ({med[k] / g:.2f}x)" for k in BINARY]
            cells += [spread, f"<= {limit:g}x: {goal_mark(ratio, limit)}"]
            rows.append(cells)
            results.append({"kernel": "binary", "m": m, "n": n, "dtype": np.dtype(dtype).name, "median_s": med,
                            "public_vs_numpy_relerr": err, "public_over_gemv_by_round": round_ratios.tolist()})
            log(f"kernel {m}x{n} {np.dtype(dtype).name}: public {ratio:.2f}x gemv")
            del X, y, methods
            gc.collect()
        del X64
        gc.collect()
    rep.table(["shape (m x n)", "dtype"] + [LABELS[k] for k in BINARY]
              + ["public / gemv by round: middle half (all)", "goal"], rows,
              align="ll" + "r" * (len(BINARY) + 2), title="Binary (sigmoid) model")
    errs = [r["public_vs_numpy_relerr"] for r in results if r["public_vs_numpy_relerr"] is not None]
    if errs:
        rep.text(f"Compiled vs NumPy path (float64), max relative difference of J, dw, db: {max(errs):.1e}.\n")

    for m, n, K in cfg.softmax_shapes:
        rng = np.random.default_rng(cfg.seed + 11)
        X64 = normal_matrix(rng, m, n)
        W = rng.standard_normal((K, n)) * (0.5 / np.sqrt(n))
        codes = rng.integers(0, K, m)
        for dtype in (np.float64, np.float32):
            X = X64 if dtype == np.float64 else X64.astype(dtype)
            methods = bench_kernel.build_softmax_methods(X, codes, W, np.zeros(K), 1.0, n_threads)
            med, samples = bench_kernel.bench_one(methods, cfg.kernel_repeats, settle_s=SETTLE_S, warm_s=WARM_S)
            g = med["gemm"]
            ratio = med["public"] / g
            round_ratios, spread = _spread(samples, "public", "gemm")
            cells = [f"{m:.0e} x {n}, K = {K}", np.dtype(dtype).name]
            cells += ["-" if med.get(k) is None else f"{fmt_time(med[k])} ({med[k] / g:.2f}x)" for k in SOFTMAX]
            cells += [spread, f"<= {GOAL_SOFTMAX:g}x: {goal_mark(ratio, GOAL_SOFTMAX)}"]
            softmax_rows.append(cells)
            results.append({"kernel": "softmax", "m": m, "n": n, "K": K, "dtype": np.dtype(dtype).name,
                            "median_s": med, "public_over_gemm_by_round": round_ratios.tolist()})
            log(f"softmax {m}x{n} K={K} {np.dtype(dtype).name}: public {ratio:.2f}x gemm")
            del X, methods
            gc.collect()
        del X64
        gc.collect()
    if softmax_rows:
        rep.table(["shape, classes", "dtype"] + [LABELS[k] for k in SOFTMAX]
                  + ["public / gemm by round: middle half (all)", "goal"], softmax_rows,
                  align="ll" + "r" * (len(SOFTMAX) + 2), title="Multinomial (softmax) model")
    return rep, results
