"""L-BFGS preconditioned by the Cholesky factor of a subsampled Hessian.

L-BFGS needs more iterations the worse the problem is conditioned (about 300
on the benchmark's correlated data, condition ~1e3, where ~6 do on
well-conditioned data); Newton needs few iterations whatever the conditioning,
but each forms an ``O(m p^2)`` Hessian. This solver pays for one *small*
Hessian and then runs L-BFGS on a problem that it has made well-conditioned:

1. Draw ``min(m, SKETCH_ROWS_PER_PARAM * p)`` rows uniformly at random
   (without replacement, a fixed seed: fits are reproducible) and form the
   Hessian of the cost on those rows, with the full data's penalty, at the
   starting point: ``H_s = L L^T`` (Cholesky). Its cost is ``O(p^3)``, not
   ``O(m p^2)``: ~4 ms for p = 100. If ``H_s`` is well-conditioned
   (``MIN_CONDITION``), there is nothing to fix and the sample's noise would
   only hurt: ``L = I``, plain L-BFGS.
2. Minimize ``f(u) = J(theta_0 + L^{-T} u)`` with SciPy's L-BFGS-B. Its
   gradient is ``L^{-1} grad J`` and its Hessian ``L^{-1} H L^{-T}``, close to
   the identity when ``H_s`` is close to ``H``: a Hessian from ``r`` random
   rows is within a relative error of about ``sqrt(p log p / r)`` of the full
   one (matrix concentration), and L-BFGS corrects the rest, including the
   drift of ``H`` away from the starting point, from its correction pairs.
   L-BFGS-B's first step is then along the (subsampled) Newton direction.

Each iteration costs one pass over X plus two triangular solves (``O(p^2)``).
The stopping rule is the shared one, ``max |grad J| <= tol`` in the original
parameters, checked after every iteration. Newton's method finishes when an
iteration's decrease is within the cost's rounding (near max |grad| ~ 1e-9
in float64 that is the floor, where L-BFGS-B's line search can no longer see
progress; Newton detects the floor and stops cleanly) and after
``HANDOVER_ITER`` iterations (the preconditioner misjudged the problem).

Smooth problems only (L2 or no penalty), like Newton: bounds on ``theta``
would become general linear constraints on ``u``.

References
----------
F. Roosta-Khorasani, M. W. Mahoney, "Sub-sampled Newton methods", Math.
Program. 174 (2019). M. A. Erdogdu, A. Montanari, "Convergence rates of
sub-sampled Newton methods", NeurIPS 2015.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from scipy.optimize import minimize

from . import newton
from ._common import CostHistory, finish, gradient_converged, require_smooth

#: Rows sampled per parameter for the preconditioner. 32 p rows give a
#: relative Hessian error of ~0.4 for p ~ 100 (L-BFGS absorbs that in a few
#: iterations); on the benchmark's correlated 1e5 x 100 data 8 p to m/4 rows
#: all reached the target in 5-8 iterations against ~110 without it.
SKETCH_ROWS_PER_PARAM = 32
#: Seed of the row sample (fits are deterministic).
SKETCH_SEED = 0
#: Sampled Hessians with a condition number up to this are left alone: plain
#: L-BFGS. Sampling noise alone gives ~2 (the Marchenko-Pastur edges for
#: p / r = 1/32: ((1 + sqrt(p/r)) / (1 - sqrt(p/r)))^2 = 2.05), and on
#: well-conditioned data (the benchmark's 1e6 x 100, condition 1.9) the noisy
#: factor cost L-BFGS an iteration. On ``ldbench.data.correlated(1e5, 100,
#: cond)`` the time to the benchmark's target was 75 ms preconditioned
#: against 83 ms plain at cond = 10, and 53 ms against 132 ms at cond = 30.
MIN_CONDITION = 10.0
#: Relative ridge (times the mean diagonal) added when the sampled Hessian is
#: not numerically positive definite (unpenalized fits on collinear rows).
RIDGE = 1e-8
#: Correction pairs kept by L-BFGS-B (as in solvers/lbfgs.py).
HISTORY_SIZE = 10
#: L-BFGS iterations after which Newton takes over. A good preconditioner
#: converges in far fewer (12-13 to tol=1e-10 on the benchmark's correlated
#: data); one that misjudged the problem (a start point whose curvature says
#: little about the optimum's, features too rare for the row sample) would
#: otherwise cost hundreds, where Newton needs a handful.
HANDOVER_ITER = 25


def sketch_rows(n_samples, n_params, seed=SKETCH_SEED, sample_weight=None, candidates=None):
    """Sorted row indices of the preconditioner's sample, or None for all rows.

    Rows of zero weight add nothing to the Hessian: the sample is drawn
    among the others (a sample of weightless rows would have no curvature).
    ``candidates``, the sorted indices of those rows when already known
    (None: all rows, or those where ``sample_weight`` is positive), spares
    reading the weights here.
    """
    if candidates is None and sample_weight is not None:
        candidates = np.flatnonzero(np.asarray(sample_weight) > 0)
    available = n_samples if candidates is None else candidates.size
    size = SKETCH_ROWS_PER_PARAM * n_params
    if size >= available:
        return candidates if candidates is not None and available < n_samples else None
    rows = np.random.default_rng(seed).choice(available, size=size, replace=False)
    if candidates is not None:
        rows = candidates[rows]
    rows.sort()  # gathering in order reads X front to back
    return rows


def preconditioner(objective, theta):
    """``(L, condition)``: the lower Cholesky factor of the subsampled Hessian at ``theta``.

    ``L`` is None (no preconditioning: plain L-BFGS) when the sampled Hessian
    is well-conditioned (``condition <= MIN_CONDITION``), zero (no curvature
    at all), not finite (negative sample weights), or not positive definite
    even with a small ridge.
    """
    if hasattr(objective, "positive_weight_rows"):
        # Data that live elsewhere (a Dask cluster) say which rows weigh
        # something without sending the whole weight vector here.
        rows = sketch_rows(objective.n_samples, objective.n_params, candidates=objective.positive_weight_rows())
    else:
        rows = sketch_rows(objective.n_samples, objective.n_params, sample_weight=objective.sample_weight)
    sample = objective if rows is None else objective.subset(rows)
    with np.errstate(invalid="ignore", divide="ignore"):  # negative weights: NaN, handled below
        H = sample.hessian(theta)
    if not np.all(np.isfinite(H)):
        return None, np.nan
    eigenvalues = scipy.linalg.eigvalsh(H, check_finite=False)
    if eigenvalues[-1] <= 0:
        return None, np.nan
    condition = eigenvalues[-1] / eigenvalues[0] if eigenvalues[0] > 0 else np.inf
    if condition <= MIN_CONDITION:
        return None, condition
    ridge = RIDGE * float(np.trace(H)) / H.shape[0]
    for shift in (0.0, ridge):
        try:
            L = scipy.linalg.cholesky(H + shift * np.eye(H.shape[0]), lower=True, check_finite=False)
            return L, condition
        except scipy.linalg.LinAlgError:
            continue
    return None, condition  # pragma: no cover - the ridge makes H positive definite


def solve(objective, theta0, *, max_iter, tol, callback=None):
    """Minimize ``objective`` by L-BFGS in subsampled-Newton coordinates.

    Parameters
    ----------
    objective : LinearObjective
        Smooth (no L1 term or bounds); supplies ``loss_grad``, ``hessian`` and
        ``subset``.
    theta0 : ndarray of shape (n_params,)
    max_iter : int
        Maximum number of iterations (L-BFGS and any Newton finish together).
    tol : float
        Stop when ``max |grad| <= tol``.
    callback : callable, optional
        ``callback(iteration, cost)`` at the start and after every iteration.

    Returns
    -------
    SolverResult
    """
    require_smooth(objective, "precond-lbfgs")
    theta0 = np.array(theta0, dtype=np.float64)
    history = CostHistory(objective, callback)
    J, grad = objective.loss_grad(theta0)
    history.record(theta0, J)
    if gradient_converged(grad, tol) or max_iter <= 0:
        return finish(objective, theta0, J, grad, 0, history, tol, f"reached max_iter={max_iter}")

    stop = {"why": None}

    def record(intermediate_result):  # SciPy calls it after every iteration
        previous, J_new = history.costs[-1], float(intermediate_result.fun)
        history.record_cost(J_new)
        if problem.converged_at(intermediate_result.x, tol):
            stop["why"] = "gradient below tol"
            raise StopIteration  # SciPy then returns this iterate
        if previous - J_new <= objective.cost_rtol * abs(previous):
            # The decrease is lost in the cost's rounding: at the floor, or
            # progress too slow for L-BFGS to be worth continuing. Either way
            # Newton takes over (a few Hessians of p <= 512 parameters).
            stop["why"] = "a step's decrease was within the cost's rounding"
            raise StopIteration

    # The sample's Hessian too: BLAS threads woken by it would still be
    # spinning during the first passes (measured: +50 ms on 1e6 x 100).
    L, condition = preconditioner(objective, theta0)
    problem = _Preconditioned(objective, theta0, L, J, grad)
    opt = minimize(
        problem.fun, np.zeros_like(theta0), method="L-BFGS-B", jac=True, callback=record,
        options={"maxiter": min(max_iter, HANDOVER_ITER), "gtol": 0.0, "ftol": 0.0, "maxcor": HISTORY_SIZE},
    )
    kind = "plain" if L is None else "preconditioned"
    why = stop["why"] or (f"{opt.nit} iterations" if opt.nit >= HANDOVER_ITER else str(opt.message))
    n_iter, message = int(opt.nit), f"L-BFGS-B ({kind}, sampled Hessian condition {condition:.3g}): {why}"
    theta, J, grad = problem.evaluation(np.asarray(opt.x))
    if not gradient_converged(grad, tol) and n_iter < max_iter:
        # At the cost's rounding floor Newton's steps are exact enough to
        # shrink the gradient further, and it knows when to stop there;
        # after HANDOVER_ITER iterations it converges where L-BFGS crawls.
        tail = newton.solve(objective, theta, max_iter=max_iter - n_iter, tol=tol,
                            callback=lambda i, cost: i and history.record_cost(cost))
        theta, n_iter = tail.x, n_iter + tail.n_iter
        message = f"{message}; then Newton: {tail.message}"
        J, grad = objective.loss_grad(theta)
    return finish(objective, theta, J, grad, n_iter, history, tol, message)


class _Preconditioned:
    """``f(u) = J(theta0 + L^{-T} u)`` and its gradient ``L^{-1} grad J``.

    Keeps the latest evaluation: L-BFGS-B reports each iterate right after
    evaluating it, so the stopping test and the result reuse it.
    """

    def __init__(self, objective, theta0, L, J0, grad0):
        self.objective, self.theta0, self.L = objective, theta0, L
        self.last = (np.zeros_like(theta0), theta0, J0, grad0)

    def to_theta(self, u):
        if self.L is None:
            return self.theta0 + u
        return self.theta0 + scipy.linalg.solve_triangular(self.L, u, lower=True, trans="T", check_finite=False)

    def evaluation(self, u):
        """``(theta, J, grad)`` at ``u``, from the cache when it is the latest point."""
        if not np.array_equal(u, self.last[0]):
            theta = self.to_theta(u)
            J, grad = self.objective.loss_grad(theta)
            self.last = (np.array(u), theta, J, grad)
        return self.last[1:]

    def fun(self, u):
        _, J, grad = self.evaluation(u)
        if self.L is None:
            return J, grad
        return J, scipy.linalg.solve_triangular(self.L, grad, lower=True, check_finite=False)

    def converged_at(self, u, tol):
        return np.array_equal(u, self.last[0]) and gradient_converged(self.last[3], tol)
