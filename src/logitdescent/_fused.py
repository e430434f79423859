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
    residuals in one vectorized loop, then ``acc += sum_r dz_r x_r``, the rows
    re-read from cache. Rows shorter than 2 KiB with ``X`` in cache (16 MiB or
    less) go through two loops written in LLVM IR that keep a panel of up to
    128 columns of ``w`` (scoring) or of ``acc`` (accumulating) in vector
    registers for the whole block ("register tiles", below); rows of at most
    one panel go through a single such loop over the whole chunk, 8 rows at a
    time, their losses computed as one vector in between: together 1.3-1.8x
    faster than the plain loops at m=1e4, n=100. Out of cache, short rows are scored
    one at a time (one linear stream, which the hardware prefetcher follows
    best) with a software prefetch 256 KiB ahead, spread over the block's
    work, and added to ``acc`` four rows per pass. Rows of 2 KiB or more take
    the plain loops in cache too (the register tiles were no faster there):
    float64 rows of up to 12 KiB scored one at a time without software
    prefetch (at 1e5 x 1000: 0.95-0.98x an ``X @ v``, against 1.20-1.26x four
    at a time), float32 rows and longer float64 rows four at a time (``w``
    loaded once for four rows), each added to ``acc`` four rows per pass.
    Long float32 rows may be pipelined instead: each step scores four rows of
    a block while it adds four rows of the previous block to ``acc``, so that
    the memory stream does not wait for the accumulation (the same operations
    in the same order: the same result, bit for bit).
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
``db`` and ``dw``, summed in chunk order at the end. Threads take chunks with
an atomic compare-and-swap (a thread that starts late or whose core is taken
takes fewer). So the result is bitwise identical for any number of threads and
for repeated calls.

The threads are this module's own daemon threads, not Numba's
``parallel=True`` threading layer: on the project's 2-core virtual machines
OpenMP's spin-waiting workers and OpenBLAS's fight over the cores whenever
BLAS calls and kernel calls alternate (measured at m=1e4: an ``X @ v`` took
27 ms instead of 1.8 ms after a ``prange`` kernel). A job (one evaluation) is
an int64 array of its arrays' addresses and parameters; the workers wait for
jobs, run their chunks and report them done in compiled code, without the
GIL, so a job costs them no Python at all. Waking a sleeping thread costs
40-150 us on these machines (and a Python-level wake-up, which must also pass
the GIL around, cost whole fits 3-4 ms), so after a job a worker spins for
0.5 ms, then naps in 50 us sleeps for 50 ms and in 1 ms sleeps for 2 s, and
only then sleeps in Python (on Windows, which has no ``usleep``, the naps are
single ``pause`` instructions: a worker sleeps in Python 0.5 ms after a job).
The caller never waits for a worker that has not started: it takes the chunks
itself. An interrupt (``KeyboardInterrupt``) during a call closes the job and
waits for the chunks already taken, so that no worker touches the call's
arrays after it returns. ``X`` under 256 KiB is evaluated by the calling
thread alone. No TBB/OpenMP layer is needed. The thread count
defaults to ``numba.config.NUMBA_NUM_THREADS`` (``NUMBA_NUM_THREADS``, else
the CPUs).

Compilation
-----------
Compiled lazily on the first call, with ``cache=True``: later processes load
the machine code from ``__pycache__`` (or ``NUMBA_CACHE_DIR``). There are
five kernels, {float32, float64} x {C, F} layout of ``X`` and the pipelined
one for long float32 rows, compiled together into the one function that runs
a chunk of any job (``y`` and ``sample_weight`` are converted to ``X.dtype``
-- free when they already are -- and a missing ``sample_weight`` is an empty
array plus a flag). The job's array addresses are written by a small
compiled function (``_store_addresses``); in Python they cost about 7 us of
a call's 20 us fixed cost (measured on an 8-row X; now 11-15 us), which a
mini-batch solver pays per batch. It is typed by the arrays' dtype, layout
and writeability: each combination is compiled once per machine (about 0.1
s), then loaded from the cache (2-4 ms). :func:`warm_up` compiles or loads
the kernels, the four writeable float32/float64 x C/F signatures of
``_store_addresses`` and the workers' loop and returns the seconds each took:
about 30 s and 11-15 s to compile (13-15 s and 4 s before the register
tiles, whose last panel is compiled for every vector count), 0.3 s to load
from the cache.
"""

from __future__ import annotations

import os
import platform
import struct
import sys
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
    "chosen_schedules",
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
# at least _MIN_CHUNK_ROWS rows each. Chunks are taken with a compare-and-swap
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
# Rows at least this long are "long": they take the plain loops even in cache,
# and long float32 rows are scored four at a time (see _make_job). Float64
# rows are scored one at a time up to _ROWS1_MAX_BYTES (w, as long as a row,
# stays in L1 cache next to the stream of X), four at a time beyond.
_LONG_ROW_BYTES = 2048
_ROWS1_MAX_BYTES = 12 * 1024
# Software prefetch distance in bytes of X ahead, for short rows and long
# float64 rows (both scored one row at a time); none when X is at
# most _PREFETCH_MIN_BYTES (likely in cache already). Measured on a 2-core AMD
# EPYC (noisy: each choice held in 3 of 4 runs): 256 KiB ahead gains 10-40%
# for short rows, but costs long float64 rows on two threads (four per pass:
# 5-15%; one per pass, 1e5 x 1000: 1.21x against 0.98x an X @ v), so it is
# off there. Long float32 rows, whose conversion to float64 makes the
# accumulation the slower half, have two schedules that compute the same
# result bit for bit: _chunk_c with 256 KiB prefetch, and the pipelined one
# (_chunk_c_pipelined, no prefetch). Which is faster depends on the machine:
# at 1e5 x 1000 on two threads, on a 2-core Intel Xeon the pipelined one
# (22.9 ms against 26.7 ms), on a 2-core AMD EPYC the prefetching one (19.2-19.4
# ms against 25.7-26.2 ms; one X @ v: 17.0-17.6 ms). So for X out of cache the
# first calls try both and later calls use the faster (_ScheduleChoice). For
# float64 rows, scored four per pass then, the pipelined schedule was no
# faster (Intel: 36.1 against 35.3 ms) and prefetch slower (AMD: 37.0 against
# 32.3 ms).
_PREFETCH_BYTES_SHORT = 256 * 1024
_PREFETCH_BYTES_LONG64 = 0
_PREFETCH_MIN_BYTES = 16 * 1024 * 1024
_SCHEDULE_TRIALS = 3  # calls per schedule before _ScheduleChoice picks one

# A job (one evaluation) as the int64 array the threads share: the first word
# is tag << 32 | number of chunks << 16 | next chunk to take; then the counts
# of chunks done, failed and done by the workers, the number of workers that
# may take part, the number of chunks, the kernel (_KIND_*), the shape, the
# arrays' addresses, the intercept's bits and the blocking parameters.
(_J_WORD, _J_DONE, _J_FAILED, _J_HELPED, _J_ACTIVE, _J_NCHUNKS, _J_KIND, _J_M, _J_N, _J_X, _J_Y,
 _J_SW, _J_HAS_SW, _J_W, _J_B, _J_ACC, _J_OUT, _J_BLOCK, _J_SCORING, _J_AHEAD) = range(20)
_JOB_WORDS = 20
_KIND_C64, _KIND_F64, _KIND_C32, _KIND_F32, _KIND_C32_PIPELINED = range(5)
# How _chunk_c scores rows (_J_SCORING): the register tiles (short rows, X in
# cache), the plain loops one row at a time, or four rows per pass.
_SCORE_TILES, _SCORE_ROWS1, _SCORE_ROWS4 = range(3)

# Seconds to compile (or load from the cache) each signature, by warm_up().
compile_times: dict[str, float] = {}

if numba is not None:
    from llvmlite import binding as _llvm
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
        """Atomically ``old = arr[idx]; arr[idx] += val; return old`` (int64 array).

        Acquire-release: a thread that reads the new count (with
        :func:`_load_acquire`) also sees everything written before the add
        (a chunk's partial sums, before it is counted done).
        """

        def codegen(context, builder, signature, args):
            aryty = signature.args[0]
            ary = context.make_array(aryty)(context, builder, args[0])
            ptr = _cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]])
            return builder.atomic_rmw("add", ptr, args[2], "acq_rel")

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
    def _compare_exchange(typingctx, arr, idx, expected, new):
        """Atomically: if ``arr[idx] == expected``, set it to ``new``; return whether it was."""

        def codegen(context, builder, signature, args):
            aryty = signature.args[0]
            ary = context.make_array(aryty)(context, builder, args[0])
            ptr = _cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]])
            result = builder.cmpxchg(ptr, args[2], args[3], "acq_rel", "acquire")
            return builder.extract_value(result, 1)

        return _types.boolean(_I64_ARRAY, _types.intp, _types.int64, _types.int64), codegen

    # The address of one of a job's arrays (an int64) as a typed pointer, for numba.carray.
    @_intrinsic
    def _f64_ptr(typingctx, address):
        def codegen(context, builder, signature, args):
            return builder.inttoptr(args[0], _ir.DoubleType().as_pointer())

        return _types.CPointer(_types.float64)(_types.int64), codegen

    @_intrinsic
    def _f32_ptr(typingctx, address):
        def codegen(context, builder, signature, args):
            return builder.inttoptr(args[0], _ir.FloatType().as_pointer())

        return _types.CPointer(_types.float32)(_types.int64), codegen

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

    # ---------------------------------------------------------- register tiles
    # Short rows (n * itemsize < _LONG_ROW_BYTES) are scored and added to the
    # gradient by two loops written in LLVM IR, because what LLVM makes of the
    # plain loops spends most of its time outside the arithmetic at n ~ 100:
    # the row dot products re-load w with every row and end with a reduction
    # and a remainder loop, the gradient loop re-loads and re-stores ``acc``
    # with every group of rows and checks for aliasing every time. Here the
    # columns go in panels of _TILE_VECTORS vectors of _TILE_LANES float64
    # (128 columns with AVX-512) held in registers for a whole block of rows:
    # ``w``'s panel while the block is scored (four partial sums per row), the
    # panel of ``acc`` while the block is added to it; X is read once per
    # element and nothing else touches memory. The last panel has as many
    # vectors as the row needs (a switch over the count, compiled for each),
    # its last vector masked (``llvm.masked.load``: no read past a row's end).
    # Measured on L1-resident rows of 100 float64 (2-core AMD EPYC, one
    # thread): scoring 94 -> 57 us and the gradient step 99 -> 53 us per 1e6
    # elements; float32 113 -> 91 and 123 -> 70 us. Whole calls, two threads,
    # X in cache (interleaved against the plain loops, separate processes):
    # 1e4 x 100 float64 206-300 -> 161-215 us, float32 210-232 -> 162-177 us;
    # 4e4 x 25 float64 459-557 -> 304-312 us; 5e3 x 200 float64 233-249 ->
    # 204-210 us. Out of cache the memory stream sets the pace and the plain
    # loops, which have room for a software prefetch, stay (a prefetch inside
    # the tiles gained nothing, in bursts between them lost 10-20%). Long rows
    # keep the plain loops too (1e3 x 1000: no faster tiled).
    #
    # Rows that fit one panel (n <= _TILE_COLUMNS: 128 with AVX-512) go
    # further, in _chunk_rows_fused: one loop over the whole chunk, with the
    # panels of ``w`` and of ``acc`` both in registers throughout, in groups
    # of _TILE_LANES rows: score the group, compute its losses and residuals
    # as one vector (_exp_nonpos and _log1p_unit, step for step, in IR), add
    # the group to ``acc`` while its rows are in L1. Software-pipelined: the
    # next group is scored while a group's loss, a long chain of dependent
    # operations, is in flight. No per-block loops, scratch arrays or reloads
    # of the panels. Against the block-tiled loops (1e4 x 100, two threads,
    # separate processes): float64 165-228 -> 134-203 us, float32 157-193 ->
    # 159-173 us.

    _TILE_LANES = 8  # float64 lanes per vector value (LLVM splits it into the target's registers)

    def _tile_vectors():
        """Vectors per register panel: as many as the target's vector registers hold, four kept free."""
        features = numba.config.CPU_FEATURES
        if features is None:
            try:
                features = "" if numba.config.CPU_NAME is not None else _llvm.get_host_cpu_features().flatten()
            except Exception:  # pragma: no cover - no host feature query on this platform
                features = ""
        features = set(features.split(","))
        machine = platform.machine().lower()
        if machine in ("arm64", "aarch64"):
            registers, bits = 32, 128
        elif "+avx512f" in features:
            registers, bits = 32, 512
        elif "+avx" in features:
            registers, bits = 16, 256
        else:
            registers, bits = 16, 128
        per_vector = max(1, 64 * _TILE_LANES // bits)
        return max(1, min(16, (registers - 4) // per_vector))

    _TILE_VECTORS = _tile_vectors()
    _TILE_COLUMNS = _TILE_LANES * _TILE_VECTORS
    _I1, _I32, _I64 = _ir.IntType(1), _ir.IntType(32), _ir.IntType(64)
    _VD = _ir.VectorType(_ir.DoubleType(), _TILE_LANES)

    def _ir_splat(builder, value, vector_type):
        undef = _ir.Constant(vector_type, _ir.Undefined)
        v = builder.insert_element(undef, value, _I32(0))
        zeros = _ir.Constant(_ir.VectorType(_I32, vector_type.count), [0] * vector_type.count)
        return builder.shuffle_vector(v, undef, zeros)

    def _ir_intrinsic(builder, name, ret, params):
        return _cgutils.get_or_insert_function(builder.module, _ir.FunctionType(ret, params), name)

    def _ir_load(builder, base, index, element, mask):
        """_TILE_LANES elements of ``base[index:]`` as float64 (only the lanes in ``mask``, if given)."""
        vector_type = _ir.VectorType(element, _TILE_LANES)
        ptr = builder.bitcast(builder.gep(base, [index]), vector_type.as_pointer())
        align = 8 if isinstance(element, _ir.DoubleType) else 4
        if mask is None:
            v = builder.load(ptr, align=align)
        else:
            name = f"llvm.masked.load.v{_TILE_LANES}{'f64' if align == 8 else 'f32'}.p0"
            mask_type = _ir.VectorType(_I1, _TILE_LANES)
            fn = _ir_intrinsic(builder, name, vector_type, [vector_type.as_pointer(), _I32, mask_type, vector_type])
            v = builder.call(fn, [ptr, _I32(align), mask, _ir.Constant(vector_type, None)])
        return v if align == 8 else builder.fpext(v, _VD)

    def _ir_store(builder, value, base, index, mask):
        ptr = builder.bitcast(builder.gep(base, [index]), _VD.as_pointer())
        if mask is None:
            builder.store(value, ptr, align=8)
        else:
            mask_type = _ir.VectorType(_I1, _TILE_LANES)
            fn = _ir_intrinsic(builder, f"llvm.masked.store.v{_TILE_LANES}f64.p0", _ir.VoidType(),
                               [_VD, _VD.as_pointer(), _I32, mask_type])
            builder.call(fn, [value, ptr, _I32(8), mask])

    def _ir_fma(builder, a, b, c):
        fn = _ir_intrinsic(builder, f"llvm.fma.v{_TILE_LANES}f64", _VD, [_VD, _VD, _VD])
        return builder.call(fn, [a, b, c])

    def _ir_panels(builder, n, panel):
        """``panel(j0, vectors, tail_mask)`` for each panel of columns of a row of ``n``.

        Full panels in a loop; then the last one, by its number of vectors
        (a switch: the count must be a constant for the panel to live in
        registers), its last vector masked to the columns below ``n``.
        """
        full = builder.sdiv(n, _I64(_TILE_COLUMNS))
        with _cgutils.for_range(builder, full) as loop:
            panel(builder.mul(loop.index, _I64(_TILE_COLUMNS)), _TILE_VECTORS, None)
        j0 = builder.mul(full, _I64(_TILE_COLUMNS))
        vectors = builder.sdiv(builder.add(builder.sub(n, j0), _I64(_TILE_LANES - 1)), _I64(_TILE_LANES))
        end = builder.append_basic_block("panels.end")
        switch = builder.switch(vectors, end)
        lanes = _ir.Constant(_ir.VectorType(_I64, _TILE_LANES), list(range(_TILE_LANES)))
        for count in range(1, _TILE_VECTORS + 1):
            block = builder.append_basic_block(f"panels.last{count}")
            switch.add_case(_I64(count), block)
            builder.position_at_end(block)
            j_last = builder.add(j0, _I64((count - 1) * _TILE_LANES))
            columns = builder.add(_ir_splat(builder, j_last, lanes.type), lanes)
            mask = builder.icmp_signed("<", columns, _ir_splat(builder, n, lanes.type))
            panel(j0, count, mask)
            builder.branch(end)
        builder.position_at_end(end)

    def _ir_arrays(context, builder, signature, args, count):
        return [context.make_array(t)(context, builder, v) for t, v in zip(signature.args[:count], args[:count])]

    def _ir_row_dot(builder, X, start, element, w_panel, masks):
        """The panel's part of one row's dot product: ``X[start:] . w_panel`` as a float64 scalar.

        Four partial sums over the panel's vectors, added pairwise, then across
        the lanes (reassociated: the order is fixed by the panel's shape).
        """
        sums = [None] * 4
        for k, w_vector in enumerate(w_panel):
            x = _ir_load(builder, X, builder.add(start, _I64(k * _TILE_LANES)), element, masks[k])
            i = k % 4
            sums[i] = builder.fmul(x, w_vector) if sums[i] is None else _ir_fma(builder, x, w_vector, sums[i])
        sums = [v for v in sums if v is not None]
        while len(sums) > 1:
            sums = [builder.fadd(sums[i], sums[i + 1]) if i + 1 < len(sums) else sums[i]
                    for i in range(0, len(sums), 2)]
        return _ir_sum_lanes(builder, sums[0])

    def _ir_sum_lanes(builder, vector):
        """The sum of a vector's lanes (reassociated: a fixed tree of additions)."""
        d = _ir.DoubleType()
        reduce_add = _ir_intrinsic(builder, f"llvm.vector.reduce.fadd.v{_TILE_LANES}f64", d, [d, _VD])
        return builder.call(reduce_add, [_ir.Constant(d, -0.0), vector], fastmath=("reassoc", "nsz"))

    def _ir_add_row(builder, tiles, g, X, start, element, masks):
        """``tiles[k] += g * X[start + k * lanes:]`` for the panel's vectors (``g``: a splat)."""
        for k, tile in enumerate(tiles):
            x = _ir_load(builder, X, builder.add(start, _I64(k * _TILE_LANES)), element, masks[k])
            builder.store(_ir_fma(builder, g, x, builder.load(tile)), tile)

    @_intrinsic
    def _score_rows_tiled(typingctx, z, X, w, r0, nr):
        """``z[r] += X[r0 + r] . w`` for ``r < nr`` (C-contiguous X), in register panels.

        Per row and panel: four partial sums over the panel's vectors, added
        pairwise, then across lanes. float64 throughout (float32 X widened).
        """

        def codegen(context, builder, signature, args):
            z_ary, X_ary, w_ary = _ir_arrays(context, builder, signature, args, 3)
            r0, nr = args[3], args[4]
            element = context.get_data_type(signature.args[1].dtype)
            n = _cgutils.unpack_tuple(builder, X_ary.shape, 2)[1]

            def panel(j0, vectors, tail):
                masks = [None] * (vectors - 1) + [tail]
                w_panel = [_ir_load(builder, w_ary.data, builder.add(j0, _I64(k * _TILE_LANES)), _ir.DoubleType(),
                                    masks[k]) for k in range(vectors)]
                with _cgutils.for_range(builder, nr) as row:
                    start = builder.add(builder.mul(builder.add(r0, row.index), n), j0)
                    total = _ir_row_dot(builder, X_ary.data, start, element, w_panel, masks)
                    zp = builder.gep(z_ary.data, [row.index])
                    builder.store(builder.fadd(builder.load(zp), total), zp)

            _ir_panels(builder, n, panel)
            return context.get_dummy_value()

        return _types.void(z, X, w, _types.intp, _types.intp), codegen

    @_intrinsic
    def _accumulate_rows_tiled(typingctx, acc, X, dz, r0, nr):
        """``acc += sum_{r < nr} dz[r] X[r0 + r]`` (C-contiguous X), a panel of ``acc`` in registers.

        Each column's sum runs over the rows in order, one fused multiply-add
        per element.
        """

        def codegen(context, builder, signature, args):
            a_ary, X_ary, dz_ary = _ir_arrays(context, builder, signature, args, 3)
            r0, nr = args[3], args[4]
            element = context.get_data_type(signature.args[1].dtype)
            n = _cgutils.unpack_tuple(builder, X_ary.shape, 2)[1]
            tiles = [_cgutils.alloca_once(builder, _VD) for _ in range(_TILE_VECTORS)]  # SSA after mem2reg

            def panel(j0, vectors, tail):
                masks = [None] * (vectors - 1) + [tail]
                for k in range(vectors):
                    index = builder.add(j0, _I64(k * _TILE_LANES))
                    builder.store(_ir_load(builder, a_ary.data, index, _ir.DoubleType(), masks[k]), tiles[k])
                with _cgutils.for_range(builder, nr) as row:
                    g = _ir_splat(builder, builder.load(builder.gep(dz_ary.data, [row.index])), _VD)
                    start = builder.add(builder.mul(builder.add(r0, row.index), n), j0)
                    _ir_add_row(builder, tiles[:vectors], g, X_ary.data, start, element, masks)
                for k in range(vectors):
                    index = builder.add(j0, _I64(k * _TILE_LANES))
                    _ir_store(builder, builder.load(tiles[k]), a_ary.data, index, masks[k])

            _ir_panels(builder, n, panel)
            return context.get_dummy_value()

        return _types.void(acc, X, dz, _types.intp, _types.intp), codegen

    def _ir_vconst(value):
        return _ir.Constant(_VD, [float(value)] * _TILE_LANES)

    def _ir_exp_nonpos(builder, x):
        """_exp_nonpos on a vector (the same steps)."""
        x = builder.select(builder.fcmp_ordered("<", x, _ir_vconst(-745.5)), _ir_vconst(-745.5), x)
        t = _ir_fma(builder, x, _ir_vconst(_LOG2E), _ir_vconst(_SHIFTER))
        kf = builder.fsub(t, _ir_vconst(_SHIFTER))
        vi64 = _ir.VectorType(_I64, _TILE_LANES)
        ki = builder.sub(builder.bitcast(t, vi64), _ir.Constant(vi64, [_SHIFTER_BITS] * _TILE_LANES))
        neg_kf = builder.fneg(kf)
        r = _ir_fma(builder, neg_kf, _ir_vconst(_LN2_HI), x)
        r = _ir_fma(builder, neg_kf, _ir_vconst(_LN2_LO), r)
        p = _ir_vconst(_E13)
        for coefficient in (_E12, _E11, _E10, _E9, _E8, _E7, _E6, _E5, _E4, _E3, _E2):
            p = _ir_fma(builder, p, r, _ir_vconst(coefficient))
        p = builder.fadd(_ir_vconst(1.0), _ir_fma(builder, builder.fmul(r, r), p, r))
        k1 = builder.ashr(ki, _ir.Constant(vi64, [1] * _TILE_LANES))
        k2 = builder.sub(ki, k1)
        bias = _ir.Constant(vi64, [1023] * _TILE_LANES)
        shift = _ir.Constant(vi64, [52] * _TILE_LANES)
        s1 = builder.bitcast(builder.shl(builder.add(k1, bias), shift), _VD)
        s2 = builder.bitcast(builder.shl(builder.add(k2, bias), shift), _VD)
        return builder.fmul(builder.fmul(p, s1), s2)

    def _ir_log1p_unit(builder, e):
        """_log1p_unit on a vector (the same steps)."""
        s = builder.fdiv(e, builder.fadd(_ir_vconst(2.0), e))
        s2 = builder.fmul(s, s)
        q = _ir_vconst(_L17)
        for coefficient in (_L16, _L15, _L14, _L13, _L12, _L11, _L10, _L9, _L8, _L7, _L6, _L5, _L4, _L3, _L2, _L1):
            q = _ir_fma(builder, q, s2, _ir_vconst(coefficient))
        return _ir_fma(builder, s, builder.fmul(s2, q), builder.fmul(_ir_vconst(2.0), s))

    @_intrinsic
    def _chunk_rows_fused(typingctx, acc, X, w, y, sw, has_sw, b, r0, nr, out):
        """Rows [r0, r0 + nr) of a C-contiguous X with n <= _TILE_COLUMNS, in one loop.

        Groups of _TILE_LANES rows: their scores (``w`` and the gradient's
        panel stay in registers for the whole chunk), their losses and
        residuals as one vector, then the group added to the gradient from
        L1. ``acc`` (n,) receives the chunk's gradient sum, ``out`` (2,) its
        cost and ``sum dz`` (per-lane partial sums over the groups, then
        across lanes: an order fixed by the chunk's rows alone).
        """

        def codegen(context, builder, signature, args):
            a_ary, X_ary, w_ary, y_ary, sw_ary = _ir_arrays(context, builder, signature, args, 5)
            has_sw, b, r0, nr = args[5], args[6], args[7], args[8]
            out_ary = context.make_array(signature.args[9])(context, builder, args[9])
            element = context.get_data_type(signature.args[1].dtype)
            y_element = context.get_data_type(signature.args[3].dtype)
            n = _cgutils.unpack_tuple(builder, X_ary.shape, 2)[1]
            L = _TILE_LANES
            d = _ir.DoubleType()
            lanes = _ir.Constant(_ir.VectorType(_I64, L), list(range(L)))
            zbuf = _cgutils.alloca_once(builder, _VD)
            zbuf_d = builder.bitcast(zbuf, d.as_pointer())
            dzbuf = _cgutils.alloca_once(builder, _VD)
            dzbuf_d = builder.bitcast(dzbuf, d.as_pointer())
            cost_sum = _cgutils.alloca_once(builder, _VD)
            dz_sum = _cgutils.alloca_once(builder, _VD)
            tiles = [_cgutils.alloca_once(builder, _VD) for _ in range(_TILE_VECTORS)]
            zero = _ir_vconst(0.0)

            def panel(vectors, tail):
                masks = [None] * (vectors - 1) + [tail]
                w_panel = [_ir_load(builder, w_ary.data, _I64(k * L), d, masks[k]) for k in range(vectors)]
                for k in range(vectors):
                    builder.store(zero, tiles[k])
                builder.store(zero, cost_sum)
                builder.store(zero, dz_sum)
                groups = builder.sdiv(builder.add(nr, _I64(L - 1)), _I64(L))

                def group_rows(g):
                    g0 = builder.mul(g, _I64(L))
                    rows = builder.sub(nr, g0)
                    rows = builder.select(builder.icmp_signed("<", rows, _I64(L)), rows, _I64(L))
                    return builder.add(r0, g0), rows

                def score(first, rows):  # z of the group's rows into zbuf (lanes past the rows: 0)
                    builder.store(zero, zbuf)
                    with _cgutils.for_range(builder, rows) as row:
                        start = builder.mul(builder.add(first, row.index), n)
                        total = _ir_row_dot(builder, X_ary.data, start, element, w_panel, masks)
                        builder.store(builder.fadd(total, b), builder.gep(zbuf_d, [row.index]))

                # Software-pipelined, step g: the loss of group g (a long chain of
                # dependent operations), then the scores of group g + 1 (which
                # run while that chain is in flight), then group g added to the
                # gradient. Step -1 only scores group 0.
                with _cgutils.for_range(builder, builder.add(groups, _I64(1))) as step:
                    group_index = builder.sub(step.index, _I64(1))
                    first, rows = group_rows(group_index)
                    current = builder.icmp_signed(">=", group_index, _I64(0))
                    with builder.if_then(current):
                        valid = builder.icmp_signed("<", lanes, _ir_splat(builder, rows, lanes.type))
                        z = builder.load(zbuf)
                        yv = _ir_load(builder, y_ary.data, first, y_element, valid)
                        pos = builder.fcmp_ordered(">=", z, zero)
                        e = _ir_exp_nonpos(builder, builder.select(pos, builder.fneg(z), z))
                        loss = builder.fadd(builder.fsub(builder.select(pos, z, zero), builder.fmul(yv, z)),
                                            _ir_log1p_unit(builder, e))
                        dz = builder.fsub(builder.fdiv(builder.select(pos, _ir_vconst(1.0), e),
                                                       builder.fadd(_ir_vconst(1.0), e)), yv)
                        sw_mask = builder.and_(valid, _ir_splat(builder, has_sw, _ir.VectorType(_I1, L)))
                        swv = _ir_load(builder, sw_ary.data, first, y_element, sw_mask)
                        swv = builder.select(sw_mask, swv, _ir_vconst(1.0))
                        loss = builder.select(valid, builder.fmul(loss, swv), zero)
                        dz = builder.select(valid, builder.fmul(dz, swv), zero)
                        builder.store(builder.fadd(builder.load(cost_sum), loss), cost_sum)
                        builder.store(builder.fadd(builder.load(dz_sum), dz), dz_sum)
                        builder.store(dz, dzbuf)
                    following = builder.add(group_index, _I64(1))
                    with builder.if_then(builder.icmp_signed("<", following, groups)):
                        score(*group_rows(following))
                    with builder.if_then(current):
                        with _cgutils.for_range(builder, rows) as row:  # acc += dz_r x_r, x_r from L1
                            g = _ir_splat(builder, builder.load(builder.gep(dzbuf_d, [row.index])), _VD)
                            start = builder.mul(builder.add(first, row.index), n)
                            _ir_add_row(builder, tiles[:vectors], g, X_ary.data, start, element, masks)
                for k in range(vectors):
                    _ir_store(builder, builder.load(tiles[k]), a_ary.data, _I64(k * L), masks[k])
                for index, acc_vec in ((0, cost_sum), (1, dz_sum)):
                    total = _ir_sum_lanes(builder, builder.load(acc_vec))
                    builder.store(total, builder.gep(out_ary.data, [_I64(index)]))

            vectors = builder.sdiv(builder.add(n, _I64(L - 1)), _I64(L))
            end = builder.append_basic_block("fused.end")
            switch = builder.switch(vectors, end)
            for count in range(1, _TILE_VECTORS + 1):
                block = builder.append_basic_block(f"fused.vectors{count}")
                switch.add_case(_I64(count), block)
                builder.position_at_end(block)
                columns = builder.add(_ir_splat(builder, _I64((count - 1) * L), lanes.type), lanes)
                panel(count, builder.icmp_signed("<", columns, _ir_splat(builder, n, lanes.type)))
                builder.branch(end)
            builder.position_at_end(end)
            return context.get_dummy_value()

        sig = _types.void(acc, X, w, y, sw, _types.boolean, _types.float64, _types.intp, _types.intp, out)
        return sig, codegen

    if sys.platform == "win32":  # no usleep: an idle worker only spins, then sleeps in Python

        @njit(**_OPTS)
        def _nap(microseconds):
            _cpu_relax()

    else:
        # usleep from the C library, called from compiled code without the GIL
        # (the symbol is resolved when the code is loaded: cache-friendly).
        _nap = _types.ExternalFunction("usleep", _types.int32(_types.uint32))

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

    @njit(inline="always", **_OPTS)
    def _prefetch_lines(pf, pf_end, lines):
        """Prefetch ``lines`` cache lines from address ``pf`` on (none from ``pf_end`` on); the next address."""
        for _ in range(lines):
            if pf < pf_end:
                _prefetch(pf)
            pf += 64
        return pf

    @njit(fastmath=_FMA, **_OPTS)
    def _chunk_c(w, b, X, y, sw, has_sw, r0, r1, acc, out, k, block, scoring, ahead):
        """Rows [r0, r1) of a C-contiguous X into acc[k] and out[k] = (cost, sum dz).

        Per block of rows (tens of KiB, so it stays in L1/L2 cache): their
        scores, read from memory once; their losses and residuals (one
        vectorized loop); then acc += sum_r dz_r x_r, the rows re-read from
        cache. ``scoring`` is _SCORE_TILES (short rows, X in cache): rows of
        one register panel go through :func:`_chunk_rows_fused` (the whole
        chunk in one loop, no blocks), longer ones through the register-tiled
        loops block by block. Otherwise the plain loops: rows scored one at a
        time (_SCORE_ROWS1) or four per pass over them (_SCORE_ROWS4), added
        to acc four rows at a time. ``ahead`` > 0:
        software-prefetch X that many bytes ahead of the rows being scored, a
        few lines per step, so memory keeps streaming while the core computes
        (the hardware prefetchers alone idle then).
        """
        n = X.shape[1]
        a = acc[k]
        # In cache and short rows: the register-tiled loops, all in one loop
        # over the chunk when a row fits one panel. Out of cache, short rows
        # are scored one at a time with a software prefetch spread over the
        # steps (the tiled loops have no place for it, and there the memory
        # stream, not the arithmetic, sets the pace).
        tiled = scoring == _SCORE_TILES
        rows4 = scoring == _SCORE_ROWS4
        if tiled and n <= _TILE_COLUMNS:
            _chunk_rows_fused(a, X, w, y, sw, has_sw, b, r0, r1 - r0, out[k])
            return
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
            if tiled:
                for r in range(nr):
                    zb[r] = b
                _score_rows_tiled(zb, X, w, q, nr)
            else:
                r = 0
                while r + 4 <= nr:
                    pf = _prefetch_lines(pf, pf_end, pf_lines)
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
            if tiled:
                _accumulate_rows_tiled(a, X, zb, q, nr)
            else:
                r = 0
                while r + 4 <= nr:
                    pf = _prefetch_lines(pf, pf_end, pf_lines)
                    _accumulate_rows(a, X, q + r, zb[r], zb[r + 1], zb[r + 2], zb[r + 3], n)
                    r += 4
                while r < nr:
                    _accumulate_row(a, X, q + r, zb[r], n)
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
    def _chunk_c_pipelined(w, b, X, y, sw, has_sw, r0, r1, acc, out, k, block, scoring, ahead):
        """As :func:`_chunk_c` (long rows), with block ``t + 1`` scored while block ``t`` is accumulated.

        Each step scores four rows of the current block (read from memory)
        and adds four rows of the previous block, whose residuals are ready,
        to ``acc`` (re-read from cache), so the memory stream never waits for
        a block's accumulation. The same operations in the same order as
        :func:`_chunk_c` with ``scoring`` == _SCORE_ROWS4, the only scoring
        of the rows it runs on (long float32 rows): bitwise the same result.
        ``scoring`` and ``ahead`` are unused (no software prefetch).
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
                    z0, z1, z2, z3 = _dot_4rows(X, q + r, w, n)
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
    def _chunk_f(w, b, X, y, sw, has_sw, r0, r1, acc, out, k, block, scoring, ahead):
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

    # ------------------------------------------------------------ jobs
    # A job is one evaluation, described in an int64 array (see _J_* above)
    # that the caller and the worker threads share. Its first word packs the
    # job's tag, its number of chunks and the next chunk to take; a thread
    # takes a chunk with one compare-and-swap on it (the tag makes a stale
    # word from an earlier job fail), reads the job's arrays from their
    # addresses only once it holds a chunk (the caller does not return while
    # a chunk is out, so the arrays are alive), and counts the chunk in
    # _J_DONE when it is done. So the workers run whole jobs in compiled code,
    # without the GIL, and a worker that is late (or asleep) never holds the
    # caller up: the caller takes the chunks itself.

    @njit(**_OPTS)
    def _claim(job):
        """Take the next chunk of the current job: its index, or -1 if none is left."""
        while True:
            word = _load_acquire(job, _J_WORD)
            k = word & 0xFFFF
            if k >= (word >> 16) & 0xFFFF:
                return -1
            if _compare_exchange(job, _J_WORD, word, word + 1):
                return k

    @njit(**_OPTS)
    def _do_chunk(job, k):
        """Chunk ``k`` of the job, with the kernel for its dtype and layout."""
        kind = job[_J_KIND]
        m = job[_J_M]
        n = job[_J_N]
        nchunks = job[_J_NCHUNKS]
        n_sw = m if job[_J_HAS_SW] else 0
        has_sw = job[_J_HAS_SW] != 0
        w = numba.carray(_f64_ptr(job[_J_W]), (n,))
        b = _bits_f64(job[_J_B])
        acc = numba.carray(_f64_ptr(job[_J_ACC]), (nchunks, n))
        out = numba.carray(_f64_ptr(job[_J_OUT]), (nchunks, 2))
        block = job[_J_BLOCK]
        scoring = job[_J_SCORING]
        ahead = job[_J_AHEAD]
        r0 = (m * k) // nchunks
        r1 = (m * (k + 1)) // nchunks
        if kind == _KIND_C64:
            X64 = numba.carray(_f64_ptr(job[_J_X]), (m, n))
            y64 = numba.carray(_f64_ptr(job[_J_Y]), (m,))
            sw64 = numba.carray(_f64_ptr(job[_J_SW]), (n_sw,))
            _chunk_c(w, b, X64, y64, sw64, has_sw, r0, r1, acc, out, k, block, scoring, ahead)
        elif kind == _KIND_F64:
            X64f = numba.farray(_f64_ptr(job[_J_X]), (m, n))
            y64 = numba.carray(_f64_ptr(job[_J_Y]), (m,))
            sw64 = numba.carray(_f64_ptr(job[_J_SW]), (n_sw,))
            _chunk_f(w, b, X64f, y64, sw64, has_sw, r0, r1, acc, out, k, block, scoring, ahead)
        else:
            y32 = numba.carray(_f32_ptr(job[_J_Y]), (m,))
            sw32 = numba.carray(_f32_ptr(job[_J_SW]), (n_sw,))
            if kind == _KIND_F32:
                X32f = numba.farray(_f32_ptr(job[_J_X]), (m, n))
                _chunk_f(w, b, X32f, y32, sw32, has_sw, r0, r1, acc, out, k, block, scoring, ahead)
            else:
                X32 = numba.carray(_f32_ptr(job[_J_X]), (m, n))
                if kind == _KIND_C32_PIPELINED:
                    _chunk_c_pipelined(w, b, X32, y32, sw32, has_sw, r0, r1, acc, out, k, block, scoring, ahead)
                else:
                    _chunk_c(w, b, X32, y32, sw32, has_sw, r0, r1, acc, out, k, block, scoring, ahead)

    @njit(**_OPTS)
    def _take_chunks(job, worker_index):
        """Run chunks of the current job until none is left.

        ``worker_index``: -1 for the caller; a worker's index, for a worker,
        which stops when the job allows fewer workers (_J_ACTIVE) and counts
        its chunks in _J_HELPED too. A chunk that fails (a scratch buffer it
        cannot allocate) is counted in _J_FAILED, for the caller to raise; it
        is counted done all the same, so that nobody waits for it.
        """
        while worker_index < job[_J_ACTIVE]:
            k = _claim(job)
            if k < 0:
                return
            try:
                _do_chunk(job, k)
            except Exception:
                _fetch_add(job, _J_FAILED, 1)
            if worker_index >= 0:
                _fetch_add(job, _J_HELPED, 1)
            _fetch_add(job, _J_DONE, 1)

    @njit(**_OPTS)
    def _claim_ready(job, worker_index):
        """Whether the current job has a chunk left for worker ``worker_index``."""
        word = _load_acquire(job, _J_WORD)
        return (word & 0xFFFF) < ((word >> 16) & 0xFFFF) and worker_index < job[_J_ACTIVE]

    @njit(**_OPTS)
    def _serve(job, worker_index, spin_rounds, nap_rounds, long_nap_rounds):
        """A worker thread: run every chunk it can take; return once idle for long.

        Idle, it spins (``spin_rounds`` ``pause`` instructions), then naps
        (``nap_rounds`` sleeps of _NAP_MICROSECONDS, then ``long_nap_rounds``
        of _LONG_NAP_MICROSECONDS: the core is free for other threads),
        looking for work between them; all of it without the GIL. Jobs that
        allow fewer workers than ``worker_index + 1`` are left to the others.
        """
        idle = 0
        while idle < spin_rounds + nap_rounds + long_nap_rounds:
            if _claim_ready(job, worker_index):
                _take_chunks(job, worker_index)
                idle = 0
            else:
                if idle < spin_rounds:
                    _cpu_relax()
                elif idle < spin_rounds + nap_rounds:
                    _nap(_NAP_MICROSECONDS)
                else:
                    _nap(_LONG_NAP_MICROSECONDS)
                idle += 1

    @njit(**_OPTS)
    def _publish(job, word):
        """Start a job whose other fields are in place: reset its counts, then release its first word."""
        job[_J_DONE] = 0
        job[_J_FAILED] = 0
        job[_J_HELPED] = 0
        _store_release(job, _J_WORD, word)

    @njit(**_OPTS)
    def _wait_done(job, count, spin_rounds):
        """Wait until ``count`` chunks are done: spin ``spin_rounds``, then nap."""
        idle = 0
        while _load_acquire(job, _J_DONE) < count:
            if idle < spin_rounds:
                _cpu_relax()
            else:
                _nap(_NAP_MICROSECONDS)
            idle += 1

    @njit(**_OPTS)
    def _run_job(job, spin_rounds, take_chunks):
        """The caller's part of a published job: take chunks, then wait for the others'.

        Returns the number of chunks that failed. ``take_chunks=False`` (for
        tests) leaves every chunk to the workers.
        """
        if take_chunks:
            _take_chunks(job, -1)
        _wait_done(job, job[_J_NCHUNKS], spin_rounds)
        return _load_acquire(job, _J_FAILED)

    @njit(**_OPTS)
    def _close(job):
        """End a job early: no chunk is taken any more; wait for those already taken.

        The job shrinks to the chunks already taken (its first word says so),
        so that closing it again, or a finished job, waits for nothing more.
        """
        while True:
            word = _load_acquire(job, _J_WORD)
            nchunks = (word >> 16) & 0xFFFF
            taken = min(word & 0xFFFF, nchunks)
            shrunk = ((word >> 32) << 32) | (taken << 16) | taken
            if taken == nchunks or _compare_exchange(job, _J_WORD, word, shrunk):
                break
        _wait_done(job, taken, 0)

    @njit(**_OPTS)
    def _store_addresses(job, X, y, sw, w, acc, out):
        """Write the arrays' addresses into the job's fields.

        In compiled code because it is cheap there: reading six addresses in
        Python (``__array_interface__``) took 7 of the 20 us that a call on a
        small X costs, which mini-batch solvers pay per batch.
        """
        job[_J_X] = X.ctypes.data
        job[_J_Y] = y.ctypes.data
        job[_J_SW] = sw.ctypes.data
        job[_J_W] = w.ctypes.data
        job[_J_ACC] = acc.ctypes.data
        job[_J_OUT] = out.ctypes.data

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

# After a job a worker idles in three steps before it sleeps in Python, all
# in compiled code without the GIL (see _serve): it spins (the ``pause``
# instruction) for _SPIN_SECONDS, so that a solver's next call, typically tens
# of microseconds later, finds it at work at once; then it naps, first in
# _NAP_MICROSECONDS sleeps (80-140 us each, measured) until _NAP_SECONDS,
# then in _LONG_NAP_MICROSECONDS sleeps until _LONG_NAP_SECONDS, looking for
# work between naps. Measured on a 2-core AMD EPYC, whole fits of 2e4 x 100
# (L-BFGS): 10-13 ms with the naps, 15 ms with only the 50 ms of short naps
# (the next fit, 0.2 s later, woke the worker in Python, which also has to
# pass the GIL around), 17-18 ms single-threaded. The spin is short because
# on two cores a spinning thread slows whatever runs next on the other core
# (OpenBLAS's own threads, typically: a Newton step's Hessian); napping
# threads leave the core free. The solvers give BLAS one thread while they
# iterate on this kernel (solvers._common.quiet_blas). A caller never waits
# for a worker that has not started: it takes the chunks itself.
# LOGITDESCENT_SPIN_SECONDS overrides the spin. X smaller than
# _MIN_PARALLEL_BYTES is evaluated by the caller alone (measured at 1000 x
# 100, 0.8 MiB: two threads 1.2x faster than one; 1.5-2x from 2 MiB on).
_SPIN_SECONDS = float(os.environ.get("LOGITDESCENT_SPIN_SECONDS", 0.0005))
_NAP_SECONDS = 0.05
_NAP_MICROSECONDS = 50
_LONG_NAP_SECONDS = 2.0
_LONG_NAP_MICROSECONDS = 1000
_MIN_PARALLEL_BYTES = 256 * 1024
_WAIT_SPIN_SECONDS = 0.002  # the caller's spin for the workers' last chunks


class _Team:
    """``n_workers`` daemon threads that take chunks of the caller's jobs.

    One job at a time, in :attr:`job` (see :func:`_publish`): :meth:`run` is
    guarded by a lock, and a caller that finds it taken (another thread is
    evaluating) runs alone, on a job array of its own. A job says how many of
    the workers may take part (_J_ACTIVE), so one team serves every thread
    count up to its size.
    """

    def __init__(self, n_workers):
        self.n_workers = n_workers
        self.job = np.zeros(_JOB_WORDS, dtype=np.int64)
        self.tag = 0
        self.lock = threading.Lock()
        self.cv = threading.Condition()
        self.sleeping = 0
        self.wake_calls = 0
        self.spin_rounds = _calibrate_spin(_SPIN_SECONDS)
        self.nap_rounds = _calibrate_naps(_NAP_SECONDS, _NAP_MICROSECONDS)
        self.long_nap_rounds = int(_LONG_NAP_SECONDS / (_LONG_NAP_MICROSECONDS * 1e-6))  # at least that long
        self.wait_rounds = _calibrate_spin(_WAIT_SPIN_SECONDS)
        self.retired = False  # replaced by a larger team: the threads end
        _close(self.job)  # compile (or load) it now, not in an interrupt's handler
        self.threads = [
            threading.Thread(target=self._loop, args=(t,), name=f"logitdescent-fused-{t}", daemon=True)
            for t in range(n_workers)
        ]
        for th in self.threads:
            th.start()

    def _loop(self, worker_index):
        job = self.job
        while not self.retired:
            _serve(job, worker_index, self.spin_rounds, self.nap_rounds, self.long_nap_rounds)  # no GIL
            with self.cv:
                self.sleeping += 1
                wake_calls = self.wake_calls
                while self.wake_calls == wake_calls and not self.retired and not _has_chunks(job):
                    self.cv.wait()
                self.sleeping -= 1

    def retire(self):
        """Let the threads end (they finish their idling first)."""
        with self.cv:
            self.retired = True
            self.cv.notify_all()

    def run(self, fields, take_chunks=True):
        """Run the job ``fields`` (see :func:`_make_job`) on this thread and the workers.

        The counts (done, failed, done by the workers) are copied back into
        ``fields``. ``take_chunks=False`` (for tests) leaves every chunk to the
        workers.
        """
        if not self.lock.acquire(blocking=False):
            _run_alone(fields)  # another thread's job is running: do this one alone
            return
        try:
            job = self.job
            job[_J_ACTIVE:] = fields[_J_ACTIVE:]
            self.tag = (self.tag + 1) & 0x7FFFFFFF
            word = (self.tag << 32) | int(fields[_J_WORD])
            try:  # _publish inside: an interrupt right after it lands here too
                _publish(job, word)
                if self.sleeping:
                    with self.cv:
                        self.wake_calls += 1
                        self.cv.notify_all()
                _run_job(job, self.wait_rounds, take_chunks)
            except BaseException:
                # An interrupt (KeyboardInterrupt, say) between the publication
                # and the end: the job's arrays are about to be freed, so no
                # worker may take another chunk, and those taken must finish.
                # (If the job was not published yet, the previous one is
                # closed again: finished or closed, it waits for nothing.)
                _close(job)
                raise
            fields[_J_DONE:_J_ACTIVE] = job[_J_DONE:_J_ACTIVE]
        finally:
            self.lock.release()
        _raise_if_failed(fields)


def _bits_of_float(x):
    """The bits of the float64 ``x`` as an int (for the job array)."""
    return _I64_OF_F64.unpack(_F64.pack(x))[0]


_F64 = struct.Struct("<d")
_I64_OF_F64 = struct.Struct("<q")


def _has_chunks(job):
    word = int(job[_J_WORD])
    return (word & 0xFFFF) < ((word >> 16) & 0xFFFF)


def _raise_if_failed(fields):
    if fields[_J_FAILED]:
        raise MemoryError(
            f"the fused kernel could not allocate the scratch buffers of {int(fields[_J_FAILED])} "
            "chunk(s); free memory, or use kernel='numpy'."
        )


def _run_alone(fields):
    """Run the job ``fields`` on the calling thread only (no other thread sees this array)."""
    _publish(fields, int(fields[_J_WORD]))
    _run_job(fields, 0, True)
    _raise_if_failed(fields)


def _calibrate_spin(seconds):
    """Rounds of the ``pause`` instruction that take about ``seconds``."""
    if seconds <= 0:
        return 0
    probe = np.zeros(_JOB_WORDS, dtype=np.int64)  # a job with no chunks: _serve only idles
    _serve(probe, 0, 10, 0, 0)
    n = 20000
    t0 = time.perf_counter()
    _serve(probe, 0, n, 0, 0)
    per = max((time.perf_counter() - t0) / n, 1e-9)
    return max(1, int(seconds / per))


def _calibrate_naps(seconds, microseconds):
    """Naps of ``microseconds`` that take about ``seconds`` (each takes longer than asked: 80-140 us for 50)."""
    if seconds <= 0:
        return 0
    probe = np.zeros(_JOB_WORDS, dtype=np.int64)
    n = 10
    t0 = time.perf_counter()
    _serve(probe, 0, 0, n, 0)
    per = max((time.perf_counter() - t0) / n, microseconds * 1e-6)
    return max(1, int(seconds / per))


_team_lock = threading.Lock()
_team = None
_team_pid = os.getpid()


def _reset_team_after_fork():
    """In a forked child: the team object came along, but not its threads (nor, maybe, a free lock)."""
    global _team, _team_lock, _team_pid
    _team = None
    _team_lock = threading.Lock()
    _team_pid = os.getpid()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_team_after_fork)


def _get_team(n_workers):
    """The team, with at least ``n_workers`` workers (a smaller one is replaced and retires)."""
    global _team
    if _team_pid != os.getpid():  # forked without the at-fork hook
        _reset_team_after_fork()
    with _team_lock:
        if _team is None or _team.n_workers < n_workers:
            old, _team = _team, _Team(n_workers)  # built first: if that fails, the old team stays
            if old is not None:
                old.retire()
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


def _run(fields, n_threads, nbytes):
    """Run the job ``fields`` on up to ``n_threads`` threads (this one included)."""
    n_workers = min(n_threads, int(fields[_J_NCHUNKS])) - 1
    if n_workers <= 0 or nbytes < _MIN_PARALLEL_BYTES:
        _run_alone(fields)
        return
    fields[_J_ACTIVE] = n_workers
    _get_team(n_workers).run(fields)


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
    return supports(X) and (X.flags.c_contiguous or X.shape[1] * X.itemsize < _LONG_ROW_BYTES)


class _ScheduleChoice:
    """The faster of schedules that compute the same result bit for bit, learned from real calls.

    Until every candidate has ``trials`` timings, each call takes the one with
    the fewest (so they alternate); after that, every call takes the one with
    the lowest median time per element. The trial calls are real evaluations:
    the cost of learning is a few calls on the slower schedule.
    """

    def __init__(self, candidates, trials=_SCHEDULE_TRIALS):
        self.candidates = candidates
        self.trials = trials
        self.seconds = [[] for _ in candidates]  # per element, per call
        self.best = None

    def pick(self):
        """Index of the candidate for the next call."""
        if self.best is not None:
            return self.best
        counts = [len(times) for times in self.seconds]
        return counts.index(min(counts))

    def record(self, index, seconds_per_element):
        if self.best is not None:
            return
        self.seconds[index].append(seconds_per_element)
        if all(len(times) >= self.trials for times in self.seconds):
            medians = [float(np.median(times)) for times in self.seconds]
            self.best = medians.index(min(medians))


# Long float32 rows out of cache: (kind, prefetch distance) candidates, one
# choice per thread count (what is faster on one thread need not be on two).
_F32_LONG_ROW_SCHEDULES = ((_KIND_C32_PIPELINED, 0), (_KIND_C32, _PREFETCH_BYTES_SHORT))
_f32_long_row_choice: dict[int, _ScheduleChoice] = {}


def chosen_schedules():
    """The schedule picked for long float32 rows, by thread count: ``{n_threads: "pipelined" | "prefetch" | None}``.

    None while the choice is still being learned (see :class:`_ScheduleChoice`).
    """
    names = ("pipelined", "prefetch")
    return {t: None if c.best is None else names[c.best] for t, c in _f32_long_row_choice.items()}


def _make_job(w64, b, X, y, sw, has_sw):
    """The job that evaluates the kernel on ``X``: its fields and its output arrays.

    Returns ``(fields, acc, out)``: ``fields`` is the int64 array of _J_*
    entries (the first word without its tag), ``acc`` and ``out`` the
    chunks' partial sums, for :func:`_reduce`. ``fields`` holds the addresses
    of ``w64``, ``X``, ``y``, ``sw``, ``acc`` and ``out``: the caller keeps
    them alive until the job is done.
    """
    m, n = X.shape
    nchunks = _plan_chunks(m, n)
    acc = np.empty((nchunks, n), dtype=np.float64)
    out = np.empty((nchunks, 2), dtype=np.float64)
    row_bytes = X.itemsize * n
    if X.flags.c_contiguous:
        long_rows = row_bytes >= _LONG_ROW_BYTES
        in_cache = m * row_bytes <= _PREFETCH_MIN_BYTES
        if X.itemsize == 8:
            kind = _KIND_C64
        else:
            kind = _KIND_C32_PIPELINED if long_rows else _KIND_C32
        # Long float32 rows four per pass (w loaded once for four rows: their
        # conversion to float64 makes the arithmetic the slower half), and
        # float64 rows longer than _ROWS1_MAX_BYTES (w no longer stays in L1);
        # every other row one per pass, one linear stream for the hardware
        # prefetcher. Float64, two threads, 2-core AMD EPYC, interleaved in
        # separate processes, X 0.8 GB, times an X @ v, one per pass against
        # four: n = 256 0.70-0.77 / 1.22-1.37, 300 0.73-0.91 / 1.32-1.34,
        # 1000 0.95-0.98 / 1.20-1.26, 1200 1.02-1.07 / 1.18-1.25, 1500
        # 1.12-1.31 / 1.17-1.26, 2000 1.27-1.47 / 1.24-1.30, 3000 1.19-1.40 /
        # 1.09-1.16. Float32 1e5 x 1000: no difference (1.14-1.17x).
        if long_rows:
            rows1 = X.itemsize == 8 and row_bytes <= _ROWS1_MAX_BYTES
            scoring = _SCORE_ROWS1 if rows1 else _SCORE_ROWS4
        else:
            scoring = _SCORE_TILES if in_cache else _SCORE_ROWS1
        block_bytes = _C_BLOCK_BYTES_LONG if long_rows else _C_BLOCK_BYTES
        block = min(_C_BLOCK_MAX_ROWS, max(4, (block_bytes // row_bytes) // 4 * 4))
        ahead = 0 if in_cache else (_PREFETCH_BYTES_LONG64 if long_rows else _PREFETCH_BYTES_SHORT)
    else:
        kind = _KIND_F64 if X.itemsize == 8 else _KIND_F32
        block = max(16, min(_F_BLOCK_BYTES // row_bytes, -(-m // nchunks)))
        scoring, ahead = _SCORE_ROWS1, 0  # unused by _chunk_f
    fields = np.array(
        [nchunks << 16, 0, 0, 0, 0, nchunks, kind, m, n, 0, 0, 0, has_sw,
         0, _bits_of_float(b), 0, 0, block, scoring, ahead],
        dtype=np.int64,
    )
    _store_addresses(fields, X, y, sw, w64, acc, out)
    return fields, acc, out


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

    fields, acc, out = _make_job(w64, float(b), X, y, sw, has_sw)
    if fields[_J_KIND] == _KIND_C32_PIPELINED and X.nbytes > _PREFETCH_MIN_BYTES:
        choice = _f32_long_row_choice.setdefault(n_threads, _ScheduleChoice(_F32_LONG_ROW_SCHEDULES))
        pick = choice.pick()
        fields[_J_KIND], fields[_J_AHEAD] = choice.candidates[pick]
        t0 = time.perf_counter()
        _run(fields, n_threads, X.nbytes)
        choice.record(pick, (time.perf_counter() - t0) / X.size)
    else:
        _run(fields, n_threads, X.nbytes)
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


def warm_up(verbose=False, threads=True):
    """Compile, or load from the on-disk cache, the kernels and the worker loop.

    Returns ``{"kernels": seconds, "threads": seconds}`` and records it in
    :data:`compile_times`: the five kernels ({float32, float64} x {C, F}
    layout, and the pipelined one for float32 rows of 2 KiB or more) are
    compiled together, as the one function that runs a chunk of any job;
    "threads" is the worker threads' loop (left out with ``threads=False``:
    an X under 256 KiB never needs it). A compile happens once per machine
    and numba version; later processes only load (about 0.3 s).
    """
    if numba is None:
        return {}
    times = {}
    t0 = time.perf_counter()
    y = np.array([0.0, 1, 0, 1, 1])
    for dtype in (np.float64, np.float32):  # every dtype and layout: _store_addresses is typed by them
        for order in ("C", "F"):
            X = np.ones((5, 3), dtype=dtype, order=order)
            fused_loss_and_grad(np.zeros(3), 0.0, X, y, None, 0.0, n_threads=1)
    times["kernels"] = time.perf_counter() - t0
    if threads:
        t0 = time.perf_counter()
        idle_job = np.zeros(_JOB_WORDS, dtype=np.int64)  # no chunks: nothing to do
        _serve(idle_job, 0, 1, 0, 0)
        _close(idle_job)
        times["threads"] = time.perf_counter() - t0
    if verbose:
        for key, seconds in times.items():
            print(f"logitdescent fused kernel {key}: {seconds:.2f} s")
    compile_times.update(times)
    return times
