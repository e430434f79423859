"""Section 1: one loss-and-gradient evaluation versus one ``X @ v`` read of X."""

from __future__ import annotations

import gc

import numpy as np

import bench_kernel  # benchmarks/bench_kernel.py (owned by the kernel benchmark; reused here)

from .common import Report, fmt_time, goal_mark, log
from .data import logistic_labels, normal_matrix

METHODS = ("gemv", "fused", "numpy", "naive", "sklearn")
#: Pause before each timed sample: OpenBLAS's threads busy-wait ~0.1 s after a call.
SETTLE_S = 0.2
#: Untimed calls before each timed sample, seconds: the first calls after a pause run slower.
WARM_S = 0.02
#: The first shape with at most this many elements (in cache) also gets the anatomy table.
ANATOMY_MAX_ELEMS = 1_000_000
LABELS = {
    "gemv": "X @ v (one read)",
    "fused": "logitdescent fused",
    "numpy": "logitdescent NumPy",
    "naive": "lecture's naive iteration",
    "sklearn": "scikit-learn LinearModelLoss",
}


def run(cfg):
    import numba

    rep = Report("1. Kernel: one loss + gradient evaluation vs one read of X")
    rep.text(
        "Each method is timed in interleaved rounds (every method once per round, rotating order; "
        f"{cfg.kernel_repeats} rounds; small shapes batch calls so a sample lasts >= 20 ms; a "
        f"{SETTLE_S:g} s pause before each sample lets the previous method's threads go to sleep, "
        "as the solvers keep BLAS's threads asleep while the fused kernel runs; then untimed calls "
        f"for >= {WARM_S * 1e3:g} ms bring the method to its steady state, as in a solver's loop: "
        "after a pause the first few calls of every method are slower on these machines) and the "
        "table gives the median time and its ratio to the median of `X @ v` (one BLAS gemv: one read "
        "of X, the memory-bandwidth floor). Methods: `fused` = `logitdescent._fused.fused_loss_and_grad` "
        "(Numba, one pass); `NumPy` = `logitdescent.kernel.loss_and_grad`; `naive` = the lecture's "
        "`z = X@w+b; a = expit(z); dz = a-y; dw = X.T@dz/m; db = mean(dz)` plus the log-loss; "
        "`sklearn` = `LinearModelLoss(HalfBinomialLoss(), fit_intercept=True).loss_gradient` with "
        "`n_threads` = Numba's thread count. Code: `benchmarks/bench_kernel.py` (methods, rounds). "
        "Goal: fused <= 1.25x one read on the large shapes, <= 2x at m = 1e4, judged on the ratio of "
        "the medians; the column before it gives the spread of the rounds' own fused / gemv ratios "
        "(the middle half of the rounds, and in brackets all of them): how far the machine's noise "
        "moves a shape that sits near its goal.\n"
    )
    n_threads = numba.get_num_threads()
    rows = []
    results = []
    anatomy_shape = None  # the in-cache shape whose steps are timed apart
    anatomy = {}  # dtype name -> median seconds of each anatomy method
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
            err = bench_kernel.check_accuracy(X, y, w, 0.1, 1.0) if dtype == np.float64 else None
            g = med["gemv"]
            limit = 2.0 if m <= 10_000 else 1.25
            fused_ratio = med["fused"] / g
            # every round times each method once: the rounds' own ratios show the noise
            round_ratios = np.array(samples["fused"]) / np.array(samples["gemv"])
            q1, q3 = np.percentile(round_ratios, [25, 75])
            cells = [f"{m:.0e} x {n}", np.dtype(dtype).name]
            for name in METHODS:
                t = med.get(name)
                cells.append("-" if t is None else f"{fmt_time(t)} ({t / g:.2f}x)")
            cells.append(f"{q1:.2f}-{q3:.2f} ({round_ratios.min():.2f}-{round_ratios.max():.2f})")
            cells.append(f"<= {limit:g}x: {goal_mark(fused_ratio, limit)}")
            rows.append(cells)
            results.append({"m": m, "n": n, "dtype": np.dtype(dtype).name,
                            "median_s": med, "fused_vs_numpy_relerr": err,
                            "fused_over_gemv_by_round": round_ratios.tolist()})
            log(f"kernel {m}x{n} {np.dtype(dtype).name}: fused {fused_ratio:.2f}x gemv"
                + (f", fused vs NumPy rel. err {err:.1e}" if err is not None else ""))
            if m * n <= ANATOMY_MAX_ELEMS and anatomy_shape in (None, (m, n)):
                anatomy_shape = (m, n)
                parts = bench_kernel.build_anatomy(X, y, w, 0.1)
                med, _ = bench_kernel.bench_one(parts, cfg.kernel_repeats, settle_s=SETTLE_S, warm_s=WARM_S)
                anatomy[np.dtype(dtype).name] = results[-1]["anatomy_median_s"] = med
            del X, y, methods
            gc.collect()
        del X64
        gc.collect()
    rep.table(["shape (m x n)", "dtype"] + [LABELS[k] for k in METHODS]
              + ["fused / gemv by round: middle half (all)", "goal (fused)"], rows,
              align="ll" + "r" * (len(METHODS) + 2))
    errs = [r["fused_vs_numpy_relerr"] for r in results if r["fused_vs_numpy_relerr"] is not None]
    if errs:
        rep.text(f"Fused vs NumPy kernel (float64), max relative difference of J, dw, db: {max(errs):.1e}.\n")
    if anatomy:
        _anatomy_table(rep, anatomy_shape, anatomy)
    return rep, results


def _anatomy_table(rep, shape, anatomy):
    """Where the in-cache shape's time goes: the kernel's steps timed apart (``anatomy``: dtype -> medians)."""
    m, n = shape
    dtypes = list(anatomy)
    rep.text(
        f"**Where the time goes at {m:.0e} x {n}** (X in cache). The fused kernel's three steps, each "
        "timed apart on one thread over all m rows (`bench_kernel.build_anatomy`: the register-tiled "
        "scoring and gradient loops and the loss loop, which the kernel runs block by block for rows "
        "longer than one register panel; rows of one panel, as here, get the same arithmetic in a "
        "single loop, 8 rows at a time), next to one- and all-thread gemv and the whole call; the same "
        "interleaved rounds as above, ratios to the all-thread `X @ v`. Step 3 re-reads rows held in "
        "L1, its best case.\n"
    )

    def steps(a):
        return a["score"] + a["loss"] + a["accumulate"]

    def timed(t, a):
        return f"{fmt_time(t)} ({t / a['gemv']:.2f}x)"

    rows = [[label] + [timed(anatomy[d][name], anatomy[d]) for d in dtypes]
            for name, label in bench_kernel.ANATOMY_LABELS.items()]
    rows.append(["steps 1 + 2 + 3, one thread"] + [timed(steps(anatomy[d]), anatomy[d]) for d in dtypes])
    ratios = {
        "whole call / sum of steps, one thread": lambda a: a["fused_1t"] / steps(a),
        "all-thread speed-up of the fused call": lambda a: a["fused_1t"] / a["fused"],
        "all-thread speed-up of gemv": lambda a: a["gemv_1t"] / a["gemv"],
    }
    rows += [[label] + [f"{f(anatomy[d]):.2f}" for d in dtypes] for label, f in ratios.items()]
    rep.table(["", *dtypes], rows, align="l" + "r" * len(dtypes))
