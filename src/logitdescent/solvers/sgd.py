"""Mini-batch stochastic gradient descent with a decaying step schedule.

Each epoch shuffles the examples, splits them into batches of ``batch_size``
rows and steps ``theta := prox(theta - alpha_e * grad J_batch(theta), alpha_e)``
(the proximal step handles L1 and bounds; it is the identity otherwise), where
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

from ._common import CostHistory, diverged, divergence_message, finish, gradient_converged

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
    history = CostHistory(objective, callback)
    history.record(theta, J)
    alpha0 = initial_step(objective, learning_rate, batch_size)
    start_cost = history.costs[0]
    fixed_rate = not isinstance(learning_rate, str)
    epoch = 0
    while not gradient_converged(objective.optimality(theta, grad), tol) and epoch < max_iter:
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging step: detected below
            candidate = run_epoch(objective, theta, scheduled_step(alpha0, epoch), batch_size, rng)
            J_new, grad_new = objective.loss_grad(candidate)
        # Stochastic steps may raise the full cost for a while; only a rate the
        # user fixed is judged (the "auto" rate is derived from the curvature).
        if fixed_rate and diverged(objective, start_cost, candidate, J_new, grad_new):
            cost = objective.value(candidate, J_new) if np.isfinite(J_new) else J_new
            message = divergence_message(start_cost, cost, epoch + 1, alpha0, unit="epoch")
            return finish(objective, theta, J, grad, epoch, history, tol, message, diverged=True)
        theta, J, grad = candidate, J_new, grad_new
        epoch += 1
        history.record(theta, J)
    return finish(objective, theta, J, grad, epoch, history, tol, f"reached max_iter={max_iter} epochs")


def initial_step(objective, learning_rate, batch_size):
    """``alpha_0``: the given rate, or ``1 / L_b`` for "auto"."""
    if isinstance(learning_rate, str):
        return 1.0 / _minibatch_smoothness(objective, batch_size)
    return float(learning_rate)


def scheduled_step(alpha0, epoch):
    """``alpha_e = alpha_0 / (1 + e / DECAY_EPOCHS)``."""
    return alpha0 / (1.0 + epoch / DECAY_EPOCHS)


def run_epoch(objective, theta, alpha, batch_size, rng):
    """One shuffled pass of proximal mini-batch steps; returns the new ``theta``.

    Also the step behind ``LogisticRegression.partial_fit``.
    """
    order = rng.permutation(objective.n_samples)
    for start in range(0, objective.n_samples, batch_size):
        rows = np.sort(order[start : start + batch_size])  # sorted: cache-friendly gathers
        _, batch_grad = objective.subset(rows).loss_grad(theta)
        theta = objective.prox(theta - alpha * batch_grad, alpha)
    return theta


def _minibatch_smoothness(objective, batch_size):
    m, b = objective.n_samples, min(batch_size, objective.n_samples)
    if m == 1:
        return objective.example_lipschitz_max()
    full, single = objective.lipschitz_bound(), objective.example_lipschitz_max()
    return (m * (b - 1) * full + (m - b) * single) / (b * (m - 1))
