"""Separation and degenerate feature scales: the two ways a logistic fit "converges" to nonsense.

Separation
----------
The unpenalized maximum-likelihood estimate does not exist (it lies at
infinity) exactly when some nonzero direction ``d`` of the coefficients never
lowers any example's likelihood (Albert & Anderson, 1984). Write
``x̃ = [x, 1]`` (the ``1`` only with an intercept). For two classes the
condition is ``(2 y_i - 1) d·x̃_i >= 0`` for every example; for ``K`` classes
(reference class 0, ``d_0 = 0``) it is ``(d_{y_i} - d_k)·x̃_i >= 0`` for every
example and every other class ``k``. Examples where some such ``d`` gives a
strict inequality are *separated*: their fitted probability goes to 1 along
``d``. All of them separated is *complete* separation, some of them
*quasi-complete*.

:func:`detect_separation` finds them with the linear program of Konis (2007),
the one R's ``detectseparation`` solves: with ``0 <= t <= 1``,

    maximize  Σ t_ik   subject to  (d_{y_i} - d_k)·x̃_i >= t_ik,  d free,

whose optimal ``t`` is exactly the indicator of the separated pairs (``d`` can
be scaled freely, so every pair that any direction separates reaches
``t = 1`` at once). It is solved in the equivalent form that keeps only the
``(K - 1) p`` direction variables (see ``_separated_pairs``). A second program, ``minimize Σ_j |d_j|`` (intercept free,
columns scaled to unit maximum) over the directions that separate those
pairs, gives the sparsest separating direction, whose nonzero entries name
the features to report. This is exact, up to HiGHS's feasibility tolerance
on columns scaled to unit maximum.

On large data (``method="sampled"``, chosen by ``"auto"`` above
:data:`EXACT_LP_MAX_ENTRIES`) the same program runs on a random subset of rows
and its answer is checked on all of them (constraint generation):

* a direction found on the subset that separates every row without a
  violation is a separation of the full data (exact);
* a subset with no separation whose ``[X 1]`` has full column rank proves
  that the full data have none either (any direction separating the full
  data separates the subset weakly, so it would have to vanish on a
  full-rank subset: exact);
* a direction that some rows violate adds the most violated rows to the
  subset, and the program runs again, at most :data:`SAMPLED_MAX_ROUNDS`
  times. Running out of rounds, or a rank-deficient subset, returns
  ``"none"`` with ``exact=False``.

Degenerate scale
----------------
The solvers stop when ``max |dJ/dθ| <= tol``. The gradient along feature
``j`` is a mean of ``(a - y) x_ij`` with ``|a - y| < 1``, so a feature whose
values are all below ``tol`` in magnitude (X scaled by 1e-300, a quantity in
the wrong unit) satisfies the stopping rule at any coefficient: the fit
"converges" at ``w_j ≈ 0``. Huge values overflow the scores instead.
:func:`check_degenerate_scale` names such features in one pass over X.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array

__all__ = [
    "DegenerateScaleWarning",
    "PerfectSeparationError",
    "SeparationResult",
    "SeparationWarning",
    "check_degenerate_scale",
    "detect_separation",
]

#: ``"auto"`` solves the exact program while ``m (K - 1) (n + 1)``, the
#: entries of its constraint matrix, stays below this (a few seconds of HiGHS
#: at most); above, it samples.
EXACT_LP_MAX_ENTRIES = 1_000_000

#: Rows in the first subset of ``method="sampled"`` (the most, with at least
#: ``20 (n + 1)`` so the subset is likely of full rank).
SAMPLED_ROWS = 2000

#: Rounds of constraint generation before ``method="sampled"`` gives up.
SAMPLED_MAX_ROUNDS = 8

#: A margin (on columns scaled to unit maximum, the direction in [-1, 1])
#: counts as positive above HiGHS's primal feasibility tolerance.
_LP_TOL = 1e-7

#: A direction entry counts (names its feature) above this fraction of the
#: largest entry, on columns scaled to unit maximum.
_SUPPORT_RTOL = 1e-6


class SeparationWarning(ConvergenceWarning):
    """The data are (quasi-)separated: the unpenalized coefficients run to infinity."""


class PerfectSeparationError(ValueError):
    """Raised where statistics were asked of a fit whose optimum lies at infinity."""


class DegenerateScaleWarning(ConvergenceWarning):
    """Features whose scale the stopping rule or the arithmetic cannot see."""


@dataclass
class SeparationResult:
    """What :func:`detect_separation` found.

    Attributes
    ----------
    kind : {"complete", "quasi-complete", "none"}
    features : tuple of str
        The features that separate on their own (one threshold each, see
        ``single_feature``) if any do; otherwise those with a nonzero entry in
        the l1-smallest separating direction, largest (in units of each
        column's maximum) first. ``"intercept"`` is never listed.
    single_feature : bool
        Whether each of ``features`` alone (with the intercept) separates some
        class from all the others.
    direction : ndarray of shape (n_features,) or (n_classes, n_features)
        A separating direction in the units of X (binary: for ``w``;
        multiclass: one row per class, row 0 the reference, zero). Moving the
        coefficients along it never lowers the likelihood; zeros if none.
    intercept_direction : float or ndarray of shape (n_classes,)
        Its intercept part (0 without an intercept).
    separated : ndarray of bool of shape (m,)
        The examples that the direction predicts perfectly (for multiclass:
        whose class it strictly favours over at least one other class).
    classes : tuple
        The class labels, in the order of the rows of ``direction``.
    method : {"lp", "sampled"}
    exact : bool
        False only when ``method="sampled"`` could not prove its answer.
    """

    kind: str
    features: tuple
    direction: np.ndarray
    intercept_direction: object
    separated: np.ndarray
    classes: tuple
    method: str
    exact: bool = True
    single_feature: bool = False

    def __bool__(self):
        return self.kind != "none"

    def message(self):
        """A sentence for warnings and errors: what, which features, what to do."""
        if not self:
            return "No separation: the unpenalized optimum is finite (if X has full rank)."
        n_sep = int(self.separated.sum())
        names = ", ".join(repr(f) for f in self.features[:10])
        if len(self.features) > 10:
            names += f", ... ({len(self.features)} features)"
        rule = (f"feature(s) {names}, each on its own," if self.single_feature
                else f"a linear rule on feature(s) {names or '(intercept only)'}")
        if len(self.classes) == 2:
            share = "all" if self.kind == "complete" else f"{n_sep} of {self.separated.size}"
            what = f"predicts {share} examples perfectly"
        else:
            what = f"rules out some class with certainty for {n_sep} of {self.separated.size} examples"
        return (
            f"{self.kind.capitalize()} separation: {rule} {what}, so the unpenalized coefficients "
            "run to infinity (no maximum-likelihood estimate exists). Use a penalty (finite C, "
            "e.g. LogisticRegression(C=1.0)), or drop or merge the separating feature(s)."
        )


def _names(n_features, feature_names):
    if feature_names is None:
        return [f"x{j}" for j in range(n_features)]
    names = [str(f) for f in feature_names]
    if len(names) != n_features:
        raise ValueError(
            f"feature_names must have one name per column of X ({n_features}); got {len(names)}."
        )
    return names


def _validate(X, y, sample_weight):
    X = check_array(X, accept_sparse="csr", dtype=[np.float64, np.float32], input_name="X")
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X; got {y.shape}.")
    classes, codes = np.unique(y, return_inverse=True)
    if classes.size < 2:
        raise ValueError(f"y must hold at least 2 classes; got only {classes!r}.")
    keep = np.ones(X.shape[0], dtype=bool)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
        if sample_weight.shape != (X.shape[0],):
            raise ValueError(
                f"sample_weight must have shape ({X.shape[0]},) to match X; got {sample_weight.shape}."
            )
        if np.any(sample_weight < 0) or not np.all(np.isfinite(sample_weight)):
            raise ValueError("sample_weight must be finite and non-negative.")
        keep = sample_weight > 0  # a zero-weight example does not constrain the fit
    return X, classes, codes, keep


def _design(X, fit_intercept):
    """``[X 1] / scale`` as float64 CSR (or dense), and the column scales."""
    if sp.issparse(X):
        scale = np.asarray(abs(X).max(axis=0).todense(), dtype=np.float64).ravel()
    else:
        scale = np.max(np.abs(X), axis=0).astype(np.float64) if X.shape[0] else np.ones(X.shape[1])
    # Unit column maxima make HiGHS's absolute tolerances mean the same for every feature.
    scale[scale == 0] = 1.0
    if sp.issparse(X):
        Xs = sp.csr_matrix(X, dtype=np.float64) @ sp.diags(1.0 / scale)
        if fit_intercept:
            Xs = sp.hstack([Xs, np.ones((X.shape[0], 1))], format="csr")
    else:
        Xs = X.astype(np.float64) / scale
        if fit_intercept:
            Xs = np.hstack([Xs, np.ones((X.shape[0], 1))])
    return Xs, scale


def _pairs(codes, n_classes):
    """Every (example, other class) pair: the rows of the program."""
    m = codes.size
    others = np.arange(n_classes)[None, :].repeat(m, axis=0)
    mask = others != codes[:, None]
    rows = np.nonzero(mask)[0]
    return rows, codes[rows], others[mask]


def _pair_matrix(Xs, rows, own, other, n_classes):
    """``(d_own - d_other)·x̃`` as a sparse matrix on the stacked ``d_1..d_{K-1}``."""
    Xp = sp.csr_matrix(Xs[rows])
    blocks = []
    for k in range(1, n_classes):
        sign = (own == k).astype(np.float64) - (other == k)
        blocks.append(sp.diags(sign) @ Xp)
    return sp.hstack(blocks, format="csr")


def _separated_pairs(A):
    """The pairs that some direction separates, and one direction separating them all.

    Konis's program with the direction in the box ``[-1, 1]``: maximize the
    sum of the open pairs' margins subject to no negative margin. Its optimum
    is 0 exactly when no direction separates an open pair (the usual answer:
    one solve, ``(K - 1) p`` variables). Otherwise the pairs it separates are
    closed and it runs again on the rest; the sum of the directions found is
    in the cone and separates every closed pair, so the loop ends with the
    maximal set (the ``t`` of the module docstring) after a few solves.
    """
    n_pairs, n_dir = A.shape
    strict = np.zeros(n_pairs, dtype=bool)
    direction = np.zeros(n_dir)
    for _ in range(n_pairs):
        c = -np.asarray(A[~strict].sum(axis=0)).ravel()
        res = linprog(c, A_ub=-A, b_ub=np.zeros(n_pairs), bounds=(-1.0, 1.0), method="highs")
        if res.status != 0:  # feasible (d = 0) and bounded: should not happen
            raise RuntimeError(f"The separation linear program failed: {res.message}")
        if -res.fun <= _LP_TOL:
            break
        new = (A @ res.x > _LP_TOL) & ~strict
        if not new.any():  # a positive sum of margins each within HiGHS's tolerance: rounding
            break
        strict |= new
        direction += res.x
        if strict.all():
            break
    return strict, direction


def _sparsest_direction(A, strict, penalized):
    """``min Σ |d_j|`` over penalized entries subject to ``A d >= 1`` on strict pairs, ``>= 0`` elsewhere."""
    n_dir = A.shape[1]
    # d = u - v with u, v >= 0 where penalized; free otherwise (the intercepts).
    c = np.concatenate([penalized.astype(np.float64), penalized.astype(np.float64)])
    A_ub = sp.hstack([-A, A], format="csr")
    b_ub = -strict.astype(np.float64)
    bounds = [(0, None)] * n_dir + [(0, None) if p else (0, 0) for p in penalized]
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if res.status != 0:
        return None
    return res.x[:n_dir] - res.x[n_dir:]


def _single_feature_separators(X, codes, n_classes, keep, fit_intercept):
    """Columns that alone separate some class from the rest: one O(m n) pass.

    With an intercept, class ``k`` is separated by column ``j`` when its
    values lie (weakly) at one end of the others' (``min_k >= max_rest`` or
    ``max_k <= min_rest``); without one, on the other side of 0. Either gives a
    direction ``(d_k = ±e_j, intercept -threshold)`` that never lowers any
    example's likelihood and raises some.
    """
    X, codes = X[keep], codes[keep]
    found = np.zeros(X.shape[1], dtype=bool)
    for k in range(1 if n_classes == 2 else 0, n_classes):
        inside = codes == k
        if not inside.any() or inside.all():
            continue
        ends = []
        for rows in (inside, ~inside):
            part = X[rows]
            lo, hi = part.min(axis=0), part.max(axis=0)
            if sp.issparse(part):
                lo, hi = lo.toarray().ravel(), hi.toarray().ravel()
            ends.append((np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)))
        (lo_k, hi_k), (lo_r, hi_r) = ends
        if fit_intercept:
            # A constant column does not separate (its ends coincide both ways).
            above = (lo_k >= hi_r) & (hi_k > lo_r)
            below = (hi_k <= lo_r) & (lo_k < hi_r)
        else:
            above = (lo_k >= 0) & (hi_r <= 0) & ((hi_k > 0) | (lo_r < 0))
            below = (hi_k <= 0) & (lo_r >= 0) & ((lo_k < 0) | (hi_r > 0))
        found |= above | below
    return np.flatnonzero(found)


def _result(kind, d, strict_rows, scale, n_classes, p, fit_intercept, names, classes, method, exact,
            singles):
    D = d.reshape(n_classes - 1, p)
    size = np.max(np.abs(D[:, : scale.size]), axis=0) if D.size else np.zeros(scale.size)
    largest = size.max() if size.size else 0.0
    support = np.flatnonzero(size > _SUPPORT_RTOL * largest) if largest > 0 else np.array([], int)
    index = tuple(singles) if len(singles) else tuple(support[np.argsort(-size[support], kind="stable")])
    W = np.vstack([np.zeros((1, p)), D])
    coef = W[:, : scale.size] / scale  # back to the units of X
    icpt = W[:, scale.size] if fit_intercept else np.zeros(n_classes)
    if n_classes == 2:
        coef, icpt = coef[1], float(icpt[1])
    return SeparationResult(
        kind=kind, features=tuple(names[j] for j in index), direction=coef, intercept_direction=icpt,
        separated=strict_rows, classes=tuple(classes.tolist()), method=method, exact=exact,
        single_feature=bool(len(singles)),
    )


def _none(m, n, n_classes, classes, method, exact):
    direction = np.zeros(n) if n_classes == 2 else np.zeros((n_classes, n))
    icpt = 0.0 if n_classes == 2 else np.zeros(n_classes)
    return SeparationResult("none", (), direction, icpt, np.zeros(m, bool), tuple(classes.tolist()), method, exact)


def _solve(Xs, codes, n_classes):
    """Exact program on the rows of ``Xs``: (strict pairs, pair arrays, A)."""
    rows, own, other = _pairs(codes, n_classes)
    A = _pair_matrix(Xs, rows, own, other, n_classes)
    strict, d = _separated_pairs(A)
    return strict, d, (rows, own, other), A


def _full_rank(Xs):
    dense = Xs.toarray() if sp.issparse(Xs) else Xs
    return np.linalg.matrix_rank(dense) == dense.shape[1]


def detect_separation(X, y, sample_weight=None, *, fit_intercept=True, feature_names=None,
                      method="auto", random_state=0):
    """Detect complete or quasi-complete separation, exactly by linear programming.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (m, n)
    y : array-like of shape (m,)
        Labels, two or more classes (sorted; the first is the reference).
    sample_weight : array-like of shape (m,), default=None
        Examples of weight 0 are left out; other weights do not matter.
    fit_intercept : bool, default=True
        Whether the model has an intercept (a column of ones in ``x̃``).
    feature_names : sequence of str of shape (n,), default=None
        Names for the message; ``x0, x1, ...`` otherwise.
    method : {"auto", "lp", "sampled"}, default="auto"
        "lp" solves the exact program on all rows; "sampled" on a subset of
        rows, checked on all (see the module docstring); "auto" picks "lp"
        while the program has at most :data:`EXACT_LP_MAX_ENTRIES` entries.
    random_state : int, default=0
        Seed of the subset for "sampled".

    Returns
    -------
    result : SeparationResult
        Truthy when there is separation; ``result.message()`` says what to do.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0], [2.0], [3.0], [4.0]])
    >>> detect_separation(X, [0, 0, 1, 1]).kind
    'complete'
    >>> detect_separation(X, [0, 1, 0, 1]).kind
    'none'
    """
    if method not in ("auto", "lp", "sampled"):
        raise ValueError(f"method must be 'auto', 'lp' or 'sampled'; got {method!r}.")
    X, classes, codes, keep = _validate(X, y, sample_weight)
    m, n = X.shape
    names = _names(n, feature_names)
    K = classes.size
    p = n + int(bool(fit_intercept))
    if method == "auto":
        method = "lp" if m * (K - 1) * p <= EXACT_LP_MAX_ENTRIES else "sampled"
    Xs, scale = _design(X, fit_intercept)
    penalized = np.tile(np.arange(p) < n, K - 1)  # the intercepts are free in the sparsest direction
    kept = np.flatnonzero(keep)

    if method == "lp":
        strict, d, (rows, own, other), A = _solve(Xs[kept], codes[kept], K)
        if not strict.any():
            return _none(m, n, K, classes, "lp", True)
        d_sparse = _sparsest_direction(A, strict, penalized)
        d = d if d_sparse is None else d_sparse
        strict_rows = np.zeros(m, bool)
        strict_rows[kept[rows[strict]]] = True
        complete = np.bincount(rows[strict], minlength=kept.size) == K - 1
        kind = "complete" if complete.all() else "quasi-complete"
        singles = _single_feature_separators(X, codes, K, keep, fit_intercept)
        return _result(kind, d, strict_rows, scale, K, p, fit_intercept, names, classes, "lp", True, singles)

    rng = np.random.default_rng(random_state)
    size = min(kept.size, max(SAMPLED_ROWS, 20 * p))
    subset = np.sort(rng.choice(kept, size=size, replace=False))
    for _ in range(SAMPLED_MAX_ROUNDS):
        strict, d, _, A = _solve(Xs[subset], codes[subset], K)
        if not strict.any():
            if _full_rank(Xs[subset]):
                return _none(m, n, K, classes, "sampled", True)
            grow = np.setdiff1d(kept, subset)
            if grow.size == 0:
                return _none(m, n, K, classes, "sampled", False)
            subset = np.union1d(subset, rng.choice(grow, size=min(grow.size, subset.size), replace=False))
            continue
        d_sparse = _sparsest_direction(A, strict, penalized)
        d = d if d_sparse is None else d_sparse
        margins = _margins(Xs[kept], codes[kept], d, K, p)
        # The program's margins are >= 1 where strict; a violation of a few
        # ulps of the row's size is rounding, not a counterexample.
        tol = 1e-9 * max(1.0, np.max(np.abs(margins)))
        violated = np.min(margins, axis=1) < -tol
        if not violated.any():
            strict_rows = np.zeros(m, bool)
            strict_rows[kept[np.max(margins, axis=1) > tol]] = True
            kind = "complete" if np.all(np.min(margins, axis=1) > tol) else "quasi-complete"
            singles = _single_feature_separators(X, codes, K, keep, fit_intercept)
            return _result(kind, d, strict_rows, scale, K, p, fit_intercept, names, classes, "sampled", True,
                           singles)
        worst = kept[violated][np.argsort(np.min(margins, axis=1)[violated])[: subset.size]]
        subset = np.union1d(subset, worst)
    return _none(m, n, K, classes, "sampled", False)


def _margins(Xs, codes, d, n_classes, p):
    """``(d_{y_i} - d_k)·x̃_i`` for every example and every other class; (m, K - 1)."""
    W = np.vstack([np.zeros((1, p)), d.reshape(n_classes - 1, p)])
    Z = np.asarray(Xs @ W.T)
    own = Z[np.arange(Z.shape[0]), codes]
    diff = own[:, None] - Z
    mask = np.arange(n_classes)[None, :] != codes[:, None]
    return diff[mask].reshape(Z.shape[0], n_classes - 1)


def check_degenerate_scale(X, *, tol=None, feature_names=None, warn=True, stacklevel=2):
    """Name the features whose scale hides them from the solver or overflows the scores.

    A feature is *tiny* when every value has magnitude at most ``tol`` (the
    solvers' gradient stopping threshold; machine epsilon of X's dtype when
    ``tol`` is None) but not all are zero: the gradient along it can never
    exceed ``tol``, so the fit stops at ``w_j ≈ 0`` and reports convergence.
    It is *huge* when some magnitude exceeds the square root of the dtype's
    largest number, where products of scores overflow.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (m, n)
    tol : float, default=None
        The fit's ``tol``.
    feature_names : sequence of str of shape (n,), default=None
    warn : bool, default=True
        Issue a :class:`DegenerateScaleWarning` naming them.
    stacklevel : int, default=2
        Passed to :func:`warnings.warn` (the estimator points it at the user's call).

    Returns
    -------
    flagged : dict
        ``{"tiny": [names], "huge": [names]}``; empty lists when all is well.
    """
    X = check_array(X, accept_sparse="csr", dtype=[np.float64, np.float32], input_name="X")
    names = _names(X.shape[1], feature_names)
    if sp.issparse(X):
        largest = np.asarray(abs(X).max(axis=0).todense(), dtype=np.float64).ravel()
    else:  # column maxima of |x| without a copy of X: max and -min
        largest = np.maximum(X.max(axis=0), -X.min(axis=0)).astype(np.float64)
    info = np.finfo(X.dtype)
    low = float(info.eps) if tol is None else float(tol)
    tiny = [names[j] for j in np.flatnonzero((largest > 0) & (largest <= low))]
    huge = [names[j] for j in np.flatnonzero(largest > np.sqrt(float(info.max)))]
    if warn and (tiny or huge):
        parts = []
        if tiny:
            which = "every feature of X" if len(tiny) == X.shape[1] else "feature(s) " + ", ".join(map(repr, tiny[:10]))
            parts.append(
                f"{which} has all |values| <= {low:g} (tol): the gradient along it cannot exceed "
                "tol, so the fit stops at coefficient ~0 and reports convergence"
            )
        if huge:
            parts.append(
                "feature(s) " + ", ".join(map(repr, huge[:10]))
                + f" exceed {np.sqrt(float(info.max)):.1e} in magnitude, where the scores overflow"
            )
        warnings.warn(
            "Degenerate feature scale: " + "; ".join(parts)
            + ". Rescale X (e.g. sklearn.preprocessing.StandardScaler) before fitting.",
            DegenerateScaleWarning, stacklevel=stacklevel,
        )
    return {"tiny": tiny, "huge": huge}
