"""Fused single-pass loss-and-gradient kernel, compiled with Numba.

The optional fast path for :func:`logitdescent.kernel.loss_and_grad` on dense
NumPy data. It computes what the NumPy kernel computes (the conventions are
in :mod:`logitdescent.kernel`)::

    z_i  = x_i . w + b
    J    = sum_i s_i L_i / S + l2 ||w||^2 / 2,
           L_i = max(z_i, 0) - y_i z_i + log1p(exp(-|z_i|))
    dz_i = (sigmoid(z_i) - y_i) s_i / S
    dw   = X^T dz + l2 w,        db = sum_i dz_i

but reads every element of ``X`` from main memory once instead of twice (the
NumPy kernel runs ``X @ w`` and then ``X.T @ dz``), computes the loss in the
same pass, and can use several threads.

API
---
``fused_loss_and_grad(w, b, X, y, sample_weight, l2) -> (J, dw, db)``,
``supports(X)`` (use the NumPy kernel when False), ``recommended(X)`` (also
False where the NumPy kernel is faster: F-ordered X with long rows),
``is_available()``, ``warm_up()`` (compile or load every signature, return the
seconds each took).

Layouts
-------
C-contiguous ``X`` (row-major, NumPy's default): the fast path
    Rows go in blocks of 64-128 KiB (they stay in L2 cache): the block's
    scores ``z`` (each row read from memory once), then its losses and
    residuals in one vectorized loop, then ``acc += sum_r dz_r x_r``, four rows
    per pass over ``acc``, the rows re-read from cache. Rows of 2 KiB or more
    are scored four at a time (``w`` loaded once for four rows: more memory
    streams); shorter rows one at a time (one linear stream, which the
    hardware prefetcher follows best). Short rows also get a software
    prefetch 256 KiB ahead, spread over the block's work. Long float32 rows
    are pipelined instead: each step scores four rows of a block while it
    adds four rows of the previous block to ``acc``, so that the memory
    stream does not wait for the accumulation (the same operations in the
    same order: the same result, bit for bit).
F-contiguous ``X`` (column-major: pandas, transposes)
    The same over blocks of rows of up to 8 MiB (L3 cache), column-oriented:
    per block ``z_blk = b + sum_j w_j X[blk, j]`` (contiguous column segments,
    four at a time), the losses, then ``acc_j += X[blk, j] . dz_blk`` from
    cache. One memory pass too, but much slower than the C path: measured
    1.6-2x an ``X @ v`` at m=1e6, n=100 (the NumPy kernel: 3-4x), but slower
    than the NumPy kernel for long rows (m=1e5, n=1000: 1.2x for float64, 1.7x
    for float32): :func:`recommended` is False there.
Anything else: strided views, other dtypes, sparse matrices, 0 rows/columns
    Not handled: :func:`supports` returns False and :func:`fused_loss_and_grad`
    raises ``ValueError``; the caller falls back to the NumPy kernel. This
    module never copies ``X`` and never appends a column of ones.

Precision
---------
``X`` is read in its own dtype (float32 stays float32 in memory); ``w`` is
used in float64, and every score ``z_i``, loss, ``dz_i`` and every cost and
gradient sum is computed in float64; ``dw`` is cast to ``X.dtype`` only on
return. ``exp`` and ``log1p`` are branch-free polynomial versions (exp: <= 1
ulp, log1p on [0, 1]: <= 2 ulp) so that the loss loop vectorizes; subnormal
and zero results, NaN and infinities behave as NumPy's. Only the dot-product
loops may reassociate (Numba ``fastmath={'reassoc', 'contract', 'nsz'}``, so
LLVM can vectorize a sum with several partial sums); everything else allows
only ``contract`` (fused multiply-add): no ``nnan``/``ninf``, so ``|z| = 1e20``
gives a finite loss as in NumPy. In float64 the result matches the NumPy
kernel to ~1e-14 relative; for float32 ``X``, ``J`` and ``db`` match the NumPy
kernel run on ``X.astype(float64)`` to ~1e-15 and ``dw`` to its float32
rounding (the NumPy kernel itself computes in float32: the less accurate one).

Threads and determinism
-----------------------
Rows are cut into chunks whose boundaries depend only on ``(m, n)``, never on
the thread count; each chunk has its own float64 accumulators for the cost,
``db`` and ``dw``, summed in chunk order at the end. Threads take chunks from
a shared atomic counter (a thread that starts late or whose core is taken
takes fewer). So the result is bitwise identical for any number of threads and
for repeated calls.

The threads are this module's own daemon threads running compiled ``nogil``
code, not Numba's ``parallel=True`` threading layer: on the project's 2-core
virtual machines OpenMP's spin-waiting workers and OpenBLAS's fight over the
cores whenever BLAS calls and kernel calls alternate (measured at m=1e4: an
``X @ v`` took 27 ms instead of 1.8 ms after a ``prange`` kernel), and waking
a sleeping thread costs 40-150 us (sometimes ms), so ``X`` under 32 MiB is
processed by the calling thread alone (see _SPIN_SECONDS for the opt-in
alternative). No TBB/OpenMP layer is needed. The thread count defaults to
``numba.config.NUMBA_NUM_THREADS`` (``NUMBA_NUM_THREADS``, else the CPUs).

Compilation
-----------
Compiled lazily on the first call with a new signature, with ``cache=True``:
later processes load the machine code from ``__pycache__`` (or
``NUMBA_CACHE_DIR``). There are five kernels: {float32, float64} x {C, F}
layout of ``X``, and the pipelined one for long float32 rows (``y`` and
``sample_weight`` are converted to ``X.dtype`` -- free when they already
are -- and a missing ``sample_weight`` is an empty array plus a flag).
:func:`warm_up` compiles or loads them all and returns the
seconds each took: about 2-5 s each to compile (the first also compiles the
shared helpers), 0.01-0.5 s to load from the cache.
"""

from __future__ import annotations

import os
import threading
import time

import numpy as np

__all__ = [
    "is_available",
    "supports",
    "recommended",
    "fused_loss_and_grad",
    "warm_up",
    "compile_times",
    "default_n_threads",
]

try:  # numba is an optional dependency (the "fast" extra)
    import numba
    from numba import njit

    _NUMBA_IMPORT_ERROR = None
except Exception as exc:  # pragma: no cover - exercised only without numba
    numba = None
    _NUMBA_IMPORT_ERROR = exc


# Chunking (a function of the shape only): about this many elements of X per
# chunk, at most _MAX_CHUNKS chunks and _MAX_ACC float64 accumulators in all,
# at least _MIN_CHUNK_ROWS rows each. Chunks are taken with an atomic counter
# inside compiled code, so many small chunks cost next to nothing and balance
# the threads well.
_CHUNK_ELEMS = 1 << 15
_MAX_CHUNKS = 128
_MAX_ACC = 1 << 20
_MIN_CHUNK_ROWS = 16
# Bytes of X per row block (re-read from cache): C order short rows, long
# rows (measured 5-15% faster with 128 KiB than 64 KiB), and F order (L3: the
# column segments must be long for memory to stream well).
_C_BLOCK_BYTES = 64 * 1024
_C_BLOCK_BYTES_LONG = 128 * 1024
_C_BLOCK_MAX_ROWS = 256
_F_BLOCK_BYTES = 8 * 1024 * 1024  # measured: 256 KiB blocks (L2) were 1.3-1.6x slower
# Rows at least this long are scored four at a time (see _chunk_c).
_ROWS4_MIN_BYTES = 2048
# Software prefetch distance in bytes of X ahead, for short rows (scored one at
# a time) and long float64 rows (scored four at a time); none when X is at
# most _PREFETCH_MIN_BYTES (likely in cache already). Measured on a 2-core AMD
# EPYC (noisy: each choice held in 3 of 4 runs): 256 KiB ahead gains 10-40%
# for short rows, but costs long float64 rows 5-15% on two threads, so it is
# off there. Long float32 rows, whose conversion to float64 makes the
# accumulation the slower half, take the pipelined schedule instead
# (_chunk_c_pipelined, no prefetch): on a 2-core Intel Xeon 14% faster than
# _chunk_c with 256 KiB prefetch (1e5 x 1000: 22.9 ms against 26.7 ms), while
# for float64 rows it was no faster (36.1 against 35.3 ms).
_PREFETCH_BYTES_SHORT = 256 * 1024
_PREFETCH_BYTES_LONG64 = 0
_PREFETCH_MIN_BYTES = 16 * 1024 * 1024

# Seconds to compile (or load from the cache) each signature, by warm_up().
compile_times: dict[str, float] = {}

if numba is not None:
    from llvmlite import ir as _ir
    from numba import types as _types
    from numba.core import cgutils as _cgutils
    from numba.extending import intrinsic as _intrinsic

    _OPTS = dict(cache=True, nogil=True, error_model="numpy")
    # Reassociation only for the plain dot products (vectorized partial sums).
    # Nowhere 'nnan'/'ninf'/'afn': NaN and infinities behave as in NumPy.
    _VEC = {"reassoc", "contract", "nsz"}
    # Elsewhere only 'contract' (a*b+c may become one fused multiply-add).
    _FMA = {"contract"}

    @_intrinsic
    def _f64_bits(typingctx, x):
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], _ir.IntType(64))

        return _types.int64(_types.float64), codegen

    @_intrinsic
    def _bits_f64(typingctx, x):
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], _ir.DoubleType())

        return _types.float64(_types.int64), codegen

    @_intrinsic
    def _fetch_add(typingctx, arr, idx, val):
        """Atomically ``old = arr[idx]; arr[idx] += val; return old`` (int64 array)."""

        def codegen(context, builder, signature, args):
            aryty = signature.args[0]
            ary = context.make_array(aryty)(context, builder, args[0])
            ptr = _cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]])
            return builder.atomic_rmw("add", ptr, args[2], "monotonic")

        return _types.int64(_types.Array(_types.int64, 1, "C"), _types.intp, _types.int64), codegen

    _I64_ARRAY = _types.Array(_types.int64, 1, "C")

    @_intrinsic
    def _load_acquire(typingctx, arr, idx):
        """``arr[idx]``, an atomic load that the compiler cannot hoist out of a loop."""

        def codegen(context, builder, signature, args):
            aryty = signature.args[0]
            ary = context.make_array(aryty)(context, builder, args[0])
            ptr = _cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]])
            return builder.load_atomic(ptr, "acquire", 8)

        return _types.int64(_I64_ARRAY, _types.intp), codegen

    @_intrinsic
    def _store_release(typingctx, arr, idx, val):
        """``arr[idx] = val``, an atomic store."""

        def codegen(context, builder, signature, args):
            aryty = signature.args[0]
            ary = context.make_array(aryty)(context, builder, args[0])
            ptr = _cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]])
            builder.store_atomic(args[2], ptr, "release", 8)
            return context.get_dummy_value()

        return _types.void(_I64_ARRAY, _types.intp, _types.int64), codegen

    @_intrinsic
    def _cpu_relax(typingctx):
        """The x86 ``pause`` instruction (a no-op elsewhere): polite spinning."""

        def codegen(context, builder, signature, args):
            if "x86" in builder.module.triple:
                fn = _cgutils.get_or_insert_function(
                    builder.module, _ir.FunctionType(_ir.VoidType(), []), "llvm.x86.sse2.pause"
                )
                builder.call(fn, [])
            return context.get_dummy_value()

        return _types.void(), codegen

    @_intrinsic
    def _prefetch(typingctx, addr):
        """Software prefetch of the cache line at ``addr`` into L2 (prefetcht1)."""

        def codegen(context, builder, signature, args):
            i8p = _ir.IntType(8).as_pointer()
            i32 = _ir.IntType(32)
            fnty = _ir.FunctionType(_ir.VoidType(), [i8p, i32, i32, i32])
            fn = _cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
            builder.call(fn, [builder.inttoptr(args[0], i8p), i32(0), i32(2), i32(1)])
            return context.get_dummy_value()

        return _types.void(_types.intp), codegen

    # exp on (-inf, 0]: Cody-Waite reduction x = k ln2 + r, |r| <= ln2/2, and
    # the degree-13 Taylor polynomial of exp(r) (error < 4e-18); 2^k is built
    # from bits, in two factors so subnormal results round once. <= 1 ulp.
    _LOG2E = 1.4426950408889634
    _LN2_HI = 6.93147180369123816490e-01  # 32 trailing zero bits: k * _LN2_HI exact
    _LN2_LO = 1.90821492927058770002e-10
    _SHIFTER = 6755399441055744.0  # 2**52 + 2**51: x + _SHIFTER rounds x to an integer
    _SHIFTER_BITS = 0x4338000000000000
    _E2, _E3, _E4, _E5, _E6, _E7, _E8, _E9, _E10, _E11, _E12, _E13 = (
        1.0 / float(np.prod(np.arange(1.0, k + 1.0))) for k in range(2, 14)
    )
    # log1p on [0, 1]: log1p(e) = 2 atanh(s), s = e / (2 + e) in [0, 1/3],
    # = 2s + s * s^2 * sum_k 2 s^(2k-2) / (2k+1), 17 terms (error < 1e-18). <= 2 ulp.
    (_L1, _L2, _L3, _L4, _L5, _L6, _L7, _L8, _L9, _L10, _L11, _L12, _L13, _L14, _L15, _L16,
     _L17) = (2.0 / (2 * k + 1) for k in range(1, 18))

    @njit(inline="always", **_OPTS)
    def _exp_nonpos(x):
        """exp(x) for x <= 0, branch-free so a loop of it vectorizes (AVX2)."""
        x = -745.5 if x < -745.5 else x  # exp(-745.5) == 0; NaN passes through
        t = x * _LOG2E + _SHIFTER
        kf = t - _SHIFTER
        ki = _f64_bits(t) - _SHIFTER_BITS
        r = (x - kf * _LN2_HI) - kf * _LN2_LO
        p = _E13
        p = p * r + _E12
        p = p * r + _E11
        p = p * r + _E10
        p = p * r + _E9
        p = p * r + _E8
        p = p * r + _E7
        p = p * r + _E6
        p = p * r + _E5
        p = p * r + _E4
        p = p * r + _E3
        p = p * r + _E2
        p = 1.0 + (r + r * r * p)
        k1 = ki >> 1
        k2 = ki - k1
        return (p * _bits_f64((k1 + 1023) << 52)) * _bits_f64((k2 + 1023) << 52)

    @njit(inline="always", **_OPTS)
    def _log1p_unit(e):
        """log1p(e) for e in [0, 1], branch-free."""
        s = e / (2.0 + e)
        s2 = s * s
        q = _L17
        q = q * s2 + _L16
        q = q * s2 + _L15
        q = q * s2 + _L14
        q = q * s2 + _L13
        q = q * s2 + _L12
        q = q * s2 + _L11
        q = q * s2 + _L10
        q = q * s2 + _L9
        q = q * s2 + _L8
        q = q * s2 + _L7
        q = q * s2 + _L6
        q = q * s2 + _L5
        q = q * s2 + _L4
        q = q * s2 + _L3
        q = q * s2 + _L2
        q = q * s2 + _L1
        return 2.0 * s + s * (s2 * q)

    @njit(fastmath=_FMA, **_OPTS)
    def _loss_block(zb, y, sw, has_sw, i0, nr, lb):
        """For rows i0 + r, r < nr: lb[r] = s L(zb[r], y), zb[r] = s (sigmoid(zb[r]) - y).

        ``L = max(z, 0) - y z + log1p(exp(-|z|))`` and ``sigmoid`` from the
        same ``e = exp(-|z|)``, as the NumPy kernel; a vectorized loop.
        """
        for r in range(nr):
            z = zb[r]
            yi = np.float64(y[i0 + r])
            pos = z >= 0.0
            e = _exp_nonpos(-z if pos else z)  # exp(-|z|) in [0, 1]
            lb[r] = ((z if pos else 0.0) - yi * z) + _log1p_unit(e)
            zb[r] = (1.0 if pos else e) / (1.0 + e) - yi
        if has_sw:
            for r in range(nr):
                s = np.float64(sw[i0 + r])
                lb[r] *= s
                zb[r] *= s

    @njit(fastmath=_VEC, **_OPTS)
    def _dot_row(X, i, w, n):
        s = 0.0
        for j in range(n):
            s += np.float64(X[i, j]) * w[j]
        return s

    @njit(fastmath=_VEC, **_OPTS)
    def _dot_4rows(X, i, w, n):
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        for j in range(n):
            wj = w[j]
            s0 += np.float64(X[i, j]) * wj
            s1 += np.float64(X[i + 1, j]) * wj
            s2 += np.float64(X[i + 2, j]) * wj
            s3 += np.float64(X[i + 3, j]) * wj
        return s0, s1, s2, s3

    @njit(fastmath=_VEC, **_OPTS)
    def _dot_4cols(X, r0, nr, j, g):
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        for r in range(nr):
            gr = g[r]
            i = r0 + r
            s0 += np.float64(X[i, j]) * gr
            s1 += np.float64(X[i, j + 1]) * gr
            s2 += np.float64(X[i, j + 2]) * gr
            s3 += np.float64(X[i, j + 3]) * gr
        return s0, s1, s2, s3

    @njit(fastmath=_VEC, **_OPTS)
    def _dot_col(X, r0, nr, j, g):
        s = 0.0
        for r in range(nr):
            s += np.float64(X[r0 + r, j]) * g[r]
        return s

    @njit(fastmath=_FMA, **_OPTS)
    def _chunk_c(w, b, X, y, sw, has_sw, r0, r1, acc, out, k, block, rows4, ahead):
        """Rows [r0, r1) of a C-contiguous X into acc[k] and out[k] = (cost, sum dz).

        Per block of rows (tens of KiB, so it stays in L1/L2 cache): their
        scores, read from memory once; their losses and residuals (one
        vectorized loop); then acc += sum_r dz_r x_r, four rows at a time, the
        rows re-read from cache. ``rows4``: score four rows per pass over them
        (faster for long rows; one linear stream is faster for short rows).
        ``ahead`` > 0: software-prefetch X that many bytes ahead of the rows
        being scored, a few lines per step, so memory keeps streaming while the
        core computes (the hardware prefetchers alone idle then).
        """
        n = X.shape[1]
        a = acc[k]
        for j in range(n):
            a[j] = 0.0
        zb = np.empty(block, dtype=np.float64)
        lb = np.empty(block, dtype=np.float64)
        c = 0.0
        gs = 0.0
        row_bytes = n * X.itemsize
        base = X.ctypes.data
        pf_end = base + X.shape[0] * row_bytes
        pf = (base + r0 * row_bytes + ahead) // 64 * 64  # prefetch cursor
        # lines per 4-row step, two steps per 4 rows (scoring and accumulating)
        pf_lines = (4 * row_bytes) // 128 + 1 if ahead > 0 else 0
        for q in range(r0, r1, block):
            nr = min(block, r1 - q)
            r = 0
            while r + 4 <= nr:
                for _ in range(pf_lines):
                    if pf < pf_end:
                        _prefetch(pf)
                    pf += 64
                if rows4:
                    z0, z1, z2, z3 = _dot_4rows(X, q + r, w, n)
                else:
                    z0 = _dot_row(X, q + r, w, n)
                    z1 = _dot_row(X, q + r + 1, w, n)
                    z2 = _dot_row(X, q + r + 2, w, n)
                    z3 = _dot_row(X, q + r + 3, w, n)
                zb[r] = z0 + b
                zb[r + 1] = z1 + b
                zb[r + 2] = z2 + b
                zb[r + 3] = z3 + b
                r += 4
            while r < nr:
                zb[r] = _dot_row(X, q + r, w, n) + b
                r += 1
            _loss_block(zb, y, sw, has_sw, q, nr, lb)
            for r in range(nr):  # in order: deterministic
                c += lb[r]
                gs += zb[r]
            r = 0
            while r + 4 <= nr:
                for _ in range(pf_lines):
                    if pf < pf_end:
                        _prefetch(pf)
                    pf += 64
                i = q + r
                g0 = zb[r]
                g1 = zb[r + 1]
                g2 = zb[r + 2]
                g3 = zb[r + 3]
                for j in range(n):
                    a[j] += (g0 * np.float64(X[i, j]) + g1 * np.float64(X[i + 1, j])) + (
                        g2 * np.float64(X[i + 2, j]) + g3 * np.float64(X[i + 3, j])
                    )
                r += 4
            while r < nr:
                i = q + r
                g0 = zb[r]
                for j in range(n):
                    a[j] += g0 * np.float64(X[i, j])
                r += 1
        out[k, 0] = c
        out[k, 1] = gs

    @njit(fastmath=_FMA, **_OPTS)
    def _accumulate_rows(a, X, i, g0, g1, g2, g3, n):
        """``a += g0 x_i + g1 x_(i+1) + g2 x_(i+2) + g3 x_(i+3)``."""
        for j in range(n):
            a[j] += (g0 * np.float64(X[i, j]) + g1 * np.float64(X[i + 1, j])) + (
                g2 * np.float64(X[i + 2, j]) + g3 * np.float64(X[i + 3, j])
            )

    @njit(fastmath=_FMA, **_OPTS)
    def _accumulate_row(a, X, i, g0, n):
        for j in range(n):
            a[j] += g0 * np.float64(X[i, j])

    @njit(fastmath=_FMA, **_OPTS)
    def _chunk_c_pipelined(w, b, X, y, sw, has_sw, r0, r1, acc, out, k, block, rows4, ahead):
        """As :func:`_chunk_c` (long rows), with block ``t + 1`` scored while block ``t`` is accumulated.

        Each step scores four rows of the current block (read from memory)
        and adds four rows of the previous block, whose residuals are ready,
        to ``acc`` (re-read from cache), so the memory stream never waits for
        a block's accumulation. The same operations in the same order as
        :func:`_chunk_c`: bitwise the same result. ``ahead`` is unused (no
        software prefetch). The four-row scoring step is written out as in
        :func:`_chunk_c` on purpose: a shared helper measured 4-5% slower.
        """
        n = X.shape[1]
        a = acc[k]
        for j in range(n):
            a[j] = 0.0
        z_now = np.empty(block, dtype=np.float64)
        z_prev = np.empty(block, dtype=np.float64)
        lb = np.empty(block, dtype=np.float64)
        c = 0.0
        gs = 0.0
        q_prev = 0
        n_prev = 0  # the previous block: first row, rows (its residuals in z_prev)
        q = r0
        while q < r1 or n_prev > 0:
            nr = min(block, r1 - q) if q < r1 else 0
            r = 0
            s = 0
            while r + 4 <= nr or s + 4 <= n_prev:
                if r + 4 <= nr:
                    if rows4:
                        z0, z1, z2, z3 = _dot_4rows(X, q + r, w, n)
                    else:
                        z0 = _dot_row(X, q + r, w, n)
                        z1 = _dot_row(X, q + r + 1, w, n)
                        z2 = _dot_row(X, q + r + 2, w, n)
                        z3 = _dot_row(X, q + r + 3, w, n)
                    z_now[r] = z0 + b
                    z_now[r + 1] = z1 + b
                    z_now[r + 2] = z2 + b
                    z_now[r + 3] = z3 + b
                    r += 4
                if s + 4 <= n_prev:
                    _accumulate_rows(a, X, q_prev + s, z_prev[s], z_prev[s + 1], z_prev[s + 2], z_prev[s + 3], n)
                    s += 4
            while r < nr:
                z_now[r] = _dot_row(X, q + r, w, n) + b
                r += 1
            while s < n_prev:
                _accumulate_row(a, X, q_prev + s, z_prev[s], n)
                s += 1
            if nr > 0:
                _loss_block(z_now, y, sw, has_sw, q, nr, lb)
                for r in range(nr):  # in order: deterministic
                    c += lb[r]
                    gs += z_now[r]
            z_now, z_prev = z_prev, z_now
            q_prev = q
            n_prev = nr
            q += nr
        out[k, 0] = c
        out[k, 1] = gs

    @njit(fastmath=_FMA, **_OPTS)
    def _chunk_f(w, b, X, y, sw, has_sw, r0, r1, acc, out, k, block, rows4, ahead):
        """Rows [r0, r1) of an F-contiguous X, in L2-sized row blocks."""
        n = X.shape[1]
        a = acc[k]
        for j in range(n):
            a[j] = 0.0
        zb = np.empty(block, dtype=np.float64)
        lb = np.empty(block, dtype=np.float64)
        n4 = n - n % 4
        c = 0.0
        gs = 0.0
        for q in range(r0, r1, block):
            nr = min(block, r1 - q)
            for r in range(nr):
                zb[r] = b
            # z_blk += X[blk, j:j+4] w[j:j+4]: four contiguous column segments
            for j in range(0, n4, 4):
                w0 = w[j]
                w1 = w[j + 1]
                w2 = w[j + 2]
                w3 = w[j + 3]
                for r in range(nr):
                    i = q + r
                    zb[r] += (w0 * np.float64(X[i, j]) + w1 * np.float64(X[i, j + 1])) + (
                        w2 * np.float64(X[i, j + 2]) + w3 * np.float64(X[i, j + 3])
                    )
            for j in range(n4, n):
                wj = w[j]
                for r in range(nr):
                    zb[r] += wj * np.float64(X[q + r, j])
            _loss_block(zb, y, sw, has_sw, q, nr, lb)
            for r in range(nr):
                c += lb[r]
                gs += zb[r]
            # acc_j += X[blk, j] . dz_blk, the block re-read from cache
            for j in range(0, n4, 4):
                s0, s1, s2, s3 = _dot_4cols(X, q, nr, j, zb)
                a[j] += s0
                a[j + 1] += s1
                a[j + 2] += s2
                a[j + 3] += s3
            for j in range(n4, n):
                a[j] += _dot_col(X, q, nr, j, zb)
        out[k, 0] = c
        out[k, 1] = gs

    @njit(**_OPTS)
    def _work_c(w, b, X, y, sw, has_sw, nchunks, counter, acc, out, block, rows4, ahead):
        """One thread's share: take chunks from the shared counter until none are left."""
        m = X.shape[0]
        while True:
            k = _fetch_add(counter, 0, 1)
            if k >= nchunks:
                return
            _chunk_c(w, b, X, y, sw, has_sw, (m * k) // nchunks, (m * (k + 1)) // nchunks,
                     acc, out, k, block, rows4, ahead)

    @njit(**_OPTS)
    def _work_c_pipelined(w, b, X, y, sw, has_sw, nchunks, counter, acc, out, block, rows4, ahead):
        m = X.shape[0]
        while True:
            k = _fetch_add(counter, 0, 1)
            if k >= nchunks:
                return
            _chunk_c_pipelined(w, b, X, y, sw, has_sw, (m * k) // nchunks, (m * (k + 1)) // nchunks,
                               acc, out, k, block, rows4, ahead)

    @njit(**_OPTS)
    def _work_f(w, b, X, y, sw, has_sw, nchunks, counter, acc, out, block, rows4, ahead):
        m = X.shape[0]
        while True:
            k = _fetch_add(counter, 0, 1)
            if k >= nchunks:
                return
            _chunk_f(w, b, X, y, sw, has_sw, (m * k) // nchunks, (m * (k + 1)) // nchunks,
                     acc, out, k, block, rows4, ahead)

    @njit(**_OPTS)
    def _spin_while_eq(ctl, idx, value, iters):
        """Spin (without the GIL) while ``ctl[idx] == value``, at most ``iters`` rounds.

        Returns the last value read: ``value`` if it timed out.
        """
        for _ in range(iters):
            v = _load_acquire(ctl, idx)
            if v != value:
                return v
            _cpu_relax()
        return _load_acquire(ctl, idx)

    @njit(**_OPTS)
    def _reduce(acc, out):
        """Sum the chunks' partial results in chunk order (deterministic)."""
        nchunks, n = acc.shape
        dw = np.zeros(n, dtype=np.float64)
        c = 0.0
        gs = 0.0
        for k in range(nchunks):
            c += out[k, 0]
            gs += out[k, 1]
            for j in range(n):
                dw[j] += acc[k, j]
        return c, dw, gs


# ---------------------------------------------------------------- threading

# Waking a sleeping thread takes 40-150 us on the project's virtual machines
# (milliseconds now and then), a good part of a small problem's evaluation.
# The workers can spin (in compiled code, without the GIL, with the ``pause``
# instruction) for _SPIN_SECONDS after each job before they sleep, so that a
# solver's next call finds them awake, as OpenBLAS and OpenMP do; but on two
# cores spinning threads of different runtimes fight for the cores (observed,
# on a machine that was also busy with other work: ``X @ v`` at m=1e4 took 8 ms
# instead of 0.2 ms when interleaved with calls whose worker spun for 0.5 ms),
# so it is off unless asked for with the LOGITDESCENT_SPIN_SECONDS
# environment variable. Without it, problems with
# less than _MIN_PARALLEL_BYTES of X run on the calling thread alone.
_SPIN_SECONDS = float(os.environ.get("LOGITDESCENT_SPIN_SECONDS", 0.0))
_MIN_PARALLEL_BYTES = 32 * 1024 * 1024 if _SPIN_SECONDS <= 0 else 256 * 1024
_WAIT_SPIN_SECONDS = 0.002  # the caller's spin for the workers to finish


class _Team:
    """``n_workers`` daemon threads that run a job together with the caller.

    ``ctl[0]`` is the job number, ``ctl[1 + t]`` the last job worker ``t``
    finished. One job at a time: :meth:`run` is guarded by a lock, and a
    caller that finds it taken (another thread is evaluating) runs alone.
    """

    def __init__(self, n_workers):
        self.n_workers = n_workers
        self.pid = os.getpid()
        self.ctl = np.zeros(1 + n_workers, dtype=np.int64)
        self.lock = threading.Lock()
        self.cv = threading.Condition()
        self.job = None
        self.spin_iters = _calibrate_spin(_SPIN_SECONDS)
        self.wait_iters = _calibrate_spin(_WAIT_SPIN_SECONDS)
        self.threads = [
            threading.Thread(target=self._loop, args=(t,), name=f"logitdescent-fused-{t}", daemon=True)
            for t in range(n_workers)
        ]
        for th in self.threads:
            th.start()

    def _loop(self, t):
        ctl = self.ctl
        last = 0
        while True:
            seq = _spin_while_eq(ctl, 0, last, self.spin_iters)
            if seq == last:  # nothing came: sleep until notified
                with self.cv:
                    while ctl[0] == last:
                        self.cv.wait()
                    seq = int(ctl[0])
            last = seq
            work, args, n_active, done, errors = self.job
            try:
                if t < n_active:
                    work(*args)
            except BaseException as exc:  # pragma: no cover - kernel bugs only
                errors.append(exc)
            finally:
                ctl[1 + t] = seq  # an aligned 8-byte store: atomic on every platform numba targets
                done.set()

    def run(self, work, args, n_active):
        """``work(*args)`` on ``n_active`` workers and this thread; wait for all."""
        if not self.lock.acquire(blocking=False):
            work(*args)  # another thread's job is running: do this one alone
            return
        try:
            ctl = self.ctl
            done = threading.Event()
            errors = []
            self.job = (work, args, n_active, done, errors)
            with self.cv:
                seq = int(ctl[0]) + 1
                ctl[0] = seq
                self.cv.notify_all()
            work(*args)
            for t in range(self.n_workers):
                if _spin_while_eq(ctl, 1 + t, seq - 1, self.wait_iters) != seq:
                    while int(ctl[1 + t]) != seq:
                        if not self.threads[t].is_alive():  # pragma: no cover
                            raise RuntimeError("a logitdescent kernel thread died")
                        done.wait(0.01)
                        done.clear()
            if errors:
                raise errors[0]
        finally:
            self.lock.release()


def _calibrate_spin(seconds):
    """Rounds of :func:`_spin_while_eq` that take about ``seconds``."""
    if seconds <= 0:
        return 0
    probe = np.zeros(1, dtype=np.int64)
    _spin_while_eq(probe, 0, 0, 10)
    n = 20000
    t0 = time.perf_counter()
    _spin_while_eq(probe, 0, 0, n)
    per = max((time.perf_counter() - t0) / n, 1e-9)
    return max(1, int(seconds / per))


_team_lock = threading.Lock()
_team = None


def _reset_team_after_fork():  # a forked child has the team object but not its threads
    global _team
    _team = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_team_after_fork)


def _get_team(n_workers):
    global _team
    with _team_lock:
        if _team is None or _team.pid != os.getpid() or _team.n_workers < n_workers:
            _team = _Team(n_workers)  # an old, smaller team's threads just sleep
        return _team


def default_n_threads():
    """Threads used when ``n_threads`` is None: ``numba.config.NUMBA_NUM_THREADS``."""
    if numba is None:
        return 1
    return max(1, int(numba.config.NUMBA_NUM_THREADS))


def _plan_chunks(m, n):
    """Number of row chunks; a function of the shape only (determinism)."""
    nchunks = (m * n) // _CHUNK_ELEMS
    nchunks = min(nchunks, _MAX_CHUNKS, max(1, _MAX_ACC // n), m // _MIN_CHUNK_ROWS)
    return max(1, nchunks)


def _run(work, args, nchunks, n_threads):
    """Run ``work(*args)`` on ``min(n_threads, nchunks)`` threads (this one included).

    Every call takes chunks from the shared counter in ``args`` until none are
    left, so a thread that starts late or is slowed down takes fewer.
    """
    n_workers = min(n_threads, nchunks) - 1
    if n_workers <= 0 or args[2].nbytes < _MIN_PARALLEL_BYTES:
        work(*args)
        return
    _get_team(n_workers).run(work, args, n_workers)


# ---------------------------------------------------------------- public API


def is_available(compile=False):
    """Whether the compiled kernel can be used.

    Parameters
    ----------
    compile : bool, default=False
        Also compile (or load from the cache) every signature now, and return
        False if that fails.
    """
    if numba is None:
        return False
    if compile:
        try:
            warm_up()
        except Exception:  # pragma: no cover - broken numba/llvmlite install
            return False
    return True


def supports(X):
    """Whether :func:`fused_loss_and_grad` takes ``X`` as it is (no copy).

    True for a float32/float64 ``numpy.ndarray`` of shape (m, n), m, n >= 1,
    that is C- or F-contiguous, when numba is available. False for sparse
    matrices, other dtypes, strided views, ``np.matrix`` and empty arrays: use
    the NumPy kernel for those.
    """
    return (
        numba is not None
        and type(X) is np.ndarray
        and X.ndim == 2
        and X.dtype in (np.float32, np.float64)
        and X.shape[0] > 0
        and X.shape[1] > 0
        and (X.flags.c_contiguous or X.flags.f_contiguous)
    )


def recommended(X):
    """Whether the fused kernel is expected to beat the NumPy kernel on ``X``.

    True when :func:`supports` is and ``X`` is C-contiguous, or F-contiguous
    with rows shorter than 2 KiB (n * itemsize). For F-ordered data with long
    rows the column-oriented variant was measured slower than the NumPy
    kernel (1.2x for float64, 1.7-2x for float32 at m=1e5, n=1000).
    """
    return supports(X) and (X.flags.c_contiguous or X.shape[1] * X.itemsize < _ROWS4_MIN_BYTES)


def fused_loss_and_grad(w, b, X, y, sample_weight, l2, *, weight_sum=None, n_threads=None):
    """Cost and gradient in one pass over ``X``, with the kernel.py conventions.

    Parameters
    ----------
    w : array_like of shape (n,)
        Weights; used in float64 (a float32 ``w`` is promoted exactly).
    b : float
        Intercept, never penalized.
    X : ndarray of shape (m, n)
        float32 or float64, C- or F-contiguous (see :func:`supports`).
        Never copied.
    y : array_like of shape (m,)
        Targets in {0, 1}; converted to ``X.dtype`` unless it already is.
    sample_weight : array_like of shape (m,) or None
        Non-negative weights ``s_i``; None means all ones.
    l2 : float
        ``lambda = 1 / (C S)``, already computed; 0.0 for no penalty.
    weight_sum : float, optional
        ``S``, if the caller has it (saves one pass over ``sample_weight``);
        default ``m`` or ``sum(sample_weight)`` in float64.
    n_threads : int, optional
        Threads to use; default :func:`default_n_threads`. The result does not
        depend on it (see the module docstring).

    Returns
    -------
    J : float
        The cost.
    dw : ndarray of shape (n,)
        ``dJ/dw`` in ``X.dtype``.
    db : float
        ``dJ/db``.

    Raises
    ------
    ValueError
        If ``X`` is not supported (check with :func:`supports` first) or the
        shapes do not match.
    """
    if not supports(X):
        raise ValueError(
            "fused_loss_and_grad needs numba and a C- or F-contiguous float32/float64 "
            "ndarray with at least one row and column; use the NumPy kernel for this X."
        )
    m, n = X.shape
    dtype = X.dtype
    w64 = np.ascontiguousarray(w, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=dtype)
    if w64.shape != (n,) or y.shape != (m,):
        raise ValueError(f"w {w64.shape} and y {y.shape} must match X {X.shape} as (n,), (m,).")
    if sample_weight is None:
        has_sw = False
        sw = y[:0]
        S = float(m) if weight_sum is None else float(weight_sum)
    else:
        has_sw = True
        sw = np.ascontiguousarray(sample_weight, dtype=dtype)
        if sw.shape != (m,):
            raise ValueError(f"sample_weight {sw.shape} must match X {X.shape} as (m,).")
        S = float(np.sum(sw, dtype=np.float64)) if weight_sum is None else float(weight_sum)
    if n_threads is None:
        n_threads = default_n_threads()

    nchunks = _plan_chunks(m, n)
    acc = np.empty((nchunks, n), dtype=np.float64)
    out = np.empty((nchunks, 2), dtype=np.float64)
    counter = np.zeros(1, dtype=np.int64)
    row_bytes = X.itemsize * n
    if X.flags.c_contiguous:
        rows4 = row_bytes >= _ROWS4_MIN_BYTES
        work = _work_c_pipelined if rows4 and X.itemsize == 4 else _work_c
        block_bytes = _C_BLOCK_BYTES_LONG if rows4 else _C_BLOCK_BYTES
        block = min(_C_BLOCK_MAX_ROWS, max(4, (block_bytes // row_bytes) // 4 * 4))
        ahead = _PREFETCH_BYTES_LONG64 if rows4 else _PREFETCH_BYTES_SHORT
        if m * row_bytes <= _PREFETCH_MIN_BYTES:  # in cache: nothing to prefetch
            ahead = 0
    else:
        work = _work_f
        block = max(16, min(_F_BLOCK_BYTES // row_bytes, -(-m // nchunks)))
        rows4, ahead = False, 0
    args = (w64, float(b), X, y, sw, has_sw, nchunks, counter, acc, out, block, rows4, ahead)
    _run(work, args, nchunks, n_threads)
    c, dw, gs = _reduce(acc, out)

    inv_S = 1.0 / S
    J = c * inv_S
    dw *= inv_S
    db = gs * inv_S
    if l2:
        l2 = float(l2)
        J += 0.5 * l2 * float(np.dot(w64, w64))
        dw += l2 * w64
    return J, dw.astype(dtype, copy=False), db


def warm_up(verbose=False):
    """Compile, or load from the on-disk cache, all five kernels.

    Returns ``{"float64/C": seconds, "float64/F": ..., "float32/C": ...,
    "float32/F": ..., "float32/C long rows": ..., "threads": ...}`` (the
    last two: the pipelined kernel for rows of 2 KiB or more, and the
    thread-team helper) and records it in :data:`compile_times`. A compile
    happens once per machine and numba version; later processes only load.
    """
    if numba is None:
        return {}
    times = {}
    long_row = _ROWS4_MIN_BYTES // 4
    for dtype, order, n, sig in [
        (np.float64, "C", 3, "float64/C"), (np.float64, "F", 3, "float64/F"),
        (np.float32, "C", 3, "float32/C"), (np.float32, "F", 3, "float32/F"),
        (np.float32, "C", long_row, "float32/C long rows"),
    ]:
        X = np.ones((5, n), dtype=dtype, order=order)
        y = np.array([0, 1, 0, 1, 1], dtype=dtype)
        t0 = time.perf_counter()
        fused_loss_and_grad(np.zeros(n), 0.0, X, y, None, 0.0, n_threads=1)
        times[sig] = time.perf_counter() - t0
        if verbose:
            print(f"logitdescent fused kernel {sig}: {times[sig]:.2f} s")
    t0 = time.perf_counter()
    _spin_while_eq(np.zeros(1, dtype=np.int64), 0, 0, 1)  # used by the worker threads
    times["threads"] = time.perf_counter() - t0
    if verbose:
        print(f"logitdescent fused kernel threads: {times['threads']:.2f} s")
    compile_times.update(times)
    return times
