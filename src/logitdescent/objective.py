"""The objective that solvers minimize: the kernel bound to one data set.

Solvers see a flat parameter vector ``theta``: ``K`` rows ``[w_k, b_k]``
(``b_k`` only when an intercept is fitted) laid end to end, ``K = 1`` for the
binary model and ``K`` classes for the multinomial one. They call
:meth:`~LinearObjective.loss_grad` for the smooth part (mean log-loss plus the
L2 term) and :meth:`~LinearObjective.prox` for the rest (the L1 term and
coefficient bounds); they never learn which kernel or backend computed the
numbers. A backend (Dask, say) plugs in by supplying an object with the same
methods.

Penalty, scikit-learn's elastic net divided by ``C S``::

    J(theta) = mean log-loss + (1 - rho) / (2 C S) sum_j f_j W_j^2 + rho / (C S) sum_j f_j |W_j|

with ``rho = l1_ratio``, ``S`` the number (or total weight) of the examples,
``f`` the per-feature penalty factors (glmnet's ``penalty.factor``: 1 by
default, 0 leaves a feature unpenalized) and the intercepts never penalized.
``lower <= W <= upper`` optionally.
"""

from __future__ import annotations

import contextlib

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, softmax
from sklearn.utils import assert_all_finite

from .kernel import evaluation_traits, loss_and_grad, softmax_loss_and_grad

__all__ = ["LinearObjective", "LogisticObjective", "SoftmaxObjective", "overflow_message"]

#: Bytes of X (as float64) scaled at a time when forming the Hessian: blocks
#: large enough for BLAS to run near full speed (1 MiB blocks measured 10x
#: slower than 16 MiB ones at m=1e6, n=100 on 2 cores), capped so that the
#: scaled copy stays far below X itself.
HESSIAN_BLOCK_MIN_BYTES = 2**20
HESSIAN_BLOCK_MAX_BYTES = 16 * 2**20


class LinearObjective:
    """What the binary and the multinomial objectives share.

    Parameters
    ----------
    X : {ndarray, scipy.sparse matrix} of shape (m, n)
        float32 or float64 examples; kept by reference, never copied.
    y : ndarray of shape (m,)
        Targets: {0, 1} in X's dtype (binary) or class indices (multinomial).
    sample_weight : ndarray of shape (m,) or None
        Non-negative weights (class weights already folded in).
    C : float, default=inf
        Inverse penalty strength, scikit-learn's convention; ``inf`` means none.
    l1_ratio : float, default=0.0
        Elastic-net mixing ``rho``: 0 is pure L2, 1 pure L1.
    fit_intercept : bool, default=True
        Whether each row of ``theta`` ends with an intercept.
    bounds : tuple of (lower, upper) or None
        Bounds on the coefficients ``W`` (not the intercepts); each a scalar or
        an array broadcastable to (K, n). ``None`` entries mean unbounded.
    penalty_scale : float, optional
        ``1 / (C S)`` itself, overriding the one derived from ``C`` and the
        data (a mini-batch keeps the full data's penalty).
    penalty_factor : array-like of shape (n,), optional
        Non-negative ``f_j`` scaling both terms of feature ``j``'s penalty
        (every class's coefficient of it); None means all ones.
    offset : ndarray of shape (m,) (binary) or (m, K) (multinomial), optional
        Known terms added to the scores, ``Z = X W^T + b + offset``; float64.
    check_finite : bool or str, default=False
        X has not been checked for NaN and infinity: the first evaluation
        does it. A non-finite first cost (which any NaN or infinity in X
        gives, since ``0 * inf`` is NaN too) makes it look at X and raise
        scikit-learn's error (a string: the estimator's name, which the
        error then names); finite data, the usual case, are spared a
        separate pass over X (50 of the 360 ms to the optimum on the
        benchmark's 1e6 x 100 data). Finite X whose first cost or gradient
        is not finite, or whose gradient exceeds the square root of the
        dtype's largest number (where the solvers' products of gradients and
        Hessians overflow), is refused by a ``ValueError`` naming the
        columns too large to fit (:func:`overflow_message`).
    feature_names : sequence of str of shape (n,), optional
        Names of X's columns, for that error.

    Attributes
    ----------
    n_outputs : int
        ``K``.
    n_params : int
        ``K (n + fit_intercept)``.
    weight_sum : float
        ``S``.
    l2, l1 : float
        ``(1 - rho) / (C S)`` and ``rho / (C S)``: whether there is an L2 or
        an L1 term at all.
    l2_weights, l1_weights : ndarray of shape (n_params,)
        The strength on each entry of ``theta``: ``l2 f_j`` and ``l1 f_j`` on
        the coefficients, 0 on the intercepts.
    """

    #: Bound on the largest eigenvalue of one example's loss Hessian in z.
    CURVATURE_BOUND = 0.25

    def __init__(
        self, X, y, sample_weight=None, *, C=np.inf, l1_ratio=0.0, fit_intercept=True,
        bounds=None, penalty_scale=None, penalty_factor=None, offset=None, n_outputs=1, check_finite=False,
        feature_names=None,
    ):
        self.X = X
        self.y = y
        self.sample_weight = sample_weight
        self.offset = offset
        self.fit_intercept = bool(fit_intercept)
        self.n_outputs = int(n_outputs)
        self.n_samples, self.n_features = X.shape
        self.row_size = self.n_features + int(self.fit_intercept)
        self.n_params = self.n_outputs * self.row_size
        self.weight_sum = (
            float(self.n_samples) if sample_weight is None else float(np.sum(sample_weight, dtype=np.float64))
        )
        self.C, self.l1_ratio, self.bounds = C, float(l1_ratio), bounds
        if penalty_scale is None:
            penalty_scale = 0.0 if C is None or np.isinf(C) else 1.0 / (C * self.weight_sum)
        self.penalty_scale = float(penalty_scale)
        self.l2 = (1.0 - self.l1_ratio) * self.penalty_scale
        self.l1 = self.l1_ratio * self.penalty_scale
        self.penalty_factor = None if penalty_factor is None else np.asarray(penalty_factor, dtype=np.float64)
        factors = np.zeros((self.n_outputs, self.row_size))
        factors[:, : self.n_features] = 1.0 if penalty_factor is None else self.penalty_factor
        self.l2_weights = self.l2 * factors.ravel()
        self.l1_weights = self.l1 * factors.ravel()
        self._lower, self._upper = self._bound_arrays(bounds)
        self.n_evals = 0
        self._last_eval = None  # (theta, J, grad) of the latest loss_grad call
        self._check_finite = check_finite
        self._feature_names = feature_names

    # -- layout ------------------------------------------------------------

    @property
    def data_nbytes(self):
        """Bytes of X's values (and indices, if sparse)."""
        X = self.X
        if sp.issparse(X):
            return int(X.data.nbytes + X.indices.nbytes + X.indptr.nbytes)
        return int(X.nbytes)

    @property
    def kernel_uses_blas(self):
        """Whether :meth:`loss_grad` runs on BLAS (rather than the kernel's own threads)."""
        return evaluation_traits(self.X).uses_blas

    @property
    def dtype(self):
        return self.X.dtype

    @property
    def cost_rtol(self):
        """Relative rounding error of a computed cost (in the kernel's compute dtype)."""
        return 64 * float(np.finfo(evaluation_traits(self.X).compute_dtype).eps)

    @property
    def coef_mask(self):
        """Boolean mask of ``theta``'s coefficient entries (not the intercepts)."""
        mask = np.ones((self.n_outputs, self.row_size), dtype=bool)
        if self.fit_intercept:
            mask[:, -1] = False
        return mask.ravel()

    def split(self, theta):
        """``theta -> (W (K, n), b (K,))``; ``b`` is zeros without an intercept."""
        rows = np.asarray(theta).reshape(self.n_outputs, self.row_size)
        if self.fit_intercept:
            return rows[:, :-1], rows[:, -1]
        return rows, np.zeros(self.n_outputs)

    def join(self, W, b):
        """``(W, b) -> theta`` in float64, the solvers' working precision."""
        W = np.asarray(W, dtype=np.float64).reshape(self.n_outputs, self.n_features)
        if not self.fit_intercept:
            return W.ravel().copy()
        b = np.broadcast_to(np.asarray(b, dtype=np.float64), (self.n_outputs,))
        return np.column_stack([W, b]).ravel()

    def coef_part(self, vector):
        """The coefficient entries of a ``theta``-shaped vector, as (K, n)."""
        return vector.reshape(self.n_outputs, self.row_size)[:, : self.n_features]

    def _theta_from_parts(self, dW, db):
        grad = np.empty((self.n_outputs, self.row_size))
        grad[:, : self.n_features] = dW
        if self.fit_intercept:
            grad[:, -1] = db
        return grad.ravel()

    # -- the smooth part ---------------------------------------------------

    def loss_grad(self, theta):
        """Smooth cost (log-loss + L2) and its gradient, float64 ``(n_params,)``.

        The latest evaluation is remembered: asking again for the same
        ``theta`` (a solver's final check at the point SciPy just evaluated,
        or the starting cost it records before SciPy's first call) costs
        ``O(p)``, not a pass over X. ``n_evals`` counts the passes. (The
        objective takes X, y and the weights as fixed: changing them in
        place would leave the remembered evaluation stale.)
        """
        theta = np.asarray(theta, dtype=np.float64)
        cached = self._last_eval
        if cached is not None and np.array_equal(cached[0], theta):
            return cached[1], cached[2].copy()
        self.n_evals += 1
        W, b = self.split(theta)
        # NaN in X (or overflow) warns in NumPy's matmul: the error below says it better.
        with np.errstate(invalid="ignore", over="ignore") if self._check_finite else contextlib.nullcontext():
            J, dW, db = self._kernel_loss_grad(W, b)
            if self.l2:  # the penalty here, not in the kernel: a mini-batch keeps the full data's
                W64 = np.asarray(W, dtype=np.float64)
                l2W = self.coef_part(self.l2_weights) * W64
                J += 0.5 * float(np.sum(l2W * W64))
                dW = dW + l2W
        grad = self._theta_from_parts(dW, db)
        if self._check_finite:
            name = self._check_finite if isinstance(self._check_finite, str) else None
            self._check_finite = False
            # A gradient beyond sqrt(max) is finite now but overflows in the
            # solvers' squares (step sizes, Hessians): the same data problem.
            overflowing = float(np.max(np.abs(grad), initial=0.0)) > np.sqrt(float(np.finfo(self.dtype).max))
            if not (np.isfinite(J) and np.all(np.isfinite(grad))) or overflowing:
                assert_all_finite(self.X.data if sp.issparse(self.X) else self.X, input_name="X",
                                  estimator_name=name)
                # X is finite: name its columns too large to fit, if that is the cause.
                message = overflow_message(self.X, self._feature_names)
                if message is not None:
                    raise ValueError(message)
                if not np.isfinite(J):
                    raise ValueError(
                        f"the cost at the starting coefficients is {J}: the starting point (coef_init, "
                        "intercept_init or a warm start) or sample_weight is too large for X; "
                        "start from zeros or rescale."
                    )
        self._last_eval = (theta.copy(), J, grad.copy())
        return J, grad

    # -- the non-smooth part: L1 and bounds --------------------------------

    @property
    def has_prox(self):
        """Whether :meth:`prox` is more than the identity."""
        return self.l1 > 0 or self._lower is not None or self._upper is not None

    def nonsmooth_value(self, theta):
        """``l1 sum_j f_j |W_j|`` (bounds hold at every point a solver produces)."""
        return float(np.dot(self.l1_weights, np.abs(theta))) if self.l1 else 0.0

    def value(self, theta, smooth_cost):
        """The full cost, given the smooth part at ``theta``."""
        return smooth_cost + self.nonsmooth_value(theta)

    def prox(self, theta, step):
        """``argmin_u l1 ||u_W||_1 + box(u_W) + ||u - theta||^2 / (2 step)``.

        Soft-thresholding by ``step * l1 f_j``, then clipping to the bounds: both
        act coordinate-wise, and for one coordinate the prox of a convex
        function plus an interval is the interval's projection of its prox.
        """
        if not self.has_prox:
            return theta
        out = np.array(theta, dtype=np.float64)
        coef = out[self.coef_mask]
        if self.l1:
            coef = np.sign(coef) * np.maximum(np.abs(coef) - step * self.l1_weights[self.coef_mask], 0.0)
        if self._lower is not None or self._upper is not None:
            coef = np.clip(coef, self._lower, self._upper)
        out[self.coef_mask] = coef
        return out

    def optimality(self, theta, grad):
        """The stopping rule's vector: ``theta - prox(theta - grad, 1)``.

        It is the gradient itself without L1 or bounds, the projected gradient
        with bounds (L-BFGS-B's ``pgtol`` quantity), and a minimal-norm
        subgradient with L1; zero exactly at the optimum.
        """
        if not self.has_prox:
            return grad
        return theta - self.prox(theta - grad, 1.0)

    def _bound_arrays(self, bounds):
        if bounds is None:
            return None, None
        shape = (self.n_outputs, self.n_features)
        lower, upper = bounds
        lower = None if lower is None else np.broadcast_to(np.asarray(lower, dtype=np.float64), shape).ravel()
        upper = None if upper is None else np.broadcast_to(np.asarray(upper, dtype=np.float64), shape).ravel()
        return lower, upper

    def coef_bounds(self):
        """Per-entry ``(lower, upper)`` of ``theta`` (``-inf, inf`` for intercepts)."""
        lower = np.full(self.n_params, -np.inf)
        upper = np.full(self.n_params, np.inf)
        if self._lower is not None:
            lower[self.coef_mask] = self._lower
        if self._upper is not None:
            upper[self.coef_mask] = self._upper
        return lower, upper

    # -- curvature ---------------------------------------------------------

    def scores(self, theta):
        """``Z = X W^T + b (+ offset)``, shape (m, K)."""
        W, b = self.split(theta)
        Z = np.asarray(self.X @ np.asarray(W, dtype=self.dtype).T, dtype=np.float64) + b
        if self.offset is not None:
            Z += self.offset.reshape(Z.shape)
        return Z

    def _row_blocks(self):
        """Row blocks of X as float64 arrays (a copy only for float32 or sparse)."""
        X = self.X
        tenth_of_X = 8 * self.n_samples * self.n_features // 10
        target = min(HESSIAN_BLOCK_MAX_BYTES, max(HESSIAN_BLOCK_MIN_BYTES, tenth_of_X))
        rows = max(1, target // max(1, 8 * self.n_features))
        for start in range(0, self.n_samples, rows):
            block = X[start : start + rows]
            block = block.toarray() if sp.issparse(block) else np.asarray(block, dtype=np.float64)
            yield slice(start, start + block.shape[0]), block

    def hessian(self, theta):
        """The exact Hessian of the smooth cost, float64 (p, p).

        For each pair of classes ``(k, l)`` with weights ``d = D[:, k, l]``
        (``a (1 - a)`` for the binary model) the block is
        ``[X 1]^T diag(d) [X 1]``: ``X^T (d X)``, bordered by ``(d X)^T 1``
        and ``sum(d)``, so no column of ones is ever stacked onto X. Summed
        over row blocks (between ``HESSIAN_BLOCK_MIN_BYTES`` and
        ``HESSIAN_BLOCK_MAX_BYTES``, a tenth of X at most above the minimum),
        the only temporaries are a block and its scaled copy. ``O(m p^2)``
        work, ``O(p^2)`` memory.
        """
        D = self._curvature(self.scores(theta))  # (m, K, K) or (m,) weights
        if self.sample_weight is not None:
            D = D * self.sample_weight.reshape((-1,) + (1,) * (D.ndim - 1))
        D = D / self.weight_sum
        K, r, n = self.n_outputs, self.row_size, self.n_features
        H = np.zeros((K * r, K * r))
        for rows, block in self._row_blocks():
            for k in range(K):
                for l in range(k, K):
                    d = D[rows] if K == 1 else D[rows, k, l]
                    H_kl = H[k * r : (k + 1) * r, l * r : (l + 1) * r]
                    H_kl[:n, :n] += _weighted_gram(block, d, nonnegative=k == l)
                    if self.fit_intercept:
                        column = block.T @ d
                        H_kl[:n, n] += column
                        H_kl[n, :n] += column
                        H_kl[n, n] += d.sum()
        for k in range(K):  # fill the lower blocks, add the L2 term on coefficients
            for l in range(k):
                H[k * r : (k + 1) * r, l * r : (l + 1) * r] = H[l * r : (l + 1) * r, k * r : (k + 1) * r].T
        H[np.diag_indices_from(H)] += self.l2_weights
        return H

    def lipschitz_bound(self, n_power_iter=4, seed=0):
        """An estimate of the smooth gradient's Lipschitz constant ``L``.

        ``L = CURVATURE_BOUND * lambda_max([X 1]^T S [X 1]) / S + max l2 f_j``. The
        eigenvalue is estimated by a few power iterations (two passes over X
        each); solvers that use it guard the step with a sufficient-decrease
        test, so an estimate from below costs a backtracking step, never a
        divergence.
        """
        rng = np.random.default_rng(seed)
        v = rng.standard_normal(self.row_size)
        v /= np.linalg.norm(v)
        eig = 0.0
        for _ in range(n_power_iter):
            Gv = self._weighted_gram_times(v)
            eig = float(np.dot(v, Gv))
            norm = np.linalg.norm(Gv)
            if norm == 0:
                break
            v = Gv / norm
        # The Rayleigh quotient approaches lambda_max from below; the slack
        # makes most first steps succeed without backtracking.
        bound = 1.1 * self.CURVATURE_BOUND * eig / self.weight_sum + self.l2_max
        # All-zero data have a zero gradient already; any positive L will do.
        return bound if bound > 0 else 1.0

    def _weighted_gram_times(self, v):
        """``[X 1]^T S [X 1] v``, two passes over X (a backend evaluates it where the data live)."""
        n = self.n_features
        u = np.asarray(self.X @ v[:n].astype(self.dtype), dtype=np.float64)
        if self.fit_intercept:
            u += v[-1]
        if self.sample_weight is not None:
            u *= self.sample_weight
        Gv = np.empty(self.row_size)
        Gv[:n] = self.X.T @ u.astype(self.dtype)
        if self.fit_intercept:
            Gv[-1] = u.sum()
        return Gv

    def example_lipschitz_max(self):
        """``max_i L_i``: the largest Lipschitz constant of one example's cost.

        ``L_i = CURVATURE_BOUND (s_i / mean(s)) ||[x_i 1]||^2 + max l2 f_j``; one pass
        over X. Mini-batch SGD steps need this bound, not the full-batch one.
        """
        X = self.X
        sq_norms = np.asarray(X.multiply(X).sum(axis=1)).ravel() if sp.issparse(X) else np.einsum("ij,ij->i", X, X)
        sq_norms = sq_norms.astype(np.float64) + float(self.fit_intercept)
        if self.sample_weight is not None:
            sq_norms *= self.sample_weight * (self.n_samples / self.weight_sum)
        return self.CURVATURE_BOUND * float(sq_norms.max()) + self.l2_max

    @property
    def l2_max(self):
        """The largest L2 strength on any coefficient (its share of the curvature)."""
        return float(np.max(self.l2_weights, initial=0.0))

    def subset(self, rows):
        """The objective on the examples ``rows`` (a mini-batch), same penalty.

        Gathers those rows (a copy of the batch only, never of X).
        """
        s = None if self.sample_weight is None else self.sample_weight[rows]
        return type(self)(
            self.X[rows], self.y[rows], s, l1_ratio=self.l1_ratio, fit_intercept=self.fit_intercept,
            bounds=self.bounds, penalty_scale=self.penalty_scale, penalty_factor=self.penalty_factor,
            offset=None if self.offset is None else self.offset[rows], n_outputs=self.n_outputs,
        )


def _weighted_gram(block, d, nonnegative):
    """``block^T diag(d) block``.

    With ``d >= 0`` (``a_k (1 - a_k)``: the binary model, softmax's diagonal
    class blocks) it is the Gram matrix of ``sqrt(d) * block``, which BLAS's
    ``dsyrk`` forms in half the flops of a general product; otherwise
    (softmax's off-diagonal class pairs) a general product.
    """
    if not nonnegative:
        return block.T @ (block * d[:, None])
    root = block * np.sqrt(d)[:, None]
    # NumPy's matmul sends ``A.T @ A`` to BLAS syrk itself. SciPy's dsyrk would
    # run in a second OpenBLAS thread pool that fights NumPy's for the cores
    # (measured 2.5x slower Hessians on 2 cores).
    return root.T @ root


def _column_maxima(X):
    """``max_i |x_ij|`` per column, float64, without a copy of X."""
    if sp.issparse(X):
        return np.asarray(abs(X).max(axis=0).todense(), dtype=np.float64).ravel()
    if X.shape[0] == 0:
        return np.zeros(X.shape[1])
    return np.maximum(X.max(axis=0), -X.min(axis=0)).astype(np.float64)


def overflow_message(X, feature_names=None):
    """The error for X's columns too large to fit, or None if there are none.

    A column is too large when some ``|x_ij|`` exceeds the square root of
    the dtype's largest number: squares of such values (in the Hessian, the
    Lipschitz estimate behind every step size, the Gram matrices of
    separation detection) overflow to infinity, so no solver can fit it and
    an answer would be silently wrong. The message names each such column
    with its largest magnitude.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (m, n)
        Finite values.
    feature_names : sequence of str of shape (n,), optional

    Returns
    -------
    message : str or None
    """
    largest = _column_maxima(X)
    limit = np.sqrt(float(np.finfo(X.dtype).max))
    huge = np.flatnonzero(largest > limit)
    if huge.size == 0:
        return None
    described = ", ".join(
        f"column {j}" + ("" if feature_names is None else f" ({str(feature_names[j])!r})") + f" up to {largest[j]:.3g}"
        for j in huge[:10]
    )
    more = f" and {huge.size - 10} more" if huge.size > 10 else ""
    return (
        f"X has values too large to fit in {X.dtype}: {described}{more} in magnitude (the limit is "
        f"{limit:.3g}, beyond which their squares overflow). Rescale those columns first, e.g. divide "
        "each by its largest magnitude (sklearn.preprocessing.MaxAbsScaler)."
    )


class LogisticObjective(LinearObjective):
    """The binary model: ``K = 1``, sigmoid outputs, targets in {0, 1}.

    Parameters as for :class:`LinearObjective` (``n_outputs`` is 1).
    """

    CURVATURE_BOUND = 0.25  # a (1 - a) <= 1/4

    def __init__(self, X, y, sample_weight=None, **kwargs):
        kwargs.pop("n_outputs", None)
        super().__init__(X, y, sample_weight, n_outputs=1, **kwargs)

    def _kernel_loss_grad(self, W, b):
        """The smooth cost without the L2 term: the public kernel, ``w`` in float64."""
        J, dw, db = loss_and_grad(W[0], float(b[0]), self.X, self.y, self.sample_weight, offset=self.offset)
        return J, dw[None, :], np.array([db])

    def _curvature(self, Z):
        a = expit(Z[:, 0])
        return a * (1 - a)


class SoftmaxObjective(LinearObjective):
    """The multinomial model: ``K`` softmax outputs, targets are class indices."""

    CURVATURE_BOUND = 0.5  # the largest eigenvalue of diag(a) - a a^T

    def _kernel_loss_grad(self, W, b):
        return softmax_loss_and_grad(W, b, self.X, self.y, self.sample_weight, offset=self.offset)

    def hessian(self, theta):
        """The Hessian, made invertible along softmax's flat directions.

        Adding the same vector to every class's ``[w_k, b_k]`` does not change
        any probability, so ``H`` has eigenvalue 0 (intercepts) or ``l2``
        (coefficients) along the directions ``1_K (x) e_j``. The gradient has
        no component along them while the classes' rows sum to zero, which
        they do from a zero start; adding ``c P`` (``P`` the projector onto
        those directions) makes ``H`` positive definite without changing the
        Newton step, which then keeps the rows centered as scikit-learn's
        solutions are.
        """
        H = super().hessian(theta)
        K, r = self.n_outputs, self.row_size
        shift = np.trace(H) / H.shape[0]
        for column in range(r):
            index = column + r * np.arange(K)
            H[np.ix_(index, index)] += shift / K
        return H

    def _curvature(self, Z):
        A = softmax(Z, axis=1)
        return np.einsum("ik,kl->ikl", A, np.eye(self.n_outputs)) - A[:, :, None] * A[:, None, :]
