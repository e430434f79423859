"""The vectorized loss-and-gradient kernel: the heart of logitdescent.

Conventions
-----------
Everything that needs a cost or a gradient (every solver, the estimator, the
CLI) calls this module, so the conventions are fixed here once.

Shapes
    ``X (m, n)`` with one example per row, ``y (m,)`` with values in {0, 1},
    ``w (n,)``, ``b`` a scalar, ``sample_weight (m,)`` or None.
Cost
    The weighted *mean* of the lecture's per-example loss plus an L2 penalty
    that never touches the intercept::

        z = X w + b,   a = sigmoid(z)
        L_i = -(y_i log a_i + (1 - y_i) log(1 - a_i))
        J = sum_i s_i L_i / S  +  ||w||^2 / (2 C S),     S = sum_i s_i

    With ``s_i = 1`` this is the lecture's ``J = (1/m) sum_i L_i``. An
    ``offset`` (a known term per example: an exposure, a prior model's score)
    adds to every score, ``z = X w + b + offset``. The penalty
    scaling is scikit-learn's: its objective ``C sum_i s_i L_i + ||w||^2 / 2``
    divided by ``C S`` is exactly ``J``, so both libraries share the optimum.
    ``C = inf`` means no penalty.
Gradient
    ``dz = (a - y) s / S``, ``dw = X^T dz + w / (C S)``, ``db = sum(dz)``:
    the lecture's ``dw = (1/m) X^T dz``, ``db = (1/m) sum dz`` when ``s_i = 1``.
Numerics
    The loss is evaluated as ``max(z, 0) - y z + log1p(exp(-|z|))``, which
    equals ``-(y log a + (1 - y) log(1 - a))`` exactly but never takes the log of
    a rounded 0 nor overflows ``exp``: any finite ``z`` (``|z| = 1e20`` included)
    gives a finite loss and ``a = expit(z)`` in [0, 1].
Multinomial
    With ``K`` classes the lecture's model has ``K`` outputs:
    ``Z = X W^T + b`` (m, K), ``A = softmax(Z)``, ``L_i = -log A[i, y_i]``,
    ``dZ = (A - Y) s / S`` with ``Y`` the one-hot targets, ``dW = dZ^T X``,
    ``db = sum_i dZ_i``. ``W`` has shape (K, n), one row per class (scikit-
    learn's ``coef_``). The loss is ``logsumexp(Z_i) - Z[i, y_i]``, computed
    after subtracting the row maximum, so no ``exp`` overflows.
dtypes
    The gradient has X's floating dtype (float32 stays float32). The cost is
    returned as a Python float, summed in float64.
Evaluation
    :func:`loss_and_grad` and :func:`softmax_loss_and_grad` choose how to
    evaluate: a C-contiguous float32/float64 NumPy ``X`` goes through a
    compiled single pass over the rows (Numba, on threads of its own, every
    score and sum in float64, bit-identical for any thread count); anything
    else (sparse, Fortran-ordered, strided, or Numba missing or disabled with
    ``LOGITDESCENT_NO_NUMBA=1``) through the NumPy functions
    :func:`numpy_loss_and_grad` and :func:`numpy_softmax_loss_and_grad`, the
    lecture's vectorization written out (two passes over X, BLAS).
    :func:`evaluation_traits` says which applies to an X.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from . import _compiled
from .backends import is_dask_collection

__all__ = [
    "sigmoid",
    "log_loss_per_example",
    "loss_and_grad",
    "softmax_loss_and_grad",
    "penalty_strength",
    "evaluation_traits",
    "warm_up",
    "numpy_loss_and_grad",
    "numpy_softmax_loss_and_grad",
]


def sigmoid(z):
    """The logistic function ``a = 1 / (1 + exp(-z))``, overflow-free.

    Parameters
    ----------
    z : array_like
        Scores of any shape.

    Returns
    -------
    a : ndarray
        Same shape and floating dtype as ``z``, values in [0, 1].
    """
    return expit(z)


def log_loss_per_example(z, y):
    """The lecture's ``L(a, y)`` for ``a = sigmoid(z)``, computed from ``z``.

    Parameters
    ----------
    z : ndarray of shape (m,)
        Scores ``w^T x + b``.
    y : ndarray of shape (m,)
        Targets in [0, 1].

    Returns
    -------
    L : ndarray of shape (m,)
        ``-(y log a + (1 - y) log(1 - a))``, finite for every finite ``z``.
    """
    # log(1 + e^z) - y z, rearranged so that exp only ever sees -|z| <= 0.
    return np.maximum(z, 0) - y * z + np.log1p(np.exp(-np.abs(z)))


def penalty_strength(C, weight_sum):
    """The L2 coefficient ``lambda = 1 / (C S)`` of ``lambda/2 ||w||^2``.

    Parameters
    ----------
    C : float
        Inverse regularization strength as in scikit-learn; ``inf`` means none.
    weight_sum : float
        ``S``, the number of examples or the sum of sample weights.

    Returns
    -------
    lam : float
        0.0 when ``C`` is infinite.
    """
    if C is None or np.isinf(C):
        return 0.0
    return 1.0 / (C * weight_sum)


def _check_kernel_inputs(w, X, y, sample_weight):
    m, n = X.shape
    if w.shape != (n,):
        raise ValueError(f"w must have shape ({n},) to match X of shape {X.shape}; got {w.shape}.")
    if y.shape != (m,):
        raise ValueError(f"y must have shape ({m},) to match X of shape {X.shape}; got {y.shape}.")
    if sample_weight is not None and np.shape(sample_weight) != (m,):
        raise ValueError(
            f"sample_weight must have shape ({m},) to match X; got {np.shape(sample_weight)}."
        )


def checked_offset(offset, shape):
    """``offset`` as a float64 array of ``shape``, finite; None stays None."""
    if offset is None:
        return None
    try:
        offset = np.asarray(offset, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"offset must hold numbers; got {np.asarray(offset).dtype} values.") from None
    if offset.shape != shape:
        raise ValueError(f"offset must have shape {shape} to match X; got {offset.shape}.")
    if not np.all(np.isfinite(offset)):
        raise ValueError("offset contains NaN or infinity; every score needs a finite offset.")
    return offset


def model_offset(offset, n_samples, n_classes):
    """``offset`` as float64 of shape (m,) (two classes) or (m, K), finite; None stays None.

    A single column for a multinomial model is refused: adding the same term
    to every class's score changes no probability.
    """
    if offset is None:
        return None
    offset = np.asarray(offset)
    if n_classes == 2:
        return checked_offset(offset.reshape(-1) if offset.shape == (n_samples, 1) else offset, (n_samples,))
    if offset.ndim == 1:
        raise ValueError(
            f"offset must have shape ({n_samples}, {n_classes}), one column per class; a single column "
            "would add the same term to every class's score, which changes no probability."
        )
    return checked_offset(offset, (n_samples, n_classes))


def _as_float_array(X):
    if sp.issparse(X):
        return X if X.dtype in (np.float32, np.float64) else X.astype(np.float64)
    X = np.asarray(X)
    return X if X.dtype in (np.float32, np.float64) else X.astype(np.float64)


def loss_and_grad(w, b, X, y, sample_weight=None, *, C=np.inf, offset=None, n_threads=None):
    """Cost ``J`` and its gradient ``(dw, db)`` in one vectorized call.

    The lecture's vectorized forward and backward pass; see the module
    docstring for the conventions (weighted mean, penalty scaling, numerics)
    and for how ``X`` is evaluated.

    Parameters
    ----------
    w : array_like of shape (n,)
        Weights. Used as given (float64 stays float64) where the compiled
        pass runs, rounded to X's dtype for the NumPy path.
    b : float
        Intercept (bias). Never penalized.
    X : {ndarray, scipy.sparse matrix, dask.array.Array} of shape (m, n)
        Examples, one per row. Dense or CSR/CSC; never copied when already a
        float32/float64 array, never written. Dask input (X, y or weights)
        is evaluated blockwise where it lives
        (:func:`logitdescent.backends.dask.loss_and_grad`).
    y : array_like of shape (m,)
        Targets in {0, 1} (or in [0, 1]).
    sample_weight : array_like of shape (m,), default=None
        Non-negative weights ``s_i``; None means all ones.
    C : float, default=inf
        Inverse L2 regularization strength, scikit-learn's convention.
    offset : array_like of shape (m,), default=None
        Added to every score: ``z = X w + b + offset`` (float64 where the
        compiled pass runs, X's dtype for the NumPy path).
    n_threads : int, optional
        Threads for the compiled pass (default: the CPUs available). The
        result does not depend on it.

    Returns
    -------
    J : float
        The cost.
    dw : ndarray of shape (n,)
        ``dJ/dw``, in X's floating dtype.
    db : float
        ``dJ/db``.

    Examples
    --------
    >>> import numpy as np
    >>> from logitdescent import loss_and_grad
    >>> X = np.array([[1.0, 2.0], [3.0, -1.0]]); y = np.array([1.0, 0.0])
    >>> J, dw, db = loss_and_grad(np.zeros(2), 0.0, X, y)
    >>> round(J, 6)  # log(2): a = 0.5 for every example
    0.693147
    """
    if is_dask_collection(X) or is_dask_collection(y) or is_dask_collection(sample_weight):
        from .backends import dask as dask_backend  # Dask is imported only for Dask input

        return dask_backend.loss_and_grad(w, b, X, y, sample_weight, C=C, offset=offset)
    X = _as_float_array(X)
    dtype = X.dtype
    compiled = _compiled.supports(X)
    w = np.asarray(w, dtype=np.float64 if compiled else dtype)
    y = np.asarray(y, dtype=dtype)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=dtype)
    _check_kernel_inputs(w, X, y, sample_weight)
    offset = checked_offset(offset, (X.shape[0],))
    weight_sum = _weight_sum(X, sample_weight)
    l2 = penalty_strength(C, weight_sum)
    if not compiled:
        return numpy_loss_and_grad(w, float(b), X, y, sample_weight, l2, offset)
    loss_sum, dw, dz_sum = _compiled.binary_sums(w, b, X, y, sample_weight, n_threads, offset)
    J = loss_sum / weight_sum
    dw /= weight_sum
    if l2:
        J += 0.5 * l2 * float(np.dot(w, w))
        dw += l2 * w
    return J, dw.astype(dtype, copy=False), dz_sum / weight_sum


def softmax_loss_and_grad(W, b, X, y, sample_weight=None, *, C=np.inf, offset=None, n_threads=None):
    """Multinomial (softmax) cost ``J`` and gradient ``(dW, db)``.

    Evaluated like :func:`loss_and_grad`: one compiled pass over a
    C-contiguous dense ``X`` (the K scores of a row block, their softmax and
    loss, then ``dW += dZ^T X_block`` from cache), NumPy otherwise.

    Parameters
    ----------
    W : array_like of shape (K, n)
        One weight row per class.
    b : array_like of shape (K,)
        Intercepts. Never penalized.
    X : {ndarray, scipy.sparse matrix, dask.array.Array} of shape (m, n)
        Dask input goes to :func:`logitdescent.backends.dask.softmax_loss_and_grad`.
    y : array_like of shape (m,)
        Class indices in ``0 .. K-1`` (the positions of the ones in ``Y``).
    sample_weight : array_like of shape (m,), default=None
    C : float, default=inf
        Inverse L2 strength: adds ``||W||_F^2 / (2 C S)``.
    offset : array_like of shape (m, K), default=None
        Added to the scores: ``Z = X W^T + b + offset``.
    n_threads : int, optional
        Threads for the compiled pass; the result does not depend on it.

    Returns
    -------
    J : float
    dW : ndarray of shape (K, n)
        In X's floating dtype.
    db : ndarray of shape (K,), float64
    """
    if is_dask_collection(X) or is_dask_collection(y) or is_dask_collection(sample_weight):
        from .backends import dask as dask_backend  # Dask is imported only for Dask input

        return dask_backend.softmax_loss_and_grad(W, b, X, y, sample_weight, C=C, offset=offset)
    X = _as_float_array(X)
    compiled = _compiled.supports(X)
    W = np.asarray(W, dtype=np.float64 if compiled else X.dtype)
    b = np.asarray(b, dtype=np.float64)
    y = np.asarray(y)
    if W.ndim != 2 or X.shape[1] != W.shape[1] or b.shape != (W.shape[0],):
        raise ValueError(
            f"W must have shape (K, {X.shape[1]}) and b shape (K,) to match X of shape "
            f"{X.shape}; got W {W.shape} and b {b.shape}."
        )
    K = W.shape[0]
    if y.shape != (X.shape[0],) or not np.issubdtype(y.dtype, np.integer) or (
        y.size and (y.min() < 0 or y.max() >= K)
    ):
        raise ValueError(f"y must hold {X.shape[0]} integer class indices in 0..{K - 1}.")
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=X.dtype)
        _check_kernel_inputs(W[0], X, np.zeros(X.shape[0]), sample_weight)
    offset = checked_offset(offset, (X.shape[0], K))
    weight_sum = _weight_sum(X, sample_weight)
    l2 = penalty_strength(C, weight_sum)
    if not compiled:
        return numpy_softmax_loss_and_grad(W, b, X, y, sample_weight, l2, offset)
    loss_sum, dW, db = _compiled.softmax_sums(W, b, X, y, sample_weight, n_threads, offset)
    J = loss_sum / weight_sum
    dW /= weight_sum
    if l2:
        J += 0.5 * l2 * float(np.sum(W * W))
        dW += l2 * W
    return J, dW.astype(X.dtype, copy=False), db / weight_sum


class KernelTraits(NamedTuple):
    """How the kernels evaluate a given X (see :func:`evaluation_traits`)."""

    #: dtype of the scores and sums: float64 for the compiled pass, X's otherwise.
    compute_dtype: type
    #: Whether the evaluation runs on BLAS (the NumPy path) rather than threads of its own.
    uses_blas: bool


def evaluation_traits(X):
    """The precision and the resources with which the kernels evaluate ``X``.

    Parameters
    ----------
    X : {ndarray, scipy.sparse matrix} of shape (m, n)

    Returns
    -------
    KernelTraits
        ``compute_dtype`` (a cost's relative rounding error follows it) and
        ``uses_blas`` (whether a solver's BLAS calls compete with the kernel's
        own threads).
    """
    if _compiled.supports(X):
        return KernelTraits(np.float64, False)
    dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
    return KernelTraits(np.dtype(dtype).type, True)


def numpy_softmax_loss_and_grad(W, b, X, y, sample_weight, l2, offset=None):
    """The multinomial kernel in NumPy for validated inputs (see the module docstring)."""
    weight_sum = _weight_sum(X, sample_weight)
    rows = np.arange(X.shape[0])
    Z = np.asarray(X @ W.T, dtype=X.dtype)
    Z += b.astype(X.dtype)
    if offset is not None:
        Z += offset.astype(X.dtype, copy=False)
    Z -= Z.max(axis=1, keepdims=True)  # softmax is shift-invariant; now every exp <= 1
    A = np.exp(Z)
    norm = A.sum(axis=1)
    L = np.log(norm) - Z[rows, y]
    A /= norm[:, None]
    dZ = A
    dZ[rows, y] -= 1
    if sample_weight is not None:
        L *= sample_weight
        dZ *= sample_weight[:, None]
    dZ /= weight_sum
    J = float(np.sum(L, dtype=np.float64)) / weight_sum
    dW = np.asarray(dZ.T @ X, dtype=X.dtype) if not sp.issparse(X) else np.asarray((X.T @ dZ).T, dtype=X.dtype)
    db = dZ.sum(axis=0, dtype=np.float64)
    if l2:
        J += 0.5 * l2 * float(np.sum(W.astype(np.float64) ** 2))
        dW += l2 * W
    return J, dW, db


def _weight_sum(X, sample_weight):
    if sample_weight is None:
        return float(X.shape[0])
    return float(np.sum(sample_weight, dtype=np.float64))


def numpy_loss_and_grad(w, b, X, y, sample_weight, l2, offset=None):
    """The vectorized lecture in NumPy: two passes over X (``X w``, ``X^T dz``).

    Internal form of :func:`loss_and_grad` for validated inputs: ``w`` and
    ``y`` already in X's dtype, ``l2 = lambda = 1 / (C S)`` precomputed and
    ``offset`` (m,) or None. Works for dense and scipy.sparse X.
    """
    weight_sum = _weight_sum(X, sample_weight)
    z = X @ w
    z += b
    if offset is not None:
        z += offset.astype(z.dtype, copy=False)
    L = log_loss_per_example(z, y)
    dz = sigmoid(z)
    dz -= y
    if sample_weight is not None:
        L *= sample_weight
        dz *= sample_weight
    dz /= weight_sum
    J = float(np.sum(L, dtype=np.float64)) / weight_sum
    dw = np.asarray(X.T @ dz, dtype=X.dtype)
    db = float(np.sum(dz, dtype=np.float64))
    if l2:
        J += 0.5 * l2 * float(np.dot(w, w))
        dw += l2 * w
    return J, dw, db


def warm_up():
    """Compile (or load from the on-disk cache) the compiled kernels now.

    The first evaluation would otherwise do it (a few seconds once per
    machine, well under a second from the cache). Returns
    ``{kernel: seconds}``; an empty dict when the compiled kernels are
    unavailable (no Numba, or ``LOGITDESCENT_NO_NUMBA=1``).
    """
    return _compiled.warm_up()
