"""Regularization paths: the fits for a grid of ``C`` values, with warm starts.

:func:`logistic_path` solves from the strongest penalty (smallest ``C``) to
the weakest, each fit starting from the previous one's solution. With an L1
term the grid starts, by default, at the smallest useful ``C``
(:func:`smallest_useful_C`): the largest penalty at which every coefficient
is still zero, computed exactly as glmnet computes its ``lambda_max``. The
proximal-Newton solver ("newton-cd", the "auto" choice with L1) screens the
features of each fit with the sequential strong rule and checks every
coordinate's optimality condition after solving, so screening never drops a
coordinate that is nonzero at the optimum.
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy.special import logit
from sklearn.utils import check_array
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight

from ._blas import blas_context
from .estimator import checked_penalty_factor
from .objective import LogisticObjective, SoftmaxObjective
from .solvers import SOLVER_OPTIONS, SOLVERS, cd, choose_solver, warn_not_converged

__all__ = ["logistic_path", "smallest_useful_C"]


def _validated(X, y, sample_weight):
    X = check_array(X, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32], order="C",
                    input_name="X")
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X; got {y.shape}.")
    check_classification_targets(y)
    classes, codes = np.unique(y, return_inverse=True)
    if classes.size < 2:
        raise ValueError(f"y must hold at least 2 classes; got only {classes[:1]!r}.")
    s = _check_sample_weight(sample_weight, X, dtype=np.float64)
    if not s.sum() > 0:
        raise ValueError("sample_weight must have a positive sum; all weights are zero.")
    return X, classes, codes, s


def _intercept_only(codes, K, s, fit_intercept):
    """The intercept-only optimum: probabilities ``P (K,)`` and intercepts ``b (rows,)``."""
    if K == 2:
        if not fit_intercept:
            return np.array([0.5]), np.zeros(1)
        p = float(np.dot(s, codes == 1) / s.sum())
        return np.array([p]), np.array([logit(p)])
    if not fit_intercept:
        return np.full(K, 1.0 / K), np.zeros(K)
    P = np.bincount(codes, weights=s, minlength=K) / s.sum()
    with np.errstate(divide="ignore"):
        b = np.log(P)
    return P, b - np.mean(b[np.isfinite(b)])


def _zero_gradient(X, codes, K, s, fit_intercept):
    """``X^T (s (P - Y))`` at the intercept-only optimum, float64 (n, rows)."""
    P, _ = _intercept_only(codes, K, s, fit_intercept)
    if K == 2:
        R = (s * (P[0] - (codes == 1)))[:, None]
    else:
        Y = np.zeros((codes.size, K))
        Y[np.arange(codes.size), codes] = 1.0
        R = s[:, None] * (P[None, :] - Y)
    G = X.T @ R.astype(X.dtype)
    return np.asarray(G, dtype=np.float64)


def smallest_useful_C(X, y, *, l1_ratio=1.0, sample_weight=None, fit_intercept=True, penalty_factor=None):
    """The largest penalty at which the L1 or elastic-net fit is all zeros.

    At ``W = 0`` with the intercepts at their own optimum ``b*`` (the
    weighted log-odds of the classes), zero is optimal exactly when
    ``||grad_W J(0, b*)||_inf <= l1 = rho / (C S)``, i.e. for
    ``C <= rho / ||X^T (s (p - y))||_inf`` (``p`` the intercept-only
    probabilities: the weighted class frequencies, or 1/2 and ``1/K``
    without an intercept). The L2 part of the penalty has no gradient at zero.
    The multinomial bound takes the largest entry over all classes (the L1
    term is per class). With penalty factors ``f`` the test is per feature,
    ``|g_j| <= l1 f_j``, so ``C_min = rho / max_j |g_j| / f_j`` over the
    features with ``f_j > 0``; features with ``f_j = 0`` are unpenalized and
    the bound is then taken at the intercept-only point (glmnet fits those
    features first), a lower bound on the largest useful penalty.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (m, n)
    y : array-like of shape (m,)
        Labels of any type, at least two distinct.
    l1_ratio : float, default=1.0
        ``rho`` in [0, 1]; 0 (pure L2) gives ``inf``.
    sample_weight : array-like of shape (m,), default=None
    fit_intercept : bool, default=True
    penalty_factor : array-like of shape (n,), default=None
        Per-feature factors of the penalty (see
        :class:`logitdescent.LogisticRegression`); None means all ones.

    Returns
    -------
    float
        ``C_min``: for every ``C <= C_min`` all coefficients are zero, for
        every larger ``C`` at least one is not. ``inf`` when no ``C`` gives a
        nonzero coefficient.
    """
    l1_ratio = _check_ratio(l1_ratio)
    X, classes, codes, s = _validated(X, y, sample_weight)
    factor = checked_penalty_factor(penalty_factor, X.shape[1])
    return _smallest_useful_C(X, codes, classes.size, s, fit_intercept, l1_ratio, factor)


def _smallest_useful_C(X, codes, K, s, fit_intercept, l1_ratio, factor=None):
    G = np.abs(_zero_gradient(X, codes, K, s, fit_intercept))  # (n, rows)
    if factor is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            G = np.where(factor[:, None] > 0, G / factor[:, None], 0.0)
    largest = float(np.max(G, initial=0.0))
    if l1_ratio == 0 or largest == 0:
        return np.inf
    return l1_ratio / largest


def _check_ratio(l1_ratio):
    if not (isinstance(l1_ratio, numbers.Real) and 0 <= l1_ratio <= 1):
        raise ValueError(f"l1_ratio must be a float in [0, 1]; got {l1_ratio!r}.")
    return float(l1_ratio)


def logistic_path(
    X, y, *, Cs=10, l1_ratio=0.0, sample_weight=None, fit_intercept=True, tol=1e-6, max_iter=100,
    solver="auto", eps=1e-3, screen=True, random_state=None, penalty_factor=None,
):
    """Fit the penalized logistic regression along a grid of ``C`` values.

    The fits run from the smallest ``C`` to the largest, each warm-started
    at the previous solution (the first at the intercept-only optimum). The
    objective is scikit-learn's divided by ``C S`` (see
    :mod:`logitdescent.objective`), so the coefficients are scikit-learn's.
    Two classes give the binary model, more the multinomial one.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (m, n)
        float32 data are fitted, and their coefficients returned, in float32.
    y : array-like of shape (m,)
        Labels of any type, at least two distinct; class ``k`` is the
        ``k``-th of the sorted labels (``np.unique``).
    Cs : int or array-like of shape (n_Cs,), default=10
        The grid, or its size. An int with ``l1_ratio > 0``:
        ``C_min * geomspace(1, 1 / eps, Cs)``, ``C_min`` the smallest useful
        C (:func:`smallest_useful_C`), so the first fit is all zeros and the
        next is not; with ``l1_ratio = 0``: ``logspace(-4, 4, Cs)``,
        scikit-learn's grid.
    l1_ratio : float, default=0.0
        Elastic-net mixing: 0 is pure L2, 1 pure L1.
    sample_weight : array-like of shape (m,), default=None
    fit_intercept : bool, default=True
    tol : float, default=1e-6
        Each fit's stopping rule: max |optimality| <= tol.
    max_iter : int, default=100
        Each fit's iteration cap.
    solver : str, default="auto"
        A name of :data:`logitdescent.solvers.SOLVERS`, or "auto"
        (:func:`logitdescent.solvers.choose_solver`, per fit).
    eps : float, default=1e-3
        ``C_min / C_max`` of an int grid (scikit-learn's ``lasso_path``'s
        ``eps``).
    screen : bool, default=True
        Let "newton-cd" screen features (strong rule, then the KKT check);
        ``False`` solves every fit on all features.
    random_state : int, RandomState instance or None, default=None
        Seed of the solvers that draw random numbers ("sgd"), given to every
        fit of the path as is (an int seeds each fit alike). The other
        solvers ignore it.
    penalty_factor : array-like of shape (n,), default=None
        Per-feature factors of both penalty terms (glmnet's
        ``penalty.factor``; 0 leaves a feature unpenalized), for every fit of
        the path and for the smallest useful C.

    Returns
    -------
    coefs : ndarray of shape (n_Cs, n + fit_intercept) or (n_Cs, K, n + fit_intercept)
        ``[w, b]`` per ``C`` (binary), ``[W_k, b_k]`` per class (multinomial),
        in the order of ``Cs``; X's dtype.
    Cs : ndarray of shape (n_Cs,)
        The grid.
    n_iter : ndarray of int, shape (n_Cs,)
        Each fit's iterations.
    """
    l1_ratio = _check_ratio(l1_ratio)
    if not (isinstance(tol, numbers.Real) and tol >= 0):
        raise ValueError(f"tol must be a non-negative float; got {tol!r}.")
    if not (isinstance(max_iter, numbers.Integral) and max_iter >= 0):
        raise ValueError(f"max_iter must be a non-negative integer; got {max_iter!r}.")
    if not (isinstance(eps, numbers.Real) and 0 < eps < 1):
        raise ValueError(f"eps must be a float in (0, 1); got {eps!r}.")
    if solver != "auto" and solver not in SOLVERS:
        raise ValueError(f"solver must be one of {['auto', *SOLVERS]}; got {solver!r}.")
    X, classes, codes, s = _validated(X, y, sample_weight)
    K = classes.size
    factor = checked_penalty_factor(penalty_factor, X.shape[1])
    c_min = _smallest_useful_C(X, codes, K, s, fit_intercept, l1_ratio, factor)
    Cs = _grid(Cs, c_min, eps)
    unweighted = sample_weight is None
    weights = None if unweighted else s.astype(X.dtype)
    if K == 2:
        target = (codes == 1).astype(X.dtype)
        make = lambda C: LogisticObjective(X, target, weights, C=C, l1_ratio=l1_ratio,  # noqa: E731
                                           fit_intercept=fit_intercept, penalty_factor=factor,
                                           check_finite="logistic_path")
    else:
        make = lambda C: SoftmaxObjective(X, codes, weights, C=C, l1_ratio=l1_ratio,  # noqa: E731
                                          fit_intercept=fit_intercept, n_outputs=K, penalty_factor=factor,
                                          check_finite="logistic_path")
    rows = 1 if K == 2 else K
    row_size = X.shape[1] + int(fit_intercept)
    _, b0 = _intercept_only(codes, K, s, fit_intercept)
    theta = make(1.0).join(np.zeros((rows, X.shape[1])), np.where(np.isfinite(b0), b0, 0.0))
    coefs = np.empty((Cs.size, rows, row_size), dtype=X.dtype)
    n_iter = np.zeros(Cs.size, dtype=int)
    columns = cd.ColumnSource(X)
    previous_C = c_min if np.isfinite(c_min) else None
    for i in np.argsort(Cs, kind="stable"):
        objective = make(float(Cs[i]))
        name = choose_solver(objective) if solver == "auto" else solver
        with blas_context(objective, name):  # the estimator's BLAS thread policy, per fit
            if name == "newton-cd":
                # Sequential strong rule: keep |g_j| >= 2 l1_new - l1_old, i.e. a
                # margin of l1_old / l1_new - 1 = C_new / C_old - 1 below l1_new.
                margin = None if previous_C is None else min(1.0, Cs[i] / previous_C - 1.0)
                result = cd.minimize(objective, theta, max_iter=max_iter, tol=tol, screen=screen,
                                     first_margin=margin, columns=columns)
            else:
                options = {"random_state": random_state} if "random_state" in SOLVER_OPTIONS[name] else {}
                result = SOLVERS[name](objective, theta, max_iter=max_iter, tol=tol, **options)
        if not result.converged and tol > 0:
            warn_not_converged(result, name, stacklevel=2)
        theta = result.x
        previous_C = float(Cs[i])
        coefs[i] = theta.reshape(rows, row_size)
        n_iter[i] = result.n_iter
    return (coefs[:, 0] if K == 2 else coefs), Cs, n_iter


def _grid(Cs, c_min, eps):
    if isinstance(Cs, numbers.Integral) and not isinstance(Cs, bool):
        if Cs < 1:
            raise ValueError(f"Cs must be a positive int or an array of positive floats; got {Cs!r}.")
        if np.isfinite(c_min):
            return c_min * np.geomspace(1.0, 1.0 / eps, int(Cs))
        return np.logspace(-4, 4, int(Cs))
    grid = np.asarray(Cs, dtype=np.float64)
    if grid.ndim != 1 or grid.size == 0 or not np.all(grid > 0) or not np.all(np.isfinite(grid)):
        raise ValueError(
            f"Cs must be a positive int or a 1-D array of positive finite floats; got {Cs!r}."
        )
    return grid
