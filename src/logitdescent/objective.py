"""The objective that solvers minimize: the kernel bound to one data set.

Solvers see a flat parameter vector ``theta = [w_1, ..., w_n, b]`` (the ``b``
only when an intercept is fitted) and call :meth:`LogisticObjective.loss_grad`;
they never learn which kernel or backend computed the numbers. A backend (Dask,
say) plugs in by supplying an object with the same methods.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from .kernel import numpy_loss, numpy_loss_and_grad, penalty_strength

__all__ = ["LogisticObjective"]

#: Rows of X scaled at a time when forming the Hessian: a block that stays in
#: cache, large enough for BLAS to run at full speed.
HESSIAN_BLOCK_BYTES = 4 * 2**20


class LogisticObjective:
    """Mean log-loss plus L2 penalty on ``theta = [w, b]``, for the solvers.

    Parameters
    ----------
    X : {ndarray, scipy.sparse matrix} of shape (m, n)
        float32 or float64 examples; kept by reference, never copied.
    y : ndarray of shape (m,)
        Targets in {0, 1}, X's dtype.
    sample_weight : ndarray of shape (m,) or None
        Non-negative weights (class weights already folded in).
    C : float, default=inf
        Inverse L2 strength, scikit-learn's convention; ``inf`` means none.
    fit_intercept : bool, default=True
        Whether ``theta`` ends with the intercept ``b``.
    l2 : float, optional
        ``lambda`` itself, overriding the one derived from ``C`` (a mini-batch
        keeps the full data's penalty).

    Attributes
    ----------
    n_params : int
        ``n + fit_intercept``.
    weight_sum : float
        ``S``: the number of examples, or the sum of the sample weights.
    l2 : float
        ``lambda = 1 / (C S)``, the coefficient of ``lambda/2 ||w||^2``.
    """

    def __init__(self, X, y, sample_weight=None, *, C=np.inf, fit_intercept=True, l2=None):
        self.X = X
        self.y = y
        self.sample_weight = sample_weight
        self.fit_intercept = bool(fit_intercept)
        self.n_samples, self.n_features = X.shape
        self.n_params = self.n_features + int(self.fit_intercept)
        self.weight_sum = (
            float(X.shape[0]) if sample_weight is None else float(np.sum(sample_weight, dtype=np.float64))
        )
        self.l2 = penalty_strength(C, self.weight_sum) if l2 is None else float(l2)
        self.n_evals = 0

    @property
    def dtype(self):
        return self.X.dtype

    @property
    def cost_rtol(self):
        """Relative rounding error of a computed cost (scores are in X's dtype)."""
        return 64 * float(np.finfo(self.dtype).eps)

    def split(self, theta):
        """``theta -> (w, b)``; ``b`` is 0.0 without an intercept."""
        theta = np.asarray(theta)
        if self.fit_intercept:
            return theta[:-1], float(theta[-1])
        return theta, 0.0

    def join(self, w, b):
        """``(w, b) -> theta`` in float64, the solvers' working precision."""
        w = np.asarray(w, dtype=np.float64).ravel()
        return np.concatenate([w, [float(b)]]) if self.fit_intercept else w.copy()

    def loss_grad(self, theta):
        """Cost ``J`` and gradient ``dJ/dtheta`` (float64, shape ``(n_params,)``)."""
        self.n_evals += 1
        w, b = self.split(theta)
        J, dw, db = numpy_loss_and_grad(
            np.asarray(w, dtype=self.dtype), b, self.X, self.y, self.sample_weight, self.l2
        )
        grad = np.empty(self.n_params)
        grad[: self.n_features] = dw
        if self.fit_intercept:
            grad[-1] = db
        return J, grad

    def loss(self, theta):
        """Cost only: one pass over X instead of two, for line searches."""
        w, b = self.split(theta)
        return numpy_loss(np.asarray(w, dtype=self.dtype), b, self.X, self.y, self.sample_weight, self.l2)

    def subset(self, rows):
        """The objective on the examples ``rows`` (a mini-batch), same penalty.

        Gathers those rows (a copy of the batch only, never of X).
        """
        s = None if self.sample_weight is None else self.sample_weight[rows]
        return LogisticObjective(
            self.X[rows], self.y[rows], s, fit_intercept=self.fit_intercept, l2=self.l2
        )

    def decision(self, theta, rows=slice(None)):
        w, b = self.split(theta)
        return self.X[rows] @ np.asarray(w, dtype=self.dtype) + b

    def _curvature_weights(self, theta):
        """``d_i = s_i a_i (1 - a_i) / S``, the Hessian's diagonal weights."""
        a = expit(self.decision(theta))
        d = a * (1 - a)
        if self.sample_weight is not None:
            d *= self.sample_weight
        return d / self.weight_sum

    def hessian(self, theta):
        """The exact Hessian, ``[X 1]^T D [X 1] + lambda I_w``, float64 (p, p).

        ``X^T D X`` is summed over row blocks of about ``HESSIAN_BLOCK_BYTES``,
        so the only temporary is one scaled block, never a scaled copy of X.
        For moderate ``n`` only (``O(m n^2)`` work, ``O(n^2)`` memory).
        """
        d = self._curvature_weights(theta).astype(np.float64)
        X = self.X
        n, p = self.n_features, self.n_params
        H = np.zeros((p, p))
        if sp.issparse(X):
            H[:n, :n] = (X.T @ sp.diags(d.astype(X.dtype)) @ X).toarray()
        else:
            rows = max(1, HESSIAN_BLOCK_BYTES // max(1, n * X.itemsize))
            dX = np.empty((min(rows, X.shape[0]), n), dtype=X.dtype)
            for start in range(0, X.shape[0], rows):
                block = X[start : start + rows]
                scaled = dX[: block.shape[0]]
                np.multiply(block, d[start : start + rows, None].astype(X.dtype), out=scaled)
                H[:n, :n] += block.T @ scaled
        if self.fit_intercept:
            H[:n, n] = H[n, :n] = np.asarray(X.T @ d.astype(X.dtype), dtype=np.float64).ravel()
            H[n, n] = d.sum()
        H[np.arange(n), np.arange(n)] += self.l2
        return H

    def example_lipschitz_max(self):
        """``max_i L_i``: the largest Lipschitz constant of one example's cost.

        ``L_i = (s_i / mean(s)) ||[x_i 1]||^2 / 4 + lambda``; one pass over X.
        Mini-batch SGD steps need this bound, not the full-batch one.
        """
        X = self.X
        sq_norms = np.asarray(X.multiply(X).sum(axis=1)).ravel() if sp.issparse(X) else np.einsum("ij,ij->i", X, X)
        sq_norms = sq_norms.astype(np.float64) + float(self.fit_intercept)
        if self.sample_weight is not None:
            sq_norms *= self.sample_weight * (self.n_samples / self.weight_sum)
        return float(sq_norms.max()) / 4.0 + self.l2

    def lipschitz_bound(self, n_power_iter=4, seed=0):
        """An estimate of the gradient's Lipschitz constant ``L``.

        ``L = lambda_max([X 1]^T S [X 1]) / (4 S) + lambda``, since
        ``a (1 - a) <= 1/4``. The largest eigenvalue is estimated by a few
        power iterations (two passes over X each); solvers that use it guard
        the step with a sufficient-decrease test, so an estimate from below
        costs a backtracking step, never a divergence.
        """
        rng = np.random.default_rng(seed)
        v = rng.standard_normal(self.n_params)
        v /= np.linalg.norm(v)
        s = self.sample_weight
        eig = 0.0
        for _ in range(n_power_iter):
            w, b = self.split(v)
            u = np.asarray(self.X @ w.astype(self.dtype), dtype=np.float64) + b
            if s is not None:
                u *= s
            Gv = np.empty(self.n_params)
            Gv[: self.n_features] = self.X.T @ u.astype(self.dtype)
            if self.fit_intercept:
                Gv[-1] = u.sum()
            eig = float(np.dot(v, Gv))
            norm = np.linalg.norm(Gv)
            if norm == 0:
                break
            v = Gv / norm
        # The Rayleigh quotient approaches lambda_max from below; the slack
        # makes most first steps succeed without backtracking.
        bound = 1.1 * eig / (4.0 * self.weight_sum) + self.l2
        # All-zero data has a zero gradient already; any positive L will do.
        return bound if bound > 0 else 1.0
