"""Batch gradient descent, exactly as the lecture gives it.

Update rule::

    theta_{k+1} = theta_k - alpha * dJ/dtheta(theta_k)      (w := w - alpha dw, b := b - alpha db)

With a fixed ``alpha`` and ``tol = 0`` it performs exactly ``max_iter``
updates and nothing else, so the course's published numbers are reproduced.
With ``learning_rate="auto"`` the step is ``1 / L`` for an estimate ``L`` of
the gradient's Lipschitz constant, guarded by the sufficient-decrease test
``J(theta - g/L) <= J(theta) - ||g||^2 / (2L)``: whenever it fails, ``L`` is
doubled and the step retried, so the cost decreases at every update (the
descent lemma guarantees the test passes once ``L`` exceeds the true
constant). The test allows the cost's rounding error
(``objective.cost_rtol``): near the optimum the guaranteed decrease is smaller
than that noise.

A fixed ``alpha`` that is too large makes the cost grow: the first iterate
whose cost exceeds the starting cost (or is not finite) ends the run, which
keeps the iterate before it and reports ``diverged``.

With an L1 term or coefficient bounds the update becomes the proximal
gradient step (ISTA), ``theta_{k+1} = prox(theta_k - alpha g, alpha)``, and
the test its quadratic upper bound
``J(theta+) <= J(theta) + g.d + L ||d||^2 / 2`` with ``d = theta+ - theta``.
"""

from __future__ import annotations

import numpy as np

from ._common import CostHistory, diverged, divergence_message, finish, gradient_converged, sufficient_decrease

#: Factor by which the Lipschitz estimate grows when a step fails the test.
BACKTRACK_FACTOR = 2.0


def proximal_step(objective, theta, J, grad, lipschitz):
    """One guarded ``1/L`` proximal gradient step from ``theta``.

    Returns the new point, its smooth cost and gradient, and the (possibly
    grown) ``L``. Shared by gradient descent and the accelerated method.
    """
    while True:
        candidate = objective.prox(theta - grad / lipschitz, 1.0 / lipschitz)
        step = candidate - theta
        J_new, grad_new = objective.loss_grad(candidate)
        predicted = -float(np.dot(grad, step)) - 0.5 * lipschitz * float(np.dot(step, step))
        if sufficient_decrease(J_new, J, predicted, objective.cost_rtol) or not np.isfinite(lipschitz):
            return candidate, J_new, grad_new, lipschitz
        lipschitz *= BACKTRACK_FACTOR


def solve(objective, theta0, *, max_iter, tol, learning_rate="auto", callback=None):
    """Minimize ``objective`` by batch gradient descent.

    Parameters
    ----------
    objective : LinearObjective
        Supplies ``loss_grad``, ``prox`` and ``lipschitz_bound``.
    theta0 : ndarray of shape (n_params,)
        Starting point (not modified).
    max_iter : int
        Maximum number of updates.
    tol : float
        Stop when ``max |optimality| <= tol`` (the gradient when smooth).
    learning_rate : float or "auto"
        The lecture's ``alpha``, or "auto" for a guarded ``1 / L`` step.
    callback : callable, optional
        ``callback(iteration, cost)`` after every update.

    Returns
    -------
    SolverResult
    """
    theta = np.array(theta0, dtype=np.float64)
    J, grad = objective.loss_grad(theta)
    history = CostHistory(objective, callback)
    history.record(theta, J)
    auto = isinstance(learning_rate, str)
    if auto:
        lipschitz = objective.lipschitz_bound()
    start_cost = history.costs[0]
    n_iter = 0
    while not gradient_converged(objective.optimality(theta, grad), tol) and n_iter < max_iter:
        if auto:
            theta, J, grad, lipschitz = proximal_step(objective, theta, J, grad, lipschitz)
        else:
            with np.errstate(over="ignore", invalid="ignore"):  # a diverging step: detected below
                candidate = objective.prox(theta - learning_rate * grad, learning_rate)
                J_new, grad_new = objective.loss_grad(candidate)
            if diverged(objective, start_cost, candidate, J_new, grad_new):
                cost = objective.value(candidate, J_new) if np.isfinite(J_new) else J_new
                message = divergence_message(start_cost, cost, n_iter + 1, learning_rate)
                return finish(objective, theta, J, grad, n_iter, history, tol, message, diverged=True)
            theta, J, grad = candidate, J_new, grad_new
        n_iter += 1
        history.record(theta, J)
    return finish(objective, theta, J, grad, n_iter, history, tol, f"reached max_iter={max_iter}")
