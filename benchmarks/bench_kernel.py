"""Cost of one loss-and-gradient evaluation versus one ``X @ v`` read of X.

Usage::

    python benchmarks/bench_kernel.py [--repeats 11] [--shapes 1e6x100,1e5x1000,1e4x100]
                                      [--dtypes float64,float32] [--order C]

For each shape and dtype the data is generated once; then, in interleaved
rounds (every method once per round, in rotating order, so that machine noise
hits all of them alike), each method is timed; the table reports the median
milliseconds and the ratio of medians to the gemv median. Small shapes time a
batch of calls per sample so one sample lasts at least ~20 ms.

Methods
-------
gemv     ``X @ v``: one read of X through BLAS, the lower bound to compare to.
naive    the lecture's vectorized iteration: ``z = X@w + b; a = expit(z);
         dz = a - y; dw = X.T@dz / m; db = sum(dz) / m`` plus the log-loss.
numpy    ``logitdescent.kernel.loss_and_grad`` (the current NumPy kernel).
fused    ``logitdescent._fused.fused_loss_and_grad`` (Numba, one pass).
sklearn  scikit-learn's ``LinearModelLoss(HalfBinomialLoss(), fit_intercept=True)
         .loss_gradient`` with ``n_threads`` = Numba's thread count.

:func:`build_anatomy` gives the fused kernel's steps as separate methods
(used by ``ldbench/s1_kernel.py`` for the in-cache shape).
"""

from __future__ import annotations

import argparse
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
    from logitdescent import _fused
    from logitdescent.kernel import loss_and_grad, penalty_strength

    m, n = X.shape
    dtype = X.dtype
    wd = w.astype(dtype)
    l2 = penalty_strength(C, float(m))

    def gemv():
        return X @ wd

    def naive():
        z = X @ wd + b
        a = expit(z)
        dz = a - y
        dw = X.T @ dz / m
        db = dz.sum() / m
        eps = np.finfo(dtype).tiny
        J = -np.mean(y * np.log(a + eps) + (1 - y) * np.log(1 - a + eps))
        return J, dw, db

    def numpy_kernel():
        return loss_and_grad(wd, b, X, y, None, C=C)

    def fused():
        return _fused.fused_loss_and_grad(wd, b, X, y, None, l2)

    def fused_1t():
        return _fused.fused_loss_and_grad(wd, b, X, y, None, l2, n_threads=1)

    methods = {"gemv": gemv, "naive": naive, "numpy": numpy_kernel, "fused": fused, "fused_1t": fused_1t}
    try:
        from sklearn._loss.loss import HalfBinomialLoss
        from sklearn.linear_model._linear_loss import LinearModelLoss

        lml = LinearModelLoss(base_loss=HalfBinomialLoss(), fit_intercept=True)
        coef = np.concatenate([wd, np.array([b], dtype=dtype)])

        def sklearn_lg():
            return lml.loss_gradient(
                coef, X, y, sample_weight=None, l2_reg_strength=l2, n_threads=n_threads
            )

        methods["sklearn"] = sklearn_lg
    except Exception as exc:  # pragma: no cover - private API may move
        print(f"(sklearn LinearModelLoss unavailable: {exc!r})")
    return methods


# ------------------------------------------------------------- anatomy
# Where the time of one fused evaluation goes on an in-cache X (m = 1e4): the
# kernel's three steps timed apart on one thread, with the kernel's own
# compiled pieces, next to one-thread and two-thread gemv and the whole call.

_ANATOMY_PARTS = None


def _anatomy_parts():
    """The compiled step loops (built on first use: they need numba)."""
    global _ANATOMY_PARTS
    if _ANATOMY_PARTS is None:
        from numba import njit

        from logitdescent import _fused

        @njit(nogil=True, error_model="numpy")
        def score(X, w, b, z, block):
            # as the kernel does for short rows in cache: block by block, with
            # the register-tiled loop, z starting at the intercept
            m = X.shape[0]
            for i in range(m):
                z[i] = b
            for q in range(0, m, block):
                nr = min(block, m - q)
                _fused._score_rows_tiled(z[q:q + nr], X, w, q, nr)

        @njit(nogil=True, error_model="numpy")
        def accumulate(X, rows, dz, a):
            # a += dz_i x_i with the register-tiled loop, over the first `rows`
            # rows again and again (so they stay in L1), m rows in all
            m, n = X.shape
            for j in range(n):
                a[j] = 0.0
            for q in range(0, m - rows + 1, rows):
                _fused._accumulate_rows_tiled(a, X, dz[q:q + rows], 0, rows)

        @njit(nogil=True, error_model="numpy")
        def loss(z, y, block):
            # as in the kernel: block by block, in scratch arrays of one block
            # (a single loop over all of z ran 4x slower in some runs, with
            # some placements of the three long arrays in memory)
            m = z.shape[0]
            zb = np.empty(block)
            lb = np.empty(block)
            c = 0.0
            for q in range(0, m, block):
                nr = min(block, m - q)
                zb[:nr] = z[q:q + nr]
                _fused._loss_block(zb, y, y[:0], False, q, nr, lb)
                for r in range(nr):
                    c += lb[r]
            return c

        _ANATOMY_PARTS = score, loss, accumulate
    return _ANATOMY_PARTS


#: Anatomy methods, in table order, with what each one measures.
ANATOMY_LABELS = {
    "gemv_1t": "X @ v, one BLAS thread",
    "score": "step 1: scores z = Xw + b (one read of X, the kernel's register-tiled loop)",
    "loss": "step 2: losses and dz from z (no X)",
    "accumulate": "step 3: dw += dz_i x_i, register-tiled, rows in L1",
    "fused_1t": "whole fused call, one thread",
    "gemv": "X @ v, all BLAS threads",
    "fused": "whole fused call, all threads",
}


def build_anatomy(X, y, w, b):
    """Callables for :data:`ANATOMY_LABELS` (each evaluates over all of ``X``'s rows).

    ``accumulate`` re-reads the first rows that fit in 24 KiB (a multiple of
    four, so L1-resident), as many times as make ``m`` rows: the fastest the
    kernel's third step can be, since the kernel re-reads its rows from cache.
    Steps 1 and 3 are the register-tiled loops, the kernel's path for short
    rows (under 2 KiB) with X in cache: what the in-cache shape takes.
    """
    import threadpoolctl

    from logitdescent import _fused

    score, loss, accumulate = _anatomy_parts()
    m, n = X.shape
    dtype = X.dtype
    wd = w.astype(dtype)
    w64 = np.asarray(w, dtype=np.float64)
    z = np.empty(m)
    a = np.empty(n)
    rows = max(4, min(m, (24 * 1024) // (n * X.itemsize)) // 4 * 4)
    block = int(_fused._make_job(w64, b, X, y, y[:0], False)[0][_fused._J_BLOCK])
    score(X, w64, b, z, block)
    dz = expit(z) - y
    blas = [lib for lib in threadpoolctl.ThreadpoolController().lib_controllers if lib.user_api == "blas"]
    threads = [lib.num_threads for lib in blas]

    def gemv_1t():
        for lib in blas:
            lib.set_num_threads(1)
        try:
            return X @ wd
        finally:
            for lib, t in zip(blas, threads):
                lib.set_num_threads(t)

    return {
        "gemv_1t": gemv_1t,
        "score": lambda: score(X, w64, b, z, block),
        "loss": lambda: loss(z, y, block),
        "accumulate": lambda: accumulate(X, rows, dz, a),
        "fused_1t": lambda: _fused.fused_loss_and_grad(wd, b, X, y, None, 0.0, n_threads=1),
        "gemv": lambda: X @ wd,
        "fused": lambda: _fused.fused_loss_and_grad(wd, b, X, y, None, 0.0),
    }


def bench_one(methods, repeats, warm=1, min_sample_s=0.02, settle_s=0.0, warm_s=0.0):
    """Median seconds per call of each method, in interleaved rounds.

    Each round runs every method once (the order rotates from round to
    round); a method's sample is ``warm`` untimed calls (or as many as last
    ``warm_s``, if that is more), then a timed batch of calls lasting at least
    ``min_sample_s``. The untimed calls let a method reach its steady state
    (its threads awake, its caches warm) after the other methods ran, as it
    is inside a solver's loop: after a pause, the first calls of every method
    run slower on the project's virtual machines (measured at 1e4 x 100: the
    first 5 calls of the fused kernel took 480, 150, 80, 66 and 63 us, the
    following ones 55-60 us, on one thread as on two). ``settle_s``: pause
    before each sample, so that the previous method's threads have gone to
    sleep. OpenBLAS's busy-wait ~0.1 s after a call and slow down any other
    runtime's threads meanwhile (the fused kernel took 57 ms right after an
    ``X @ v`` at 1e6 x 100, 44 ms after a pause); inside a fit the solvers
    keep BLAS's threads asleep while the kernel runs
    (``logitdescent.solvers._common.quiet_blas``), so the settled figure is
    the one a fit sees.
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
    from logitdescent import _fused
    from logitdescent.kernel import loss_and_grad, penalty_strength

    m = X.shape[0]
    # Reference in float64 from the same (possibly float32) numbers.
    X64 = X if X.dtype == np.float64 else None
    if X64 is None:
        return None  # a float64 copy of a big float32 X would double memory; tested elsewhere
    J0, dw0, db0 = loss_and_grad(w, b, X64, y, None, C=C)
    J1, dw1, db1 = _fused.fused_loss_and_grad(w, b, X, y, None, penalty_strength(C, float(m)))
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
    p.add_argument("--order", default="C", choices=["C", "F"])
    p.add_argument("--C", type=float, default=1.0)
    p.add_argument("--methods", default="gemv,naive,numpy,fused,sklearn",
                   help="any of gemv,naive,numpy,fused,fused_1t,sklearn (gemv is always run)")
    p.add_argument("--warm", type=int, default=1, help="untimed calls before each timed sample")
    p.add_argument("--warm-seconds", type=float, default=0.02,
                   help="untimed calls lasting at least this long before each timed sample")
    p.add_argument("--settle", type=float, default=0.2, help="seconds of pause before each sample")
    args = p.parse_args(argv)

    import numba
    import threadpoolctl

    from logitdescent import _fused

    t0 = time.perf_counter()
    ct = _fused.warm_up()
    print(f"fused warm_up (compile or cache load) {time.perf_counter() - t0:.2f} s: "
          + ", ".join(f"{k} {v:.2f}s" for k, v in ct.items()))
    n_threads = numba.get_num_threads()
    print(f"python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__}, "
          f"numba threads {n_threads}, threading layer {numba.threading_layer()}")
    for lib in threadpoolctl.threadpool_info():
        print(f"  threadpoolctl: {lib['internal_api']} {lib.get('version')} "
              f"threads={lib['num_threads']} arch={lib.get('architecture', '-')} ({lib['prefix']})")

    wanted = ["gemv"] + args.methods.split(",")
    rows = []
    for shape in args.shapes.split(","):
        m, n = _parse_shape(shape)
        X64, y64, w = make_data(m, n)
        if args.order == "F":
            X64 = np.asfortranarray(X64)
        b = 0.1
        for dtname in args.dtypes.split(","):
            dtype = np.dtype(dtname)
            X = X64 if dtype == np.float64 else X64.astype(dtype, order=args.order)
            y = y64.astype(dtype)
            err = check_accuracy(X, y, w, b, args.C)
            methods = build_methods(X, y, w, b, args.C, n_threads)
            methods = {k: v for k, v in methods.items() if k in wanted}
            med, _ = bench_one(methods, args.repeats, warm=args.warm, settle_s=args.settle,
                               warm_s=args.warm_seconds)
            g = med["gemv"]
            for name, t in med.items():
                rows.append((f"{m:.0e}x{n}", dtname, name, t * 1e3, t / g))
            line = "  ".join(f"{k} {v * 1e3:8.2f} ms ({v / g:4.2f}x)" for k, v in med.items())
            acc = "" if err is None else f"  [fused vs numpy relerr {err:.1e}]"
            print(f"{m:>8d} x {n:<5d} {dtname:8s} {line}{acc}", flush=True)
            del X, methods
        del X64

    print(f"\n(interleaved rounds: {args.repeats}, untimed warm-up per sample: >= {args.warm} calls and "
          f">= {args.warm_seconds:g} s)")
    print("\n| shape | dtype | method | median ms | ratio to gemv |")
    print("|---|---|---|---:|---:|")
    for shape, dt, name, ms, ratio in rows:
        print(f"| {shape} | {dt} | {name} | {ms:.2f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
