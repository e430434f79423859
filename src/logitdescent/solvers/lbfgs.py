"""L-BFGS: SciPy's L-BFGS-B driven by our kernel (cost and gradient in one call).

SciPy provides the quasi-Newton machinery; logitdescent provides ``J`` and its
gradient through ``jac=True``. SciPy's ``pgtol`` test is the shared stopping
rule ``max |optimality| <= tol``; ``ftol = 0`` so that SciPy's relative-cost
test stops the solver only once the cost no longer changes at all.

Coefficient bounds are L-BFGS-B's own box constraints. An L1 term is handled
by splitting each coefficient into its positive and negative parts,
``c = c+ - c-`` with ``c+, c- >= 0``, which turns ``l1 f_j |c|`` into the smooth
``l1 f_j (c+ + c-)`` under bounds: the quasi-Newton solver then finds exact zeros
(both parts at their bound) without any non-smooth step.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from . import nesterov
from ._common import CostHistory, finish, gradient_converged

#: Number of correction pairs kept (SciPy's ``maxcor``).
HISTORY_SIZE = 10
#: Relative cost change below which SciPy stops. scikit-learn's 64 ulps stops at
#: max |grad| ~1e-8 on standardized breast-cancer data; 0 reaches 1e-10 there.
FTOL = 0.0
#: Accelerated proximal-gradient iterations allowed, at most, to finish a run
#: that SciPy ended above tol because its line search could no longer see the
#: cost decrease (near max|grad| ~ 1e-9 in float64, where a step's decrease
#: is below the cost's rounding). Our FISTA's test allows for that rounding.
POLISH_MAX_ITER = 2000
#: Trial points of one line search whose costs equal the iterate's up to
#: rounding, after which L-BFGS-B is taken to be at the cost's floor.
FLOOR_TRIALS = 4


class _FloorReached(Exception):
    """Raised from the cost function: the line search is at the cost's rounding floor."""


class _FloorWatch:
    """The cost function as SciPy sees it, watching for the rounding floor.

    Near max |grad| ~ 1e-9 in float64 a step's true decrease falls below the
    cost's rounding, and L-BFGS-B's line search then tries up to 20 points
    per iteration, all of the same cost up to rounding (measured: 41 passes
    over X for the last two iterations on 1e6 x 100 data at tol=1e-10).
    After ``FLOOR_TRIALS`` such points in one iteration this raises
    :class:`_FloorReached`, and the accelerated-gradient polish, whose test
    allows for that rounding, finishes. A trial that is visibly higher is an
    ordinary backtracking step, and slow but visible progress (raw
    breast-cancer data: thousands of tiny decreases) is left alone. Only for
    float64 costs: 64 float32 ulps are too coarse to tell.
    """

    def __init__(self, fun, objective, u0, J0):
        self._fun = fun
        self.rtol = objective.cost_rtol if objective.cost_rtol <= 64 * np.finfo(np.float64).eps else 0.0
        self.u, self.J, self.flat_trials = np.array(u0), J0, 0

    def accept(self, u, J):
        """SciPy accepted the iterate ``u`` of cost ``J``."""
        self.u, self.J, self.flat_trials = np.array(u), J, 0

    def fun(self, u):
        J, grad = self._fun(u)
        # (SciPy's first call is at the start point itself: not a trial.)
        if self.rtol and abs(J - self.J) <= self.rtol * abs(self.J) and not np.array_equal(u, self.u):
            self.flat_trials += 1
            if self.flat_trials >= FLOOR_TRIALS:
                raise _FloorReached
        return J, grad


class _SplitL1:
    """The L1-penalized objective in the variables ``u = [c+, c-, intercepts]``."""

    def __init__(self, objective):
        self.objective = objective
        self.mask = objective.coef_mask
        lower, upper = objective.coef_bounds()
        lo, hi = lower[self.mask], upper[self.mask]
        # c in [lo, hi]  <=>  c+ in [max(lo, 0), max(hi, 0)], c- in [max(-hi, 0), max(-lo, 0)]
        self.bounds = list(zip(
            np.concatenate([np.maximum(lo, 0), np.maximum(-hi, 0), lower[~self.mask]]),
            np.concatenate([np.maximum(hi, 0), np.maximum(-lo, 0), upper[~self.mask]]),
        ))
        self.n_coef = int(self.mask.sum())
        self.l1 = objective.l1_weights[self.mask]  # l1 f_j per coefficient

    def to_u(self, theta):
        coef = theta[self.mask]
        return np.concatenate([np.maximum(coef, 0), np.maximum(-coef, 0), theta[~self.mask]])

    def to_theta(self, u):
        k = self.n_coef
        theta = np.empty(self.mask.size)
        theta[self.mask] = u[:k] - u[k : 2 * k]
        theta[~self.mask] = u[2 * k :]
        return theta

    def loss_grad(self, u):
        k, l1 = self.n_coef, self.l1
        J, grad = self.objective.loss_grad(self.to_theta(u))
        g_coef = grad[self.mask]
        J += float(np.dot(l1, u[:k] + u[k : 2 * k]))
        return J, np.concatenate([g_coef + l1, l1 - g_coef, grad[~self.mask]])


def solve(objective, theta0, *, max_iter, tol, callback=None):
    """Minimize ``objective`` with L-BFGS-B.

    Parameters
    ----------
    objective : LinearObjective
    theta0 : ndarray of shape (n_params,)
    max_iter : int
        Maximum number of L-BFGS iterations.
    tol : float
        Stop when ``max |optimality| <= tol``.
    callback : callable, optional
        ``callback(iteration, cost)`` at the start and after every iteration.

    Returns
    -------
    SolverResult
    """
    theta0 = np.array(theta0, dtype=np.float64)
    history = CostHistory(objective, callback)
    if objective.l1:
        problem = _SplitL1(objective)
        fun, u0, bounds, to_theta = problem.loss_grad, problem.to_u(theta0), problem.bounds, problem.to_theta
    else:
        lower, upper = objective.coef_bounds()
        fun, u0, to_theta = objective.loss_grad, theta0, (lambda u: u)
        bounds = list(zip(lower, upper)) if objective.has_prox else None
        u0 = np.clip(u0, lower, upper)
    history.record_cost(fun(u0)[0])

    watch = _FloorWatch(fun, objective, u0, history.costs[-1])

    def record(intermediate_result):
        history.record_cost(float(intermediate_result.fun))
        watch.accept(intermediate_result.x, float(intermediate_result.fun))

    try:
        opt = minimize(
            watch.fun, u0, method="L-BFGS-B", jac=True, bounds=bounds, callback=record,
            options={"maxiter": max_iter, "gtol": tol, "ftol": FTOL, "maxcor": HISTORY_SIZE},
        )
        n_iter, message, u = int(opt.nit), str(opt.message), np.asarray(opt.x)
    except _FloorReached:
        n_iter, u = len(history.costs) - 1, watch.u
        message = "the line search could not see a decrease (the cost's rounding floor)"
    theta = to_theta(u)
    J, grad = objective.loss_grad(theta)
    if not gradient_converged(objective.optimality(theta, grad), tol) and n_iter < max_iter:
        polish = nesterov.solve(objective, theta, max_iter=min(POLISH_MAX_ITER, max_iter - n_iter), tol=tol,
                                callback=lambda i, cost: i and history.record_cost(cost))
        theta, n_iter = polish.x, n_iter + polish.n_iter
        message = f"L-BFGS-B: {message}; then accelerated gradient: {polish.message}"
        J, grad = objective.loss_grad(theta)
    return finish(objective, theta, J, grad, n_iter, history, tol, message)
