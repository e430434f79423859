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
constant). The test allows the cost's rounding error (``objective.cost_rtol``): near
the optimum the guaranteed decrease is smaller than that noise.
"""

from __future__ import annotations

import numpy as np

from ._common import SolverResult, gradient_converged, sufficient_decrease

#: Factor by which the Lipschitz estimate grows when a step fails the test.
BACKTRACK_FACTOR = 2.0


def solve(objective, theta0, *, max_iter, tol, learning_rate="auto", callback=None):
    """Minimize ``objective`` by batch gradient descent.

    Parameters
    ----------
    objective : LogisticObjective
        Supplies ``loss_grad(theta) -> (J, grad)`` and ``lipschitz_bound()``.
    theta0 : ndarray of shape (n_params,)
        Starting point (not modified).
    max_iter : int
        Maximum number of updates.
    tol : float
        Stop when ``max |grad| <= tol``.
    learning_rate : float or "auto"
        The lecture's ``alpha``, or "auto" for a guarded ``1 / L`` step.
    callback : callable, optional
        ``callback(iteration, cost)`` after every cost evaluation.

    Returns
    -------
    SolverResult
    """
    theta = np.array(theta0, dtype=np.float64)
    J, grad = objective.loss_grad(theta)
    history = [J]
    if callback is not None:
        callback(0, J)
    auto = isinstance(learning_rate, str)
    if auto:
        lipschitz = objective.lipschitz_bound()
    n_iter = 0
    while not gradient_converged(grad, tol) and n_iter < max_iter:
        if auto:
            grad_sq = float(np.dot(grad, grad))
            while True:
                candidate = theta - grad / lipschitz
                J_new, grad_new = objective.loss_grad(candidate)
                if sufficient_decrease(J_new, J, 0.5 * grad_sq / lipschitz, objective.cost_rtol):
                    break
                lipschitz *= BACKTRACK_FACTOR
                if not np.isfinite(lipschitz):
                    break
            theta, J, grad = candidate, J_new, grad_new
        else:
            theta = theta - learning_rate * grad
            J, grad = objective.loss_grad(theta)
        n_iter += 1
        history.append(J)
        if callback is not None:
            callback(n_iter, J)
    converged = gradient_converged(grad, tol)
    return SolverResult(
        x=theta,
        fun=J,
        grad_max=float(np.max(np.abs(grad), initial=0.0)),
        n_iter=n_iter,
        loss_history=history,
        converged=converged,
        message="gradient below tol" if converged else f"reached max_iter={max_iter}",
    )
