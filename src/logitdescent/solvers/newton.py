"""Newton's method with a Cholesky solve and a backtracking line search.

Each iteration forms the exact Hessian ``H = [X 1]^T D [X 1] + lambda I`` in
one pass over X (``O(m n^2)`` work, ``O(n^2)`` memory), solves
``H p = -g`` by Cholesky, and backtracks (Armijo) from the full step. Near the
optimum the full step is always taken and convergence is quadratic, which is
what makes badly scaled or correlated data cheap: iterations do not depend on
the condition number. Meant for moderate ``n`` (the Hessian is ``n x n``).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from ._common import CostHistory, finish, gradient_converged, require_smooth, sufficient_decrease

#: Armijo sufficient-decrease constant.
ARMIJO = 1e-4
#: Step shrink factor of the backtracking line search.
SHRINK = 0.5
#: Backtracking steps before the search gives up.
MAX_BACKTRACK = 40
#: A step that leaves max |grad| above this fraction of the last one, when the
#: predicted decrease is below rounding, means the gradient's floor is reached.
STALL_RATIO = 0.5


def _newton_direction(H, grad):
    try:
        factor = scipy.linalg.cho_factor(H, lower=True, check_finite=False)
        return -scipy.linalg.cho_solve(factor, grad, check_finite=False)
    except scipy.linalg.LinAlgError:
        # Singular curvature (an unpenalized fit on separable or collinear
        # data): the minimum-norm least-squares step is still a descent step.
        return -scipy.linalg.lstsq(H, grad, check_finite=False)[0]


def solve(objective, theta0, *, max_iter, tol, callback=None):
    """Minimize ``objective`` by damped Newton iterations.

    Parameters
    ----------
    objective : LogisticObjective
        Supplies ``loss_grad`` and ``hessian``.
    theta0 : ndarray of shape (n_params,)
    max_iter : int
        Maximum number of Newton updates.
    tol : float
        Stop when ``max |grad| <= tol``.
    callback : callable, optional
        ``callback(iteration, cost)`` after every cost evaluation.

    Returns
    -------
    SolverResult
    """
    require_smooth(objective, "newton")
    return _iterate(objective, theta0, max_iter, tol, callback)


def _iterate(objective, theta0, max_iter, tol, callback):
    theta = np.array(theta0, dtype=np.float64)
    J, grad = objective.loss_grad(theta)
    history = CostHistory(objective, callback)
    history.record(theta, J)
    n_iter = 0
    message = f"reached max_iter={max_iter}"
    previous_grad_max = np.inf
    while not gradient_converged(grad, tol) and n_iter < max_iter:
        step = _newton_direction(objective.hessian(theta), grad)
        slope = float(np.dot(grad, step))
        if slope >= 0:  # not a descent direction: fall back to the gradient
            step, slope = -grad, -float(np.dot(grad, grad))
        grad_max = float(np.max(np.abs(grad), initial=0.0))
        if -slope <= objective.cost_rtol * abs(J) and grad_max > STALL_RATIO * previous_grad_max:
            # The remaining decrease is below the cost's rounding and the last
            # step no longer shrank the gradient: it is at its rounding floor.
            message = "gradient at the rounding floor of the data's dtype"
            break
        previous_grad_max = grad_max
        t = 1.0
        for _ in range(MAX_BACKTRACK):
            J_new, grad_new = objective.loss_grad(theta + t * step)
            if sufficient_decrease(J_new, J, -ARMIJO * t * slope, objective.cost_rtol):
                break
            t *= SHRINK
        else:
            message = "line search found no decrease (cost is flat to machine precision)"
            break
        theta = theta + t * step
        J, grad = J_new, grad_new
        n_iter += 1
        history.record(theta, J)
    return finish(objective, theta, J, grad, n_iter, history, tol, message)
