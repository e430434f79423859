"""Section 4: the lecture's vectorization demos (for-loop vs NumPy)."""

from __future__ import annotations

import statistics

import numpy as np

from .common import Report, fmt_ratio, fmt_time, log, perf, timeit_median


def _loop_dot(a, b):
    c = 0.0
    for i in range(len(a)):
        c += a[i] * b[i]
    return c


def _time_calls(func, repeats):
    samples = []
    for _ in range(repeats):
        t0 = perf()
        func()
        samples.append(perf() - t0)
    return statistics.median(samples)


def run(cfg):
    import logitdescent
    from logitdescent import reference
    from logitdescent.kernel import numpy_loss_and_grad, penalty_strength

    rep = Report("4. Lecture demo: for-loops vs vectorized")
    loops = 3 if cfg.quick else 5
    rng = np.random.default_rng(cfg.seed + 40)
    n_dot = 1_000_000
    a, b = rng.random(n_dot), rng.random(n_dot)
    al, bl = a.tolist(), b.tolist()
    t_loop = _time_calls(lambda: _loop_dot(a, b), loops)
    t_loop_list = _time_calls(lambda: _loop_dot(al, bl), loops)
    t_dot = timeit_median(lambda: np.dot(a, b), repeats=21)
    assert abs(_loop_dot(al, bl) - np.dot(a, b)) < 1e-6 * n_dot
    rows = [
        ["Python for-loop over NumPy arrays (the lecture's)", fmt_time(t_loop), fmt_ratio(t_loop / t_dot)],
        ["Python for-loop over Python lists", fmt_time(t_loop_list), fmt_ratio(t_loop_list / t_dot)],
        ["np.dot(a, b)", fmt_time(t_dot), "1.00x"],
    ]
    rep.table(["1e6-element dot product", "median time", "ratio to np.dot"], rows,
              title=f"Dot product of two random vectors of 1e6 float64 (loops: median of {loops}; np.dot: "
                    "median of 21 batched samples)")
    log(f"dot: loop {t_loop / t_dot:.0f}x np.dot")

    m, n = 10_000, 10
    X = rng.standard_normal((m, n))
    w = rng.standard_normal(n) * 0.3
    y = (rng.random(m) < 1 / (1 + np.exp(-(X @ w)))).astype(np.float64)
    w0 = rng.standard_normal(n) * 0.1
    Xl, yl, wl = X.tolist(), y.tolist(), w0.tolist()
    t_ref = _time_calls(lambda: reference.loss_and_grad(wl, 0.1, Xl, yl, C=1.0), loops)
    t_vec = timeit_median(lambda: logitdescent.loss_and_grad(w0, 0.1, X, y, C=1.0), repeats=21)
    l2 = penalty_strength(1.0, float(m))
    t_numpy = timeit_median(lambda: numpy_loss_and_grad(w0, 0.1, X, y, None, l2), repeats=21)
    J0, dw0, db0 = reference.loss_and_grad(wl, 0.1, Xl, yl, C=1.0)
    J1, dw1, db1 = logitdescent.loss_and_grad(w0, 0.1, X, y, C=1.0)
    diff = max(abs(J1 - J0), float(np.max(np.abs(np.asarray(dw0) - dw1))), abs(db1 - db0))
    rows = [
        ["lecture's loop, `logitdescent.reference.loss_and_grad` (lists)", fmt_time(t_ref),
         fmt_ratio(t_ref / t_vec)],
        ["vectorized, `logitdescent.loss_and_grad` (compiled single pass)", fmt_time(t_vec), "1.00x"],
        ["vectorized in NumPy, `logitdescent.kernel.numpy_loss_and_grad`", fmt_time(t_numpy),
         fmt_ratio(t_numpy / t_vec)],
    ]
    rep.table(["one gradient-descent iteration, m = 1e4, n = 10", "median time", "ratio to vectorized"], rows,
              title="Cost and gradient of one gradient-descent iteration (C = 1)")
    rep.text(f"Loop and vectorized results agree to {diff:.1e} (max abs difference of J, dw, db).\n")
    log(f"GD iteration: loop {t_ref / t_vec:.0f}x vectorized")
    return rep, {"dot_loop_s": t_loop, "dot_loop_list_s": t_loop_list, "dot_np_s": t_dot,
                 "gd_loop_s": t_ref, "gd_vec_s": t_vec, "gd_numpy_s": t_numpy, "max_diff": diff}
