"""Mini-batch stochastic gradient descent with a decaying step schedule.

Each epoch shuffles the examples, splits them into batches of ``batch_size``
rows and steps ``theta := theta - alpha_e * grad J_batch(theta)``, where
``J_batch`` is the cost on the batch (its mean loss plus the full-data
penalty), so that its expectation is ``J``. The step decays per epoch::

    alpha_e = alpha_0 / (1 + e / DECAY_EPOCHS)

the ``1/t`` schedule under which SGD converges on strongly convex problems.
``alpha_0`` is the given learning rate or, for "auto", ``1 / L_b`` with
``L_b`` the expected smoothness of a ``b``-row mini-batch (Gower et al.,
"SGD: general analysis and improved rates", ICML 2019)::

    L_b = m (b - 1) / (b (m - 1)) L + (m - b) / (b (m - 1)) L_max

between the full-data constant ``L`` (``b = m``) and the largest per-example
one ``L_max`` (``b = 1``): small batches are noisy and get smaller steps. After every epoch the full cost and gradient
are evaluated (one pass), for the shared stopping rule and the loss history:
``n_iter`` counts epochs.

Mini-batch SGD is for data that arrive in pieces or do not fit in memory; it
reaches a neighbourhood of the optimum quickly but approaches it slowly, so
tight tolerances are the business of the deterministic solvers.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

from ._common import SolverResult, gradient_converged

#: Epochs over which the step halves.
DECAY_EPOCHS = 10.0


def solve(
    objective, theta0, *, max_iter, tol, learning_rate="auto", batch_size=256, random_state=None,
    callback=None,
):
    """Minimize ``objective`` by mini-batch SGD.

    Parameters
    ----------
    objective : LogisticObjective
        Supplies ``loss_grad``, ``lipschitz_bound`` and ``subset(rows)``.
    theta0 : ndarray of shape (n_params,)
    max_iter : int
        Maximum number of epochs.
    tol : float
        Stop when ``max |grad| <= tol`` for the full cost, checked per epoch.
    learning_rate : float or "auto"
        ``alpha_0``.
    batch_size : int
        Rows per mini-batch.
    random_state : int, RandomState instance or None
        Seeds the shuffling.
    callback : callable, optional
        ``callback(epoch, cost)`` after every epoch.

    Returns
    -------
    SolverResult
    """
    rng = check_random_state(random_state)
    theta = np.array(theta0, dtype=np.float64)
    J, grad = objective.loss_grad(theta)
    history = [J]
    if callback is not None:
        callback(0, J)
    m = objective.n_samples
    alpha0 = 1.0 / _minibatch_smoothness(objective, batch_size) if isinstance(learning_rate, str) else learning_rate
    epoch = 0
    while not gradient_converged(grad, tol) and epoch < max_iter:
        alpha = alpha0 / (1.0 + epoch / DECAY_EPOCHS)
        order = rng.permutation(m)
        for start in range(0, m, batch_size):
            rows = np.sort(order[start : start + batch_size])  # sorted: cache-friendly gathers
            _, batch_grad = objective.subset(rows).loss_grad(theta)
            theta -= alpha * batch_grad
        J, grad = objective.loss_grad(theta)
        epoch += 1
        history.append(J)
        if callback is not None:
            callback(epoch, J)
    converged = gradient_converged(grad, tol)
    return SolverResult(
        x=theta,
        fun=J,
        grad_max=float(np.max(np.abs(grad), initial=0.0)),
        n_iter=epoch,
        loss_history=history,
        converged=converged,
        message="gradient below tol" if converged else f"reached max_iter={max_iter} epochs",
    )


def _minibatch_smoothness(objective, batch_size):
    m, b = objective.n_samples, min(batch_size, objective.n_samples)
    if m == 1:
        return objective.example_lipschitz_max()
    full, single = objective.lipschitz_bound(), objective.example_lipschitz_max()
    return (m * (b - 1) * full + (m - b) * single) / (b * (m - 1))
