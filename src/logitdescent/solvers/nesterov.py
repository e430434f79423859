"""Nesterov's accelerated gradient (FISTA) with adaptive restart and the auto step.

Update rule, with ``L`` the Lipschitz estimate and ``t_0 = 1``::

    x_{k+1} = y_k - grad J(y_k) / L                       (gradient step from the look-ahead point)
    t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2
    y_{k+1} = x_{k+1} + (t_k - 1) / t_{k+1} * (x_{k+1} - x_k)   (momentum)

``L`` starts from the same estimate as gradient descent's auto step and
doubles whenever the sufficient-decrease test
``J(x_{k+1}) <= J(y_k) - ||grad J(y_k)||^2 / (2L)`` fails (Beck & Teboulle's
backtracking FISTA). When the momentum points uphill,
``grad J(y_k) . (x_{k+1} - x_k) > 0``, it is reset (``t = 1, y = x``): the
gradient restart of O'Donoghue & Candès, which restores linear convergence on
strongly convex problems and, unlike a cost-based restart, is not fooled by
rounding near the optimum. Each iteration costs
one cost-and-gradient evaluation at ``y`` and one cost-only evaluation at
``x_{k+1}``.

References
----------
A. Beck, M. Teboulle, "A fast iterative shrinkage-thresholding algorithm for
linear inverse problems", SIAM J. Imaging Sci. 2 (2009).
B. O'Donoghue, E. Candès, "Adaptive restart for accelerated gradient schemes",
Found. Comput. Math. 15 (2015).
"""

from __future__ import annotations

import math

import numpy as np

from ._common import SolverResult, gradient_converged, sufficient_decrease

#: Factor by which the Lipschitz estimate grows when a step fails the test.
BACKTRACK_FACTOR = 2.0


def solve(objective, theta0, *, max_iter, tol, callback=None):
    """Minimize ``objective`` by accelerated gradient descent with restart.

    Parameters
    ----------
    objective : LogisticObjective
        Supplies ``loss_grad``, ``loss`` and ``lipschitz_bound``.
    theta0 : ndarray of shape (n_params,)
    max_iter : int
        Maximum number of accelerated steps.
    tol : float
        Stop when ``max |grad| <= tol`` at the look-ahead point.
    callback : callable, optional
        ``callback(iteration, cost)`` after every step.

    Returns
    -------
    SolverResult
        ``x`` is the point whose gradient met the stopping rule.
    """
    x = np.array(theta0, dtype=np.float64)
    y = x
    J_y, grad_y = objective.loss_grad(y)
    J_x = J_y
    history = [J_x]
    if callback is not None:
        callback(0, J_x)
    lipschitz = objective.lipschitz_bound()
    t = 1.0
    n_iter = 0
    while not gradient_converged(grad_y, tol) and n_iter < max_iter:
        grad_sq = float(np.dot(grad_y, grad_y))
        while True:
            x_new = y - grad_y / lipschitz
            J_new = objective.loss(x_new)
            if sufficient_decrease(J_new, J_y, 0.5 * grad_sq / lipschitz, objective.cost_rtol) or not np.isfinite(lipschitz):
                break
            lipschitz *= BACKTRACK_FACTOR
        if np.dot(grad_y, x_new - x) > 0:  # momentum points uphill: restart
            t, y = 1.0, x_new
        else:
            t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
            y = x_new + ((t - 1.0) / t_new) * (x_new - x)
            t = t_new
        x, J_x = x_new, J_new
        J_y, grad_y = objective.loss_grad(y)
        n_iter += 1
        history.append(J_x)
        if callback is not None:
            callback(n_iter, J_x)
    converged = gradient_converged(grad_y, tol)
    return SolverResult(
        x=y,
        fun=J_y,
        grad_max=float(np.max(np.abs(grad_y), initial=0.0)),
        n_iter=n_iter,
        loss_history=history,
        converged=converged,
        message="gradient below tol" if converged else f"reached max_iter={max_iter}",
    )
