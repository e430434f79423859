"""Compiled single-pass kernels (plain Numba) behind :mod:`logitdescent.kernel`.

Only :mod:`logitdescent.kernel` imports this module; it decides when to use it
(:func:`supports`). The conventions (weighted mean, penalty, numerics) are the
kernel's; this module returns *sums* over the rows, which the kernel divides
by ``S`` and completes with the penalty.

Binary (the lecture's vectorized pass, fused)::

    z_i = x_i . w + b,   L_i = max(z_i, 0) - y_i z_i + log1p(exp(-|z_i|))
    dz_i = s_i (sigmoid(z_i) - y_i)
    returns  sum_i s_i L_i,   X^T dz,   sum_i dz_i

Softmax (K classes, ``y`` class indices)::

    Z_i = W x_i + b,   L_i = logsumexp(Z_i) - Z_i[y_i]
    dZ_i = s_i (softmax(Z_i) - onehot(y_i))
    returns  sum_i s_i L_i,   dZ^T X,   sum_i dZ_i

One pass over X
    Rows go in blocks small enough to stay in the L2 cache: a block's scores
    (each row read from memory once), then its losses and residuals, then the
    gradient ``acc += dz_r x_r`` with the rows re-read from cache. NumPy's
    ``X @ w`` then ``X.T @ dz`` reads X from memory twice.
Precision
    X is read in its own dtype; every score, loss and sum is float64 (float32
    X too); the gradient is returned in float64 and cast by the caller. Dot
    products may be reassociated (``fastmath`` reassoc/contract, so LLVM
    vectorizes them); nothing assumes finite values (no ``nnan``/``ninf``).
Threads and determinism
    Rows are cut into chunks whose boundaries depend on the shape only. Each
    chunk writes its own partial sums, which are added in chunk order at the
    end, so the result is bit-identical for any thread count. The chunks are
    handed out to a standard ``concurrent.futures.ThreadPoolExecutor``
    running the ``nogil`` chunk function; the calling thread takes chunks too.
    Numba's own threading layer is not used: its OpenMP/workqueue workers
    spin and fight OpenBLAS's for the cores when BLAS calls and kernel calls
    alternate (docs/solvers.md, "The compiled kernel").
Compilation
    Lazily on first use, ``cache=True`` (later processes load the machine
    code from ``__pycache__`` or ``NUMBA_CACHE_DIR``). :func:`warm_up`
    compiles both dtypes of both kernels. Setting ``LOGITDESCENT_NO_NUMBA=1``
    disables the module (the NumPy kernels run instead), as does a missing
    Numba.
"""

from __future__ import annotations

import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["available", "supports", "binary_sums", "softmax_sums", "warm_up", "default_n_threads"]


def _import_numba():
    if os.environ.get("LOGITDESCENT_NO_NUMBA", "").strip() not in ("", "0"):
        return None
    try:
        import numba
    except ImportError:
        return None
    return numba


numba = _import_numba()

#: Target bytes of X per row block, re-read from cache for the gradient: 32 KiB
#: stays in L1 (faster than 64 KiB at n = 100, equal at n = 1000: docs/kernel.md).
BLOCK_BYTES = 32 * 1024
#: Target elements of X (times K for softmax) per chunk.
CHUNK_ELEMENTS = 1 << 16
#: At most this many chunks, and this many float64 partial sums in all.
MAX_CHUNKS = 256
MAX_PARTIALS = 1 << 21
#: X below this many bytes is evaluated by the calling thread alone: waking a
#: pool thread costs more than it saves there (the crossover lies between 4
#: and 8 MB of X on the project's machines: docs/kernel.md).
MIN_PARALLEL_BYTES = 4 * 2**20


def available():
    """Whether the compiled kernels can run (Numba importable and not disabled)."""
    return numba is not None


def supports(X):
    """Whether ``X`` can be evaluated here as it is: a C-contiguous float32/float64
    ``numpy.ndarray`` with at least one row and one column, and Numba available."""
    return (
        numba is not None
        and type(X) is np.ndarray
        and X.ndim == 2
        and X.dtype in (np.float32, np.float64)
        and X.flags.c_contiguous
        and X.shape[0] > 0
        and X.shape[1] > 0
    )


def default_n_threads():
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def _chunk_bounds(m, n):
    """Row boundaries of the chunks: a function of the shape only (``n`` outputs per row)."""
    n_chunks = min(MAX_CHUNKS, max(1, MAX_PARTIALS // n), max(1, (m * n) // CHUNK_ELEMENTS), m)
    return np.linspace(0, m, n_chunks + 1).astype(np.int64)


def _block_rows(n, itemsize):
    return max(8, BLOCK_BYTES // (n * itemsize))


if numba is not None:
    _OPTS = dict(nogil=True, cache=True, error_model="numpy")
    # Reassociation lets LLVM keep several partial sums of a dot product in
    # vector registers; 'contract' allows fused multiply-adds. No 'nnan' or
    # 'ninf': |z| = 1e20 must still give a finite loss, NaN must propagate.
    _DOT = {"reassoc", "contract", "nsz"}

    # Everything else only contracts to fused multiply-adds.
    _FMA = {"contract"}

    @numba.njit(fastmath=_DOT, **_OPTS)
    def _dot_row(X, i, v):
        """``x_i . v`` in float64 (LLVM inlines it, keeping its flags)."""
        s = 0.0
        for j in range(v.shape[0]):
            s += np.float64(X[i, j]) * v[j]
        return s

    @numba.njit(fastmath=_FMA, **_OPTS)
    def _add_rows(acc, X, r0, d, nr):
        """``acc += sum_r d[r] X[r0 + r]`` for ``r < nr``, four rows per pass.

        Four rows per pass load and store ``acc`` a quarter as often: twice
        as fast as one row per pass with the rows in cache (docs/kernel.md).
        """
        n = X.shape[1]
        r = 0
        while r + 4 <= nr:
            d0, d1, d2, d3 = d[r], d[r + 1], d[r + 2], d[r + 3]
            i = r0 + r
            for j in range(n):
                acc[j] += (d0 * np.float64(X[i, j]) + d1 * np.float64(X[i + 1, j])) + (
                    d2 * np.float64(X[i + 2, j]) + d3 * np.float64(X[i + 3, j]))
            r += 4
        while r < nr:
            dr = d[r]
            for j in range(n):
                acc[j] += dr * np.float64(X[r0 + r, j])
            r += 1

    # exp(x) for x in [-708, 0] without a libm call, so that the loss loop
    # vectorizes (a libm exp per row cost as much as reading the row at
    # n = 100: docs/solvers.md). Cody-Waite reduction x = k ln2 + r with
    # |r| <= ln2/2, the degree-13 Taylor polynomial of exp(r) (error < 4e-18),
    # 2^k built from the bits of x log2(e) + 1.5 * 2^52 through an int64 view.
    # Below -708 exp is clamped to exp(-708) ~ 3e-308 (no subnormals): the
    # loss and the residual then differ from the exact ones by < 1e-307.
    _LOG2E = 1.4426950408889634
    _LN2_HI = 6.93147180369123816490e-01  # 32 trailing zero bits: k * _LN2_HI is exact
    _LN2_LO = 1.90821492927058770002e-10
    _SHIFTER = 6755399441055744.0  # 2**52 + 2**51: adding it rounds to an integer
    _SHIFTER_BITS = 0x4338000000000000
    _EXP_MIN = -708.0
    (_E2, _E3, _E4, _E5, _E6, _E7, _E8, _E9, _E10, _E11, _E12, _E13) = (
        1.0 / math.factorial(k) for k in range(2, 14))
    # log1p(e) for e in [0, 1]: 2 atanh(s), s = e / (2 + e) in [0, 1/3], as
    # 2s + s * s^2 * sum_k 2 s^(2k-2) / (2k + 1), 17 terms (error < 1e-18).
    (_L1, _L2, _L3, _L4, _L5, _L6, _L7, _L8, _L9, _L10, _L11, _L12, _L13, _L14, _L15, _L16, _L17) = (
        2.0 / (2 * k + 1) for k in range(1, 18))

    @numba.njit(fastmath=_FMA, **_OPTS)
    def _exp_taylor(r):
        p = ((((((((((_E13 * r + _E12) * r + _E11) * r + _E10) * r + _E9) * r + _E8) * r + _E7) * r
                  + _E6) * r + _E5) * r + _E4) * r + _E3) * r + _E2
        return 1.0 + (r + r * r * p)

    @numba.njit(fastmath=_FMA, **_OPTS)
    def _log1p_unit(e):
        s = e / (2.0 + e)
        t = s * s
        q = (((((((((((((((_L17 * t + _L16) * t + _L15) * t + _L14) * t + _L13) * t + _L12) * t + _L11) * t
                      + _L10) * t + _L9) * t + _L8) * t + _L7) * t + _L6) * t + _L5) * t + _L4) * t + _L3) * t
             + _L2) * t + _L1
        return 2.0 * s + s * (t * q)

    @numba.njit(fastmath=_FMA, **_OPTS)
    def _exp_nonpositive(x, out, t, count):
        """``out[i] = exp(x[i])`` for ``x[i] <= 0``, ``i < count``; ``t`` is scratch.

        Three loops that each vectorize: the rounded ``x log2(e)``, then
        ``2^k`` from its bits, then the polynomial times ``2^k``.
        """
        for i in range(count):
            xi = x[i]
            xi = _EXP_MIN if xi < _EXP_MIN else xi  # NaN stays NaN
            t[i] = xi * _LOG2E + _SHIFTER
        t_bits = t[:count].view(np.int64)
        scale_bits = out[:count].view(np.int64)
        for i in range(count):
            scale_bits[i] = (t_bits[i] - _SHIFTER_BITS + 1023) << 52
        for i in range(count):
            xi = x[i]
            xi = _EXP_MIN if xi < _EXP_MIN else xi
            kf = t[i] - _SHIFTER
            out[i] *= _exp_taylor((xi - kf * _LN2_HI) - kf * _LN2_LO)

    @numba.njit(fastmath=_DOT, **_OPTS)
    def _sum(v, count):
        """Sum of ``v[:count]``, reassociated into vector partial sums (same order every call)."""
        s = 0.0
        for i in range(count):
            s += v[i]
        return s

    @numba.njit(fastmath=_FMA, **_OPTS)
    def _binary_losses(z, y, sw, has_sw, i0, nr, scratch):
        """Losses and residuals of rows ``i0 + r``, ``r < nr``, from their scores ``z``.

        Overwrites ``z[r]`` by ``dz = s (sigmoid(z) - y)``; returns
        ``(sum s L, sum dz)``. ``scratch`` is (3, >= nr). Every loop
        vectorizes: no reduction inside them (the sums come last).
        """
        neg_abs, exp_neg, loss = scratch[0], scratch[1], scratch[2]
        for r in range(nr):
            neg_abs[r] = -abs(z[r])
        _exp_nonpositive(neg_abs, exp_neg, loss, nr)  # exp(-|z|), in [0, 1]
        for r in range(nr):
            zr = z[r]
            e = exp_neg[r]
            yi = np.float64(y[i0 + r])
            loss[r] = (zr if zr > 0.0 else 0.0) - yi * zr + _log1p_unit(e)
            z[r] = (1.0 if zr >= 0.0 else e) / (1.0 + e) - yi
        if has_sw:
            for r in range(nr):
                si = np.float64(sw[i0 + r])
                loss[r] *= si
                z[r] *= si
        return _sum(loss, nr), _sum(z, nr)

    @numba.njit(fastmath=_FMA, **_OPTS)
    def _binary_chunks(X, y, sw, has_sw, off, has_off, w, b, bounds, c0, c1, block, partial_dw, partial_sums):
        """Sums of chunks ``c0 .. c1-1`` (rows ``bounds[c] .. bounds[c+1]``) into their partials."""
        n = X.shape[1]
        dz = np.empty(block)
        scratch = np.empty((3, block))
        for c in range(c0, c1):
            acc = partial_dw[c]
            loss = 0.0
            dz_sum = 0.0
            for r0 in range(bounds[c], bounds[c + 1], block):
                r1 = min(r0 + block, bounds[c + 1])
                for i in range(r0, r1):  # scores: each row read from memory once
                    dz[i - r0] = _dot_row(X, i, w) + b
                if has_off:
                    for i in range(r0, r1):
                        dz[i - r0] += off[i]
                block_loss, block_dz = _binary_losses(dz, y, sw, has_sw, r0, r1 - r0, scratch)
                loss += block_loss
                dz_sum += block_dz
                _add_rows(acc, X, r0, dz, r1 - r0)  # gradient: the block's rows come from cache
            partial_sums[c, 0] = loss
            partial_sums[c, 1] = dz_sum

    @numba.njit(fastmath=_FMA, **_OPTS)
    def _softmax_chunks(X, y, sw, has_sw, off, has_off, W, b, bounds, c0, c1, block, partial_dW, partial_sums):
        """Sums of chunks ``c0 .. c1-1`` for the K-class softmax model."""
        K, n = W.shape
        Z = np.empty((block, K))  # scores, then shifted scores, then dZ
        dZ_k = np.empty(block)
        E = np.empty((block, K))  # exp of the shifted scores
        T = np.empty(block * K)
        true_score = np.empty(block)
        for c in range(c0, c1):
            acc = partial_dW[c]
            sums = partial_sums[c]
            loss = 0.0
            for r0 in range(bounds[c], bounds[c + 1], block):
                nr = min(block, bounds[c + 1] - r0)
                for r in range(nr):  # all K scores of a row while it is in L1
                    for k in range(K):
                        Z[r, k] = _dot_row(X, r0 + r, W[k]) + b[k]
                if has_off:
                    for r in range(nr):
                        for k in range(K):
                            Z[r, k] += off[r0 + r, k]
                for r in range(nr):  # shift by the row maximum: every exp <= 1
                    top = Z[r, 0]
                    for k in range(1, K):
                        top = max(top, Z[r, k])
                    for k in range(K):
                        Z[r, k] -= top
                    true_score[r] = Z[r, y[r0 + r]]
                _exp_nonpositive(Z.ravel(), E.ravel(), T, nr * K)
                for r in range(nr):
                    norm = 0.0
                    for k in range(K):
                        norm += E[r, k]
                    si = np.float64(sw[r0 + r]) if has_sw else 1.0
                    loss += si * (math.log(norm) - true_score[r])
                    scale = si / norm
                    for k in range(K):
                        Z[r, k] = scale * E[r, k]
                    Z[r, y[r0 + r]] -= si
                    for k in range(K):
                        sums[1 + k] += Z[r, k]
                for k in range(K):  # dW += dZ^T X_block, rows from cache
                    for r in range(nr):
                        dZ_k[r] = Z[r, k]
                    _add_rows(acc[k], X, r0, dZ_k, nr)
            sums[0] = loss


_pool = None
_pool_size = 0
_pool_lock = threading.Lock()


def _get_pool(n_workers):
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < n_workers:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="logitdescent")
            _pool_size = n_workers
        return _pool


def _forget_pool_after_fork():
    global _pool, _pool_size
    _pool, _pool_size = None, 0  # the parent's threads did not come along


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def _run_chunks(run, n_chunks, n_threads, nbytes):
    """Call ``run(c0, c1)`` over disjoint ranges covering chunks ``0 .. n_chunks-1``.

    Up to ``n_threads`` threads take ranges of chunks from a shared counter
    (about two ranges per thread: a thread slowed by the machine takes fewer);
    the calling thread takes ranges as well, and pool threads that start after
    the last range is gone return at once. Which thread runs a chunk does not
    matter: each writes its own outputs.
    """
    if n_threads <= 1 or n_chunks == 1 or nbytes < MIN_PARALLEL_BYTES:
        run(0, n_chunks)
        return
    group = max(1, n_chunks // (2 * n_threads))
    starts = iter(range(0, n_chunks, group))  # next() is atomic under the GIL
    # Cleared when the call returns: a helper task cancelled while still
    # queued then holds no reference to the call's arrays (X, partial sums).
    job = {"run": run}
    stop = threading.Event()

    def take_ranges():
        run_range = job.get("run")
        if run_range is None:  # the call is over: nothing left to take
            return
        for c0 in starts:
            if stop.is_set():
                return
            run_range(c0, min(c0 + group, n_chunks))

    pool = _get_pool(n_threads - 1)
    helpers = [pool.submit(take_ranges) for _ in range(n_threads - 1)]
    try:
        take_ranges()
    except BaseException:
        stop.set()  # an interrupt: no helper starts another range
        raise
    finally:
        job.clear()
        for future in helpers:
            if not future.cancel():
                future.result()  # re-raises a helper's error; waits for its range


def _prepare(X, y, sample_weight, y_dtype):
    y = np.ascontiguousarray(y, dtype=y_dtype)
    if sample_weight is None:
        return y, np.empty(0, dtype=X.dtype), False
    return y, np.ascontiguousarray(sample_weight, dtype=X.dtype), True


def _prepare_offset(offset, ndim):
    # Scores are float64, so is their offset; an empty array of the same type
    # when there is none keeps one compiled specialization.
    if offset is None:
        return np.empty((0,) * ndim), False
    return np.ascontiguousarray(offset, dtype=np.float64), True


def binary_sums(w, b, X, y, sample_weight=None, n_threads=None, offset=None):
    """``(sum s L, X^T dz, sum dz)`` of the binary model in one pass over ``X``.

    Parameters
    ----------
    w : ndarray of shape (n,)
        Used in float64.
    b : float
    X : ndarray of shape (m, n)
        Accepted by :func:`supports`; never copied or written.
    y : ndarray of shape (m,)
        Targets in [0, 1] (converted to ``X.dtype`` unless already).
    sample_weight : ndarray of shape (m,) or None
    n_threads : int, optional
        Default :func:`default_n_threads`; the result does not depend on it.
    offset : ndarray of shape (m,) or None
        A known term added to every score (``z = X w + b + offset``).

    Returns
    -------
    loss_sum : float
    dw_sum : ndarray of shape (n,), float64
    dz_sum : float
    """
    m, n = X.shape
    w = np.ascontiguousarray(w, dtype=np.float64)
    y, sw, has_sw = _prepare(X, y, sample_weight, X.dtype)
    off, has_off = _prepare_offset(offset, 1)
    bounds = _chunk_bounds(m, n)
    n_chunks = bounds.size - 1
    partial_dw = np.zeros((n_chunks, n))
    partial_sums = np.zeros((n_chunks, 2))
    block = _block_rows(n, X.itemsize)
    b = float(b)

    def run(c0, c1):
        _binary_chunks(X, y, sw, has_sw, off, has_off, w, b, bounds, c0, c1, block, partial_dw, partial_sums)

    _run_chunks(run, n_chunks, n_threads or default_n_threads(), X.nbytes)
    sums = partial_sums.sum(axis=0)
    return float(sums[0]), partial_dw.sum(axis=0), float(sums[1])


def softmax_sums(W, b, X, y, sample_weight=None, n_threads=None, offset=None):
    """``(sum s L, dZ^T X, sum dZ)`` of the K-class softmax model in one pass.

    Parameters
    ----------
    W : ndarray of shape (K, n)
        Used in float64.
    b : ndarray of shape (K,)
    X : ndarray of shape (m, n)
        Accepted by :func:`supports`; never copied or written.
    y : ndarray of shape (m,)
        Class indices in ``0 .. K-1``.
    sample_weight : ndarray of shape (m,) or None
    n_threads : int, optional
    offset : ndarray of shape (m, K) or None
        Known terms added to the scores.

    Returns
    -------
    loss_sum : float
    dW_sum : ndarray of shape (K, n), float64
    db_sum : ndarray of shape (K,), float64
    """
    m, n = X.shape
    W = np.ascontiguousarray(W, dtype=np.float64)
    b = np.ascontiguousarray(b, dtype=np.float64)
    K = W.shape[0]
    y, sw, has_sw = _prepare(X, y, sample_weight, np.intp)
    off, has_off = _prepare_offset(offset, 2)
    bounds = _chunk_bounds(m, n * K)
    n_chunks = bounds.size - 1
    partial_dW = np.zeros((n_chunks, K, n))
    partial_sums = np.zeros((n_chunks, 1 + K))
    block = _block_rows(n, X.itemsize)

    def run(c0, c1):
        _softmax_chunks(X, y, sw, has_sw, off, has_off, W, b, bounds, c0, c1, block, partial_dW, partial_sums)

    _run_chunks(run, n_chunks, n_threads or default_n_threads(), X.nbytes)
    sums = partial_sums.sum(axis=0)
    return float(sums[0]), partial_dW.sum(axis=0), sums[1:]


def warm_up():
    """Compile, or load from the on-disk cache, both kernels for both dtypes.

    Returns
    -------
    seconds : dict
        ``{"binary": s, "softmax": s}``; empty when Numba is unavailable.
    """
    if numba is None:
        return {}
    times = {}
    for name, run in (("binary", binary_sums), ("softmax", softmax_sums)):
        t0 = time.perf_counter()
        for dtype in (np.float64, np.float32):
            X = np.ones((4, 3), dtype=dtype)
            for sw in (None, np.ones(4)):
                if name == "binary":
                    run(np.zeros(3), 0.0, X, np.array([0.0, 1.0, 0.0, 1.0]), sw, n_threads=1)
                else:
                    run(np.zeros((2, 3)), np.zeros(2), X, np.array([0, 1, 0, 1]), sw, n_threads=1)
        times[name] = time.perf_counter() - t0
    return times
