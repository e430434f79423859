"""The kernel contract on Dask: the objective computed where the data live.

A Dask objective is the in-memory objective (:mod:`logitdescent.objective`)
whose passes over X run blockwise on a Dask cluster, so every solver runs on
it unchanged::

    one evaluation of (J, dJ/dtheta) at theta
      client:  theta ──(in each worker's task message, once per evaluation)──► workers
      workers: chunk k ──public in-memory kernel──► partial sums (J_k, dW_k, db_k)
               a worker's chunks summed in chunk order ──► one partial per task
      client:  the tasks' partials summed in chunk order, divided by S once;
               the L2 term added once (by LinearObjective.loss_grad)

Data layout
-----------
X, y and the sample weights are cut into row chunks (X one column chunk
wide) and *persisted once*, as one bundle per chunk: a chunk's rows of X,
y and the weights live in the same worker's memory (no transfer of y or
the weights per evaluation), X's rows C-contiguous (the compiled kernel's
layout), with the chunk's weight sum ``S_k``. X is never computed to the
client; only coefficients go out and ``O(p)`` partials per worker thread
come back (``O(p^2)`` for Newton's Hessian). When the bundles do not fit
the workers' memory, Dask's workers spill them to their local disk and
read them back per pass (``distributed.worker.memory`` settings): X is
then read from local disk once per evaluation, never recomputed from its
source (not benchmarked here: see docs/scaling.md).

Where it runs
-------------
With a ``distributed.Client`` (the caller's active one, or one passed in)
each evaluation uses the futures API: one ``client.submit`` per worker
thread, over the bundles that worker holds (asked of the scheduler with
``who_has`` once, and again after a group ran elsewhere than planned), and
one gather of the partials: the same few small tasks every iteration, the
graph never grows, nothing is persisted or computed inside the math.
Without a Client (or with ``dask.config``'s ``scheduler`` set to a local
one) the bundles are in this process and each evaluation is one
``dask.compute`` of per-chunk delayed calls on Dask's local scheduler
(threads by default).

Sums, not means
---------------
The public in-memory kernels return weighted *means* over their rows; a
chunk task multiplies them back by the chunk's ``S_k`` (one rounding) and
returns sums; a chunk of weight sum 0 adds nothing (and is never divided by). The client divides by the
global ``S`` once. Partials are summed in chunk order whatever the order
the tasks finish in, so a fit is reproducible for a given placement of the
chunks; the threaded scheduler (one task per chunk) and a cluster (one per
worker thread) group the sums differently, which changes only the last
bits (~1e-16 relative).

Solvers
-------
Every solver that takes a full pass over X per step works unchanged:
"gd", "nesterov", "lbfgs", "newton" (the Hessian a sum of per-chunk
``[X 1]^T D [X 1]`` blocks), "lbfgs-newton", "precond-lbfgs" (its
``32 p``-row sample is gathered to the client once). "sgd" and "newton-cd"
are refused (:func:`check_solver`): each of sgd's mini-batches would be a
cluster round trip for a few rows' work, and newton-cd gathers whole
columns of X to one process.

Faults
------
A worker that dies loses its bundles; Dask recomputes them from their
graph on the remaining (or restarted) workers and the fit goes on with the
same numbers. A task that keeps killing workers fails with Dask's
``KilledWorker``, raised as a ``RuntimeError`` naming the worker; a
cluster left with no worker for ``NO_WORKER_TIMEOUT`` seconds fails with a
``RuntimeError`` naming the lost workers. An evaluation never waits forever.
"""

from __future__ import annotations

import functools
import math
import operator
import sys
import time
import uuid

import dask
import dask.array as da
import numpy as np
from scipy.special import expit, log_softmax, softmax

from .. import kernel as _kernel
from ..objective import LinearObjective, LogisticObjective, SoftmaxObjective
from . import is_dask_collection

__all__ = [
    "DaskLogisticObjective",
    "DaskSoftmaxObjective",
    "SOLVERS_ON_DASK",
    "align",
    "check_solver",
    "choose_solver",
    "class_weighted",
    "column_stats",
    "decision_function",
    "encode_labels",
    "get_client",
    "is_dask_collection",
    "loss_and_grad",
    "persist",
    "predict",
    "predict_log_proba",
    "predict_proba",
    "softmax_loss_and_grad",
    "standardize",
    "train_test_split",
    "unique_labels",
]

#: Solvers that make sense on a cluster: one full pass over X per step.
SOLVERS_ON_DASK = ("gd", "nesterov", "lbfgs", "newton", "lbfgs-newton", "precond-lbfgs")

#: Fan-in of the fixed tree in which partials are summed (a worker's chunks,
#: then the workers' partials on the client): pairwise-like rounding for
#: many chunks, in an order that does not depend on timing.
REDUCE_FAN_IN = 8

#: Coefficient payloads of at least this many bytes are scattered to every
#: worker once per evaluation (``client.scatter(broadcast=True)``); smaller
#: ones travel inside the evaluation's task messages (one per worker thread,
#: so each worker receives them once per evaluation either way). A scatter
#: is a synchronous round trip of its own, measured at a third of a whole
#: evaluation's latency (benchmarks/results/dask.md, section 3), while a few
#: kB more per task message cost nothing measurable; from this size on a
#: copy per message would cost more than the extra round trip.
BROADCAST_MIN_BYTES = 64 * 1024

#: Largest row sample (bytes of X) that :meth:`~DaskLogisticObjective.subset`
#: gathers to the client (precond-lbfgs's ``32 p`` rows: 67 MB at p = 512).
SUBSET_MAX_BYTES = 256 * 2**20

#: Seconds an evaluation waits with no worker at all in the cluster before
#: failing (a nanny restarts a killed worker within a few seconds).
NO_WORKER_TIMEOUT = 20.0
#: Seconds between checks of the cluster's health while an evaluation waits.
POLL_SECONDS = 0.5

_LOCAL_SCHEDULERS = {"threads", "threading", "sync", "synchronous", "single-threaded",
                     "processes", "multiprocessing"}


# --------------------------------------------------------------------------
# Where it runs


def get_client(client=None):
    """The ``distributed.Client`` to run on, or None for Dask's local scheduler.

    ``client`` if given; else the caller's active (default) Client, unless
    ``dask.config``'s ``scheduler`` names a local scheduler ("threads",
    "sync", "processes"), which then wins as it does for ``.compute()``.

    Parameters
    ----------
    client : distributed.Client, optional

    Returns
    -------
    distributed.Client or None
    """
    if client is not None:
        return client
    if str(dask.config.get("scheduler", None)).lower() in _LOCAL_SCHEDULERS:
        return None
    if "distributed" not in sys.modules:  # no Client can exist without it
        return None
    from distributed import default_client

    try:
        found = default_client()
    except ValueError:  # no Client in this process
        return None
    return found if found.status == "running" else None


def choose_solver(objective):
    """The ``solver="auto"`` rule for a Dask objective.

    The in-memory rule (:func:`logitdescent.solvers.choose_solver`), except
    that a solver refused on a cluster (newton-cd, its pick for L1) gives
    way to "lbfgs", which handles every penalty and bounds.

    Parameters
    ----------
    objective : DaskLogisticObjective or DaskSoftmaxObjective

    Returns
    -------
    str
    """
    from ..solvers import choose_solver as in_memory_rule

    name = in_memory_rule(objective)
    return name if name in SOLVERS_ON_DASK else "lbfgs"


def check_solver(name):
    """Refuse a solver that does not make sense on a cluster, naming the way out.

    Parameters
    ----------
    name : str
        A key of :data:`logitdescent.solvers.SOLVERS` (or "auto").

    Raises
    ------
    ValueError
        For "sgd" (each mini-batch step would be a round trip to the cluster
        for a few rows' work) and "newton-cd" (its working set's columns of
        X are gathered to one process), and for unknown names.
    """
    if name == "auto" or name in SOLVERS_ON_DASK:
        return
    why = {
        "sgd": "every mini-batch step would be a round trip to the cluster for a few rows' work",
        "newton-cd": "it gathers the working set's columns of X (all m rows) into this process",
    }
    if name in why:
        raise ValueError(
            f"solver='{name}' is not available for Dask input: {why[name]}. Use solver='lbfgs' "
            "(any penalty) or 'auto', or fit on a sample computed to memory."
        )
    raise ValueError(f"solver must be one of {['auto', *SOLVERS_ON_DASK]} for Dask input; got {name!r}.")


# --------------------------------------------------------------------------
# Input alignment


def _as_dask_matrix(X):
    """A 2-D float dask array with known row chunks and one column chunk."""
    if hasattr(X, "to_dask_array") and hasattr(X, "dtypes"):  # dask DataFrame
        from pandas.api.types import is_bool_dtype, is_numeric_dtype

        bad = [str(c) for c, t in zip(X.columns, X.dtypes) if not (is_numeric_dtype(t) or is_bool_dtype(t))]
        if bad:
            raise TypeError(
                f"X has non-numeric columns {bad}; select the numeric feature columns "
                "(or encode the others) before fitting."
            )
        # One pass over the partitions for their lengths (Parquet: often
        # only the footers); needed to align y and to cut X by rows.
        X = _optimized(X).to_dask_array(lengths=True)
    elif hasattr(X, "to_dask_array"):  # a dask Series
        raise ValueError("X must be 2-D (m, n); got a dask Series: use X.to_frame().")
    if not isinstance(X, da.Array):
        raise TypeError(f"X must be a dask.array.Array or dask.dataframe.DataFrame; got {type(X).__name__}.")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (m, n); got a dask array of shape {X.shape}.")
    if not (np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.bool_)):
        raise TypeError(f"X must hold numbers; got dtype {X.dtype}.")
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    if any(math.isnan(c) for c in X.chunks[0]):
        X = X.compute_chunk_sizes()  # one pass, once
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    return X


def _optimized(frame):
    """A Dask DataFrame/Series with its query plan optimized, so partitions and lengths agree.

    Dask's planner fuses small Parquet partitions according to the columns a
    collection reads: ``df["y"]`` may have fewer partitions than ``df`` once
    optimized, and ``to_dask_array(lengths=True)`` would count the lengths of
    the optimized partitions against the unoptimized partition count (a
    ValueError). Optimized first, both are the same; X and y are aligned by
    rows afterwards (:func:`align` rechunks y to X's rows), whatever each's partitions.
    """
    return frame.optimize() if hasattr(frame, "optimize") else frame


def _as_dask_vector(v, name, X):
    """``v`` as a 1-D dask array chunked like X's rows, or a clear error."""
    m = X.shape[0]
    if is_dask_collection(v):
        if hasattr(v, "to_dask_array"):  # dask Series / one-column DataFrame
            if getattr(v, "ndim", 1) == 2:
                if len(v.columns) != 1:
                    raise ValueError(f"{name} must be 1-D; got a dask DataFrame of {len(v.columns)} columns.")
                v = v[v.columns[0]]
            if not isinstance(v.dtype, np.dtype):
                # pandas extension dtypes (string labels) as objects, which
                # to_dask_array would otherwise convert with a warning.
                v = v.astype(object)
            v = _optimized(v).to_dask_array(lengths=True)
        if not isinstance(v, da.Array):
            raise TypeError(f"{name} must be a dask array or Series; got {type(v).__name__}.")
        if v.ndim == 2 and v.shape[1] == 1:
            v = v[:, 0]
        if v.ndim != 1:
            raise ValueError(f"{name} must be 1-D of length {m}; got shape {v.shape}.")
        if any(math.isnan(c) for c in v.chunks[0]):
            v = v.compute_chunk_sizes()
    else:
        import pandas as pd

        if isinstance(v, (pd.Series, pd.DataFrame)):
            raise TypeError(
                f"X is a Dask collection but {name} is a pandas object, whose index Dask cannot "
                f"align with X's rows. Pass {name} as a Dask collection from the same DataFrame "
                f"(e.g. df['{name}']) or as a NumPy array in X's row order."
            )
        v = np.asarray(v)
        if v.ndim == 2 and v.shape[1] == 1:
            v = v[:, 0]
        if v.ndim != 1:
            raise ValueError(f"{name} must be 1-D of length {m}; got shape {v.shape}.")
        if v.shape[0] != m:
            raise ValueError(f"{name} has {v.shape[0]} rows but X has {m}; they must match row for row.")
        # Positional: row i of a dask array is well defined, so a NumPy
        # vector in X's row order is not ambiguous.
        v = da.from_array(v, chunks=(X.chunks[0],))
    if v.shape[0] != m:
        raise ValueError(f"{name} has {v.shape[0]} rows but X has {m}; they must match row for row.")
    if v.chunks[0] != X.chunks[0]:
        v = v.rechunk((X.chunks[0],))
    return v


def align(X, y=None, sample_weight=None):
    """Validate and align Dask inputs row by row, lazily.

    Parameters
    ----------
    X : dask.array.Array of shape (m, n) or dask.dataframe.DataFrame
        Numeric. A DataFrame's partition lengths (and an array's unknown
        chunk sizes) are computed once; X is cut to one column chunk and
        cast to float64 unless it is float32 or float64.
    y : dask array / Series of shape (m,), or NumPy array, optional
        A NumPy (or list) ``y`` is taken in X's row order. A pandas Series is
        refused (its index cannot be aligned with a Dask X's rows).
    sample_weight : like ``y``, optional

    Returns
    -------
    X : dask.array.Array of shape (m, n)
    y : dask.array.Array of shape (m,) or None
        Chunked like X's rows.
    sample_weight : dask.array.Array of shape (m,) or None
        Chunked like X's rows, float in X's dtype.

    Raises
    ------
    TypeError
        X not a Dask collection, non-numeric columns, pandas ``y``.
    ValueError
        Wrong dimensions or row counts.
    """
    if not is_dask_collection(X):
        culprit = "y" if is_dask_collection(y) else "sample_weight" if is_dask_collection(sample_weight) else None
        if culprit:
            raise TypeError(
                f"{culprit} is a Dask collection but X is not: pass X as a Dask collection too "
                "(dask.array.from_array(X, chunks=...)) or compute the Dask inputs to memory."
            )
        raise TypeError(f"X must be a dask.array.Array or dask.dataframe.DataFrame; got {type(X).__name__}.")
    X = _as_dask_matrix(X)
    if y is not None:
        y = _as_dask_vector(y, "y", X)
    if sample_weight is not None:
        sample_weight = _as_dask_vector(sample_weight, "sample_weight", X)
        if sample_weight.dtype != X.dtype:
            sample_weight = sample_weight.astype(X.dtype)
    return X, y, sample_weight


def unique_labels(y):
    """The sorted distinct values of a Dask ``y`` (one pass over y).

    Parameters
    ----------
    y : dask.array.Array of shape (m,)

    Returns
    -------
    ndarray
    """
    return np.asarray(da.unique(y).compute())


def _block_codes(y, classes):
    codes = np.minimum(np.searchsorted(classes, y), classes.size - 1)
    if np.any(classes[codes] != y):
        unseen = np.setdiff1d(np.unique(y), classes)
        raise ValueError(f"y contains labels not in classes: {unseen[:5]!r}.")
    return codes.astype(np.intp)


def encode_labels(y, classes=None):
    """``(classes, codes)``: the sorted labels and a lazy ``y`` of indices into them.

    Parameters
    ----------
    y : dask.array.Array of shape (m,)
        Labels of any sortable dtype.
    classes : ndarray, optional
        The labels to encode against (``partial_fit``); default: those of
        ``y``, found in one pass (:func:`unique_labels`).

    Returns
    -------
    classes : ndarray of shape (n_classes,)
    codes : dask.array.Array of shape (m,), intp
        Lazy; a label not in ``classes`` raises ``ValueError`` when computed.

    Raises
    ------
    ValueError
        Fewer than two classes.
    """
    if classes is None:
        from ..estimator import check_two_classes  # the estimator imports this module lazily: no cycle

        classes = check_two_classes(unique_labels(y))
    classes = np.asarray(classes)
    return classes, y.map_blocks(_block_codes, classes, dtype=np.intp)


def _per_class_weight(codes, per_class):
    return per_class[codes]


def class_weighted(sample_weight, codes, class_weight, classes, dtype=np.float64):
    """Sample weights with the class weights folded in, lazily (scikit-learn's rules).

    Parameters
    ----------
    sample_weight : dask.array.Array of shape (m,) or None
    codes : dask.array.Array of shape (m,)
        Class indices (:func:`encode_labels`).
    class_weight : dict, "balanced" or None
        "balanced": ``m / (n_classes * count_k)`` among the classes present
        (one pass over ``codes`` for the counts); a dict keyed by label.
    classes : ndarray of shape (n_classes,)
    dtype : dtype
        X's dtype.

    Returns
    -------
    dask.array.Array of shape (m,) or None
        None when there is nothing to weight.
    """
    from sklearn.utils.class_weight import compute_class_weight

    if class_weight is None:
        return sample_weight
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(f"class_weight must be a dict, 'balanced' or None; got {class_weight!r}.")
        # scikit-learn 1.9's rule: the classes' total sample weights, not their counts.
        counts = np.asarray(da.bincount(codes, weights=sample_weight, minlength=len(classes)).compute(),
                            dtype=np.float64)
        present = counts > 0
        per_class = np.zeros(len(classes))
        per_class[present] = counts.sum() / (present.sum() * counts[present])
    else:
        per_class = compute_class_weight(class_weight, classes=classes, y=classes)
    weights = codes.map_blocks(_per_class_weight, per_class.astype(dtype), dtype=dtype)
    return weights if sample_weight is None else sample_weight * weights


def persist(*collections, client=None):
    """Persist Dask collections once, on the Client or the local scheduler, and wait.

    Parameters
    ----------
    *collections : Dask collections
    client : distributed.Client, optional
        Default :func:`get_client`.

    Returns
    -------
    tuple of persisted collections (one value if one was given)
    """
    client = get_client(client)
    if client is None:
        out = dask.persist(*collections)
    else:
        from distributed import wait

        out = client.persist(list(collections))
        wait(out)
    return out[0] if len(out) == 1 else tuple(out)


# --------------------------------------------------------------------------
# What a worker holds and runs (module-level functions: pickled by reference)


class _Chunk:
    """One row chunk's bundle: X rows (C-contiguous), y, weights, ``S_k``."""

    __slots__ = ("X", "y", "sample_weight", "weight_sum", "n_rows", "index")

    def __init__(self, X, y, sample_weight, index):
        self.X = np.ascontiguousarray(X)  # no copy when it already is
        self.y = y
        self.sample_weight = sample_weight
        self.n_rows = self.X.shape[0]
        self.weight_sum = (float(self.n_rows) if sample_weight is None
                           else float(np.sum(sample_weight, dtype=np.float64)))
        self.index = index

    def __reduce__(self):
        return (_Chunk._restore, (self.X, self.y, self.sample_weight, self.weight_sum, self.n_rows, self.index))

    @staticmethod
    def _restore(X, y, sample_weight, weight_sum, n_rows, index):
        chunk = _Chunk.__new__(_Chunk)
        chunk.X, chunk.y, chunk.sample_weight = X, y, sample_weight
        chunk.weight_sum, chunk.n_rows, chunk.index = weight_sum, n_rows, index
        return chunk


def _bundle(X, y, sample_weight, index, y_kind):
    """Build a chunk's bundle, checking its y and weights where they live."""
    X = np.asarray(X)
    if y is not None:
        y = np.asarray(y)
        if y_kind == "classes":
            y = y.astype(np.intp, copy=False)
        else:
            y = np.ascontiguousarray(y, dtype=X.dtype)
            if not np.all(np.isfinite(y)):
                raise ValueError(f"y contains NaN or infinity (row chunk {index}).")
    if sample_weight is not None:
        sample_weight = np.ascontiguousarray(sample_weight, dtype=X.dtype)
        if not np.all(np.isfinite(sample_weight)):
            raise ValueError(f"sample_weight contains NaN or infinity (row chunk {index}).")
        negative = np.flatnonzero(sample_weight < 0)
        if negative.size:
            raise ValueError(
                f"sample_weight must be non-negative; got {float(sample_weight[negative[0]]):g} at row "
                f"{negative[0]} of row chunk {index} ({negative.size} negative in that chunk). Drop those "
                "examples or give them weight 0."
            )
    return _Chunk(X, y, sample_weight, index)


def _chunk_sizes(chunk):
    return chunk.n_rows, chunk.weight_sum


def _sum_partials(*parts):
    """Elementwise sum of partials (tuples of floats/arrays, or arrays), in order."""
    if isinstance(parts[0], tuple):
        return tuple(functools.reduce(operator.add, items) for items in zip(*parts))
    return functools.reduce(operator.add, parts)


def _max_partials(*parts):
    return max(parts)


#: Threads of the in-memory kernel inside one chunk task. The cluster's
#: parallelism is one task per worker thread (``_Chunks._groups``); kernel
#: threads on top would oversubscribe the cores.
CHUNK_KERNEL_THREADS = 1


def _binary_loss_grad(chunk, w, b):
    """``(sum s L, X^T (a - y) s, sum (a - y) s)`` on one chunk, float64.

    The public kernel returns means over the chunk: times ``S_k``, sums
    (one rounding; the client divides by the global ``S``).
    """
    X, n = chunk.X, chunk.X.shape[1]
    if chunk.n_rows == 0 or chunk.weight_sum == 0:
        return 0.0, np.zeros((1, n)), np.zeros(1)
    J, dw, db = _kernel.loss_and_grad(w, b, X, chunk.y, chunk.sample_weight, n_threads=CHUNK_KERNEL_THREADS)
    S = chunk.weight_sum
    return J * S, np.asarray(dw, dtype=np.float64)[None, :] * S, np.array([db * S])


def _softmax_loss_grad(chunk, W, b):
    """Multinomial sums on one chunk: ``(J_k, dW_k (K, n), db_k (K,))``, float64."""
    X = chunk.X
    if chunk.n_rows == 0 or chunk.weight_sum == 0:
        return 0.0, np.zeros(W.shape), np.zeros(W.shape[0])
    J, dW, db = _kernel.softmax_loss_and_grad(W, b, X, chunk.y, chunk.sample_weight,
                                              n_threads=CHUNK_KERNEL_THREADS)
    S = chunk.weight_sum
    return J * S, np.asarray(dW, dtype=np.float64) * S, np.asarray(db, dtype=np.float64) * S


def _memory_objective(chunk, kind, fit_intercept, n_outputs):
    cls = LogisticObjective if kind == "binary" else SoftmaxObjective
    return cls(chunk.X, chunk.y, chunk.sample_weight, fit_intercept=fit_intercept, n_outputs=n_outputs)


def _hessian_sum(chunk, theta, kind, fit_intercept, n_outputs, p):
    """``S_k`` times the chunk's unpenalized Hessian: ``sum_i s_i [x_i 1]^T D_i [x_i 1]``."""
    if chunk.n_rows == 0 or chunk.weight_sum == 0:
        return np.zeros((p, p))
    local = _memory_objective(chunk, kind, fit_intercept, n_outputs)
    # LinearObjective's own method: softmax's flat-direction shift belongs
    # to the total Hessian, added once on the client.
    return LinearObjective.hessian(local, theta) * chunk.weight_sum


def _sums_and_hessian(chunk, func, args, theta, kind, fit_intercept, n_outputs, p):
    """``func``'s sums and :func:`_hessian_sum` at the same point, in one task."""
    return (*func(chunk, *args), _hessian_sum(chunk, theta, kind, fit_intercept, n_outputs, p))


def _gram_times(chunk, v, fit_intercept):
    """``[X 1]^T diag(s) [X 1] v`` on one chunk (a power-iteration step), float64."""
    X, n = chunk.X, chunk.X.shape[1]
    out = np.zeros(n + int(fit_intercept))
    if chunk.n_rows == 0:
        return out
    u = np.asarray(X @ v[:n].astype(X.dtype), dtype=np.float64)
    if fit_intercept:
        u += v[-1]
    if chunk.sample_weight is not None:
        u *= chunk.sample_weight
    out[:n] = X.T @ u.astype(X.dtype)
    if fit_intercept:
        out[-1] = u.sum()
    return out


def _max_example_norm(chunk, fit_intercept, mean_weight):
    """``max_i (s_i / mean(s)) ||[x_i 1]||^2`` on one chunk."""
    if chunk.n_rows == 0:
        return 0.0
    X = chunk.X
    sq = np.einsum("ij,ij->i", X, X).astype(np.float64) + float(fit_intercept)
    if chunk.sample_weight is not None:
        sq *= chunk.sample_weight / mean_weight
    return float(sq.max())


def _all_finite(chunk):
    return bool(np.isfinite(chunk.X).all())


def _column_abs_max(chunk):
    return np.abs(chunk.X).max(axis=0).astype(np.float64)


def _max_arrays(*parts):
    return functools.reduce(np.maximum, parts)


def _positive_rows(chunk):
    """``((index, local rows of positive weight, or None for all of them),)``."""
    if chunk.sample_weight is None:
        return ((chunk.index, None),)
    positive = np.flatnonzero(chunk.sample_weight > 0)
    return ((chunk.index, None if positive.size == chunk.n_rows else positive),)


def _concat_tuples(*parts):
    return functools.reduce(operator.add, parts)


def _take(chunk, rows):
    """The chunk's rows ``rows`` (local indices): ``(X, y, s)`` copies."""
    s = None if chunk.sample_weight is None else chunk.sample_weight[rows]
    return chunk.X[rows], chunk.y[rows], s


def _run_group(func, chunks, args, reduce):
    """One task's chunks: ``func`` on each, summed in chunk order; and where it ran."""
    from distributed import get_worker

    return get_worker().address, _tree_sum_local([func(chunk, *args) for chunk in chunks], reduce)


def _tree_sum_local(parts, reduce):
    """The same fixed tree of sums as on the cluster, on this process."""
    while len(parts) > 1:
        parts = [reduce(*parts[i : i + REDUCE_FAN_IN]) for i in range(0, len(parts), REDUCE_FAN_IN)]
    return parts[0]


# --------------------------------------------------------------------------
# The engine: persisted bundles, map over chunks, tree-reduce


class _Chunks:
    """The persisted bundles of (X, y, weights) and the one map-reduce over them.

    Parameters
    ----------
    X, y, sample_weight : dask arrays aligned by :func:`align`
    y_kind : {"binary", "classes"}
    client : distributed.Client or None
    """

    def __init__(self, X, y, sample_weight, y_kind, client):
        self.client = client
        self._nthreads = {}
        self._group_cache = None
        self._workers_seen = set(client.nthreads()) if client is not None else set()
        xs = X.to_delayed().ravel()
        ys = y.to_delayed().ravel() if y is not None else [None] * len(xs)
        ss = sample_weight.to_delayed().ravel() if sample_weight is not None else [None] * len(xs)
        token = uuid.uuid4().hex[:12]
        bundles = [
            dask.delayed(_bundle)(x, yy, s, i, y_kind, dask_key_name=f"logitdescent-chunk-{token}-{i}")
            for i, (x, yy, s) in enumerate(zip(xs, ys, ss))
        ]
        if client is None:
            # Local scheduler: the bundles are in this process from here on.
            self.handles = list(dask.compute(*bundles))
            sizes = [_chunk_sizes(c) for c in self.handles]
        else:
            self.handles = client.compute(bundles)  # futures: persisted on the workers
            sizes = self._wait(client.map(_chunk_sizes, self.handles, pure=False,
                                          key=[f"logitdescent-sizes-{token}-{i}" for i in range(len(xs))]),
                               many=True)
        keep = [i for i, (rows, _) in enumerate(sizes) if rows > 0]
        self.handles = [self.handles[i] for i in keep]
        self.n_rows = np.array([sizes[i][0] for i in keep], dtype=np.int64)
        self.weight_sums = np.array([sizes[i][1] for i in keep], dtype=np.float64)
        self.offsets = np.concatenate([[0], np.cumsum(self.n_rows)])
        self.weight_sum = float(_tree_sum_local(list(self.weight_sums), _sum_partials)) if keep else 0.0

    def __len__(self):
        return len(self.handles)

    def map_reduce(self, func, *args, reduce=_sum_partials, name=None):
        """``reduce`` over chunks of ``func(chunk, *args)``, on the workers; the result here.

        ``args`` are the same for every chunk (coefficients): sent once per
        call, never kept in a graph.
        """
        name = name or func.__name__.strip("_")
        token = uuid.uuid4().hex[:12]
        if self.client is None:
            tasks = [dask.delayed(func)(h, *args, dask_key_name=f"logitdescent-{name}-{token}-{i}")
                     for i, h in enumerate(self.handles)]
            return _tree_sum_local(list(dask.compute(*tasks)), reduce)
        client = self.client
        scattered = None
        if sum(getattr(a, "nbytes", 0) for a in args) >= BROADCAST_MIN_BYTES:
            scattered = client.scatter(list(args), broadcast=True, hash=False)
            args = scattered
        if self._group_cache is None:
            self._group_cache = self._groups()
        groups = self._group_cache
        futures = [
            client.submit(_run_group, func, [self.handles[i] for i in chunks], args, reduce,
                          workers=None if worker is None else [worker], allow_other_workers=worker is not None,
                          key=f"logitdescent-{name}-{token}-{chunks[0]}", pure=False)
            for worker, chunks in groups
        ]
        results = self._wait(futures, many=True)
        del futures, scattered  # release them now: nothing of this evaluation stays on the cluster
        if any(ran != worker for (worker, _), (ran, _) in zip(groups, results)):
            # A worker is gone (its chunks were recomputed elsewhere): ask
            # the scheduler where the chunks live now, once.
            self._group_cache = None
        return _tree_sum_local([partial for _, partial in results], reduce)

    def _groups(self):
        """``[(worker, chunk indices)]``: one group per worker thread, of the chunks it holds.

        One task per worker thread instead of one per chunk: every task
        costs the scheduler and the client a message, and per-chunk tasks
        plus a reduction task took about three times the latency of grouped
        tasks (benchmarks/results/dask.md, "per-evaluation overhead").
        Asked of the scheduler once, and again only after a group ran
        somewhere else than planned (its worker died and its chunks were
        recomputed elsewhere): asking at every evaluation added a third to
        its latency on a busy scheduler. A chunk held nowhere (being
        recomputed) is a group of its own, placed by the scheduler.
        """
        who = self.client.who_has(self.handles)
        by_worker, orphans = {}, []
        for i, handle in enumerate(self.handles):
            holders = who.get(handle.key) or ()
            if holders:
                by_worker.setdefault(holders[0], []).append(i)
            else:
                orphans.append(i)
        if any(w not in self._nthreads for w in by_worker):
            self._nthreads = dict(self.client.nthreads())
            self._workers_seen |= set(self._nthreads)
        groups = []
        for worker, chunks in by_worker.items():
            threads = max(1, int(self._nthreads.get(worker, 1)))
            groups += [(worker, chunks[j::threads]) for j in range(min(threads, len(chunks)))]
        groups += [(None, [i]) for i in orphans]
        groups.sort(key=lambda group: group[1][0])
        return groups

    def _wait(self, futures, many=False):
        """The result of ``futures``; never waits forever on a cluster with no worker."""
        from distributed import TimeoutError as DaskTimeoutError
        from distributed import wait
        from distributed.scheduler import KilledWorker

        client = self.client
        pending = futures if many else [futures]
        empty_since = None
        while True:
            try:
                wait(pending, timeout=POLL_SECONDS)
                break
            except (DaskTimeoutError, TimeoutError):
                workers = set(client.nthreads())
                self._workers_seen |= workers
                if workers:
                    empty_since = None
                    continue
                empty_since = empty_since or time.monotonic()
                if time.monotonic() - empty_since > NO_WORKER_TIMEOUT:
                    raise RuntimeError(
                        f"the Dask cluster has had no worker for {NO_WORKER_TIMEOUT:.0f} s (lost: "
                        f"{', '.join(sorted(self._workers_seen)) or 'unknown'}); the fit cannot go on. "
                        "Restart the workers (or the cluster) and fit again."
                    ) from None
        try:
            return client.gather(pending) if many else pending[0].result()
        except KilledWorker as exc:
            raise RuntimeError(
                f"a Dask worker died while running logitdescent's chunk task ({exc}); Dask gave up "
                "retrying it. Check the workers' memory limits and logs, then fit again."
            ) from exc

    def gather_rows(self, rows):
        """Global sorted row indices -> ``(X, y, s)`` in memory, in that order."""
        rows = np.asarray(rows, dtype=np.int64)
        owner = np.searchsorted(self.offsets, rows, side="right") - 1
        jobs = []
        for k in np.unique(owner):
            local = rows[owner == k] - self.offsets[k]
            jobs.append((self.handles[k], local))
        if self.client is None:
            pieces = [_take(h, local) for h, local in jobs]
        else:
            futures = [self.client.submit(_take, h, local, pure=False) for h, local in jobs]
            pieces = self._wait(futures, many=True)
        X = np.concatenate([p[0] for p in pieces])
        y = np.concatenate([p[1] for p in pieces])
        s = None if pieces[0][2] is None else np.concatenate([p[2] for p in pieces])
        return X, y, s


# --------------------------------------------------------------------------
# The objectives


class _DaskLinear(LinearObjective):
    """The passes over X of :class:`~logitdescent.objective.LinearObjective`, on Dask.

    Parameters
    ----------
    X : dask.array.Array of shape (m, n) or dask.dataframe.DataFrame
    y : dask array of shape (m,) (or NumPy, in X's row order)
        {0, 1} (binary) or class indices (multinomial).
    sample_weight : dask array of shape (m,), optional
        Class weights already folded in.
    client : distributed.Client, optional
        Default :func:`get_client`: the active Client, else the local scheduler.
    check_finite : bool or str, default=False
        As in the in-memory objective: a non-finite first cost makes the
        workers check their chunks of X (no separate pass otherwise).
    **kwargs
        ``C``, ``l1_ratio``, ``fit_intercept``, ``bounds``, ``penalty_scale``
        as for :class:`~logitdescent.objective.LinearObjective`.

    Attributes
    ----------
    n_chunks : int
        Non-empty row chunks, one task each per pass.
    """

    _y_kind = "binary"

    def __init__(self, X, y, sample_weight=None, *, C=np.inf, penalty_scale=None, n_outputs=1,
                 check_finite=False, client=None, **kwargs):
        X, y, sample_weight = align(X, y, sample_weight)
        self.client = get_client(client)
        self._chunks = _Chunks(X, y, sample_weight, self._y_kind, self.client)
        S = self._chunks.weight_sum
        if not np.isfinite(S):
            raise ValueError("sample_weight sums to infinity; divide every weight by the same constant "
                             "(the fit does not change).")
        if not S > 0:  # also no rows at all
            raise ValueError("sample_weight must have a positive sum; all weights are zero (or X has no rows).")
        if penalty_scale is None:
            penalty_scale = 0.0 if C is None or np.isinf(C) else 1.0 / (C * S)
        # The in-memory constructor with no weights (it would sum a Dask
        # array on the client); the weights and their sum are set below.
        super().__init__(X, y, None, C=C, penalty_scale=penalty_scale, n_outputs=n_outputs,
                         check_finite=False, **kwargs)
        self.sample_weight = sample_weight
        self.weight_sum = S
        self._dask_check_finite = check_finite
        self._hessian_along = False  # see _kernel_sums
        self._hessian_at = None

    @property
    def n_chunks(self):
        return len(self._chunks)

    def _finish_sums(self, J, dW, db):
        """Sums over chunks -> the means (``loss_grad`` adds the L2 term once)."""
        S = self.weight_sum
        J, dW, db = J / S, dW / S, db / S
        if self._dask_check_finite:
            name = self._dask_check_finite if isinstance(self._dask_check_finite, str) else None
            self._dask_check_finite = False
            # As in memory: a gradient beyond sqrt(max) is finite now but
            # overflows in the solvers' squares; either way the workers look
            # at their chunks (two passes, only when something is wrong).
            limit = np.sqrt(float(np.finfo(self.dtype).max))
            overflowing = max(float(np.max(np.abs(dW), initial=0.0)), float(np.max(np.abs(db), initial=0.0))) > limit
            if not (np.isfinite(J) and np.all(np.isfinite(dW)) and np.all(np.isfinite(db))) or overflowing:
                where = f" fitting {name}" if name else ""
                if not self._chunks.map_reduce(_all_finite, reduce=_and_all, name="finite-check"):
                    raise ValueError(
                        f"Input X contains NaN or infinity{where}: remove or impute those values "
                        "(e.g. X.fillna(...) on the DataFrame) before fitting."
                    )
                largest = self._chunks.map_reduce(_column_abs_max, reduce=_max_arrays, name="column-max")
                huge = np.flatnonzero(largest > limit)
                if huge.size:
                    described = ", ".join(f"column {j} up to {largest[j]:.3g}" for j in huge[:10])
                    raise ValueError(
                        f"X has values too large to fit in {self.dtype}{where}: {described} in magnitude (the "
                        f"limit is {limit:.3g}, beyond which their squares overflow). Rescale those columns "
                        "first, e.g. divide each by its largest magnitude."
                    )
        return float(J), dW, db

    @property
    def cost_rtol(self):
        """Relative rounding of a cost: the compute dtype of the kernel on one chunk."""
        row = np.zeros((1, self.n_features), dtype=self.dtype)  # chunks are C-contiguous like it
        return 64 * float(np.finfo(_kernel.evaluation_traits(row).compute_dtype).eps)

    @property
    def kernel_uses_blas(self):
        return False  # the kernel runs on the workers, not in this process

    def _kernel_sums(self, func, args, W, b, name):
        """The chunks' kernel sums at ``(W, b)``; with the Hessian there too once one was asked for.

        Newton-type solvers evaluate the cost at a point and then ask for
        the Hessian there (Newton's accepted step is usually the first trial
        of its line search). Once :meth:`hessian` has been called, each
        evaluation's tasks also form the chunks' Hessian blocks, so the
        next :meth:`hessian` call at that point is served from here: one
        round trip to the cluster per Newton iteration instead of two (the
        round trip, not the ``O(m p^2)`` work, dominates on a cluster).
        """
        if not self._hessian_along:
            return self._chunks.map_reduce(func, *args, name=name)
        theta = self.join(W, b)
        *sums, H = self._chunks.map_reduce(_sums_and_hessian, func, args, theta, self._y_kind,
                                           self.fit_intercept, self.n_outputs, self.n_params, name=name)
        self._hessian_at = (theta, H)
        return tuple(sums)

    def hessian(self, theta):
        """The exact Hessian of the smooth cost: per-chunk ``[X 1]^T D [X 1]`` sums, float64 (p, p)."""
        theta = np.asarray(theta, dtype=np.float64)
        cached = self._hessian_at
        if cached is not None and np.array_equal(cached[0], theta):
            H = cached[1].copy()
        else:
            H = self._chunks.map_reduce(_hessian_sum, theta, self._y_kind, self.fit_intercept,
                                        self.n_outputs, self.n_params, name="hessian")
        self._hessian_along = True
        H = H / self.weight_sum
        H[np.diag_indices_from(H)] += self.l2_weights
        return H

    def scores(self, theta):
        """``Z = X W^T + b``, a lazy dask array of shape (m, K)."""
        W, b = self.split(theta)
        return _scores(self.X, W, b)

    def _weighted_gram_times(self, v):
        """``[X 1]^T S [X 1] v`` in one cluster pass (a power iteration of ``lipschitz_bound``)."""
        return self._chunks.map_reduce(_gram_times, v, self.fit_intercept, name="power-iteration")

    def example_lipschitz_max(self):
        """As :meth:`LinearObjective.example_lipschitz_max`: one cluster pass."""
        mean_weight = self.weight_sum / self.n_samples
        top = self._chunks.map_reduce(_max_example_norm, self.fit_intercept, mean_weight,
                                      reduce=_max_partials, name="example-norm")
        return self.CURVATURE_BOUND * top + self.l2_max

    def positive_weight_rows(self):
        """Sorted global indices of the rows of positive weight; None when every row has some.

        The hook of precond-lbfgs's row sample
        (:func:`logitdescent.solvers.precond.sketch_rows`): one pass on the
        workers, and indices come back only from chunks that hold weightless
        rows, instead of the whole weight vector.
        """
        if self.sample_weight is None:
            return None
        parts = sorted(self._chunks.map_reduce(_positive_rows, reduce=_concat_tuples, name="positive-rows"),
                       key=lambda part: part[0])
        if all(rows is None for _, rows in parts):
            return None
        return np.concatenate([
            np.arange(n, dtype=np.int64) + offset if rows is None else rows.astype(np.int64) + offset
            for (_, rows), n, offset in zip(parts, self._chunks.n_rows, self._chunks.offsets)
        ])

    def column_abs_max(self):
        """``max_i |x_ij|`` per column, float64 (n,): one pass on the workers.

        What the estimator's checks of degenerate or overflowing columns
        need of X, without gathering X.
        """
        return self._chunks.map_reduce(_column_abs_max, reduce=_max_arrays, name="column-max")

    @property
    def data_nbytes(self):
        """Bytes of X on the cluster (not in this process)."""
        return int(self.X.nbytes)

    def subset(self, rows):
        """The in-memory objective on the examples ``rows`` (gathered to the client), same penalty.

        For precond-lbfgs's row sample; refuses samples over ``SUBSET_MAX_BYTES``.
        """
        rows = np.sort(np.asarray(rows, dtype=np.int64))
        nbytes = rows.size * self.n_features * self.X.dtype.itemsize
        if nbytes > SUBSET_MAX_BYTES:
            raise ValueError(
                f"a row sample of {rows.size} rows ({nbytes / 2**20:.0f} MiB) is too large to gather "
                f"from the cluster (limit SUBSET_MAX_BYTES = {SUBSET_MAX_BYTES // 2**20} MiB); use "
                "solver='lbfgs' or 'newton'."
            )
        X, y, s = self._chunks.gather_rows(rows)
        return self._memory_class(
            X, y, s, l1_ratio=self.l1_ratio, fit_intercept=self.fit_intercept, bounds=self.bounds,
            penalty_scale=self.penalty_scale, penalty_factor=self.penalty_factor, n_outputs=self.n_outputs,
        )


def _and_all(*parts):
    return all(parts)


class DaskLogisticObjective(LogisticObjective, _DaskLinear):
    """The binary objective (:class:`~logitdescent.objective.LogisticObjective`) on Dask data.

    Parameters
    ----------
    X : dask.array.Array of shape (m, n) or dask.dataframe.DataFrame
        Persisted by the constructor (one bundle per row chunk).
    y : dask array of shape (m,)
        Targets in {0, 1}.
    sample_weight : dask array of shape (m,), optional
    client : distributed.Client, optional
    **kwargs
        As for :class:`_DaskLinear`.

    Examples
    --------
    >>> import dask.array as da, numpy as np
    >>> from logitdescent.solvers import SOLVERS
    >>> X = da.random.default_rng(0).standard_normal((1000, 3), chunks=(250, 3))
    >>> y = (X[:, 0] > 0).astype(float)
    >>> objective = DaskLogisticObjective(X, y, C=1.0)
    >>> result = SOLVERS["newton"](objective, np.zeros(4), max_iter=50, tol=1e-8)
    >>> result.converged
    True
    """

    _memory_class = LogisticObjective

    def _kernel_loss_grad(self, W, b):
        """The smooth cost without the L2 term, summed over the chunks on the workers."""
        w = np.asarray(W[0], dtype=np.float64)
        J, dW, db = self._kernel_sums(_binary_loss_grad, (w, float(b[0])), W, b, name="loss-grad")
        return self._finish_sums(J, dW, db)


class DaskSoftmaxObjective(SoftmaxObjective, _DaskLinear):
    """The multinomial objective (:class:`~logitdescent.objective.SoftmaxObjective`) on Dask data.

    Parameters
    ----------
    X : dask.array.Array of shape (m, n) or dask.dataframe.DataFrame
    y : dask array of shape (m,)
        Class indices in ``0 .. K-1``.
    sample_weight : dask array of shape (m,), optional
    n_outputs : int
        ``K``.
    client : distributed.Client, optional
    **kwargs
        As for :class:`_DaskLinear`.
    """

    _memory_class = SoftmaxObjective
    _y_kind = "classes"

    def _kernel_loss_grad(self, W, b):
        """The smooth cost without the L2 term, summed over the chunks on the workers."""
        W = np.asarray(W, dtype=np.float64)
        J, dW, db = self._kernel_sums(_softmax_loss_grad, (W, np.asarray(b, dtype=np.float64)), W, b,
                                      name="softmax-loss-grad")
        return self._finish_sums(J, dW, db)


# --------------------------------------------------------------------------
# The kernel contract on a Dask X


def refuse_offset(offset):
    """A ValueError for any ``offset`` but None: not supported on Dask yet."""
    if offset is not None:
        raise ValueError(
            "offset is not supported with Dask input yet; add it to the data as a column and fix that "
            "column's coefficient at 1 with coef_bounds, or evaluate in memory."
        )


def loss_and_grad(w, b, X, y, sample_weight=None, *, C=np.inf, offset=None, client=None):
    """:func:`logitdescent.kernel.loss_and_grad` for a Dask X: the same ``(J, dw, db)``.

    Persists X's chunks for the call (free when X is already persisted);
    for repeated evaluations build a :class:`DaskLogisticObjective` once.

    Parameters
    ----------
    w : array_like of shape (n,)
    b : float
    X : dask.array.Array of shape (m, n) or dask.dataframe.DataFrame
    y : dask array of shape (m,), values in {0, 1}
    sample_weight : dask array of shape (m,), optional
    C : float, default=inf
    offset : None
        Not supported on Dask yet: anything but None is a ValueError.
    client : distributed.Client, optional

    Returns
    -------
    J : float
    dw : ndarray of shape (n,), in X's dtype
    db : float
    """
    refuse_offset(offset)
    objective = DaskLogisticObjective(X, y, sample_weight, C=C, client=client)
    w = np.asarray(w, dtype=np.float64)
    if w.shape != (objective.n_features,):
        raise ValueError(f"w must have shape ({objective.n_features},) to match X of shape {objective.X.shape}; "
                         f"got {w.shape}.")
    J, grad = objective.loss_grad(objective.join(w, float(b)))
    dW, db = objective.split(grad)
    return J, dW[0].astype(objective.dtype), float(db[0])


def softmax_loss_and_grad(W, b, X, y, sample_weight=None, *, C=np.inf, offset=None, client=None):
    """:func:`logitdescent.kernel.softmax_loss_and_grad` for a Dask X.

    Parameters
    ----------
    W : array_like of shape (K, n)
    b : array_like of shape (K,)
    X : dask.array.Array of shape (m, n) or dask.dataframe.DataFrame
    y : dask array of shape (m,), class indices in ``0 .. K-1``
    sample_weight : dask array of shape (m,), optional
    C : float, default=inf
    offset : None
        Not supported on Dask yet: anything but None is a ValueError.
    client : distributed.Client, optional

    Returns
    -------
    J : float
    dW : ndarray of shape (K, n), in X's dtype
    db : ndarray of shape (K,), float64
    """
    refuse_offset(offset)
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2:
        raise ValueError(f"W must have shape (K, n); got {W.shape}.")
    objective = DaskSoftmaxObjective(X, y, sample_weight, C=C, n_outputs=W.shape[0], client=client)
    J, grad = objective.loss_grad(objective.join(W, b))
    dW, db = objective.split(grad)
    return J, dW.astype(objective.dtype), np.array(db, dtype=np.float64)


# --------------------------------------------------------------------------
# Lazy predictions


def _prediction_input(X, n_features):
    if not is_dask_collection(X):
        raise TypeError(f"X must be a Dask collection here; got {type(X).__name__}.")
    if hasattr(X, "to_dask_array"):
        X = X.to_dask_array()  # unknown chunk sizes are fine blockwise
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
    else:
        X, _, _ = align(X)
    if X.ndim != 2 or X.shape[1] != n_features:
        raise ValueError(f"X must have {n_features} features (columns), as when fitted; got shape {X.shape}.")
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    return X


def _block_scores(block, W, b):
    return np.asarray(block @ W.T.astype(block.dtype), dtype=np.float64) + b


def _scores(X, W, b):
    W = np.atleast_2d(np.asarray(W, dtype=np.float64))
    b = np.asarray(b, dtype=np.float64).reshape(-1)
    return X.map_blocks(_block_scores, W, b, chunks=(X.chunks[0], (W.shape[0],)), dtype=np.float64)


def decision_function(coef, intercept, X):
    """Lazy scores ``X W^T + b`` for a Dask X.

    Parameters
    ----------
    coef : ndarray of shape (K, n)
    intercept : ndarray of shape (K,)
    X : dask.array.Array of shape (m, n) or dask.dataframe.DataFrame

    Returns
    -------
    dask.array.Array of shape (m,) for K = 1, else (m, K); float64
    """
    coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))
    X = _prediction_input(X, coef.shape[1])
    Z = _scores(X, coef, intercept)
    return Z[:, 0] if coef.shape[0] == 1 else Z


def _block_proba(block, W, b):
    Z = _block_scores(block, W, b)
    if W.shape[0] == 1:  # expit(-z), not 1 - expit(z): no cancellation for large z
        return np.column_stack([expit(-Z[:, 0]), expit(Z[:, 0])])
    return softmax(Z, axis=1)


def predict_proba(coef, intercept, X):
    """Lazy class probabilities for a Dask X (binary: ``[1 - a, a]``; else softmax).

    Parameters
    ----------
    coef : ndarray of shape (K, n)
        ``K = 1`` for the binary model.
    intercept : ndarray of shape (K,)
    X : dask.array.Array of shape (m, n) or dask.dataframe.DataFrame

    Returns
    -------
    dask.array.Array of shape (m, max(K, 2)), float64
    """
    coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))
    X = _prediction_input(X, coef.shape[1])
    n_cols = max(coef.shape[0], 2)
    b = np.asarray(intercept, dtype=np.float64).reshape(-1)
    return X.map_blocks(_block_proba, coef, b, chunks=(X.chunks[0], (n_cols,)), dtype=np.float64)


def _block_log_proba(block, W, b):
    Z = _block_scores(block, W, b)
    if W.shape[0] == 1:  # log(sigmoid(+-z)) = -logaddexp(0, -+z): finite for any finite z
        return np.column_stack([-np.logaddexp(0.0, Z[:, 0]), -np.logaddexp(0.0, -Z[:, 0])])
    return log_softmax(Z, axis=1)


def predict_log_proba(coef, intercept, X):
    """Lazy ``log`` of :func:`predict_proba`, finite for any finite score.

    Parameters
    ----------
    coef : ndarray of shape (K, n)
    intercept : ndarray of shape (K,)
    X : dask.array.Array of shape (m, n) or dask.dataframe.DataFrame

    Returns
    -------
    dask.array.Array of shape (m, max(K, 2)), float64
    """
    coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))
    X = _prediction_input(X, coef.shape[1])
    b = np.asarray(intercept, dtype=np.float64).reshape(-1)
    return X.map_blocks(_block_log_proba, coef, b, chunks=(X.chunks[0], (max(coef.shape[0], 2),)),
                        dtype=np.float64)


def _block_predict(block, W, b, classes):
    Z = _block_scores(block, W, b)
    if W.shape[0] == 1:
        return classes[(Z[:, 0] > 0).astype(np.intp)]
    return classes[np.argmax(Z, axis=1)]


def predict(coef, intercept, classes, X):
    """Lazy class labels for a Dask X (scikit-learn's rule: score > 0, or the largest score).

    Parameters
    ----------
    coef : ndarray of shape (K, n)
    intercept : ndarray of shape (K,)
    classes : ndarray of shape (max(K, 2),)
    X : dask.array.Array of shape (m, n) or dask.dataframe.DataFrame

    Returns
    -------
    dask.array.Array of shape (m,), classes' dtype
    """
    coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))
    X = _prediction_input(X, coef.shape[1])
    b = np.asarray(intercept, dtype=np.float64).reshape(-1)
    classes = np.asarray(classes)
    return X.map_blocks(_block_predict, coef, b, classes, drop_axis=1, chunks=(X.chunks[0],),
                        dtype=classes.dtype)


# --------------------------------------------------------------------------
# Preprocessing on the cluster (for the CLI)


def _block_moments(block):
    """``(count, mean, M2)`` per column of one block, float64."""
    block = np.asarray(block, dtype=np.float64)
    count = block.shape[0]
    if count == 0:
        return 0, np.zeros(block.shape[1]), np.zeros(block.shape[1])
    mean = block.mean(axis=0)
    return count, mean, ((block - mean) ** 2).sum(axis=0)


def _merge_moments(a, b):
    """Chan et al.'s pairwise update: exact for any split of the rows."""
    (na, ma, Ma), (nb, mb, Mb) = a, b
    n = na + nb
    if n == 0:
        return a
    delta = mb - ma
    return n, ma + delta * (nb / n), Ma + Mb + delta**2 * (na * nb / n)


def column_stats(X):
    """Per-column mean and (population) variance in one pass over X.

    Parameters
    ----------
    X : dask.array.Array of shape (m, n) or dask.dataframe.DataFrame

    Returns
    -------
    mean : ndarray of shape (n,)
    var : ndarray of shape (n,)
    """
    X, _, _ = align(X)
    parts = dask.compute(*[dask.delayed(_block_moments)(b) for b in X.to_delayed().ravel()])
    count, mean, M2 = functools.reduce(_merge_moments, parts)
    if count == 0:
        raise ValueError("X has no rows: nothing to standardize.")
    return mean, M2 / count


def standardize(X, mean, scale):
    """Lazy ``(X - mean) / scale`` (zero scales left at 1, as scikit-learn's StandardScaler).

    Parameters
    ----------
    X : dask.array.Array of shape (m, n)
    mean, scale : ndarray of shape (n,)

    Returns
    -------
    dask.array.Array of shape (m, n)
    """
    X, _, _ = align(X)
    scale = np.where(np.asarray(scale) == 0, 1.0, scale).astype(X.dtype)
    return (X - np.asarray(mean, dtype=X.dtype)) / scale


def train_test_split(X, y, sample_weight=None, *, test_size=0.25, random_state=0):
    """A random row split computed on the cluster (no row leaves it).

    Each row goes to the test set with probability ``test_size``, drawn per
    chunk from ``random_state``: the split is reproducible for a given
    chunking; its sizes are random around ``test_size * m``.

    Parameters
    ----------
    X : dask.array.Array of shape (m, n) or dask.dataframe.DataFrame
    y : dask array / Series of shape (m,)
    sample_weight : like ``y``, optional
    test_size : float in (0, 1)
    random_state : int

    Returns
    -------
    X_train, X_test, y_train, y_test[, w_train, w_test] : dask arrays
        (the weights only when given), with unknown chunk sizes until
        :func:`align` computes them.
    """
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1); got {test_size!r}.")
    X, y, sample_weight = align(X, y, sample_weight)
    draw = da.random.default_rng(random_state).random(X.shape[0], chunks=(X.chunks[0],))
    test = draw < test_size
    train = ~test
    out = [X[train], X[test], y[train], y[test]]
    if sample_weight is not None:
        out += [sample_weight[train], sample_weight[test]]
    return tuple(out)
