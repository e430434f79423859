"""Nesterov's accelerated gradient (FISTA) with adaptive restart and the auto step.

Update rule, with ``L`` the Lipschitz estimate and ``t_0 = 1``::

    x_{k+1} = prox(y_k - grad J(y_k) / L, 1/L)                 (proximal gradient step from y)
    t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2
    y_{k+1} = x_{k+1} + (t_k - 1) / t_{k+1} * (x_{k+1} - x_k)   (momentum)

``prox`` is the identity without an L1 term or bounds (then this is
Nesterov's method); with them it is FISTA. ``L`` starts from the same estimate
as gradient descent's auto step and doubles whenever the sufficient-decrease
test fails (Beck & Teboulle's backtracking). When the momentum points uphill,
``(y_k - x_{k+1}) . (x_{k+1} - x_k) > 0``, it is reset (``t = 1``, ``y = x``):
the gradient restart of O'Donoghue & Candès, which restores linear
convergence on strongly convex problems and, unlike a cost-based restart, is
not fooled by rounding near the optimum. One iteration costs two
cost-and-gradient evaluations (at ``x_{k+1}`` for the test, at ``y_{k+1}``).

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

from ._common import CostHistory, finish, gradient_converged
from .gd import proximal_step


def solve(objective, theta0, *, max_iter, tol, callback=None):
    """Minimize ``objective`` by accelerated (proximal) gradient descent.

    Parameters
    ----------
    objective : LinearObjective
        Supplies ``loss_grad``, ``prox`` and ``lipschitz_bound``.
    theta0 : ndarray of shape (n_params,)
    max_iter : int
        Maximum number of accelerated steps.
    tol : float
        Stop when ``max |optimality| <= tol`` at the current point.
    callback : callable, optional
        ``callback(iteration, cost)`` after every step.

    Returns
    -------
    SolverResult
    """
    x = np.array(theta0, dtype=np.float64)
    J_x, grad_x = objective.loss_grad(x)
    y, J_y, grad_y = x, J_x, grad_x
    history = CostHistory(objective, callback)
    history.record(x, J_x)
    lipschitz = objective.lipschitz_bound()
    t = 1.0
    n_iter = 0
    while not gradient_converged(objective.optimality(x, grad_x), tol) and n_iter < max_iter:
        x_new, J_new, grad_new, lipschitz = proximal_step(objective, y, J_y, grad_y, lipschitz)
        if np.dot(y - x_new, x_new - x) > 0:  # momentum points uphill: restart
            t, y, J_y, grad_y = 1.0, x_new, J_new, grad_new
        else:
            t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
            y = x_new + ((t - 1.0) / t_new) * (x_new - x)
            t = t_new
            J_y, grad_y = objective.loss_grad(y)
        x, J_x, grad_x = x_new, J_new, grad_new
        n_iter += 1
        history.record(x, J_x)
    return finish(objective, x, J_x, grad_x, n_iter, history, tol, f"reached max_iter={max_iter}")
