"""Proximal Newton for L1 and elastic-net: IRLS with coordinate descent.

The method of glmnet (Friedman, Hastie & Tibshirani 2010), newGLMNET (Yuan,
Ho & Lin 2012) and glum's ``irls-cd``. At the iterate ``theta`` the smooth
cost (mean log-loss + L2) is replaced by its quadratic model, and the model
plus the non-smooth part (``l1 ||W||_1`` and coefficient bounds) is
minimized by coordinate descent (:func:`logitdescent._cd.cd_quadratic`)::

    d = argmin_d  g.d + 1/2 d^T H d + l1 ||W + d_W||_1,   lower <= W + d_W <= upper

with ``H = [X 1]^T D [X 1] + l2`` (``D = diag(s a (1 - a)) / S``). A line
search on the true cost accepts ``theta + t d`` once (Tseng & Yun 2009)::

    F(theta + t d) <= F(theta) + sigma t Delta,
    Delta = g.d + l1 (||W + d_W||_1 - ||W||_1) < 0.

Three levels keep the work proportional to the support, not to ``n``:

1. **Working set** (outer loop). One pass of the kernel
   (``objective.loss_grad``) gives the full gradient and the shared stopping
   rule. The working set is every coordinate that is nonzero, violates the
   optimality conditions, or whose gradient is within ``WORKING_MARGIN`` of
   the L1 threshold; the others stay zero until the next full check. Along a
   path the first working set is the sequential strong rule's
   (Tibshirani et al. 2012): ``|g_j| >= 2 l1_new - l1_old``.
2. **Proximal Newton on the working set** (inner loop). The working set's
   columns are gathered once (``m x |W|``, float64; a CSC slice for sparse X,
   never densified); the gradient, the Hessian ``X_W^T D X_W`` and the
   step's scores ``X_W d`` come from them, and the line search runs on the
   scores ``z + t X_W d`` (``O(m)`` per trial, no pass over X). It stops at
   ``INNER_TOL_FRACTION * tol`` on the working set; then level 1 checks
   every coordinate (the KKT check that makes screening safe).
3. **Coordinate descent** on the working set's quadratic model, with
   glmnet's active-set cycling, to an accuracy ``INNER_RATIO`` times the
   current optimality (an inexact Newton step, as in newGLMNET). Without an
   L1 term or bounds the model is minimized exactly by a Cholesky solve: the
   solver is then Newton's method on the working set.

For the multinomial model the quadratic model is the full softmax Hessian
over the working set (``K^2`` blocks ``X_W^T diag(s (p_k [k = l] - p_k p_l)
/ S) X_W``), so the steps are Newton steps there too; its flat directions
(the same vector added to every class) are harmless to coordinate descent,
which needs only positive diagonal entries.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from scipy.special import expit, logsumexp, softmax

from .. import _cd
from ._common import CostHistory, finish, gradient_converged

__all__ = ["solve", "minimize"]

#: Armijo constant of the line search on the true cost (newGLMNET's sigma).
ARMIJO = 0.01
#: Step shrink factor of the line search.
SHRINK = 0.5
#: Backtracking steps before the search gives up.
MAX_BACKTRACK = 30
#: Coordinate descent stops when a full sweep changes no coordinate's model
#: gradient by more than ``min(INNER_RATIO opt, opt^2)``, ``opt`` the current
#: max |optimality|: a forcing term that shrinks with ``opt``, so the inexact
#: Newton steps converge superlinearly (sweeps cost ``O(|W|^2)``, far less
#: than the step's passes over ``X_W``).
INNER_RATIO = 0.1
#: Cap on coordinate-descent sweeps per Newton step.
MAX_SWEEPS = 1000
#: Zero coordinates whose |gradient| is at least ``(1 - margin) l1`` are
#: candidates for the working set: the ones likely to leave zero next.
WORKING_MARGIN = 0.1
#: The working set holds every nonzero feature and, of the candidates, those
#: of largest |gradient|, up to ``max(WORKING_MIN, WORKING_GROWTH * nonzeros)``
#: features in all (skglm's doubling rule): from zero, correlated features
#: make nearly every gradient exceed l1, and a Hessian over all of them
#: would cost ``m n^2`` per step for a support a fifth that size.
WORKING_MIN = 10
WORKING_GROWTH = 2
#: A working set's problem is solved until its max |optimality| is this
#: fraction of the whole problem's at the last full check (then the full
#: check again), ...
OUTER_RATIO = 0.1
#: ... or down to this fraction of ``tol``, below which the kernel's
#: gradient (rounded differently) should agree that the fit has converged.
INNER_TOL_FRACTION = 0.5
#: A step whose predicted decrease is below the cost's rounding and which left
#: max |optimality| above this fraction of the last one: the floor is reached.
STALL_RATIO = 0.5
#: Relative rounding of the costs the line search compares (float64 scores).
COST_RTOL = 64 * float(np.finfo(np.float64).eps)


def solve(objective, theta0, *, max_iter, tol, callback=None):
    """Minimize ``objective`` by proximal Newton steps (IRLS + coordinate descent).

    Parameters
    ----------
    objective : LogisticObjective or SoftmaxObjective
        Supplies the data, the penalty (``l1``, ``l2``), bounds and
        ``loss_grad`` for the full check.
    theta0 : ndarray of shape (n_params,)
        Starting point; coefficients outside the bounds are clipped to them.
    max_iter : int
        Maximum number of proximal Newton updates.
    tol : float
        Stop when ``max |optimality| <= tol`` (the shared rule).
    callback : callable, optional
        ``callback(iteration, cost)`` after every update.

    Returns
    -------
    SolverResult
    """
    return minimize(objective, theta0, max_iter=max_iter, tol=tol, callback=callback)


def minimize(objective, theta0, *, max_iter, tol, callback=None, screen=True, first_margin=None, columns=None):
    """:func:`solve` with the screening options a path needs.

    Parameters
    ----------
    objective, theta0, max_iter, tol, callback
        As for :func:`solve`.
    screen : bool, default=True
        Restrict each Newton step to a working set. ``False`` puts every
        coordinate in it (the unscreened reference the tests compare with).
    first_margin : float, optional
        The first working set's margin instead of ``WORKING_MARGIN``: the
        sequential strong rule's ``l1_old / l1_new - 1`` along a path.
    columns : ColumnSource, optional
        X prepared for gathering columns (a path converts sparse X to CSC
        once for all its fits).

    Returns
    -------
    SolverResult
    """
    if not (isinstance(max_iter, (int, np.integer)) and max_iter >= 0):
        raise ValueError(f"max_iter must be a non-negative integer; got {max_iter!r}.")
    if not tol >= 0:
        raise ValueError(f"tol must be a non-negative float; got {tol!r}.")
    state = _State(objective, theta0, columns)
    J, grad = objective.loss_grad(state.theta)
    history = CostHistory(objective, callback)
    history.record(state.theta, J)
    n_iter = 0
    message = f"reached max_iter={max_iter}"
    margin = WORKING_MARGIN if first_margin is None else first_margin
    previous = None
    while True:
        optimality = objective.optimality(state.theta, grad)
        if gradient_converged(optimality, tol):
            break
        if n_iter >= max_iter:
            break
        features = state.working_set(grad, optimality, margin if screen else None)
        margin = WORKING_MARGIN
        inner_tol = max(INNER_TOL_FRACTION * tol, OUTER_RATIO * float(np.max(np.abs(optimality))))
        steps, stop = state.newton_on(features, max_iter - n_iter, inner_tol, history)
        n_iter += steps
        if stop is not None:
            message = stop
            J, grad = objective.loss_grad(state.theta)
            break
        if steps == 0 and previous is not None and np.array_equal(previous, features):
            # The working set is solved as far as its own gradient can tell and
            # the kernel's gradient (rounded differently) still says no.
            message = "gradient at the rounding floor of the data's dtype"
            break
        previous = features
        J, grad = objective.loss_grad(state.theta)
    return finish(objective, state.theta, J, grad, n_iter, history, tol, message)


#: Bytes of float64 columns handled at a time (Gram, products) when they are
#: read from X: each block and its scaled copy are temporaries, kept within
#: the memory goal of tests/test_memory.py (a tenth of X at m = 5e4).
BLOCK_BYTES = 2**20
#: The same for a gathered working set, which already holds ``m |W|``
#: numbers: larger blocks, for BLAS speed (the objective's Hessian measured
#: 1 MiB blocks 10x slower than 16 MiB ones).
GATHERED_BLOCK_BYTES = 16 * 2**20


class ColumnSource:
    """X as the solver reads it: the working set's columns in float64.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (m, n)
        Dense X is read in place; sparse X is converted to CSC once (a copy of
        its nonzeros, never a dense array).
    """

    def __init__(self, X):
        self.sparse = sp.issparse(X)
        self.X = X.tocsc() if self.sparse else X
        self._key = None
        self._columns = None

    def take(self, features):
        """The columns ``features`` (a boolean mask) as :class:`Columns`; the last one is reused."""
        key = features.tobytes()
        if key != self._key:
            self._columns = Columns(self.X, np.flatnonzero(features), self.sparse)
            self._key = key
        return self._columns


class Columns:
    """``X[:, idx]`` in float64, gathered once, or read in row blocks.

    A working set of at most half the features is gathered into one float64
    array (each Newton step then reads ``m |W|`` numbers, not ``m n``); a
    larger one (every feature, without L1) is read from X in row blocks of
    ``BLOCK_BYTES``, so the solver never holds a copy of X. Products and Gram
    matrices are summed over row blocks either way: the only temporaries are
    blocks.
    """

    def __init__(self, X, idx, sparse):
        self.idx, self.sparse, self.m = idx, sparse, X.shape[0]
        self.X = None
        if sparse:
            self.A = X[:, idx].astype(np.float64)
        elif 2 * idx.size <= X.shape[1]:
            self.A = np.asarray(X[:, idx], dtype=np.float64)
        else:
            self.A, self.X = None, X
        budget = BLOCK_BYTES if self.A is None else GATHERED_BLOCK_BYTES
        self.rows = max(1, budget // (8 * max(1, idx.size)))

    def _blocks(self):
        if self.sparse:
            yield slice(None), self.A
            return
        for start in range(0, self.m, self.rows):
            rows = slice(start, min(self.m, start + self.rows))
            if self.A is not None:
                yield rows, self.A[rows]
            elif self.idx.size == self.X.shape[1]:
                yield rows, np.asarray(self.X[rows], dtype=np.float64)
            else:
                yield rows, np.asarray(self.X[rows][:, self.idx], dtype=np.float64)

    def rmatvec(self, R):
        """``X_W^T R`` for R of shape (m, K): (|W|, K)."""
        out = np.zeros((self.idx.size, R.shape[1]))
        for rows, block in self._blocks():
            out += block.T @ R[rows]
        return out

    def matvec(self, S):
        """``X_W S`` for S of shape (|W|, K): (m, K)."""
        out = np.empty((self.m, S.shape[1]))
        for rows, block in self._blocks():
            out[rows] = block @ S
        return out

    def gram(self, D, nonnegative=True):
        """``X_W^T diag(D) X_W`` (|W|, |W|) and ``X_W^T D`` (|W|,)."""
        H = np.zeros((self.idx.size, self.idx.size))
        border = np.zeros(self.idx.size)
        for rows, block in self._blocks():
            d = D[rows]
            if self.sparse:
                H += np.asarray((block.T @ sp.diags(d) @ block).toarray())
            elif nonnegative:
                root = block * np.sqrt(d)[:, None]
                H += root.T @ root  # NumPy sends A.T @ A to BLAS syrk
            else:  # softmax's off-diagonal class pairs
                H += block.T @ (block * d[:, None])
            border += np.asarray(block.T @ d).ravel()
        return H, border


class _State:
    """The iterate, its scores and the pieces of the objective the steps need."""

    def __init__(self, objective, theta0, columns):
        self.obj = objective
        K, n = objective.n_outputs, objective.n_features
        self.K, self.n, self.r = K, n, objective.row_size
        self.fit_intercept = objective.fit_intercept
        lower, upper = objective.coef_bounds()
        self.lower = lower.reshape(K, self.r)
        self.upper = upper.reshape(K, self.r)
        theta = np.array(theta0, dtype=np.float64)
        if theta.shape != (objective.n_params,):
            raise ValueError(f"theta0 must have shape ({objective.n_params},); got {theta.shape}.")
        self.theta = np.clip(theta, lower, upper)
        self.rows = self.theta.reshape(K, self.r)  # a view: rows[k] = [w_k, b_k]
        self.l1 = objective.l1  # whether there is an L1 term at all
        # Per-feature strengths l1 f_j and l2 f_j (the same for every class).
        self.l1_f = objective.coef_part(objective.l1_weights)[0].copy()
        self.l2_f = objective.coef_part(objective.l2_weights)[0].copy()
        self.columns = ColumnSource(objective.X) if columns is None else columns
        s = objective.sample_weight
        self.s_over_S = (np.full(objective.n_samples, 1.0 / objective.weight_sum) if s is None
                         else np.asarray(s, dtype=np.float64) / objective.weight_sum)
        y = np.asarray(objective.y)
        if K == 1:
            self.Y = np.asarray(y, dtype=np.float64)[:, None]
        else:
            codes = y.astype(np.intp)
            self.codes = codes
            self.Y = np.zeros((objective.n_samples, K))
            self.Y[np.arange(objective.n_samples), codes] = 1.0
        W = self.rows[:, :n]
        if np.any(W != 0):
            self.z = objective.scores(self.theta)
        else:  # every coefficient zero: the scores are the intercepts (and offset), no pass over X
            self.z = np.broadcast_to(self._intercepts(), (objective.n_samples, K)).copy()
            if objective.offset is not None:
                self.z += objective.offset.reshape(self.z.shape)

    def _intercepts(self):
        return self.rows[:, -1] if self.fit_intercept else np.zeros(self.K)

    # -- the cost from the scores ------------------------------------------

    def _probabilities(self, z):
        return expit(z) if self.K == 1 else softmax(z, axis=1)

    def _smooth_loss(self, z):
        if self.K == 1:
            per_example = np.logaddexp(0.0, z[:, 0]) - self.Y[:, 0] * z[:, 0]
        else:
            per_example = logsumexp(z, axis=1) - z[np.arange(z.shape[0]), self.codes]
        return float(np.dot(self.s_over_S, per_example))

    def _penalty(self, W):
        return 0.5 * float(np.sum(self.l2_f * W * W)) + float(np.sum(self.l1_f * np.abs(W)))

    # -- the working set ---------------------------------------------------

    def working_set(self, grad, optimality, margin):
        """Boolean mask of the features any class's step may change."""
        n = self.n
        if margin is None:
            return np.ones(n, dtype=bool)
        G = grad.reshape(self.K, self.r)[:, :n]
        O = optimality.reshape(self.K, self.r)[:, :n]
        nonzero = np.any(self.rows[:, :n] != 0, axis=0)
        violating = np.any(O != 0, axis=0)
        if self.l1 == 0:  # no sparsity to exploit: Newton on every coordinate that can move
            return nonzero | violating
        size = np.max(np.abs(G), axis=0)
        candidates = np.flatnonzero(~nonzero & (violating | (size >= (1.0 - margin) * self.l1_f)))
        room = max(WORKING_MIN, WORKING_GROWTH * int(nonzero.sum())) - int(nonzero.sum())
        if candidates.size > room:  # violators first, then by |gradient|
            order = np.lexsort((-size[candidates], ~violating[candidates]))
            candidates = candidates[order[:room]]
        chosen = nonzero.copy()
        chosen[candidates] = True
        return chosen

    # -- proximal Newton on one working set ---------------------------------

    def _restricted(self, idx):
        """The columns of ``rows`` a step may change, and their L1 and L2 strengths."""
        if not self.fit_intercept:
            return idx, self.l1_f[idx], self.l2_f[idx]
        return np.append(idx, self.n), np.append(self.l1_f[idx], 0.0), np.append(self.l2_f[idx], 0.0)

    def newton_on(self, features, max_steps, tol, history):
        """Proximal Newton steps changing only ``features`` (and intercepts).

        Returns ``(steps, message)``; ``message`` is None unless the steps
        stopped for good (line search failure or rounding floor).
        """
        idx = np.flatnonzero(features)
        XW = self.columns.take(features)
        cols, l1, l2 = self._restricted(idx)
        lower, upper = self.lower[:, cols], self.upper[:, cols]
        smooth = self._smooth_loss(self.z)
        cost = smooth + self._penalty(self.rows[:, : self.n])
        steps = 0
        previous_opt = np.inf
        while steps < max_steps:
            P = self._probabilities(self.z)
            R = self.s_over_S[:, None] * (P - self.Y)
            V = self.rows[:, cols]  # copies: (K, |W|+1)
            G = np.empty_like(V)
            G[:, : idx.size] = XW.rmatvec(R).T + l2[: idx.size] * V[:, : idx.size]
            if self.fit_intercept:
                G[:, -1] = R.sum(axis=0)
            # The shared optimality vector, on these coordinates.
            trial = V - G
            trial = np.sign(trial) * np.maximum(np.abs(trial) - l1, 0.0)  # l1 = 0: unchanged
            opt = float(np.max(np.abs(V - np.clip(trial, lower, upper)), initial=0.0))
            if tol > 0 and opt <= tol:
                break
            H = self._hessian(XW, P, l2[: idx.size])
            step = self._model_step(H, G.ravel(), V.ravel(), lower.ravel(), upper.ravel(),
                                    np.tile(l1, self.K), opt).reshape(V.shape)
            delta = float(np.sum(G * step))
            if self.l1:
                delta += float(np.sum(l1 * (np.abs(V + step) - np.abs(V))))
            if not np.any(step):
                return steps, "gradient at the rounding floor of the data's dtype"
            # Near the optimum the predicted decrease (~opt^2 / H_jj) is below
            # the rounding of the L1 term's change: take the step if the
            # true cost does not rise beyond its own rounding.
            delta = min(delta, 0.0)
            if -delta <= COST_RTOL * abs(cost) and opt > STALL_RATIO * previous_opt:
                return steps, "gradient at the rounding floor of the data's dtype"
            previous_opt = opt
            Q = XW.matvec(step[:, : idx.size].T)
            if self.fit_intercept:
                Q += step[:, -1]
            t = 1.0
            for _ in range(MAX_BACKTRACK):
                z_new = self.z + t * Q
                V_new = V + t * step
                W_new = self.rows[:, : self.n].copy()
                W_new[:, idx] = V_new[:, : idx.size]
                smooth_new = self._smooth_loss(z_new)
                cost_new = smooth_new + self._penalty(W_new)
                if cost_new <= cost + ARMIJO * t * delta + COST_RTOL * abs(cost):
                    break
                t *= SHRINK
            else:
                return steps, "line search found no decrease (cost is flat to machine precision)"
            self.rows[:, cols] = V_new
            self.z = z_new
            cost = cost_new
            steps += 1
            history.record_cost(cost)
        return steps, None

    def _hessian(self, XW, P, l2):
        """The working set's Hessian, (K c, K c) with ``c = len(l2) + fit_intercept``.

        Block ``(k, l)`` is ``[X_W 1]^T diag(d_kl) [X_W 1]`` with
        ``d_kl = s (p_k [k = l] - p_k p_l) / S`` (``s a (1 - a) / S`` for
        the binary model), plus the features' L2 strengths ``l2`` on the
        coefficients' diagonal.
        """
        K, n_cols = self.K, l2.size
        c = n_cols + int(self.fit_intercept)
        H = np.empty((K * c, K * c))
        for k in range(K):
            for l in range(k, K):
                d = self.s_over_S * ((P[:, k] if k == l else 0.0) - P[:, k] * P[:, l])
                block = H[k * c : (k + 1) * c, l * c : (l + 1) * c]
                block[:n_cols, :n_cols], border = XW.gram(d, nonnegative=k == l)
                if self.fit_intercept:
                    block[:n_cols, -1] = border
                    block[-1, :n_cols] = border
                    block[-1, -1] = d.sum()
                if l != k:
                    H[l * c : (l + 1) * c, k * c : (k + 1) * c] = block.T
        for k in range(K):
            diagonal = np.arange(k * c, k * c + n_cols)
            H[diagonal, diagonal] += l2
        return H

    def _model_step(self, H, g, v, lower, upper, l1, opt):
        """The minimizer of the quadratic model plus L1 and bounds, as a step."""
        if not np.any(l1) and not (np.any(np.isfinite(lower)) or np.any(np.isfinite(upper))):
            try:
                factor = scipy.linalg.cho_factor(H, lower=True, check_finite=False)
                return -scipy.linalg.cho_solve(factor, g, check_finite=False)
            except scipy.linalg.LinAlgError:  # singular (unpenalized, collinear): least squares
                return -scipy.linalg.lstsq(H, g, check_finite=False)[0]
        d, _ = _cd.cd_quadratic(H, g, v, l1, lower, upper, min(INNER_RATIO * opt, opt * opt), MAX_SWEEPS)
        return d
