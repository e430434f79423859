"""Cost of one loss-and-gradient evaluation versus one read of X.

Usage::

    python benchmarks/bench_kernel.py [--repeats 11] [--shapes 1e6x100,1e5x1000,1e4x100]
                                      [--dtypes float64,float32] [--classes 10]

For each shape and dtype the data is generated once; then, in interleaved
rounds (every method once per round, in rotating order, so that machine noise
hits all of them alike), each method is timed; the table reports the median
milliseconds and the ratio of medians to the read of X. Small shapes time a
batch of calls per sample so one sample lasts at least ~20 ms.

Binary methods
--------------
gemv        ``X @ v``: one read of X through BLAS, the bound to compare to.
public      ``logitdescent.loss_and_grad``: what users and the solvers call
            (the compiled single pass on C-ordered dense X).
public_1t   the same on one thread (``n_threads=1``).
numpy       ``logitdescent.kernel.numpy_loss_and_grad``: the NumPy path.
naive       the lecture's vectorized iteration: ``z = X@w + b; a = expit(z);
            dz = a - y; dw = X.T@dz / m; db = sum(dz) / m`` plus the log-loss.
sklearn     scikit-learn's ``LinearModelLoss(HalfBinomialLoss()).loss_gradient``.

Softmax methods (K classes)
---------------------------
gemm        ``X @ W.T``: one read of X and the K scores, the bound.
public      ``logitdescent.kernel.softmax_loss_and_grad``.
numpy       ``logitdescent.kernel.numpy_softmax_loss_and_grad``.
sklearn     ``LinearModelLoss(HalfMultinomialLoss(n_classes=K)).loss_gradient``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
from scipy.special import expit


def _parse_shape(s):
    m, n = s.lower().split("x")
    return int(float(m)), int(float(n))


def make_data(m, n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n))
    w_true = rng.standard_normal(n) / np.sqrt(n)
    y = (rng.random(m) < expit(X @ w_true)).astype(np.float64)
    w = rng.standard_normal(n) * (0.5 / np.sqrt(n))
    return X, y, w


def build_methods(X, y, w, b, C, n_threads):
    """Binary methods (see the module docstring) as zero-argument callables."""
    from logitdescent.kernel import loss_and_grad, numpy_loss_and_grad, penalty_strength

    m, n = X.shape
    dtype = X.dtype
    wd = w.astype(dtype)
    l2 = penalty_strength(C, float(m))

    def naive():
        z = X @ wd + b
        a = expit(z)
        dz = a - y
        dw = X.T @ dz / m
        db = dz.sum() / m
        eps = np.finfo(dtype).tiny
        J = -np.mean(y * np.log(a + eps) + (1 - y) * np.log(1 - a + eps))
        return J, dw, db

    methods = {
        "gemv": lambda: X @ wd,
        "public": lambda: loss_and_grad(w, b, X, y, None, C=C),
        "public_1t": lambda: loss_and_grad(w, b, X, y, None, C=C, n_threads=1),
        "numpy": lambda: numpy_loss_and_grad(wd, b, X, y, None, l2),
        "naive": naive,
    }
    try:
        from sklearn._loss.loss import HalfBinomialLoss
        from sklearn.linear_model._linear_loss import LinearModelLoss

        lml = LinearModelLoss(base_loss=HalfBinomialLoss(), fit_intercept=True)
        coef = np.concatenate([wd, np.array([b], dtype=dtype)])
        methods["sklearn"] = lambda: lml.loss_gradient(
            coef, X, y, sample_weight=None, l2_reg_strength=l2, n_threads=n_threads)
    except Exception as exc:  # pragma: no cover - private API may move
        print(f"(sklearn LinearModelLoss unavailable: {exc!r})")
    return methods


def build_softmax_methods(X, codes, W, b, C, n_threads):
    """Softmax methods (see the module docstring) as zero-argument callables."""
    from logitdescent.kernel import numpy_softmax_loss_and_grad, penalty_strength, softmax_loss_and_grad

    m, n = X.shape
    K = W.shape[0]
    Wd = W.astype(X.dtype)
    l2 = penalty_strength(C, float(m))
    methods = {
        "gemm": lambda: X @ Wd.T,
        "public": lambda: softmax_loss_and_grad(W, b, X, codes, None, C=C),
        "numpy": lambda: numpy_softmax_loss_and_grad(Wd, b, X, codes, None, l2),
    }
    try:
        from sklearn._loss.loss import HalfMultinomialLoss
        from sklearn.linear_model._linear_loss import LinearModelLoss

        lml = LinearModelLoss(base_loss=HalfMultinomialLoss(n_classes=K), fit_intercept=True)
        coef = np.column_stack([Wd, b.astype(X.dtype)])
        yk = codes.astype(X.dtype)
        methods["sklearn"] = lambda: lml.loss_gradient(
            coef, X, yk, sample_weight=None, l2_reg_strength=l2, n_threads=n_threads)
    except Exception as exc:  # pragma: no cover - private API may move
        print(f"(sklearn LinearModelLoss unavailable: {exc!r})")
    return methods


def bench_one(methods, repeats, warm=1, min_sample_s=0.02, settle_s=0.0, warm_s=0.0):
    """Median seconds per call of each method, in interleaved rounds.

    Each round runs every method once (the order rotates from round to
    round); a method's sample is ``warm`` untimed calls (or as many as last
    ``warm_s``, if that is more), then a timed batch of calls lasting at least
    ``min_sample_s``. The untimed calls bring a method to its steady state
    (threads awake, caches warm), as inside a solver's loop. ``settle_s``:
    pause before each sample, so that the previous method's threads (OpenBLAS
    busy-waits after a call) have gone to sleep; inside a fit the estimator
    keeps BLAS on one thread while the compiled kernel runs
    (``logitdescent._blas``), so the settled figure is the one a fit sees.

    Returns
    -------
    medians : dict of name -> seconds
    samples : dict of name -> list of seconds, one per round
    """
    batch = {}
    n_warm = {}
    for name, f in methods.items():
        f()
        t0 = time.perf_counter()
        f()
        dt = max(time.perf_counter() - t0, 1e-7)
        batch[name] = max(1, int(np.ceil(min_sample_s / dt)))
        n_warm[name] = max(warm, int(np.ceil(warm_s / dt)))
    samples = {name: [] for name in methods}
    names = list(methods)
    for r in range(repeats):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            f, k = methods[name], batch[name]
            if settle_s:
                time.sleep(settle_s)
            for _ in range(n_warm[name]):
                f()
            t0 = time.perf_counter()
            for _ in range(k):
                f()
            samples[name].append((time.perf_counter() - t0) / k)
    return {name: statistics.median(s) for name, s in samples.items()}, samples


def check_accuracy(X, y, w, b, C):
    """Max relative difference of (J, dw, db): public kernel vs the NumPy path (float64 X only)."""
    from logitdescent.kernel import loss_and_grad, numpy_loss_and_grad, penalty_strength

    if X.dtype != np.float64:
        return None  # a float64 copy of a big float32 X would double memory; tested in tests/
    J0, dw0, db0 = numpy_loss_and_grad(w, b, X, y, None, penalty_strength(C, float(X.shape[0])))
    J1, dw1, db1 = loss_and_grad(w, b, X, y, None, C=C)
    return max(
        abs(J1 - J0) / abs(J0),
        float(np.max(np.abs(dw1 - dw0)) / np.max(np.abs(dw0))),
        abs(db1 - db0) / max(abs(db0), 1e-300),
    )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=11)
    p.add_argument("--shapes", default="1e6x100,1e5x1000,1e4x100")
    p.add_argument("--dtypes", default="float64,float32")
    p.add_argument("--classes", type=int, default=10, help="K for the softmax rows (0: none)")
    p.add_argument("--C", type=float, default=1.0)
    p.add_argument("--settle", type=float, default=0.2, help="seconds of pause before each sample")
    args = p.parse_args(argv)

    import threadpoolctl

    from logitdescent.kernel import warm_up

    t0 = time.perf_counter()
    ct = warm_up()
    print(f"kernel warm_up (compile or cache load) {time.perf_counter() - t0:.2f} s: "
          + ", ".join(f"{k} {v:.2f}s" for k, v in ct.items()))
    n_threads = len(os.sched_getaffinity(0))
    print(f"python {platform.python_version()}, numpy {np.__version__}, CPUs {n_threads}")
    for lib in threadpoolctl.threadpool_info():
        print(f"  threadpoolctl: {lib['internal_api']} {lib.get('version')} threads={lib['num_threads']}")

    for shape in args.shapes.split(","):
        m, n = _parse_shape(shape)
        X64, y64, w = make_data(m, n)
        for dtname in args.dtypes.split(","):
            X = X64 if dtname == "float64" else X64.astype(dtname)
            y = y64.astype(dtname)
            err = check_accuracy(X, y, w, 0.1, args.C)
            med, _ = bench_one(build_methods(X, y, w, 0.1, args.C, n_threads), args.repeats,
                               settle_s=args.settle, warm_s=0.02)
            g = med["gemv"]
            line = "  ".join(f"{k} {v * 1e3:8.2f} ms ({v / g:4.2f}x)" for k, v in med.items())
            acc = "" if err is None else f"  [public vs numpy relerr {err:.1e}]"
            print(f"{m:>8d} x {n:<5d} {dtname:8s} {line}{acc}", flush=True)
            if args.classes:
                rng = np.random.default_rng(1)
                W = rng.standard_normal((args.classes, n)) * (0.5 / np.sqrt(n))
                codes = rng.integers(0, args.classes, m)
                med, _ = bench_one(build_softmax_methods(X, codes, W, np.zeros(args.classes), args.C, n_threads),
                                   args.repeats, settle_s=args.settle, warm_s=0.02)
                g = med["gemm"]
                line = "  ".join(f"{k} {v * 1e3:8.2f} ms ({v / g:4.2f}x)" for k, v in med.items())
                print(f"{'softmax K=' + str(args.classes):>16s} {dtname:8s} {line}", flush=True)
            del X


if __name__ == "__main__":
    main()
