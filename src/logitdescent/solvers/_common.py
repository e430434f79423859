"""What every solver shares: the result record, the stopping rule, the history,
the sufficient-decrease test and the convergence warning."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import ConvergenceWarning

__all__ = [
    "CostHistory",
    "SolverResult",
    "diverged",
    "divergence_message",
    "finish",
    "gradient_converged",
    "require_smooth",
    "sufficient_decrease",
    "warn_not_converged",
]


@dataclass
class SolverResult:
    """The outcome of a solver run, with scipy's ``OptimizeResult`` field names.

    Attributes
    ----------
    x : ndarray of shape (n_params,)
        The final ``theta``.
    fun : float
        The full cost at ``x`` (smooth part plus L1 term).
    grad_max : float
        ``max |optimality(x)|``: the quantity of the stopping rule.
    n_iter : int
        Parameter updates made (epochs for SGD).
    loss_history : list of float
        The full cost at the start and after every update: ``n_iter + 1`` entries.
    converged : bool
        Whether the stopping rule ``grad_max <= tol`` holds.
    message : str
        Why the solver stopped.
    diverged : bool
        Whether a fixed step made the cost rise above its start or become
        non-finite (:func:`diverged`); ``x`` is then the last iterate before.
    """

    x: np.ndarray
    fun: float
    grad_max: float
    n_iter: int
    loss_history: list = field(default_factory=list)
    converged: bool = False
    message: str = ""
    diverged: bool = False


def gradient_converged(optimality, tol):
    """The one stopping rule of every solver: ``max |optimality| <= tol``.

    ``optimality`` is the gradient for smooth, unconstrained problems, and its
    generalization ``theta - prox(theta - grad)`` with L1 or bounds (see
    ``LinearObjective.optimality``). ``tol = 0`` never stops early, so
    fixed-step gradient descent runs exactly ``max_iter`` updates, as the
    lecture's loop does.
    """
    return tol > 0 and float(np.max(np.abs(optimality), initial=0.0)) <= tol


def diverged(objective, start_cost, theta, smooth_cost, grad):
    """Whether a fixed-step iterate shows divergence.

    A step with a fixed ``learning_rate`` diverges when the full cost rises
    above the starting cost (beyond rounding; on a convex cost a stable fixed
    step never does) or when the point, its cost or its gradient is not
    finite. Detected at the first such iterate, which the solver then
    discards.
    """
    if not (np.isfinite(smooth_cost) and np.all(np.isfinite(grad)) and np.all(np.isfinite(theta))):
        return True
    cost = objective.value(theta, smooth_cost)
    return cost > start_cost + objective.cost_rtol * abs(start_cost)


def divergence_message(start_cost, cost, n_iter, learning_rate, unit="iteration"):
    """Why a fixed-step solver stopped, and what to do instead."""
    what = f"rose from {start_cost:.6g} to {cost:.6g}" if np.isfinite(cost) else "became non-finite"
    return (
        f"diverged: the cost {what} at {unit} {n_iter} with the fixed learning_rate={learning_rate:g}; "
        "use learning_rate='auto' (a step that always lowers the cost) or a smaller rate"
    )


def require_smooth(objective, solver_name):
    """Refuse an L1 term or bounds (Newton-type solvers), naming the way out."""
    if objective.has_prox:
        raise ValueError(
            f"solver='{solver_name}' handles the L2 penalty only; for L1, elastic-net or "
            "coefficient bounds choose solver='lbfgs' or 'nesterov'."
        )


def sufficient_decrease(J_new, J_old, required_decrease, cost_rtol):
    """Whether ``J_new <= J_old - required_decrease``, up to the cost's rounding.

    The line-search and backtracking test of every solver that has one.
    ``cost_rtol`` is the objective's relative rounding error in a cost: near
    the optimum a step's true decrease (~ grad^2 / L) falls below that noise,
    and a test blind to it would shrink the step for nothing.
    """
    return J_new <= J_old - required_decrease + cost_rtol * abs(J_old)


class CostHistory:
    """The full cost after every update, reported to the callback as it grows."""

    def __init__(self, objective, callback=None):
        self.objective = objective
        self.callback = callback
        self.costs = []

    def record(self, theta, smooth_cost):
        self.record_cost(self.objective.value(theta, smooth_cost))

    def record_cost(self, cost):
        self.costs.append(cost)
        if self.callback is not None:
            self.callback(len(self.costs) - 1, cost)


def finish(objective, theta, smooth_cost, grad, n_iter, history, tol, message, *, diverged=False):
    """The :class:`SolverResult` at ``theta``, with the shared stopping rule applied."""
    optimality = objective.optimality(theta, grad)
    converged = gradient_converged(optimality, tol) and not diverged
    return SolverResult(
        x=theta,
        fun=objective.value(theta, smooth_cost),
        grad_max=float(np.max(np.abs(optimality), initial=0.0)),
        n_iter=n_iter,
        loss_history=history.costs,
        converged=converged,
        message="gradient below tol" if converged else message,
        diverged=diverged,
    )


def warn_not_converged(result, solver_name, stacklevel=3):
    """scikit-learn's ConvergenceWarning, with the numbers needed to act on it.

    ``stacklevel`` 3 points at the caller of the function that calls this one.
    A diverged run says so (its message names the remedy).
    """
    if result.diverged:
        warnings.warn(
            f"Solver {solver_name!r} {result.message}. The coefficients are those of the last "
            f"iterate before (iteration {result.n_iter}).",
            ConvergenceWarning,
            stacklevel=stacklevel,
        )
        return
    warnings.warn(
        f"Solver {solver_name!r} stopped before convergence after {result.n_iter} "
        f"iterations: max |gradient| = {result.grad_max:.3g} > tol ({result.message}). "
        "Increase max_iter, scale the features, or choose solver='auto'.",
        ConvergenceWarning,
        stacklevel=stacklevel,
    )
